"""Who the patient is and whether they were covered: member identification, eligibility.

Member identification (claim level) uses the member rows in force on the claim's
first date of service, else on ``as_of``. Eligibility and the benefit plan (line
level) are decided on the line's first date of service.
"""

from __future__ import annotations

from datetime import date

from adjudication.context import Deny, Ledger, LineRule, LineWork, Outcome, Pend
from adjudication.decision import Group, TraceStep, text
from adjudication.reference import Member, ReferenceData
from edi.claims import ParsedClaim

MEMBER_RULE_ID = "MEMBER-IDENTIFICATION"
MEMBER_RULE_VERSION = 1


def identify_member(claim: ParsedClaim, reference: ReferenceData, first_service: date | None,
                    as_of: date) -> tuple[Member | None, TraceStep]:
    """The member the claim is for: 2010BA NM109 is the subscriber, 2000C picks a dependent.

    Among the subscriber's members, the patient (2010CA, or 2010BA when there is no
    patient loop) is matched by birth date, then first name; with several left, the
    subscriber themself when there is no patient loop, a dependent when there is.
    """
    subscriber_id = claim.subscriber.member_id or ""
    day = first_service or as_of
    candidates = reference.members_for(subscriber_id, day) or reference.members_for(
        subscriber_id, as_of)
    person = claim.patient if claim.patient is not None else claim.subscriber
    birth = person.demographics.birth_date if person.demographics else None
    first = (person.name.first_name or "").casefold()
    wants_self = claim.patient is None
    pool = [m for m in candidates if birth is None or m.birth_date == birth]
    if len(pool) > 1 and first:
        pool = [m for m in pool if m.first_name.casefold() == first] or pool
    if len(pool) > 1:
        pool = [m for m in pool if (m.relationship == "self") == wants_self] or pool
    member = min(pool, key=lambda m: m.member_id) if pool else None
    conclusion = (f"patient is member {member.member_id} ({member.relationship})" if member
                  else "no member matches: the patient cannot be identified as our insured")
    step = TraceStep(
        rule_id=MEMBER_RULE_ID, version=MEMBER_RULE_VERSION, line_number=None,
        inputs=(("subscriber_id", subscriber_id), ("patient_loop", text(claim.patient is not None)),
                ("birth_date", text(birth)), ("looked_up_on", text(day)),
                ("candidates", text(len(candidates)))),
        conclusion=conclusion)
    return member, step


def _eligibility(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    ctx = work.ctx
    member_id = ctx.member.member_id
    coverage = ctx.reference.coverage_for(member_id, work.day)
    if coverage is not None:
        work.coverage = coverage
        work.note(rule, f"covered by plan {coverage.plan_id} ({coverage.line_of_business}, "
                        f"{coverage.state})", member_id=member_id, date_of_service=work.day)
        return None
    spans = ctx.reference.coverage_spans(member_id)
    ended = [s for s in spans if s.termination is not None and s.termination < work.day]
    later = [s for s in spans if s.effective > work.day]
    if ended:
        carc, why = "27", f"coverage ended {text(ended[-1].termination)}, before the service"
    elif later:
        carc, why = "26", f"coverage began {text(later[0].effective)}, after the service"
    else:
        carc, why = "177", "the member has no coverage on file"
    work.note(rule, f"not eligible: {why}", member_id=member_id, date_of_service=work.day)
    return Deny(Group.CO, carc, ("N30",))


ELIGIBILITY = LineRule(
    "ELIGIBILITY", 1, "The member has coverage on the line's date of service",
    ("CO-27 N30", "CO-26 N30", "CO-177 N30"), _eligibility)


def _benefit_plan(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    assert work.coverage is not None
    plan_id = work.coverage.plan_id
    plan = work.ctx.reference.plan(plan_id, work.day.year, work.day)
    if plan is None:
        work.note(rule, "pended: no benefits on file for the plan and benefit year",
                  plan_id=plan_id, benefit_year=work.day.year)
        return Pend(f"no benefits on file for plan {plan_id} in {work.day.year}")
    work.plan = plan
    work.note(rule, f"benefits of {plan.name}", plan_id=plan_id, benefit_year=plan.benefit_year,
              deductible=plan.deductible, coinsurance_percent=plan.coinsurance_percent,
              out_of_pocket_max=plan.out_of_pocket_max)
    return None


BENEFIT_PLAN = LineRule(
    "BENEFIT-PLAN", 1, "The plan has benefits on file for the benefit year of the service",
    ("pend",), _benefit_plan)
