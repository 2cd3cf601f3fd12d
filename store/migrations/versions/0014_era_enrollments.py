"""ERA enrollments: which trading partner a payee (NPI and TIN) receives its 835s through.

An 835 pays one payee for claims that may have come from several partners' mailboxes;
delivered to each, every partner read the others' patients. With an enrollment the 835
goes to the partner the payee chose; without one, to the one mailbox its claims came
from, or it is held (`workers.delivery`).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 05:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'era_enrollments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('payee_npi', sa.String(length=10), nullable=False),
        sa.Column('payee_tin', sa.String(length=9), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['partner_id'], ['trading_partners.id'],
                                name=op.f('fk_era_enrollments_partner_id_trading_partners')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_era_enrollments')),
        sa.UniqueConstraint('payee_npi', 'payee_tin', name=op.f('uq_era_enrollments_payee_npi')),
    )
    with op.batch_alter_table('era_enrollments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_era_enrollments_partner_id'), ['partner_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('era_enrollments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_era_enrollments_partner_id'))
    op.drop_table('era_enrollments')
