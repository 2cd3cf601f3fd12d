"""The line's diagnoses on its date of service: billable in the ICD-10-CM release in force.

The front end rejects a code no loaded release holds (277CA A7:254/255); a code that
is billable in some fiscal year but not in the release in force on the line's first
date of service reaches adjudication, which denies the line CO-146 ("diagnosis was
invalid for the date(s) of service") with M76 (DOMAIN.md sections 3 and 9). The
diagnoses of a line are the claim's principal (HI ABK) and those its pointers name
(SV107).

When no loaded release is in force on that date (FY2027 from 2026-10-01 is not
shipped: an operator loads CMS's order file), nothing can decide the codes, so the
line pends for a person instead of being paid on a guess; releasing it once the
release is loaded decides it on its merits.
"""

from __future__ import annotations

from adjudication.context import Deny, Ledger, LineRule, LineWork, Outcome, Pend
from adjudication.decision import Group
from edi.validators.codesets import fiscal_year

NO_RELEASE_REASON = ("no ICD-10-CM release loaded is in force on {day} (FY{year}): load "
                     "CMS's order file for that year (--code-sets, EDI_CODE_SETS_DIR), then "
                     "release the pend")


def _diagnosis_code_set(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    code_sets, day, codes = work.ctx.code_sets, work.day, work.facts.diagnoses
    if not codes:  # the front end requires HI: only a claim built without one
        work.note(rule, "no diagnosis on the claim", date_of_service=day)
        return None
    listed = ", ".join(codes)
    release = code_sets.release_for(day)
    if release is None:
        reason = NO_RELEASE_REASON.format(day=day.isoformat(), year=fiscal_year(day))
        work.note(rule, f"pended: {reason}", diagnoses=listed, date_of_service=day)
        return Pend(reason)
    inputs = {"diagnoses": listed, "date_of_service": day, "release": release.name}
    invalid = [code for code in codes if not code_sets.is_billable(code, day).billable]
    if invalid:
        work.note(rule, f"not billable on the date of service: {', '.join(invalid)}",
                  **inputs)
        return Deny(Group.CO, "146", ("M76",))
    work.note(rule, "every diagnosis billable on the date of service", **inputs)
    return None


DIAGNOSIS_CODE_SET = LineRule(
    "DIAGNOSIS-CODE-SET", 1, "The principal diagnosis and the line's pointed diagnoses are "
    "billable in the ICD-10-CM release in force on the line's first date of service "
    "(pended when no loaded release is)", ("CO-146 M76", "pend"), _diagnosis_code_set)
