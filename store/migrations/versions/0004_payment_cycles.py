"""Payment cycles: their 835s, the claims each remitted, payee balances carried.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 13:07:07.098441
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payee_balances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payee_npi', sa.String(length=10), nullable=False),
    sa.Column('payee_tin', sa.String(length=9), nullable=False),
    sa.Column('reference', sa.String(length=50), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payee_balances')),
    sa.UniqueConstraint('payee_npi', 'payee_tin', 'reference', name=op.f('uq_payee_balances_payee_npi'))
    )
    op.create_table('payment_cycles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('run_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('held', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_cycles'))
    )
    op.create_table('remittances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('payee_npi', sa.String(length=10), nullable=False),
    sa.Column('payee_tin', sa.String(length=9), nullable=False),
    sa.Column('trace_number', sa.String(length=50), nullable=False),
    sa.Column('method', sa.String(length=3), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('effective', sa.Date(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('html_sha256', sa.String(length=64), nullable=True),
    sa.Column('claim_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['payment_cycles.id'], name=op.f('fk_remittances_cycle_id_payment_cycles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remittances')),
    sa.UniqueConstraint('trace_number', name=op.f('uq_remittances_trace_number'))
    )
    with op.batch_alter_table('remittances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remittances_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_remittances_payee_npi'), ['payee_npi'], unique=False)

    op.create_table('remitted_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('remittance_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('icn', sa.String(length=20), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('reverses_icn', sa.String(length=50), nullable=True),
    sa.Column('paid_cents', sa.BigInteger(), nullable=False),
    sa.Column('payment', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_remitted_claims_claim_id_claims')),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_remitted_claims_decision_id_decisions')),
    sa.ForeignKeyConstraint(['remittance_id'], ['remittances.id'], name=op.f('fk_remitted_claims_remittance_id_remittances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remitted_claims')),
    sa.UniqueConstraint('claim_id', 'role', name=op.f('uq_remitted_claims_claim_id')),
    sa.UniqueConstraint('reverses_icn', name=op.f('uq_remitted_claims_reverses_icn'))
    )
    with op.batch_alter_table('remitted_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remitted_claims_icn'), ['icn'], unique=False)
        batch_op.create_index(batch_op.f('ix_remitted_claims_remittance_id'), ['remittance_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('remitted_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remitted_claims_remittance_id'))
        batch_op.drop_index(batch_op.f('ix_remitted_claims_icn'))

    op.drop_table('remitted_claims')
    with op.batch_alter_table('remittances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remittances_payee_npi'))
        batch_op.drop_index(batch_op.f('ix_remittances_cycle_id'))

    op.drop_table('remittances')
    op.drop_table('payment_cycles')
    op.drop_table('payee_balances')
