"""The 277CA's control numbers, reserved before it is rendered.

A file's 277CA used to take its ISA13 and GS06 inside the transaction that renders it
and marks the file done, holding both sequence rows while a large file's 277CA was
written (seconds for 100,000 claims): on PostgreSQL every other file's 999 waited. The
numbers are now taken in a short transaction of their own and kept on the file's row
(``received_files.claim_ack_control``, one ``[ISA13, GS06]`` per interchange), so a
finish that fails or is killed is done again with the same numbers. Files finished
before this revision keep NULL.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('received_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_ack_control', sa.JSON(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not batch mode: recreating the table
    # would drop the tables whose rows refer to received files
    op.drop_column('received_files', 'claim_ack_control')
