"""Each claim's 277CA record on its own row, and a set's 277CA totals beside its header.

A transaction set's 277CA records were kept together in ``transaction_sets.answer``:
answering a set, and writing its 277CA, held every claim of it in memory at once
(about 8 KB a claim: 400 MB for a set of 50,000). Each claim's record now sits on its
claim (``claims.answer``), with the billing provider group the 277CA names it under
(``claims.provider_group``); the set keeps the 277CA's header (``answer``, its claims
empty) and its totals (``totals``), counted as the claims were answered. The 277CA then
reads a set's claims one at a time, in ``ix_claims_set_answer``'s order.

This revision moves the records of the sets already answered onto their claims
(a set's claims are numbered by position in the order of its records), one set in
memory at a time; the downgrade moves them back.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 14:30:00.000000
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_claims = sa.table('claims', sa.column('id', sa.Integer), sa.column('set_id', sa.Integer),
                   sa.column('position', sa.Integer), sa.column('answer', sa.JSON),
                   sa.column('provider_group', sa.Integer))
_sets = sa.table('transaction_sets', sa.column('id', sa.Integer),
                 sa.column('answer', sa.JSON), sa.column('totals', sa.JSON))


def upgrade() -> None:
    with op.batch_alter_table('transaction_sets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totals', sa.JSON(), nullable=True))
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('provider_group', sa.Integer(), nullable=True))
    _spread(op.get_bind())
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index('ix_claims_set_answer', ['set_id', 'provider_group', 'position'],
                              unique=False)


def _answered_sets(bind: sa.Connection) -> list[int]:
    return list(bind.scalars(sa.select(_sets.c.id).where(_sets.c.answer.is_not(None))
                             .order_by(_sets.c.id)))


def _spread(bind: sa.Connection) -> None:
    from edi.ack277 import TallyBuilder
    from edi.claim_status import ClaimStatus
    from store.codec import from_json, to_json

    for set_id in _answered_sets(bind):  # one set's records in memory at a time
        answer: dict[str, Any] = bind.scalar(sa.select(_sets.c.answer)
                                             .where(_sets.c.id == set_id)) or {}
        counted = TallyBuilder()
        rows = [{"set": set_id, "pos": position, "record": record,
                 "group": counted.add(from_json(ClaimStatus, record))}
                for position, record in enumerate(answer.get("claims") or [], 1)]
        if rows:
            bind.execute(_claims.update().where(_claims.c.set_id == sa.bindparam("set"),
                                                _claims.c.position == sa.bindparam("pos"))
                         .values(answer=sa.bindparam("record"),
                                 provider_group=sa.bindparam("group")), rows)
        bind.execute(_sets.update().where(_sets.c.id == set_id).values(
            answer={**answer, "claims": []}, totals=to_json(counted.totals())))


def downgrade() -> None:
    bind = op.get_bind()
    for set_id in _answered_sets(bind):
        answer: dict[str, Any] = bind.scalar(sa.select(_sets.c.answer)
                                             .where(_sets.c.id == set_id)) or {}
        records = list(bind.scalars(sa.select(_claims.c.answer).where(
            _claims.c.set_id == set_id, _claims.c.answer.is_not(None))
            .order_by(_claims.c.position)))
        bind.execute(_sets.update().where(_sets.c.id == set_id)
                     .values(answer={**answer, "claims": records}))
    # columns dropped with ALTER TABLE (SQLite 3.35+), not batch mode: recreating the
    # claims table would drop the tables whose rows refer to claims
    op.drop_index('ix_claims_set_answer', table_name='claims')
    op.drop_column('claims', 'provider_group')
    op.drop_column('claims', 'answer')
    op.drop_column('transaction_sets', 'totals')
