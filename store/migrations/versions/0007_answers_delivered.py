"""Which answers of a file the service has delivered, so a lost delivery is sent again.

The service delivers a file's 999 when it is acknowledged and its 277CA when it is
done, each by a message. A message lost with Redis after the file was done left the
277CA undelivered: the reconciler only looked at unfinished files. The service now
keeps, on the file's row, the status its last delivery answered
(``received_files.delivered_status``: ``pending`` until the first delivery, ``failed``
when the retries were used up); the reconciler sends the delivery again for a done
file whose delivery did not answer ``done``. Files taken in before this revision, or
by the command-line pipeline (whose answers go to its output directory), keep NULL:
nothing to deliver.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('received_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivered_status', sa.String(length=20),
                                      nullable=True))


def downgrade() -> None:
    op.drop_column('received_files', 'delivered_status')
