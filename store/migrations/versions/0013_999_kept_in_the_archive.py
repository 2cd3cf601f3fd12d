"""The 999 and TA1 kept in the archive, named by their sha256, as the 277CA is (0003).

A file of 200,000 one-claim interchanges is answered with some 37 MB of 999: held in a
row it was rendered whole in memory, copied and written whole again. The engine now
writes each answer straight into the archive (``received_files.ack_sha256``, and for a
duplicate's TA1s ``duplicate_receipts.ack_sha256``). Rows answered before this revision
keep their text in ``ack_text``, which stays and is read when no sha256 is set
(`workers.kept_answers`); new rows leave it empty.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 09:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('received_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ack_sha256', sa.String(length=64), nullable=True))
    with op.batch_alter_table('duplicate_receipts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ack_sha256', sa.String(length=64), nullable=True))
        batch_op.alter_column('ack_text', existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    # An answer written since this revision is only in the archive, which a migration
    # does not know: below it such a row has no text (a receipt's is empty, as its
    # column allows no NULL), and its answer is kept only as the archived file.
    op.execute("UPDATE duplicate_receipts SET ack_text = '' WHERE ack_text IS NULL")
    with op.batch_alter_table('duplicate_receipts', schema=None) as batch_op:
        batch_op.alter_column('ack_text', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('ack_sha256')
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not batch mode: see revision 0010
    op.drop_column('received_files', 'ack_sha256')
