"""Telehealth: place of service 02/10 and the modifiers 95, GT, 93, FQ, by line of business.

A line is a telehealth line when its place of service (SV105, else CLM05-1) is 02
(telehealth other than in the patient's home) or 10 (in the patient's home), or it
carries one of the telehealth modifiers (95 synchronous audio-video, GT interactive
audio-video, 93 and FQ audio-only). The `TelehealthPolicy` rows of the line's line of
business, in force on the date of service, say which place and modifier go together,
which codes may be billed that way (audio-only rows list them), and the rate:

- no row for the place of service at all (telehealth not covered that way, or a
  telehealth modifier with an in-person place): CO-5 with RARC M77 (the procedure is
  inconsistent with the place of service; missing/invalid place of service);
- rows for the place, but none for the line's telehealth modifier (a required 95
  missing, or a modifier this line of business does not take): CO-4 (the procedure is
  inconsistent with the modifier used, or a required modifier is missing);
- a row whose code list does not hold the procedure (audio-only for a code that must
  be seen): CO-5 with M77;
- otherwise the line is priced at the row's rate: `office` (the fee schedule as
  is) or `facility` (`rate_percent` of it).
"""

from __future__ import annotations

from adjudication.context import Deny, Ledger, LineRule, LineWork, Outcome
from adjudication.decision import Group

TELEHEALTH_PLACES = frozenset({"02", "10"})
TELEHEALTH_MODIFIERS = frozenset({"95", "GT", "93", "FQ"})


def _telehealth(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    facts = work.facts
    place = facts.place_of_service or ""
    modifiers = [m for m in facts.modifiers if m in TELEHEALTH_MODIFIERS]
    if place not in TELEHEALTH_PLACES and not modifiers:
        work.note(rule, "not a telehealth line", place_of_service=place)
        return None
    rows = work.ctx.reference.telehealth_rows(work.lob, place, work.day)
    inputs: dict[str, object] = {"place_of_service": place,
                                 "telehealth_modifiers": tuple(modifiers),
                                 "procedure_code": facts.procedure_code,
                                 "line_of_business": work.lob}
    if not rows:
        work.note(rule, f"denied: no telehealth policy for place of service {place or 'none'} "
                        f"in {work.lob}", **inputs)
        return Deny(Group.CO, "5", ("M77",))
    wanted = modifiers[0] if modifiers else ""
    row = next((r for r in rows if r.modifier == wanted), None)
    if row is None:
        allowed = " ".join(sorted(r.modifier or "none" for r in rows))
        work.note(rule, f"denied: place of service {place} takes modifier {allowed}, the line "
                        f"has {wanted or 'none'}", **inputs)
        return Deny(Group.CO, "4")
    inputs |= {"policy_modifier": row.modifier or "none", "codes": row.procedure_codes,
               "rate": row.rate, "rate_percent": row.rate_percent, "source": row.source,
               "verified": row.verified}
    if row.procedure_codes and facts.procedure_code not in row.procedure_codes:
        work.note(rule, f"denied: {facts.procedure_code} may not be billed with "
                        f"{row.modifier or 'no modifier'} at place of service {place}", **inputs)
        return Deny(Group.CO, "5", ("M77",))
    work.rate_percent = row.rate_percent
    work.note(rule, f"telehealth allowed, paid at the {row.rate} rate", **inputs)
    return None


TELEHEALTH = LineRule(
    "TELEHEALTH", 1, "A telehealth line (POS 02/10, modifiers 95/GT/93/FQ) follows its line "
    "of business's telehealth policy", ("CO-5 M77", "CO-4"), _telehealth)
