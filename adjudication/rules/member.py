"""Who the patient is and whether they were covered: member identification, eligibility.

Member identification (claim level) uses the member rows in force on the claim's
first date of service, else on ``as_of``. Eligibility and the benefit plan (line
level) are decided on the line's first date of service; the member must also be
covered on every later day of the line's span (a span running past the end of
coverage is CO-27 N30: version 1 looked at the first day only, and paid it), under
the first day's plan: a span running on into coverage under another plan (rows with
no gap between them) is CO-16 N63, "rebill services on separate claim lines", as
each plan's days are priced, cost-shared and accumulated under that plan (version 2
priced every day of it under the first day's plan). A later coverage row of the same
plan (a new state, say) continues the span.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import NamedTuple

from adjudication.context import Deny, Ledger, LineFacts, LineRule, LineWork, Outcome, Pend
from adjudication.decision import Group, TraceStep, text
from adjudication.reference import Coverage, Member, ReferenceData
from edi.claims import ParsedClaim

MEMBER_RULE_ID = "MEMBER-IDENTIFICATION"
MEMBER_RULE_VERSION = 1


def service_days(claim: ParsedClaim) -> list[date]:
    """Each line's first date of service, in line order (lines without one left out)."""
    days = [LineFacts.of(claim, line).start for line in claim.claim.lines]
    return [day for day in days if day is not None]


class PatientKey(NamedTuple):
    """What member identification and the claim's coverage read from a claim, and
    nothing else: enough to name the line of business of a claim that is never
    adjudicated (the front end rejected it). PHI: held in memory and in the set spool
    only, never logged or stored in a row."""

    subscriber_id: str
    """2010BA NM109."""
    birth_date: date | None
    """The patient's (2010CA, else 2010BA)."""
    first_name: str
    """The patient's, casefolded."""
    patient_loop: bool
    """A 2000C patient loop is present (the patient is a dependent)."""
    service_days: tuple[date, ...]
    """`service_days`."""

    @classmethod
    def of(cls, claim: ParsedClaim, days: Sequence[date] | None = None) -> PatientKey:
        """The claim's key; ``days``: its `service_days` when the caller has them."""
        person = claim.patient if claim.patient is not None else claim.subscriber
        return cls(claim.subscriber.member_id or "",
                   person.demographics.birth_date if person.demographics else None,
                   (person.name.first_name or "").casefold(), claim.patient is not None,
                   tuple(service_days(claim) if days is None else days))


def _match(reference: ReferenceData, key: PatientKey, day: date, as_of: date
           ) -> tuple[Member | None, int]:
    """The member ``key`` names, and how many members the subscriber had to pick from."""
    candidates = reference.members_for(key.subscriber_id, day) or reference.members_for(
        key.subscriber_id, as_of)
    pool = [m for m in candidates if key.birth_date is None or m.birth_date == key.birth_date]
    if len(pool) > 1 and key.first_name:
        pool = [m for m in pool if m.first_name.casefold() == key.first_name] or pool
    if len(pool) > 1:
        pool = [m for m in pool if (m.relationship == "self") != key.patient_loop] or pool
    return (min(pool, key=lambda m: m.member_id) if pool else None), len(candidates)


def find_member(key: PatientKey, reference: ReferenceData, as_of: date) -> Member | None:
    """The member `identify_member` finds for the claim ``key`` was read from."""
    day = key.service_days[0] if key.service_days else as_of
    return _match(reference, key, day, as_of)[0]


def identify_member(claim: ParsedClaim, reference: ReferenceData, first_service: date | None,
                    as_of: date) -> tuple[Member | None, TraceStep]:
    """The member the claim is for: 2010BA NM109 is the subscriber, 2000C picks a dependent.

    Among the subscriber's members, the patient (2010CA, or 2010BA when there is no
    patient loop) is matched by birth date, then first name; with several left, the
    subscriber themself when there is no patient loop, a dependent when there is.
    """
    key = PatientKey.of(claim, days=())  # the day to look members up on is given
    day = first_service or as_of
    member, candidates = _match(reference, key, day, as_of)
    conclusion = (f"patient is member {member.member_id} ({member.relationship})" if member
                  else "no member matches: the patient cannot be identified as our insured")
    step = TraceStep(
        rule_id=MEMBER_RULE_ID, version=MEMBER_RULE_VERSION, line_number=None,
        inputs=(("subscriber_id", key.subscriber_id), ("patient_loop", text(key.patient_loop)),
                ("birth_date", text(key.birth_date)), ("looked_up_on", text(day)),
                ("candidates", text(candidates))),
        conclusion=conclusion)
    return member, step


class _SpanBreak(NamedTuple):
    """Where the coverage rows holding a line's span stop continuing its first day's."""

    gap: date | None
    """The first day up to the last date of service that no coverage row holds."""
    other_plan: Coverage | None
    """The first row holding a later day of the span under another plan than the first
    day's (its ``effective`` the day the plan changes)."""


def _span_break(reference: ReferenceData, member_id: str, coverage: Coverage,
                through: date) -> _SpanBreak:
    """Walk the coverage rows that follow ``coverage`` up to ``through``: the first day no
    row holds, and the first row of another plan (each None when there is none)."""
    span: Coverage | None = coverage
    other: Coverage | None = None
    while span is not None and span.termination is not None and span.termination < through:
        after = span.termination + timedelta(days=1)
        span = reference.coverage_for(member_id, after)
        if span is None:
            return _SpanBreak(after, other)
        if other is None and span.plan_id != coverage.plan_id:
            other = span
    return _SpanBreak(None, other)


def _eligibility(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    ctx = work.ctx
    member_id = ctx.member.member_id
    coverage = ctx.reference.coverage_for(member_id, work.day)
    through = work.facts.through or work.day
    walk = (_span_break(ctx.reference, member_id, coverage, through) if coverage
            else _SpanBreak(None, None))
    if walk.gap is not None:
        why = (f"coverage ended {text(walk.gap - timedelta(days=1))}, before the last date "
               f"of service {text(through)}")
        work.note(rule, f"not eligible: {why}", member_id=member_id,
                  date_of_service=work.day, last_date_of_service=through)
        return Deny(Group.CO, "27", ("N30",))
    if coverage is not None and walk.other_plan is not None:
        # each plan prices, shares the cost of and accumulates its own days: never one
        # plan's benefits for another plan's days
        other = walk.other_plan
        work.note(rule, f"denied: the line's dates run from plan {coverage.plan_id} into "
                        f"plan {other.plan_id} on {text(other.effective)}; each plan's days "
                        "must be billed on lines of their own", member_id=member_id,
                  date_of_service=work.day, last_date_of_service=through)
        return Deny(Group.CO, "16", ("N63",))
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
    "ELIGIBILITY", 3, "The member has coverage on every date of service of the line, "
    "under one plan",
    ("CO-27 N30", "CO-26 N30", "CO-177 N30", "CO-16 N63"), _eligibility)


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
