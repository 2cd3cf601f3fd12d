"""Which rules decide a line, per line of business: one rule pack each.

Every line first passes the gate (eligibility, then the plan's benefits): the
coverage it finds names the line of business, and that line of business's pack
decides the rest, in order; the first rule that denies or pends ends the line.

    Medicare Advantage   supervisory billing is never permitted (CO-185)
    Commercial           supervisor named (CO-16 N297) and U5 (CO-4) where the state's
                         policy asks (CA, CO, IA, MA); priced by license level, U5 at the
                         supervised level
    Medicaid             supervisor named (MassHealth) and Medicaid enrolment of the
                         rendering and supervising NPIs (CO-185)

Claim-level rules run before any line: member identification (CO-31, CLP02 4) and,
for replacements and voids, the original (CO-16 M47) and its window (CO-29).
`describe()` prints the packs for a person.
"""

from __future__ import annotations

from dataclasses import dataclass

from adjudication.context import LineRule
from adjudication.reference import LineOfBusiness
from adjudication.rules.authorization import PRIOR_AUTHORIZATION
from adjudication.rules.coding import ADD_ON_PRIMARY, PROCEDURE_PAIR, UNIT_LIMIT
from adjudication.rules.coordination import OTHER_COVERAGE_RULE_ID, PRIOR_PAYER_RULE_ID
from adjudication.rules.corrections import (
    FILING_RULE,
    ORIGINAL_RULE,
    RECEIPT_WINDOW_RULE,
    WINDOW_RULE,
)
from adjudication.rules.cost_share import COST_SHARE
from adjudication.rules.diagnoses import DIAGNOSIS_CODE_SET
from adjudication.rules.duplicates import DUPLICATE
from adjudication.rules.filing import TIMELY_FILING
from adjudication.rules.member import BENEFIT_PLAN, ELIGIBILITY, MEMBER_RULE_ID
from adjudication.rules.pricing import PRICING
from adjudication.rules.providers import (
    BILLING_PROVIDER,
    MEDICAID_ENROLLMENT,
    OUT_OF_NETWORK,
    PROVIDER_ON_FILE,
)
from adjudication.rules.supervision import (
    LICENSE_LEVEL,
    SUPERVISION_MODIFIER,
    SUPERVISION_NOT_PERMITTED,
    SUPERVISOR_NAMED,
    SUPERVISOR_VERIFIED,
)
from adjudication.rules.telehealth import TELEHEALTH

CHARGEABLE_RULE = "CHARGEABLE"
"""The claim-level rule that pends a file not asking for payment (`engine.adjudicate`)."""

CLAIM_RULES: tuple[tuple[str, str], ...] = (
    (MEMBER_RULE_ID, "The patient is identified as our member (else every line CO-31, "
                     "CLP02 4)"),
    (CHARGEABLE_RULE, "The file asks for payment, BHT06 CH (an encounter report RP or a "
                   "subrogation demand 31 pends every line for a person)"),
    (ORIGINAL_RULE[0], "A replacement or void names an original that stands (else CO-16 M47)"),
    (FILING_RULE[0], "A replacement keeps its original's filing verdict per date of service "
                     "(its lines on a date the original's line was denied CO-29: CO-29)"),
    (WINDOW_RULE[0], "A replacement or void arrives within the correction window (else "
                     "CO-29; a history original without a remittance date: pend)"),
    (RECEIPT_WINDOW_RULE[0], "Where a correction_receipt limit is on file, a replacement or "
                             "void arrives within it of the original's receipt (else CO-29)"),
    (OTHER_COVERAGE_RULE_ID, "A Medicare Advantage or Medicaid claim billed as primary while "
                             "another payer is primary on file (else CO-22 MA04)"),
    (PRIOR_PAYER_RULE_ID, "A secondary or tertiary claim reports every prior payer's "
                          "adjudication in 2320/2430 (else CO-16 MA04); its lines then "
                          "pass COORDINATION-OF-BENEFITS after their pack (OA-23)"),
)
"""Claim-level rules, common to every line of business, in the order they run."""

GATE: tuple[LineRule, ...] = (ELIGIBILITY, BENEFIT_PLAN)
"""Line rules run before the pack is known: they find the line's coverage and plan."""


@dataclass(frozen=True)
class RulePack:
    """The line rules of one line of business, in the order they run after the gate."""

    line_of_business: LineOfBusiness
    rules: tuple[LineRule, ...]

    def describe(self) -> str:
        lines = [f"{self.line_of_business}:"]
        for rule in (*GATE, *self.rules):
            codes = ", ".join(rule.answers)
            lines.append(f"  {rule.id} v{rule.version}: {rule.title}"
                         + (f" [{codes}]" if codes else ""))
        return "\n".join(lines)


_BEFORE = (TIMELY_FILING, DUPLICATE, DIAGNOSIS_CODE_SET, UNIT_LIMIT, ADD_ON_PRIMARY, PROCEDURE_PAIR,
           BILLING_PROVIDER, PROVIDER_ON_FILE, OUT_OF_NETWORK)
_AFTER = (LICENSE_LEVEL, TELEHEALTH, PRIOR_AUTHORIZATION, PRICING, COST_SHARE)

PACKS: dict[LineOfBusiness, RulePack] = {
    LineOfBusiness.MEDICARE_ADVANTAGE: RulePack(
        LineOfBusiness.MEDICARE_ADVANTAGE, (*_BEFORE, SUPERVISION_NOT_PERMITTED, *_AFTER)),
    LineOfBusiness.COMMERCIAL: RulePack(
        LineOfBusiness.COMMERCIAL,
        (*_BEFORE, SUPERVISION_NOT_PERMITTED, SUPERVISOR_NAMED, SUPERVISOR_VERIFIED,
         SUPERVISION_MODIFIER, *_AFTER)),
    LineOfBusiness.MEDICAID: RulePack(
        LineOfBusiness.MEDICAID,
        (*_BEFORE, SUPERVISION_NOT_PERMITTED, SUPERVISOR_NAMED, SUPERVISOR_VERIFIED,
         SUPERVISION_MODIFIER,
         MEDICAID_ENROLLMENT, *_AFTER)),
}


def describe() -> str:
    """Every pack with its rules and the codes they answer with."""
    claim = "\n".join(f"  {rule_id}: {title}" for rule_id, title in CLAIM_RULES)
    packs = "\n".join(PACKS[lob].describe() for lob in LineOfBusiness)
    return f"claim:\n{claim}\n{packs}"
