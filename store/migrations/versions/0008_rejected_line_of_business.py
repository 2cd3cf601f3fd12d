"""The line of business of a claim the front end rejected: the rejections queue filters
by it as the denials and pends queues do.

A rejected claim is never adjudicated, so no decision names its line of business.
The engine now names it when it answers the claim's transaction set, as adjudication
would (the member the claim identifies and the coverage it would be reported under:
`workers.line_of_business`), and keeps it in ``claims.line_of_business``; the
rejections queue's index (``ix_claims_rejections``) carries the column, so the filter
reads no claim row. Claims rejected before this revision kept nothing to name it from
(no parsed claim, no member id): they get ``unknown``. Other claims keep NULL.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

OLD_REJECTIONS = ['front_end', 'id', 'charge_cents', 'receipt_date', 'billing_npi',
                  'file_id', 'icn']


def upgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('line_of_business', sa.String(length=24),
                                      nullable=True))
    op.execute(sa.text("UPDATE claims SET line_of_business = 'unknown' "
                       "WHERE front_end = 'rejected'"))
    op.drop_index('ix_claims_rejections', table_name='claims')
    op.create_index('ix_claims_rejections', 'claims', [*OLD_REJECTIONS, 'line_of_business'],
                    unique=False)


def downgrade() -> None:
    # the column dropped with ALTER TABLE (SQLite 3.35+), not batch mode: recreating the
    # claims table would drop tables other rows refer to
    op.drop_index('ix_claims_rejections', table_name='claims')
    op.create_index('ix_claims_rejections', 'claims', OLD_REJECTIONS, unique=False)
    op.drop_column('claims', 'line_of_business')
