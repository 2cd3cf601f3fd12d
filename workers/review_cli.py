"""`claims explain` and `claims pends`: read and act on the decisions in the store."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, select

from adjudication.decision import Decision, InvalidOverride
from adjudication.engine import adjudicate
from edi.claims import ParsedClaim
from edi.faults import record_fault
from store.engine import Store
from store.models import Claim, DecisionRecord, Event, PendRelease
from workers.decisions import (
    decision_from_record,
    summary_fields,
)
from workers.history import state_for
from workers.reference_store import ReferenceSource
from workers.steps import decision_record

MAX_AMOUNT = Decimal("99999999.99")


class ReviewError(Exception):
    """A review command cannot be carried out (unknown claim, not pended, bad amount)."""


def _current(store: Store, icn: str) -> tuple[Decision, list[str]]:
    """The claim's current decision with its trace, and its deciding rules."""
    with store.transaction() as s:
        row = s.execute(select(DecisionRecord.data, DecisionRecord.trace, DecisionRecord.rules)
                        .where(DecisionRecord.icn == icn, DecisionRecord.current.is_(True))
                        ).first()
    if row is None:
        raise ReviewError(f"no decision for claim number {icn}")
    data, trace, rules = row
    return decision_from_record(data, trace), list(rules)


def explain(console: Console, store: Store, icn: str) -> None:
    d, rules = _current(store, icn)
    fields = summary_fields(d, rules)
    console.print(f"[bold]{icn}[/] claim {d.patient_control_number}: {d.status}, "
                  f"paid {d.paid:.2f}, patient responsibility {d.patient_responsibility:.2f} "
                  f"({d.line_of_business}, plan {d.plan_id}, state {d.state}); "
                  f"decided by {', '.join(fields['rules'])}")
    lines = Table(title="Lines")
    for column in ("line", "procedure", "charge", "allowed", "paid", "status", "adjustments",
                   "RARC"):
        lines.add_column(column)
    for line in d.lines:
        lines.add_row(str(line.line_number), ":".join([line.procedure_code, *line.modifiers]),
                      f"{line.charge:.2f}", f"{line.allowed:.2f}", f"{line.paid:.2f}",
                      line.status + (f" ({line.pend_reason})" if line.pend_reason else ""),
                      " ".join(f"{a.group}-{a.carc} {a.amount:.2f}" for a in line.adjustments),
                      " ".join(line.rarcs))
    console.print(lines)
    table = Table(title="Trace: every rule that ran, its inputs and what it concluded")
    for column in ("rule", "v", "line", "inputs", "conclusion"):
        table.add_column(column)
    for step in d.trace:
        table.add_row(step.rule_id, str(step.version),
                      "" if step.line_number is None else str(step.line_number),
                      "; ".join(f"{k}={v}" for k, v in step.shown), step.conclusion)
    console.print(table)


def pended(store: Store) -> list[Decision]:
    with store.transaction() as s:
        rows = s.scalars(select(DecisionRecord.data).where(
            DecisionRecord.current.is_(True), DecisionRecord.status == "pended")
            .order_by(DecisionRecord.id))
        return [decision_from_record(data) for data in rows]


def list_pends(console: Console, store: Store) -> None:
    table = Table(title="Pended claims")
    for column in ("claim number", "claim", "charge", "reasons"):
        table.add_column(column)
    for d in pended(store):
        table.add_row(d.icn, d.patient_control_number, f"{d.charge:.2f}",
                      "\n".join(d.pend_reasons))
    console.print(table)


def parse_overrides(values: list[str]) -> dict[int, Decimal]:
    """``LINE=AMOUNT`` values: a line number and a finite, non-negative amount in cents."""
    overrides: dict[int, Decimal] = {}
    for value in values:
        line, _, amount = value.partition("=")
        try:
            number, allowed = int(line), Decimal(amount.strip())
        except (ValueError, InvalidOperation):
            raise ReviewError("--allowed takes LINE=AMOUNT, e.g. 1=120.00") from None
        if not allowed.is_finite() or allowed < 0 or allowed > MAX_AMOUNT:
            raise ReviewError("--allowed needs an amount from 0 to the line's charge")
        if allowed != allowed.quantize(Decimal("0.01")):
            raise ReviewError("--allowed amounts are in dollars and cents (two decimals)")
        if number in overrides:
            raise ReviewError(f"--allowed names line {number} twice")
        overrides[number] = allowed
    return overrides


def release(store: Store, icn: str, overrides: dict[int, Decimal], reviewer: str, note: str,
            source: ReferenceSource, now: datetime | None = None) -> Decision:
    """Re-adjudicate a pended claim with the allowed amounts a person entered.

    The claim is the one the store keeps under this number (never re-read from a
    file); the new decision, the release and its audit event commit together.
    """
    now = now or datetime.now(tz=UTC)
    with store.transaction() as s:
        current = s.scalar(select(DecisionRecord).where(
            DecisionRecord.icn == icn, DecisionRecord.current.is_(True)).with_for_update())
        if current is None or current.status != "pended":
            raise ReviewError(f"claim number {icn} is not pended")
        claim_row = s.get(Claim, current.claim_id)
        assert claim_row is not None and claim_row.parsed is not None
        claim = ParsedClaim.model_validate_json(claim_row.parsed)
        charges = {line.assigned_number: line.line_item_charge_amount
                   for line in claim.claim.lines}
        for number, allowed in overrides.items():
            if number not in charges:
                raise ReviewError(f"--allowed names line {number}, which the claim does not have")
            if allowed > charges[number]:
                raise ReviewError(f"--allowed for line {number} is above the line's charge")
        original = decision_from_record(current.data)
        subscriber = claim.subscriber.member_id or ""
        original_icn = claim.claim.payer_claim_control_number
        originals = [original_icn] if original_icn else []
        reference = source.for_claims(s, [subscriber], originals)
        members = {m.member_id for m in reference.members_with_subscriber(subscriber)}
        state = state_for(s, [subscriber], members, originals)
        try:
            decision = adjudicate(claim, icn=icn, reference=reference, as_of=original.as_of,
                                  received=original.received, state=state, overrides=overrides)
        except InvalidOverride as exc:
            raise ReviewError(str(exc)) from None
        except Exception as exc:  # an engine bug: logged and counted, the pend stands
            record_fault("pend-release", exc)
            raise ReviewError("the engine could not decide this claim; the fault is logged "
                              "and the claim stays pended") from None
        current.current = False
        s.flush()
        s.execute(insert(DecisionRecord), [decision_record(
            decision, claim_id=current.claim_id, version=current.version + 1,
            subscriber_id=subscriber, reference_version=source.version, at=now)])
        s.add(PendRelease(icn=icn, reviewer=reviewer, note=note,
                          overrides={str(k): str(v) for k, v in overrides.items()},
                          from_version=current.version, to_version=current.version + 1,
                          released_at=now))
        s.add(Event(at=now, kind="pend.released", actor=reviewer, subject=icn,
                    detail={"status": decision.status, "from_version": current.version}))
    return decision
