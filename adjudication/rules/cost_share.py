"""Patient responsibility (DOMAIN.md 8.7): deductible, copay, coinsurance, out-of-pocket cap.

In order: what is left of the deductible (PR-1), the plan's copay for the service
category (PR-3), coinsurance on the rest (PR-2, rounded half-up to cents). The
total is capped at what is left of the out-of-pocket maximum, taken in the same
order; the excess is the payer's. A procedure with no service category on file, under
a plan that charges copays by category that year, pends: its copay cannot be told
(before 2026-12-02 it was taken as no copay, the member's PR-3 paid by the plan).
Accumulators are per member, plan and benefit
year (the calendar year of the date of service), starting from the reference row in
force on ``as_of`` plus the run's changes, moving line by line. A plan with a family
deductible or out-of-pocket maximum (in network) also stops each at what the family
(the members of one subscriber ID) has left of it together, whichever is less
(DOMAIN.md 8.7: individual and family). Medicaid plans carry zero cost share in their
data; nothing here knows about lines of business.
"""

from __future__ import annotations

from decimal import Decimal

from adjudication.context import Ledger, LineRule, LineWork, Outcome
from adjudication.decision import ZERO, AccumulatorChange, cents
from adjudication.reference import oon_accumulator_plan


def _cost_share(rule: LineRule, work: LineWork, ledger: Ledger) -> Outcome | None:
    assert work.plan is not None and work.allowed is not None
    plan = work.plan
    allowed = work.allowed
    year = work.day.year
    category = work.ctx.reference.service_category(work.facts.procedure_code, work.day)
    oon = work.out_of_network
    family: tuple[Decimal | None, Decimal | None] = (None, None)
    if oon is None and category is None and work.ctx.reference.has_copays(plan.plan_id, year,
                                                                          work.day):
        # the copay is the category's: not knowing it, the member's share is unknown
        return work.pend_without_category(
            rule, f"plan {plan.plan_id}'s copay for it cannot be told",
            plan_id=plan.plan_id, benefit_year=year)
    if oon is None:
        accumulator, network = plan.plan_id, "in network"
        deductible_amount, coinsurance_percent = plan.deductible, plan.coinsurance_percent
        oop_max = plan.out_of_pocket_max
        copay_amount = work.ctx.reference.copay(plan.plan_id, year, category or "", work.day)
        family = (plan.family_deductible, plan.family_out_of_pocket_max)
    else:  # the out-of-network deductible, coinsurance and maximum, accumulated apart
        accumulator, network = oon_accumulator_plan(plan.plan_id), "out of network"
        deductible_amount, coinsurance_percent = oon.deductible, oon.coinsurance_percent
        oop_max, copay_amount = oon.out_of_pocket_max, ZERO
    ded_met, oop_met = ledger.met(accumulator, year)
    deductible_left = max(ZERO, deductible_amount - ded_met)
    oop_left = max(ZERO, oop_max - oop_met)
    shown: dict[str, object] = {}
    if family != (None, None):
        family_ded, family_oop = family
        family_ded_met, family_oop_met = ledger.family_met(accumulator, year)
        if family_ded is not None:
            deductible_left = min(deductible_left, max(ZERO, family_ded - family_ded_met))
        if family_oop is not None:
            oop_left = min(oop_left, max(ZERO, family_oop - family_oop_met))
        shown = {"family_deductible_met": family_ded_met,
                 "family_out_of_pocket_met": family_oop_met}
    deductible = min(allowed, deductible_left)
    copay = min(allowed - deductible, copay_amount)
    rest = allowed - deductible - copay
    coinsurance = min(rest, cents(rest * coinsurance_percent / 100))
    deductible = min(deductible, oop_left)
    copay = min(copay, oop_left - deductible)
    coinsurance = min(coinsurance, oop_left - deductible - copay)
    share = deductible + copay + coinsurance
    work.patient_share = tuple((carc, amount) for carc, amount in
                               (("1", deductible), ("3", copay), ("2", coinsurance)) if amount)
    ledger.add(AccumulatorChange(work.ctx.member.member_id, accumulator, year, deductible,
                                 share))
    work.note(rule, _conclusion(share, allowed, deductible, copay, coinsurance),
              benefit_year=year, deductible_met=ded_met, out_of_pocket_met=oop_met,
              deductible_left=deductible_left, out_of_pocket_left=oop_left,
              service_category=category, allowed=allowed, benefit=network,
              accumulator=accumulator, **shown)
    return None


def _conclusion(share: Decimal, allowed: Decimal, deductible: Decimal, copay: Decimal,
                coinsurance: Decimal) -> str:
    return (f"patient pays {share} (deductible {deductible}, copay {copay}, coinsurance "
            f"{coinsurance}); plan pays {allowed - share}")


COST_SHARE = LineRule(
    "COST-SHARE", 4, "Deductible, copay and coinsurance, capped at the out-of-pocket maximum "
    "(individual and family; the out-of-network ones, accumulated apart, for an "
    "out-of-network line)",
    ("PR-1", "PR-3", "PR-2"), _cost_share)
