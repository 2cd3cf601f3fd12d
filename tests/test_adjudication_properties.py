"""Properties over random claims and random reference data: every decision balances,
patient responsibility never passes the out-of-pocket left, the same input decides the
same way, and a run of claims keeps those promises claim after claim."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adjudication.decision import ZERO, Decision, Group
from adjudication.reference import (
    Accumulator,
    Authorization,
    LicenseLevel,
    LineOfBusiness,
    PastClaim,
    ReferenceData,
)
from adjudication.state import AdjudicationState
from edi.claims import ParsedClaim
from tests.adjudication_builders import (
    BILLING_NPI,
    BIRTH,
    MEMBER_ID,
    START,
    SUPERVISOR_NPI,
    build_claim,
    category,
    copay,
    coverage,
    decide,
    fee,
    filing_limit,
    license_factor,
    line,
    member,
    past_claim,
    plan,
    provider,
    requires_auth,
    supervision,
)

CODES = ("90837", "90834", "96130", "H0035")
NPIS = ("1000000002", "1000000004", "1000000005")
FIRST_DAY = date(2025, 11, 1)
PLANS = ("P1", "P2")

cents = st.integers(min_value=0, max_value=300_000).map(lambda c: Decimal(c) / 100)
small_money = st.integers(min_value=0, max_value=150_000).map(lambda c: Decimal(c) / 100)
percent = st.integers(min_value=0, max_value=100).map(Decimal)
days = st.integers(min_value=0, max_value=180)
lobs = st.sampled_from(list(LineOfBusiness))


@st.composite
def references(draw: st.DrawFn) -> ReferenceData:
    """One member with random coverage spans, plans, providers, fees and history."""
    split = FIRST_DAY + timedelta(days=draw(days))
    spans = [coverage(plan_id="P1", lob=draw(lobs), state=draw(st.sampled_from(["TX", "MA"])),
                      effective=FIRST_DAY - timedelta(days=draw(days)),
                      termination=split if draw(st.integers(0, 3)) == 0 else None)]
    if spans[0].termination is not None and draw(st.booleans()):
        spans.append(coverage(plan_id="P2", lob=draw(lobs), state="MA",
                              effective=split + timedelta(days=1 + draw(st.integers(0, 20)))))
    plans = [plan(p, year=y, lob=spans[0].line_of_business, deductible=str(draw(small_money)),
                  coinsurance=str(draw(percent)), oop_max=str(draw(cents)),
                  oon=draw(st.booleans()))
             for p in PLANS for y in (2025, 2026)]
    providers = [provider(npi, license=draw(st.sampled_from(list(LicenseLevel))),
                          network=draw(st.sampled_from(["in", "in", "in", "out"])),
                          medicaid_enrolled=draw(st.booleans())) for npi in NPIS]
    providers += [provider(BILLING_NPI, license=None, entity_type="2"),
                  provider(SUPERVISOR_NPI, license=LicenseLevel.PHD)]
    fees = [fee(code, str(draw(cents.filter(lambda c: c > 0))), lob=lob)
            for code in CODES for lob in LineOfBusiness if draw(st.integers(0, 9))]
    accumulators = [Accumulator(effective=START, member_id=MEMBER_ID, plan_id=p, benefit_year=y,
                                deductible_met=draw(small_money), out_of_pocket_met=draw(cents))
                    for p in PLANS for y in (2025, 2026) if draw(st.booleans())]
    return ReferenceData(
        members=[member()], coverage=spans, plans=plans, providers=providers, fees=fees,
        copays=[copay("therapy", str(draw(small_money)), plan_id=p, year=y)
                for p in PLANS for y in (2025, 2026)],
        service_categories=[category("90837", "therapy"), category("90834", "therapy"),
                            category("96130", "testing")],
        prior_auth=[requires_auth("testing")] if draw(st.booleans()) else [],
        authorizations=draw(st.lists(_authorizations(), max_size=2)),
        license_factors=[license_factor(level, str(draw(percent)), lob=lob)
                         for level in ("associate", "supervised", "LCSW")
                         for lob in LineOfBusiness],
        filing_limits=[filing_limit(lob, kind, draw(st.integers(30, 400)))
                       for lob in LineOfBusiness for kind in ("initial", "correction")
                       if draw(st.booleans())],
        supervision=[supervision(lob, draw(st.sampled_from(["*", "MA"])),
                                 allowed=draw(st.booleans()), supervisor=draw(st.booleans()),
                                 modifier=draw(st.sampled_from(["", "U5"])),
                                 medicaid=draw(st.booleans())) for lob in LineOfBusiness],
        past_claims=draw(st.lists(_past_claims(), min_size=1, max_size=4)),
        accumulators=accumulators,
    )


@st.composite
def _authorizations(draw: st.DrawFn) -> Authorization:
    start = FIRST_DAY + timedelta(days=draw(days))
    return Authorization(effective=START, auth_number=f"PA{draw(st.integers(1, 3))}",
                         member_id=MEMBER_ID, provider_npi=draw(st.sampled_from(NPIS)),
                         procedure_codes=("96130",), start=start,
                         end=start + timedelta(days=draw(days)),
                         units=Decimal(draw(st.integers(0, 10))))


@st.composite
def _past_claims(draw: st.DrawFn) -> PastClaim:
    charge = draw(cents)
    paid = min(charge, draw(cents))
    pr = min(charge - paid, draw(small_money))
    return past_claim(
        f"OBH-H{draw(st.integers(1, 3))}", line_number=draw(st.integers(1, 2)),
        code=draw(st.sampled_from(CODES)), charge=str(charge), paid=str(paid), pr=str(pr),
        status=draw(st.sampled_from(["paid", "paid", "paid", "denied", "reversed", "voided"])),
        service_date=FIRST_DAY + timedelta(days=draw(days)),
        remitted=FIRST_DAY + timedelta(days=draw(days)) if draw(st.booleans()) else None,
        rendering_npi=draw(st.sampled_from(NPIS)),
        adjustments=f"CO-45:{charge - paid - pr} PR-1:{pr}" if draw(st.booleans()) else "")


@st.composite
def claims(draw: st.DrawFn) -> tuple[ParsedClaim, date]:
    """A claim of 1-4 lines, and the day its file arrives."""
    lines = []
    first = FIRST_DAY + timedelta(days=draw(days))
    for number in range(1, draw(st.integers(1, 4)) + 1):
        dos = first + timedelta(days=draw(st.integers(0, 14)))
        lines.append(line(
            number, draw(st.sampled_from(CODES)), str(draw(cents)),
            units=str(draw(st.integers(1, 6))), dos=dos,
            through=dos + timedelta(days=draw(st.integers(0, 3))),
            modifiers=tuple(draw(st.lists(st.sampled_from(["U5", "HO", "95"]), max_size=2,
                                          unique=True))),
            rendering_npi=draw(st.sampled_from((None, *NPIS))),
            supervising_npi=SUPERVISOR_NPI if draw(st.integers(0, 3)) == 0 else None,
            auth=("PA1",) if draw(st.booleans()) else ()))
    frequency = draw(st.sampled_from(["1", "1", "1", "1", "7", "8"]))
    claim = build_claim(
        lines, frequency=frequency,
        original_icn=f"OBH-H{draw(st.integers(1, 3))}" if frequency != "1" else None,
        birth=BIRTH if draw(st.integers(0, 9)) else date(1999, 9, 9),
        rendering_npi=draw(st.sampled_from(NPIS)),
        supervising_npi=SUPERVISOR_NPI if draw(st.integers(0, 4)) == 0 else None)
    last = max(x.service_date.through for x in lines if x.service_date)
    return claim, last + timedelta(days=draw(st.integers(0, 120)))


def assert_balances(decision: Decision) -> None:
    """Line: charge - adjustments = paid; claim likewise; nothing negative."""
    for x in decision.lines:
        assert x.paid >= 0 and x.allowed >= 0 and x.charge >= 0
        assert all(a.amount >= 0 for a in x.adjustments)
        if x.status == "pended":
            assert x.paid == 0 and x.adjustments == ()
        else:
            assert x.charge - sum((a.amount for a in x.adjustments), ZERO) == x.paid
        if x.status == "paid":
            assert x.paid + x.patient_responsibility == x.allowed
    adjusted = sum((a.amount for x in decision.lines for a in x.adjustments), ZERO) + sum(
        (a.amount for a in decision.claim_adjustments), ZERO)
    assert decision.paid == sum((x.paid for x in decision.lines), ZERO) >= 0
    assert decision.patient_responsibility == sum(
        (x.patient_responsibility for x in decision.lines), ZERO)
    if decision.status == "pended":
        assert decision.paid == 0 and decision.accumulator_changes == ()
        assert decision.reversal is None
    else:
        assert decision.charge - adjusted == decision.paid
    if decision.status == "voided":
        assert decision.paid == 0 and decision.reversal is not None
    if decision.claim_status_code == "4":
        assert all(x.adjustments[0].code == "CO-31" for x in decision.lines)


def assert_within_out_of_pocket(decision: Decision, reference: ReferenceData,
                                state: AdjudicationState) -> None:
    """Each plan year's new patient share fits in what was left of its maximum."""
    given_back = {c.key: c.out_of_pocket for c in
                  (decision.reversal.accumulator_changes if decision.reversal else ())}
    for change in decision.own_accumulator_changes:
        member_id, plan_id, year = change.key
        row = reference.accumulator(member_id, plan_id, year, decision.as_of)
        met = ((row.out_of_pocket_met if row else ZERO)
               + state.accumulator_delta(member_id, plan_id, year)[1]
               + given_back.get(change.key, ZERO))
        the_plan = next(p for p in reference.plans
                        if p.plan_id == plan_id and p.benefit_year == year)
        assert 0 <= change.out_of_pocket <= max(ZERO, the_plan.out_of_pocket_max - met)
    own = sum((c.out_of_pocket for c in decision.own_accumulator_changes), ZERO)
    assert own == decision.patient_responsibility
    assert all(a.group is not Group.PR or a.carc in ("1", "2", "3")
               for x in decision.lines for a in x.adjustments)


@dataclass(frozen=True)
class Run:
    reference: ReferenceData
    claims: list[tuple[ParsedClaim, date]]


runs = st.builds(Run, references(), st.lists(claims(), min_size=1, max_size=4))
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(runs)
def test_every_decision_of_a_run_balances_and_keeps_within_the_out_of_pocket_max(
        run: Run) -> None:
    # Given random reference data and a run of random claims
    state = AdjudicationState()
    for number, (claim, received) in enumerate(run.claims):
        # When each claim is adjudicated with what the run has decided so far
        decision = decide(claim, run.reference, icn=f"OBH-R{number}", received=received,
                          state=state)
        # Then it balances and its patient share fits in the out-of-pocket left
        assert_balances(decision)
        assert_within_out_of_pocket(decision, run.reference, state)
        assert decision.reversal is None or decision.status != "pended"
        state = state.apply(decision)


@SETTINGS
@given(runs)
def test_the_same_input_gives_the_same_decision_byte_for_byte(run: Run) -> None:
    # Given a claim, reference data and a state with earlier decisions of the run
    *earlier, (claim, received) = run.claims
    state = AdjudicationState()
    for number, (other, day) in enumerate(earlier):
        state = state.apply(decide(other, run.reference, icn=f"OBH-E{number}", received=day,
                                   state=state))
    # When it is adjudicated twice (once against an equal copy of the reference data)
    again = ReferenceData(**{name: getattr(run.reference, name) for name in (
        "members", "coverage", "plans", "copays", "service_categories", "prior_auth",
        "providers", "fees", "license_factors", "authorizations", "filing_limits",
        "supervision", "past_claims", "accumulators")})
    first = decide(claim, run.reference, received=received, state=state)
    second = decide(claim, again, received=received, state=state)
    # Then both decisions serialise to the same bytes
    assert json.dumps(first.to_dict(), sort_keys=True) == json.dumps(second.to_dict(),
                                                                     sort_keys=True)
    assert first == second


@SETTINGS
@given(runs)
def test_a_members_lines_of_one_day_are_their_run_lines_of_that_day(run: Run) -> None:
    """`lines_for_member_on` (what the duplicate and same-day checks read) gives the
    member's lines of the run with that date of service, in the order and with the
    statuses `lines_for_member` gives them, after every decision and after one decided
    again (a pend released later in the run)."""
    state = AdjudicationState()
    members: set[str] = set()
    for number, (claim, received) in enumerate(run.claims):
        decision = decide(claim, run.reference, icn=f"OBH-R{number}", received=received,
                          state=state)
        state = state.apply(decision)
        members |= {decision.member_id} if decision.member_id else set()
        for again in (False, True):
            if again:
                state = state.apply(decision)
            for member_id in members:
                lines = state.lines_for_member(member_id)
                for day in {row.service_date for row in lines} | {START}:
                    assert state.lines_for_member_on(member_id, day) == tuple(
                        row for row in lines if row.service_date == day)
