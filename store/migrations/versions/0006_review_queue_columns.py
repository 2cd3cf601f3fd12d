"""Review queues at scale: the billing NPI of every claim, its rendering NPIs, the
decision's codes as a column, and the indexes the queues read by.

The payee and code filters read JSON with no index, and a rejected claim kept no
billing NPI at all. The engine now writes ``claims.billing_npi`` (as the 277CA names
it), ``claims.decision_status`` (the current decision's status),
``claim_rendering_npis``, ``decisions.codes`` and ``decisions.rule_ids`` when it
writes the rows; this
revision fills them for the rows already there: the billing NPI from the 277CA
records kept with each transaction set, the rendering NPIs from the parsed claim
(accepted claims: a claim rejected before this revision kept no parsed claim), the
codes and rule ids from the decision's data and rules.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None
BATCH = 2_000


def upgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('billing_npi', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('decision_status', sa.String(length=16),
                                      nullable=True))
    op.create_table('claim_rendering_npis',
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('npi', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_claim_rendering_npis_claim_id_claims')),
    sa.PrimaryKeyConstraint('claim_id', 'npi', name=op.f('pk_claim_rendering_npis'))
    )
    with op.batch_alter_table('claim_rendering_npis', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_rendering_npis_npi'), ['npi'], unique=False)
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('codes', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('rule_ids', sa.Text(), nullable=False,
                                      server_default=''))
    _backfill(op.get_bind())
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_decisions_claim_id')
        batch_op.create_index('ix_decisions_claim',
                              ['claim_id', 'current', 'line_of_business', 'codes',
                               'rule_ids'],
                              unique=False)
    with op.batch_alter_table('interchanges', schema=None) as batch_op:
        batch_op.create_index('ix_interchanges_sender_file', ['sender_id', 'file_id'],
                              unique=False)
    # the indexes after the rows are filled: built once, not updated row by row
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claims_billing_npi'), ['billing_npi'],
                              unique=False)
        batch_op.create_index('ix_claims_rejections', [
            'front_end', 'id', 'charge_cents', 'receipt_date', 'billing_npi', 'file_id',
            'icn'],
            unique=False)
        batch_op.create_index('ix_claims_decided', [
            'decision_status', 'id', 'charge_cents', 'receipt_date', 'billing_npi',
            'file_id', 'icn'], unique=False)


def _batches(rows: Iterator[Any]) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _backfill(bind: sa.Connection) -> None:
    from edi.claims import ParsedClaim
    from workers.decisions import codes_text, rule_ids_text

    claims = sa.table('claims', sa.column('id', sa.Integer), sa.column('set_id', sa.Integer),
                      sa.column('position', sa.Integer), sa.column('parsed', sa.Text),
                      sa.column('billing_npi', sa.String))
    sets = sa.table('transaction_sets', sa.column('id', sa.Integer),
                    sa.column('answer', sa.JSON))
    decisions = sa.table('decisions', sa.column('id', sa.Integer),
                         sa.column('data', sa.JSON), sa.column('rules', sa.JSON),
                         sa.column('codes', sa.Text), sa.column('rule_ids', sa.Text))
    rendering = sa.table('claim_rendering_npis', sa.column('claim_id', sa.Integer),
                         sa.column('npi', sa.String))
    bind.execute(sa.text(
        "UPDATE claims SET decision_status = (SELECT decisions.status FROM decisions "
        "WHERE decisions.claim_id = claims.id AND decisions.current = :yes) "
        "WHERE claims.state = 'decided'"), {"yes": True})
    set_ids = list(bind.scalars(sa.select(sets.c.id).where(sets.c.answer.is_not(None))
                                .order_by(sets.c.id)))
    for set_id in set_ids:  # one set's 277CA records in memory at a time
        answer: dict[str, Any] = bind.scalar(
            sa.select(sets.c.answer).where(sets.c.id == set_id)) or {"claims": []}
        npis = [{"set": set_id, "pos": position, "npi": record["billing_provider"]["npi"]}
                for position, record in enumerate(answer["claims"], 1)]
        for batch in _batches(iter(npis)):
            bind.execute(claims.update().where(claims.c.set_id == sa.bindparam("set"),
                                               claims.c.position == sa.bindparam("pos"))
                         .values(billing_npi=sa.bindparam("npi")), batch)
    last = 0
    while ids_parsed := bind.execute(
            sa.select(claims.c.id, claims.c.parsed).where(
                claims.c.parsed.is_not(None), claims.c.id > last)
            .order_by(claims.c.id).limit(BATCH)).all():
        last = ids_parsed[-1][0]
        found = [{"claim_id": claim_id, "npi": npi} for claim_id, parsed in ids_parsed
                 for npi in ParsedClaim.model_validate_json(parsed).rendering_npis()]
        if found:
            bind.execute(rendering.insert(), found)
    last = 0
    while ids_data := bind.execute(
            sa.select(decisions.c.id, decisions.c.data, decisions.c.rules)
            .where(decisions.c.id > last).order_by(decisions.c.id).limit(BATCH)).all():
        last = ids_data[-1][0]
        changed = [{"key": decision_id, "codes_": codes_text(data),
                    "rules_": rule_ids_text(rules)} for decision_id, data, rules in ids_data]
        bind.execute(decisions.update().where(decisions.c.id == sa.bindparam("key"))
                     .values(codes=sa.bindparam("codes_"), rule_ids=sa.bindparam("rules_")),
                     changed)


def downgrade() -> None:
    # columns dropped with ALTER TABLE (SQLite 3.35+), not batch mode: recreating the
    # claims and decisions tables would drop tables other rows refer to
    op.drop_index('ix_interchanges_sender_file', table_name='interchanges')
    op.drop_index('ix_decisions_claim', table_name='decisions')
    op.create_index('ix_decisions_claim_id', 'decisions', ['claim_id'], unique=False)
    op.drop_column('decisions', 'rule_ids')
    op.drop_column('decisions', 'codes')
    op.drop_index(op.f('ix_claim_rendering_npis_npi'), table_name='claim_rendering_npis')
    op.drop_table('claim_rendering_npis')
    op.drop_index('ix_claims_decided', table_name='claims')
    op.drop_index('ix_claims_rejections', table_name='claims')
    op.drop_index(op.f('ix_claims_billing_npi'), table_name='claims')
    op.drop_column('claims', 'decision_status')
    op.drop_column('claims', 'billing_npi')
