"""Duplicates: the same service already decided, from history or earlier in the run.

A *service* is the member, rendering NPI (2420A/2310B, else billing), first date of
service, procedure code and modifiers (in any order). Earlier services are a history
line that is not reversed or voided, a line decided earlier in this run (paid,
denied or pended), or an earlier line of the same claim; never the claim's own ICN
(a replay) nor the original a replacement reverses, and never a line denied OA-18
itself: it repeated an earlier service, and counting it would make that earlier claim,
decided again (a pend released), a duplicate of its own copy, both denied.

- Exact duplicate: the same service with the same units and line charge: denied
  OA-18 (CARC 18 needs group OA).
- Suspect duplicate: the same service with other units or another charge (a second
  session billed by mistake, or a corrected charge sent as a new claim instead of a
  replacement): pended for a person, the reason naming the earlier claim number and
  line, never paid twice unseen. The person who finds it a separate service releases
  the pend with an allowed amount for the line (``overrides``): the line is then no
  duplicate, and the trace says a reviewer decided so. Before 2026-12-02 that release
  pended again, so a suspect duplicate could only be denied.
An exact match anywhere wins over a suspect one, reviewer or not.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from adjudication.context import Deny, Ledger, LineFacts, LineRule, LineWork, Outcome, Pend
from adjudication.decision import Group
from adjudication.reference import PastClaim

_CLOSED = ("reversed", "voided")


def _service(row: PastClaim) -> tuple[object, ...]:
    return (row.rendering_npi, row.service_date, row.procedure_code, tuple(sorted(row.modifiers)))


def _service_of(facts: LineFacts) -> tuple[object, ...]:
    return (facts.rendering_npi, facts.start, facts.procedure_code, tuple(sorted(facts.modifiers)))


def _a_copy(row: PastClaim) -> bool:
    """Whether the line was denied as a duplicate (OA-18) of another."""
    return any((group, carc) == ("OA", "18") for group, carc, _amount in row.cas())


def _earlier_services(work: LineWork) -> Iterator[tuple[str, PastClaim]]:
    ctx = work.ctx
    skip = ctx.not_history
    member_id = ctx.member.member_id
    assert work.facts.start is not None
    for row in ctx.reference.same_service(member_id, work.facts.start, work.facts.procedure_code):
        if (row.icn not in skip and row.status not in _CLOSED and ctx.state.closed(row.icn) is None
                and ctx.state.claim(row.icn) is None and not _a_copy(row)):
            yield "history", row
    for row in ctx.state.lines_for_member_on(member_id, work.facts.start):
        if row.icn not in skip and row.status not in _CLOSED and not _a_copy(row):
            yield "this run", row


def _duplicate(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    facts = work.facts
    service = _service_of(facts)
    suspect: str | None = None
    for earlier in work.earlier:
        if _service_of(earlier) != service:
            continue
        if (earlier.units, earlier.charge) == (facts.units, facts.charge):
            work.note(rule, f"duplicate of line {earlier.number} of this claim",
                      **_inputs(facts))
            return Deny(Group.OA, "18")
        suspect = suspect or (f"line {earlier.number} of this claim "
                              f"({_differs(earlier.units, earlier.charge, facts)})")
    for source, row in _earlier_services(work):
        if _service(row) != service:
            continue
        if (row.units, row.charge) == (facts.units, facts.charge):
            work.note(rule, f"duplicate of {row.icn} line {row.line_number} ({source}, "
                            f"{row.status})", **_inputs(facts))
            return Deny(Group.OA, "18")
        suspect = suspect or (f"{row.icn} line {row.line_number} ({source}, {row.status}; "
                              f"{_differs(row.units, row.charge, facts)})")
    if suspect is not None:
        reason = f"suspect duplicate of {suspect}"
        if work.ctx.overrides.get(facts.number) is not None:
            work.note(rule, f"{reason}: a separate service, released by a reviewer with "
                            "an allowed amount", **_inputs(facts))
            return None
        work.note(rule, reason, **_inputs(facts))
        return Pend(reason)
    work.note(rule, "not a duplicate", **_inputs(facts))
    return None


def _differs(units: Decimal, charge: Decimal, facts: LineFacts) -> str:
    """What differs from the earlier service, for the person who reviews the pend."""
    parts = []
    if units != facts.units:
        parts.append(f"units {units.normalize():f} there, {facts.units.normalize():f} here")
    if charge != facts.charge:
        parts.append(f"charge {charge} there, {facts.charge} here")
    return "; ".join(parts)


def _inputs(facts: LineFacts) -> dict[str, object]:
    return {"rendering_npi": facts.rendering_npi, "date_of_service": facts.start,
            "procedure_code": facts.procedure_code, "modifiers": facts.modifiers,
            "units": facts.units, "charge": facts.charge}


DUPLICATE = LineRule(
    "DUPLICATE", 4, "The service was not already billed (same member, clinician, date, "
    "procedure and modifiers: with the same units and charge a duplicate, otherwise a "
    "suspect duplicate for a person, who may release it as a separate service)",
    ("OA-18",), _duplicate)
