"""Coding edits from reference data: units per day, add-on codes, same-day pairs.

Each looks at the services one clinician (the line's rendering NPI) billed for the
member on the line's first date of service: the other lines of this claim, the lines
decided earlier in this run, and history lines (paid or pended; never denied,
reversed or voided ones, nor the original a replacement reverses).

- UNIT-LIMIT (CMS practitioner MUE, date of service): this line's units plus the
  units of the same code billed before it that day (earlier lines of this claim, the
  run, history) above `UnitLimit.max_units_per_day`: the line is denied CO-151 whole
  (Medicare denies the whole line too).
- ADD-ON-PRIMARY: an add-on code (`AddOnCode`) needs one of its primary codes the
  same day by the same clinician (on this claim or already billed), else CO-107.
- PROCEDURE-PAIR (NCCI procedure-to-procedure): when the other code of a
  `ProcedurePair` was billed the same day by the same clinician, the column 2 code is
  denied CO-236, unless the pair allows a modifier and the column 2 line carries one
  of the bypass modifiers (`EnginePolicy.pair_bypass_modifiers`: 59, XE, XS, XP, XU).
  The column 1 code is never denied by the pair.

The trace names the rows used (their source and whether the value is verified) and
the services that counted; a PROCEDURE-PAIR step found a pair, and says with
``bypassed`` whether a bypass modifier let the line through it (the run report counts
those lines: `workers.decisions.pairs_bypassed`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from adjudication.context import Deny, Ledger, LineRule, LineWork, Outcome
from adjudication.decision import ZERO, Group
from edi.amounts import quantity_text

_COUNTED = ("paid", "pended")


@dataclass(frozen=True)
class SameDay:
    """A service the same clinician billed the member on the same day."""

    where: str
    """``line 2 of this claim``, ``OBH... line 1 (this run)``, ``OBH... line 1 (history)``."""
    procedure_code: str
    modifiers: tuple[str, ...]
    units: Decimal
    earlier: bool
    """Billed before this line (an earlier line of this claim, or an earlier claim)."""


def same_day_services(work: LineWork) -> Iterator[SameDay]:
    """The other services of the line's clinician, member and first date of service."""
    facts, ctx = work.facts, work.ctx
    for other in ctx.line_facts:
        if (other.number != facts.number and other.start == facts.start
                and other.rendering_npi == facts.rendering_npi):
            yield SameDay(f"line {other.number} of this claim", other.procedure_code,
                          other.modifiers, other.units, other.number < facts.number)
    skip = ctx.not_history
    member_id = ctx.member.member_id
    day = facts.start
    for row in ctx.state.lines_for_member_on(member_id, day) if day is not None else ():
        if (row.icn not in skip and row.status in _COUNTED
                and row.rendering_npi == facts.rendering_npi):
            yield SameDay(f"{row.icn} line {row.line_number} (this run)", row.procedure_code,
                          row.modifiers, row.units, True)
    for row in ctx.reference.past_claims_for(member_id):
        if (row.icn not in skip and row.status in _COUNTED and row.service_date == facts.start
                and row.rendering_npi == facts.rendering_npi
                and ctx.state.closed(row.icn) is None and ctx.state.claim(row.icn) is None):
            yield SameDay(f"{row.icn} line {row.line_number} (history)", row.procedure_code,
                          row.modifiers, row.units, True)


def _unit_limit(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    facts = work.facts
    limit = work.ctx.reference.unit_limit(facts.procedure_code, work.day)
    if limit is None:
        work.note(rule, "no unit limit for this code", procedure_code=facts.procedure_code)
        return None
    before = [s for s in same_day_services(work)
              if s.earlier and s.procedure_code == facts.procedure_code]
    billed = facts.units + sum((s.units for s in before), ZERO)
    inputs = {"procedure_code": facts.procedure_code, "units": facts.units,
              "units_billed_earlier_that_day": billed - facts.units,
              "limit_per_day": limit.max_units_per_day, "limit_source": limit.source,
              "limit_verified": limit.verified,
              "counted": "; ".join(s.where for s in before) or "none"}
    if billed > limit.max_units_per_day:
        work.note(rule, f"denied: {quantity_text(billed)} units of {facts.procedure_code} that "
                        f"day, more than the {quantity_text(limit.max_units_per_day)} a day "
                        "allowed", **inputs)
        return Deny(Group.CO, "151")
    work.note(rule, f"within the limit of {quantity_text(limit.max_units_per_day)} a day",
              **inputs)
    return None


def _add_on(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    facts = work.facts
    row = work.ctx.reference.add_on(facts.procedure_code, work.day)
    if row is None:
        work.note(rule, "not an add-on code", procedure_code=facts.procedure_code)
        return None
    primary = next((s for s in same_day_services(work)
                    if s.procedure_code in row.primary_codes), None)
    inputs = {"add_on_code": facts.procedure_code, "primary_codes": row.primary_codes,
              "source": row.source, "verified": row.verified,
              "primary_found": primary.where if primary else "none"}
    if primary is None:
        work.note(rule, "denied: the add-on has none of its primary services that day by "
                        "the same clinician", **inputs)
        return Deny(Group.CO, "107")
    work.note(rule, f"billed with its primary {primary.procedure_code} ({primary.where})",
              **inputs)
    return None


def _procedure_pair(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    facts = work.facts
    pairs = [p for p in work.ctx.reference.pairs_with(facts.procedure_code, work.day)
             if p.column2_code == facts.procedure_code]
    if not pairs:
        work.note(rule, "no same-day pair edit denies this code",
                  procedure_code=facts.procedure_code)
        return None
    services = list(same_day_services(work))
    bypass = work.ctx.policy.pair_bypass_modifiers
    let_through = False
    for pair in pairs:
        other = next((s for s in services if s.procedure_code == pair.column1_code), None)
        if other is None:
            continue
        modifier = next((m for m in facts.modifiers if m in bypass), None)
        bypassed = pair.modifier_allowed and modifier is not None
        inputs = {"column1_code": pair.column1_code, "column2_code": pair.column2_code,
                  "billed_with": other.where, "modifier_allowed": pair.modifier_allowed,
                  "bypass_modifier": modifier or "none", "bypassed": bypassed,
                  "source": pair.source, "verified": pair.verified}
        if bypassed:
            work.note(rule, f"billed with {pair.column1_code} the same day; modifier "
                            f"{modifier} marks a distinct service", **inputs)
            let_through = True
            continue
        work.note(rule, f"denied: {facts.procedure_code} is not billed with "
                        f"{pair.column1_code} by one clinician on one day", **inputs)
        return Deny(Group.CO, "236")
    work.note(rule, "every pair edit found was bypassed by a modifier" if let_through
              else "no pair edit applies", procedure_code=facts.procedure_code)
    return None


UNIT_LIMIT = LineRule(
    "UNIT-LIMIT", 1, "No more units of a code a day than the unit limit (MUE)",
    ("CO-151",), _unit_limit)
ADD_ON_PRIMARY = LineRule(
    "ADD-ON-PRIMARY", 1, "An add-on code is billed with one of its primary codes the same "
    "day by the same clinician", ("CO-107",), _add_on)
PROCEDURE_PAIR = LineRule(
    "PROCEDURE-PAIR", 1, "Codes that may not be billed together on one day by one "
    "clinician (NCCI pairs; a bypass modifier where the edit allows one)", ("CO-236",),
    _procedure_pair)
