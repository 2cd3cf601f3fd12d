"""Exact duplicates: the same service already decided, from history or earlier in the run.

Same member, rendering NPI (2420A/2310B, else billing), first date of service,
procedure code, modifiers (in any order) and line charge as a line already decided:
a history line that is not reversed or voided, a line decided earlier in this run
(paid, denied or pended), or an earlier line of the same claim. Never the claim's
own ICN (a replay) nor the original a replacement reverses. CARC 18 needs group OA.
"""

from __future__ import annotations

from collections.abc import Iterator

from adjudication.context import Deny, Ledger, LineFacts, LineRule, LineWork, Outcome
from adjudication.decision import Group
from adjudication.reference import PastClaim

_CLOSED = ("reversed", "voided")


def _key(row: PastClaim) -> tuple[object, ...]:
    return (row.rendering_npi, row.service_date, row.procedure_code,
            tuple(sorted(row.modifiers)), row.charge)


def _earlier_services(work: LineWork) -> Iterator[tuple[str, PastClaim]]:
    ctx = work.ctx
    skip = ctx.not_history
    member_id = ctx.member.member_id
    assert work.facts.start is not None
    for row in ctx.reference.same_service(member_id, work.facts.start, work.facts.procedure_code):
        if (row.icn not in skip and row.status not in _CLOSED and ctx.state.closed(row.icn) is None
                and ctx.state.claim(row.icn) is None):
            yield "history", row
    for row in ctx.state.lines_for_member(member_id):
        if row.icn not in skip and row.status not in _CLOSED:
            yield "this run", row


def _duplicate(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    facts = work.facts
    key = facts.duplicate_key
    same_claim = next((e for e in work.earlier if e.duplicate_key == key), None)
    if same_claim is not None:
        work.note(rule, f"duplicate of line {same_claim.number} of this claim", **_inputs(facts))
        return Deny(Group.OA, "18")
    for source, row in _earlier_services(work):
        if _key(row) == key:
            work.note(rule, f"duplicate of {row.icn} line {row.line_number} ({source}, "
                            f"{row.status})", **_inputs(facts))
            return Deny(Group.OA, "18")
    work.note(rule, "not a duplicate", **_inputs(facts))
    return None


def _inputs(facts: LineFacts) -> dict[str, object]:
    return {"rendering_npi": facts.rendering_npi, "date_of_service": facts.start,
            "procedure_code": facts.procedure_code, "modifiers": facts.modifiers,
            "charge": facts.charge}


DUPLICATE = LineRule(
    "DUPLICATE", 1, "The service was not already billed (same member, clinician, date, "
    "procedure, modifiers and charge)", ("OA-18",), _duplicate)
