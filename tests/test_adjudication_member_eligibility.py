"""Member identification and eligibility: who the patient is, and whether they were covered."""

from __future__ import annotations

from datetime import date

from adjudication.reference import LineOfBusiness
from edi.claims import ParsedClaim
from tests.adjudication_builders import (
    DOS,
    MEDICAID,
    MEMBER_ID,
    SUBSCRIBER_ID,
    World,
    build_claim,
    codes,
    coverage,
    decide,
    fee,
    line,
    member,
    money,
    plan,
)


def test_an_unknown_subscriber_id_denies_every_line_co31_with_claim_status_4() -> None:
    # Given a claim whose 2010BA NM109 is nobody we cover
    claim = build_claim([line(1), line(2, "90834", "150.00")], subscriber_id="NOBODY")
    # When it is adjudicated
    decision = decide(claim, World().reference())
    # Then every line is denied CO-31 and CLP02 is 4 (patient not recognised)
    assert decision.claim_status_code == "4"
    assert decision.status == "denied"
    assert decision.member_id is None and decision.line_of_business is None
    assert [codes(decision, n) for n in (1, 2)] == [["CO-31"], ["CO-31"]]
    assert decision.paid == 0 and decision.patient_responsibility == 0


def test_a_subscriber_whose_birth_date_does_not_match_is_not_recognised() -> None:
    # Given the right subscriber id but another birth date in 2010BA DMG
    claim = build_claim(birth=date(1990, 1, 1))
    # When it is adjudicated
    decision = decide(claim, World().reference())
    # Then the patient cannot be identified as our insured
    assert decision.claim_status_code == "4"
    assert codes(decision) == ["CO-31"]


def test_a_dependent_in_a_patient_loop_is_matched_by_birth_date_then_first_name() -> None:
    # Given a subscriber with twins sharing one birth date
    twins = date(2014, 6, 1)
    world = World(members=(
        member(), member("M101", relationship="child", first="LUIS", birth=twins),
        member("M102", relationship="child", first="SOFIA", birth=twins)),
        coverage=(coverage(), coverage("M101"), coverage("M102")))
    # When a claim for SOFIA (2000C) is adjudicated
    decision = decide(build_claim(patient_birth=twins, patient_first="Sofia"),
                      world.reference())
    # Then the claim is hers, not her brother's nor the subscriber's
    assert decision.member_id == "M102"
    assert decision.status == "paid"


def test_a_line_after_the_coverage_ended_is_denied_co27_with_n30() -> None:
    # Given coverage that ended the day before the service
    world = World(coverage=(coverage(termination=date(2026, 3, 1)),))
    # When the claim is adjudicated
    decision = decide(build_claim(), world.reference())
    # Then the line is denied CO-27 with RARC N30; the member is still recognised (CLP02 1)
    assert codes(decision) == ["CO-27"]
    assert decision.lines[0].rarcs == ("N30",)
    assert decision.claim_status_code == "1"
    assert decision.line_of_business is LineOfBusiness.COMMERCIAL


def test_a_line_before_the_coverage_began_is_denied_co26_with_n30() -> None:
    # Given coverage that begins the day after the service
    world = World(coverage=(coverage(effective=date(2026, 3, 3)),))
    # When the claim is adjudicated
    decision = decide(build_claim(), world.reference())
    # Then the line is denied CO-26 with N30
    assert codes(decision) == ["CO-26"]
    assert decision.lines[0].rarcs == ("N30",)


def test_a_member_with_no_coverage_at_all_is_denied_co177() -> None:
    decision = decide(build_claim(), World(coverage=()).reference())
    assert codes(decision) == ["CO-177"]
    assert decision.lines[0].rarcs == ("N30",)


def test_a_claim_across_the_end_of_coverage_pays_the_covered_line_only() -> None:
    # Given coverage ending on 2026-03-05 and lines on 03-02 and 03-09
    world = World(coverage=(coverage(termination=date(2026, 3, 5)),))
    claim = build_claim([line(1, dos=DOS), line(2, dos=date(2026, 3, 9))])
    # When it is adjudicated
    decision = decide(claim, world.reference())
    # Then line 1 is paid, line 2 denied CO-27: the claim is partially paid
    assert decision.status == "partially_paid"
    assert decision.lines[0].status == "paid"
    assert codes(decision, 2) == ["CO-27"]


def test_a_line_whose_span_runs_past_the_end_of_coverage_is_denied_co27_with_n30() -> None:
    # Given coverage ending on 2026-03-05
    world = World(coverage=(coverage(termination=date(2026, 3, 5)),))
    # When a line spans 03-02 to 03-09 (its first day covered, its last four not)
    decision = decide(build_claim([line(dos=DOS, through=date(2026, 3, 9))]),
                      world.reference())
    # Then the whole line is denied CO-27 N30 (ELIGIBILITY v1 looked at the first day
    # only and paid it)
    assert decision.status == "denied" and codes(decision) == ["CO-27"]
    assert decision.lines[0].rarcs == ("N30",)
    step = next(s for s in decision.trace if s.rule_id == "ELIGIBILITY")
    assert step.version == 3 and step.conclusion == (
        "not eligible: coverage ended 2026-03-05, before the last date of service 2026-03-09")
    # while a span ending on the last day of coverage is paid, and so is one running on
    # into a coverage row that follows without a gap
    assert decide(build_claim([line(dos=DOS, through=date(2026, 3, 5))]),
                  world.reference()).status == "paid"
    renewed = World(coverage=(coverage(termination=date(2026, 3, 5)),
                              coverage(effective=date(2026, 3, 6))))
    assert decide(build_claim([line(dos=DOS, through=date(2026, 3, 9))]),
                  renewed.reference()).status == "paid"


def test_a_line_whose_span_runs_into_another_plan_is_denied_co16_n63() -> None:
    # Given PLAN-C coverage ending on 2026-03-05 and PLAN-D from 2026-03-06, no gap, each
    # with its own benefits
    world = World(coverage=(coverage(termination=date(2026, 3, 5)),
                            coverage(plan_id="PLAN-D", effective=date(2026, 3, 6))),
                  plans=(plan(), plan("PLAN-D", deductible="500")))
    # When a line spans 03-02 to 03-09 (four days under each plan)
    decision = decide(build_claim([line(dos=DOS, through=date(2026, 3, 9))]),
                      world.reference())
    # Then it is denied CO-16 N63 (rebill the services on separate lines, one per plan)
    # and nothing is paid: ELIGIBILITY v2 priced all of it under PLAN-C, the plan of its
    # first day, and paid 100.00
    assert decision.status == "denied" and codes(decision) == ["CO-16"]
    assert decision.lines[0].rarcs == ("N63",) and decision.paid == 0
    step = next(s for s in decision.trace if s.rule_id == "ELIGIBILITY")
    assert step.version == 3 and step.conclusion == (
        "denied: the line's dates run from plan PLAN-C into plan PLAN-D on 2026-03-06; "
        "each plan's days must be billed on lines of their own")
    # while each plan's days billed on a line of their own are paid under their plan
    split = decide(build_claim([line(1, dos=DOS, through=date(2026, 3, 5)),
                                line(2, dos=date(2026, 3, 6), through=date(2026, 3, 9))]),
                   world.reference())
    assert split.status == "paid"
    assert [s.conclusion for s in split.trace if s.rule_id == "ELIGIBILITY"] == [
        "covered by plan PLAN-C (commercial, TX)", "covered by plan PLAN-D (commercial, TX)"]


def test_line_of_business_plan_and_state_come_from_coverage_not_sbr09() -> None:
    # Given a member covered by MassHealth while the claim says commercial (SBR09 CI)
    world = World(coverage=(coverage(plan_id="MH", lob=MEDICAID, state="MA"),),
                  plans=(plan("MH", lob=MEDICAID),), fees=(fee(lob=MEDICAID, amount="90.00"),))
    # When it is adjudicated
    decision = decide(build_claim(filing_indicator="CI"), world.reference())
    # Then the coverage row decides: Medicaid, plan MH, Massachusetts, Medicaid fees
    assert (decision.line_of_business, decision.plan_id, decision.state) == (
        MEDICAID, "MH", "MA")
    assert decision.lines[0].allowed == 90


def test_member_identification_is_the_first_step_of_the_trace() -> None:
    decision = decide(build_claim(), World().reference())
    first = decision.trace[0]
    assert first.rule_id == "MEMBER-IDENTIFICATION" and first.line_number is None
    assert ("subscriber_id", SUBSCRIBER_ID) in first.shown
    assert MEMBER_ID in first.conclusion


def _without_lines() -> ParsedClaim:
    claim = build_claim()
    return claim.model_copy(update={"claim": claim.claim.model_copy(update={"lines": ()})})


def test_a_claim_with_no_service_lines_is_denied_whole_co16_ma130() -> None:
    # Given a claim that reached adjudication without a 2400 loop (the guide requires
    # one; the engine still never pays or drops such a claim)
    decision = decide(_without_lines(), World().reference())
    # Then it is denied at the claim level for its whole charge, MA130 (incomplete)
    assert (decision.status, decision.lines, decision.paid) == ("denied", (), 0)
    assert [(a.group.value, a.carc, a.amount) for a in decision.claim_adjustments] == [
        ("CO", "16", money("200.00"))]
    assert decision.rarcs == ("MA130",)


def test_a_claim_with_no_lines_for_an_unknown_member_is_denied_co31_status_4() -> None:
    decision = decide(_without_lines(), World(members=()).reference())
    assert (decision.status, decision.claim_status_code) == ("denied", "4")
    assert [(a.group.value, a.carc, a.amount) for a in decision.claim_adjustments] == [
        ("CO", "31", money("200.00"))]


def test_a_line_with_no_date_of_service_pends_and_pays_nothing() -> None:
    undated = line().model_copy(update={"service_date": None, "dates": ()})
    decision = decide(build_claim([undated]), World().reference())
    assert decision.status == "pended" and decision.paid == 0
    assert decision.pend_reasons == ("line 1: the line has no date of service",)


def _with_purpose(claim: ParsedClaim, code: str | None) -> ParsedClaim:
    header = claim.header
    bht = header.bht.model_copy(update={"transaction_type_code": code})
    return claim.model_copy(update={"header": header.model_copy(update={"bht": bht})})


def test_an_encounter_report_or_a_subrogation_demand_is_never_paid_unchecked() -> None:
    # BHT06 CH asks for payment; RP (an encounter report) and 31 (a subrogation demand)
    # do not, and this payer has no other process for them: every line pends
    reference = World().reference()
    assert decide(_with_purpose(build_claim(), "CH"), reference).status == "paid"
    assert decide(_with_purpose(build_claim(), None), reference).status == "paid"
    for code in ("RP", "31"):
        decision = decide(_with_purpose(build_claim(), code), reference)
        assert decision.status == "pended" and decision.paid == 0
        assert decision.accumulator_changes == ()
        assert "not a request for payment (BHT06 " + code in (
            decision.lines[0].pend_reason or "")
        step = next(s for s in decision.trace if s.rule_id == "CHARGEABLE")
        assert dict(step.inputs) == {"transaction_type_code": code}
