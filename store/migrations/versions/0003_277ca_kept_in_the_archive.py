"""The 277CA kept in the archive, named by its sha256, not held in a row.

A file of 100,000 claims is answered with some 30 MB of 277CA; held in a row it was
rendered, copied and written whole. The engine now writes it straight into the
archive and the row names it. Nothing was released with the old column: a database
upgraded from 0002 keeps its 277CAs only as the files already written to the output
directories.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 12:35:42.385272
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('received_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_ack_sha256', sa.String(length=64), nullable=True))
        batch_op.drop_column('claim_ack_text')


def downgrade() -> None:
    with op.batch_alter_table('received_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_ack_text', sa.TEXT(), nullable=True))
        batch_op.drop_column('claim_ack_sha256')
