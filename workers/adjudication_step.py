"""The adjudicate step: a file's accepted claims decided in receipt order, a batch per
transaction (`adjudicate_batch`), each claim's decision and its row's status written
together, until none is left (`adjudicate_file`); on PostgreSQL a file's batches take
turns and one member's decisions never interleave across processes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from adjudication.decision import Decision, TraceStep
from adjudication.engine import adjudicate, pend_after_engine_fault
from edi.claims import ParsedClaim
from edi.faults import record_fault
from store.models import Claim, DecisionRecord
from workers.collector import cyclic_gc_held_off, release_free_memory
from workers.decisions import (
    codes_text,
    deciding_rules,
    rule_ids_text,
    split_decision,
    to_cents,
)
from workers.history import state_for
from workers.steps import StepContext, advance, event

BATCH = 500
"""Claims adjudicated per transaction, at most."""
BATCH_CHARACTERS = 2_000_000
"""Characters of stored claim JSON adjudicated per transaction, at most (and at least
one claim): what a batch holds grows with its claims' lines (a 50-line claim is about
23 KB of JSON and 185 KB of decision and trace), so 500 claims of 50 lines took
`claims process` from 125 MB to 401 MB. 500 claims of a few lines are about 2 MB."""

ADJUDICATION_LOCK_SPACE = 87726
"""First key of the per-file advisory lock batches take on PostgreSQL."""


def lock_members(s: Session, keys: Iterable[str]) -> None:
    """On PostgreSQL, one member's decisions never interleave across processes: the
    transaction holds an advisory lock on each subscriber ID and original claim number
    it decides for (all in one statement, taken in key order so two never deadlock).
    Every step that decides a claim takes them before it reads the member's state: a
    batch of a file, and a pend released (`workers.review_cli.release`)."""
    if s.get_bind().dialect.name != "postgresql":
        return  # SQLite: one writer at a time (BEGIN IMMEDIATE)
    s.execute(text("SELECT count(pg_advisory_xact_lock(hashtext(k))) FROM "
                   "(SELECT unnest(CAST(:keys AS text[])) AS k ORDER BY 1) AS wanted"),
              {"keys": sorted(set(keys))})


def adjudicate_file(ctx: StepContext, file_id: int) -> int:
    """Every accepted claim of the file decided, in receipt order, a batch per transaction."""
    decided = 0
    if ctx.reference is not None:  # front end only: the claims stay accepted, undecided
        while count := adjudicate_batch(ctx, file_id):
            decided += count
    advance(ctx, file_id, "answered", "adjudicated")
    return decided


def adjudicate_batch(ctx: StepContext, file_id: int, size: int = BATCH) -> int:
    """Decide the next batch of the file's accepted claims; 0 when none is left."""
    with cyclic_gc_held_off():
        count = _adjudicate_batch(ctx, file_id, size)
    release_free_memory()
    return count


def _adjudicate_batch(ctx: StepContext, file_id: int, size: int) -> int:
    source = ctx.reference
    assert source is not None
    with ctx.store.transaction() as s:
        if ctx.store.postgresql:
            # one batch of a file at a time, whoever sent it (a chain and the reconciler's
            # copy of it): the next batch reads this one's decisions (receipt order)
            s.execute(text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), "
                           "CAST(:file AS integer))"),
                      {"space": ADJUDICATION_LOCK_SPACE, "file": file_id})
        query = (select(Claim.id, Claim.icn, Claim.receipt_date, Claim.parsed)
                 .where(Claim.file_id == file_id, Claim.state == "accepted")
                 .order_by(Claim.id).limit(size))
        if ctx.store.postgresql:
            query = query.with_for_update(skip_locked=True)
        rows = _first_within(list(s.execute(query)), BATCH_CHARACTERS)
        if not rows:
            return 0
        claims = [ParsedClaim.model_validate_json(row.parsed or "") for row in rows]
        subscribers = {c.subscriber.member_id for c in claims if c.subscriber.member_id}
        originals = {c.claim.payer_claim_control_number for c in claims
                     if c.claim.payer_claim_control_number}
        lock_members(s, subscribers | originals)
        reference = source.for_claims(s, subscribers, originals)
        members = {m.member_id for sub in subscribers
                   for m in reference.members_with_subscriber(sub)}
        state = state_for(s, subscribers, members, originals)
        records = []
        statuses: dict[int, str] = {}
        for row, claim in zip(rows, claims, strict=True):
            assert row.icn is not None
            try:
                decision = adjudicate(claim, icn=row.icn, reference=reference,
                                      code_sets=ctx.code_sets, as_of=ctx.as_of,
                                      received=row.receipt_date, state=state,
                                      policy=ctx.engine_policy)
            except Exception as exc:  # an engine bug: the claim waits for a person
                record_fault("adjudication", exc)
                event(s, ctx, "engine.fault", row.icn, where="adjudication",
                      error=type(exc).__name__)
                decision = pend_after_engine_fault(claim, icn=row.icn,
                                                   received=row.receipt_date, as_of=ctx.as_of)
            state = state.apply(decision)  # applied once: the number exists already
            statuses[row.id] = decision.status
            records.append(decision_record(decision, claim_id=row.id, version=1,
                                           subscriber_id=claim.subscriber.member_id,
                                           reference_version=source.version, at=ctx.now))
        # Core statements: one INSERT and an UPDATE per status, no ORM object per claim
        s.execute(insert(DecisionRecord), records)
        mark_decided(s, statuses)
        event(s, ctx, "batch.adjudicated", str(file_id), claims=len(rows),
              first=rows[0].icn, last=rows[-1].icn)
        return len(rows)


def _first_within(rows: list[Any], characters: int) -> list[Any]:
    """The first of ``rows`` whose stored claims hold at most ``characters`` together,
    and at least the first; the rest stay accepted for the next batch."""
    total = 0
    for taken, row in enumerate(rows):
        total += len(row.parsed or "")
        if total > characters and taken:
            return rows[:taken]
    return rows


def mark_decided(s: Session, statuses: dict[int, str]) -> None:
    """Claims (by row id) whose current decision was just written, with its status:
    the claim row keeps it (`Claim.decision_status`) for the review queues."""
    by_status: dict[str, list[int]] = {}
    for claim_id, status in statuses.items():
        by_status.setdefault(status, []).append(claim_id)
    for status, ids in sorted(by_status.items()):
        s.execute(update(Claim).where(Claim.id.in_(ids))
                  .values(state="decided", decision_status=status))


def decision_record(decision: Decision, *, claim_id: int, version: int,
                    subscriber_id: str | None, reference_version: str,
                    at: datetime) -> dict[str, object]:
    """The decisions row of one decision (its trace encoded once, apart)."""
    data, trace = split_decision(decision)
    rules = deciding_rules(decision)
    return {
        "claim_id": claim_id, "icn": decision.icn, "version": version, "current": True,
        "status": decision.status, "paid_cents": to_cents(decision.paid),
        "patient_responsibility_cents": to_cents(decision.patient_responsibility),
        "member_id": decision.member_id, "subscriber_id": subscriber_id,
        "line_of_business": str(decision.line_of_business)
        if decision.line_of_business else None,
        "rule_versions": rule_versions(decision.trace), "rules": rules,
        "reference_version": reference_version, "data": data, "trace": trace,
        "decided_at": at, "codes": codes_text(data), "rule_ids": rule_ids_text(rules),
    }


def rule_versions(trace: Sequence[TraceStep]) -> dict[str, int]:
    return {step.rule_id: step.version for step in trace}
