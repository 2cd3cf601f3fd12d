"""How many claims each transaction set holds, kept on its row.

The service answered a file's sets one message each: a file of 5,000 one-claim sets
was 5,000 messages of two transactions each, where `claims process` answers
consecutive small sets together. To send such sets in one message the service must
know their sizes when it sends them, before any set is read back: the acknowledge
step now keeps each set's CLM count (``transaction_sets.claims``) as the one pass
found it. Sets kept before this revision have NULL, and are each sent alone, as
before.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('transaction_sets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claims', sa.Integer(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not batch mode: see revision 0010
    op.drop_column('transaction_sets', 'claims')
