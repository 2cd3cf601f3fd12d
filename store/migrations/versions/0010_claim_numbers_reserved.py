"""A transaction set's claim numbers, reserved before it is answered.

A set's answer (its claims numbered and inserted, about a second for 5,000 claims on
PostgreSQL) used to take its block of claim numbers inside its own transaction,
holding the sequence's row until it committed: the sets of other files, and the other
sets of the same file on other workers, waited for it. The block is now taken in a
short transaction of its own and its first number kept on the set's row
(``transaction_sets.first_claim_number``), so a set whose answer fails or is killed
is answered again with the same numbers. Sets answered before this revision keep NULL.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 12:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('transaction_sets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_claim_number', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not batch mode: recreating the table
    # would drop the tables whose rows refer to transaction sets
    op.drop_column('transaction_sets', 'first_claim_number')
