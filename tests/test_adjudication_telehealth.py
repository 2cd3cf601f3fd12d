"""Telehealth lines (POS 02/10, modifiers 95/GT/93/FQ) against each line of business's
telehealth policy: allowed combinations, audio-only codes, office or facility rate."""

from __future__ import annotations

from adjudication.reference import LineOfBusiness
from edi.claims import ServiceLine
from fixtures.telehealth import telehealth_policy
from tests.adjudication_builders import (
    MEDICARE_ADVANTAGE,
    World,
    build_claim,
    codes,
    coverage,
    decide,
    fee,
    line,
    money,
    plan,
)


def _line(place: str, *modifiers: str, code: str = "90837") -> ServiceLine:
    return line(code=code, modifiers=modifiers).model_copy(
        update={"place_of_service_code": place})


def _world(lob: LineOfBusiness = LineOfBusiness.COMMERCIAL) -> World:
    """The shipped telehealth policy; 90837 and 90791 at 100.00 and 150.00."""
    return World(coverage=(coverage(lob=lob),), plans=(plan(lob=lob),),
                 fees=(fee(lob=lob), fee("90791", "150.00", lob=lob)),
                 extra={"telehealth": tuple(telehealth_policy())})


def test_a_home_video_visit_with_95_is_paid_at_the_office_rate() -> None:
    decision = decide(build_claim([_line("10", "95")]), _world().reference())
    assert decision.status == "paid" and decision.lines[0].allowed == money("100.00")
    # By hand: charge 200.00, the office rate is the fee schedule's 100.00 (100 %), no
    # cost share on the default plan: CO-45 = 200.00 - 100.00 = 100.00, paid 100.00
    assert [(a.code, a.amount) for a in decision.lines[0].adjustments] == [
        ("CO-45", money("100.00"))]
    assert decision.paid == money("100.00") and decision.patient_responsibility == 0
    step = next(s for s in decision.trace if s.rule_id == "TELEHEALTH")
    assert step.conclusion == "telehealth allowed, paid at the office rate"


def test_a_telehealth_place_without_its_modifier_is_denied_co4() -> None:
    # Given 90837 at the patient's home (POS 10) for 200.00 with no telehealth modifier
    decision = decide(build_claim([_line("10")]), _world().reference())
    # Then, by hand: the whole charge is the provider's write-off, CO-4 200.00, and
    # 200.00 - 200.00 = 0.00 paid; nothing is billed to the member
    assert codes(decision) == ["CO-4"] and decision.paid == money("0.00")
    assert [(a.code, a.amount) for a in decision.lines[0].adjustments] == [
        ("CO-4", money("200.00"))]
    assert decision.patient_responsibility == money("0.00")


def test_medicare_advantage_pays_pos_02_at_the_facility_rate() -> None:
    # 85 % of the 100.00 fee schedule amount: allowed 85.00, CO-45 115.00
    decision = decide(build_claim([_line("02", "95")]),
                      _world(MEDICARE_ADVANTAGE).reference())
    assert decision.lines[0].allowed == money("85.00")
    assert [(a.code, a.amount) for a in decision.lines[0].adjustments] == [
        ("CO-45", money("115.00"))]


def test_audio_only_is_for_the_codes_the_policy_lists() -> None:
    # 93 (audio-only) for psychotherapy: paid; for a diagnostic evaluation: CO-5 M77
    assert decide(build_claim([_line("10", "93")]), _world().reference()).status == "paid"
    evaluation = decide(build_claim([_line("10", "93", code="90791")]), _world().reference())
    assert codes(evaluation) == ["CO-5"] and evaluation.lines[0].rarcs == ("M77",)


def test_a_telehealth_modifier_at_an_office_place_of_service_is_denied_co5_m77() -> None:
    decision = decide(build_claim([_line("11", "95")]), _world().reference())
    assert codes(decision) == ["CO-5"] and decision.lines[0].rarcs == ("M77",)


def test_an_in_person_line_is_not_a_telehealth_line() -> None:
    decision = decide(build_claim([_line("11")]), _world().reference())
    assert decision.status == "paid"
    step = next(s for s in decision.trace if s.rule_id == "TELEHEALTH")
    assert step.conclusion == "not a telehealth line"
