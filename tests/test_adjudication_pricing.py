"""Pricing, pends and their release, patient responsibility and accumulators."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from adjudication.decision import Group, InvalidOverride
from adjudication.state import AdjudicationState
from tests.adjudication_builders import (
    DOS,
    MEDICAID,
    MEMBER_ID,
    PLAN_ID,
    World,
    accumulator,
    build_claim,
    category,
    copay,
    coverage,
    decide,
    fee,
    license_factor,
    line,
    member,
    money,
    plan,
)


# -- pricing ------------------------------------------------------------------------------
def test_allowed_is_the_fee_times_units_times_license_factor_and_co45_the_rest() -> None:
    world = World(fees=(fee("90837", "60.00"),), license_factors=(license_factor("LCSW", "90"),))
    decision = decide(build_claim([line(units="2", charge="200.00")]), world.reference())
    # 60.00 x 2 x 90 % = 108.00
    assert decision.lines[0].allowed == 108
    assert [(a.code, a.amount) for a in decision.lines[0].adjustments] == [
        ("CO-45", money("92.00"))]


def test_allowed_rounds_half_up_to_cents() -> None:
    # 10.01 x 50 % = 5.005, which rounds half-up to 5.01 (half-even would give 5.00)
    world = World(fees=(fee("90837", "10.01"),), license_factors=(license_factor("LCSW", "50"),))
    assert decide(build_claim([line(charge="50.00")]), world.reference()).lines[0].allowed == \
        money("5.01")


def test_a_charge_below_the_fee_is_allowed_in_full() -> None:
    decision = decide(build_claim([line(charge="75.00")]), World().reference())
    assert decision.lines[0].allowed == 75 and decision.lines[0].adjustments == ()


def test_no_fee_on_file_pends_the_whole_claim_and_pays_nothing() -> None:
    # Given a claim with a priced line and a line whose code has no fee
    claim = build_claim([line(1), line(2, "90899", "100.00")])
    # When it is adjudicated
    decision = decide(claim, World().reference())
    # Then the claim pends: nothing paid, no accumulators move, the reasons say why
    assert decision.status == "pended"
    assert decision.paid == 0 and decision.accumulator_changes == ()
    assert [x.status for x in decision.lines] == ["pended", "pended"]
    assert "no fee on file" in (decision.lines[1].pend_reason or "")
    assert "held with the claim" in (decision.lines[0].pend_reason or "")
    assert len(decision.pend_reasons) == 2


def test_no_license_factor_for_the_level_pends_the_line_instead_of_paying_the_full_fee(
) -> None:
    # Given a fee of 100.00 for 90837 and license factors on file for PhD only, and a
    # line rendered by an LCSW
    world = World(license_factors=(license_factor("PhD", "100"),))
    # When it is adjudicated
    decision = decide(build_claim([line(charge="200.00")]), world.reference())
    # Then it pends for a person, nothing paid (PRICING v2 paid 100 % of the fee,
    # 100.00, for want of the LCSW row)
    assert decision.status == "pended" and decision.paid == 0
    assert decision.lines[0].pend_reason == (
        "no license factor on file for LCSW (commercial) on 2026-03-02")
    step = next(s for s in decision.trace if s.rule_id == "PRICING")
    assert step.version == 3 and step.conclusion == "pended: no license factor on file"


def test_a_charge_over_ten_times_the_fee_pends_but_exactly_ten_times_does_not() -> None:
    reference = World().reference()
    assert decide(build_claim([line(charge="1000.00")]), reference).status == "paid"
    pended = decide(build_claim([line(charge="1000.01")]), reference)
    assert pended.status == "pended"
    assert "more than 10 times" in (pended.lines[0].pend_reason or "")


def test_a_pend_released_with_a_reviewers_allowed_amount_is_paid() -> None:
    # Given a claim pended for no fee on file
    claim = build_claim([line(1), line(2, "90899", "100.00")])
    reference = World().reference()
    assert decide(claim, reference).status == "pended"
    # When a person releases it with an allowed amount of 80.00 for line 2
    released = decide(claim, reference, overrides={2: Decimal("80.00")})
    # Then it is paid, and the trace says a reviewer set the amount
    assert released.status == "paid"
    assert released.lines[1].allowed == 80
    assert released.paid == 180
    step = next(s for s in released.trace if s.rule_id == "PRICING" and s.line_number == 2)
    assert "reviewer" in step.conclusion


def test_a_reviewers_amount_above_the_charge_is_capped_at_the_charge() -> None:
    claim = build_claim([line(1, "90899", "100.00")])
    decision = decide(claim, World().reference(), overrides={1: Decimal("150.00")})
    assert decision.lines[0].allowed == 100


@pytest.mark.parametrize("overrides", [{1: Decimal("-1")}, {9: Decimal("10")}])
def test_an_override_for_a_missing_line_or_negative_is_refused(
        overrides: dict[int, Decimal]) -> None:
    with pytest.raises(InvalidOverride):
        decide(build_claim(), World().reference(), overrides=overrides)


def test_the_pend_then_release_in_one_run_counts_once() -> None:
    reference = World(plans=(plan(deductible="40"),)).reference()
    claim = build_claim([line(1, "90899", "100.00")])
    state = AdjudicationState().apply(decide(claim, reference, icn="OBH-P"))
    released = decide(claim, reference, icn="OBH-P", state=state,
                      overrides={1: Decimal("100.00")})
    assert released.status == "paid"
    after = state.apply(released)
    assert after.accumulator_delta(MEMBER_ID, PLAN_ID, 2026) == (40, 40)
    assert [x.status for x in after.decided_lines] == ["paid"]


# -- patient responsibility -------------------------------------------------------------------
def _share(decision_line: object) -> list[tuple[str, Decimal]]:
    return [(a.code, a.amount) for a in decision_line.adjustments  # type: ignore[attr-defined]
            if a.group is Group.PR]


def test_a_partly_met_deductible_then_coinsurance_on_the_rest() -> None:
    # Given a 500.00 deductible with 450.00 met and 20 % coinsurance
    world = World(plans=(plan(deductible="500", coinsurance="20"),),
                  extra={"accumulators": (accumulator("450", "450"),)})
    # When a 100.00 line is adjudicated
    decision = decide(build_claim(), world.reference())
    # Then 50.00 goes to the deductible, 20 % of the other 50.00 is coinsurance
    assert _share(decision.lines[0]) == [("PR-1", money("50.00")), ("PR-2", money("10.00"))]
    assert decision.paid == 40 and decision.patient_responsibility == 60
    change = decision.accumulator_changes[0]
    assert (change.deductible, change.out_of_pocket) == (50, 60)


def test_the_copay_of_the_service_category_comes_after_the_deductible() -> None:
    world = World(plans=(plan(coinsurance="10"),),
                  extra={"service_categories": (category("90837", "psychotherapy"),),
                         "copays": (copay("psychotherapy", "30"),)})
    decision = decide(build_claim(), world.reference())
    assert _share(decision.lines[0]) == [("PR-3", money("30")), ("PR-2", money("7.00"))]
    assert decision.paid == 63


def test_a_procedure_with_no_category_under_a_plan_with_copays_pends() -> None:
    # Given a plan with a 30.00 psychotherapy copay and no category row for 90837
    world = World(plans=(plan(coinsurance="10"),),
                  extra={"copays": (copay("psychotherapy", "30"),)})
    # When 90837 is billed
    decision = decide(build_claim(), world.reference())
    # Then its copay cannot be told, and the line pends rather than paying it
    assert decision.status == "pended" and decision.paid == 0
    assert decision.lines[0].pend_reason == (
        f"no service category on file for 90837 on {DOS} (service_categories.csv): plan "
        f"{PLAN_ID}'s copay for it cannot be told")


def test_a_procedure_with_no_category_under_a_plan_with_no_copays_is_cost_shared() -> None:
    world = World(plans=(plan(coinsurance="10"),))
    decision = decide(build_claim(), world.reference())
    assert _share(decision.lines[0]) == [("PR-2", money("10.00"))]


def test_reaching_the_out_of_pocket_maximum_mid_claim_moves_the_rest_to_the_payer() -> None:
    # Given 950.00 of a 1,000.00 out-of-pocket maximum met and 50 % coinsurance
    world = World(plans=(plan(coinsurance="50", oop_max="1000"),),
                  extra={"accumulators": (accumulator("0", "950"),)})
    claim = build_claim([line(1), line(2, dos=date(2026, 3, 3)),
                         line(3, dos=date(2026, 3, 4))])
    # When three 100.00 lines are adjudicated
    decision = decide(claim, world.reference())
    # Then the first line takes the last 50.00; the others are the payer's in full
    assert [x.patient_responsibility for x in decision.lines] == [50, 0, 0]
    assert [x.paid for x in decision.lines] == [50, 100, 100]
    assert decision.accumulator_changes[0].out_of_pocket == 50


def test_the_cap_cuts_the_share_even_inside_one_line() -> None:
    world = World(plans=(plan(deductible="500", oop_max="1000"),),
                  extra={"accumulators": (accumulator("0", "970"),)})
    decision = decide(build_claim(), world.reference())
    assert _share(decision.lines[0]) == [("PR-1", money("30"))]
    assert decision.paid == 70


def _family(plan_row: object, *met: tuple[str, str, str]) -> World:
    """The subscriber M100 with two dependents (M101, M102) on the same card, and a member
    of another card (M200) who met everything; ``met``: (member, deductible, OOP)."""
    people = (member(), member("M101", relationship="child", first="LUIS"),
              member("M102", relationship="child", first="EVA"),
              member("M200", subscriber_id="SUB200", first="OTHER"))
    rows = [accumulator(ded, oop, member_id=who) for who, ded, oop in
            (*met, ("M200", "9000", "9000"))]
    return World(members=people, coverage=tuple(coverage(p.member_id) for p in people),
                 plans=(plan_row,), extra={"accumulators": tuple(rows)})  # type: ignore[arg-type]


def test_a_family_deductible_met_together_stops_each_members_deductible() -> None:
    # Given a 500.00 deductible (1,000.00 for the family) and 20 % coinsurance; the two
    # dependents met 500.00 and 450.00 of it, the subscriber nothing
    family = plan(deductible="500", coinsurance="20", family_deductible="1000")
    world = _family(family, ("M101", "500", "500"), ("M102", "450", "450"))
    decision = decide(build_claim(), world.reference())
    # Then the subscriber's 100.00 line takes the family's last 50.00 as deductible
    # (not the 100.00 their own 500.00 leaves), 20 % of the other 50.00 as coinsurance
    assert _share(decision.lines[0]) == [("PR-1", money("50.00")), ("PR-2", money("10.00"))]
    assert decision.paid == 40
    # and the member's own accumulators move by what they paid
    change = decision.accumulator_changes[0]
    assert (change.member_id, change.deductible, change.out_of_pocket) == ("M100", 50, 60)
    step = next(s for s in decision.trace if s.rule_id == "COST-SHARE")
    assert step.version == 4
    assert dict(step.inputs)["family_deductible_met"] == money("950")
    # Without a family deductible the subscriber's own 500.00 applies: all 100.00
    alone = _family(plan(deductible="500", coinsurance="20"), ("M101", "500", "500"),
                    ("M102", "450", "450"))
    assert _share(decide(build_claim(), alone.reference()).lines[0]) == [
        ("PR-1", money("100.00"))]


def test_a_family_out_of_pocket_maximum_caps_the_share_of_the_member_who_reaches_it() -> None:
    # 50 % coinsurance, 1,000.00 out of pocket each, 2,000.00 for the family; the
    # dependents paid 990.00 each: the family has 20.00 left, the subscriber 1,000.00
    family = plan(coinsurance="50", oop_max="1000", family_oop_max="2000")
    world = _family(family, ("M101", "0", "990"), ("M102", "0", "990"))
    decision = decide(build_claim(), world.reference())
    assert _share(decision.lines[0]) == [("PR-2", money("20"))]
    assert decision.paid == 80


def test_the_individual_deductible_still_caps_a_member_inside_the_family_one() -> None:
    # the family has 900.00 left of 1,000.00, but the subscriber's own 500.00 is met
    family = plan(deductible="500", family_deductible="1000")
    world = _family(family, ("M100", "500", "500"), ("M101", "0", "0"))
    assert _share(decide(build_claim(), world.reference()).lines[0]) == []


def test_accumulators_carry_from_one_claim_to_the_next_in_a_run() -> None:
    reference = World(plans=(plan(deductible="150"),)).reference()
    first = decide(build_claim(pcn="A"), reference, icn="OBH-A")
    state = AdjudicationState().apply(first)
    second = decide(build_claim([line(dos=date(2026, 3, 9))], pcn="B"), reference,
                    icn="OBH-B", state=state)
    assert _share(first.lines[0]) == [("PR-1", money("100.00"))]
    assert _share(second.lines[0]) == [("PR-1", money("50"))]


def test_the_benefit_year_is_the_calendar_year_of_the_service() -> None:
    # Given the 2025 deductible met in full, and nothing of 2026's
    world = World(plans=(plan(deductible="100", year=2025), plan(deductible="100")),
                  extra={"accumulators": (accumulator("100", "100", year=2025),)})
    claim = build_claim([line(1, dos=date(2025, 12, 30)), line(2, dos=date(2026, 1, 2))])
    decision = decide(claim, world.reference(), received=date(2026, 1, 20))
    assert [x.patient_responsibility for x in decision.lines] == [0, 100]
    assert [c.benefit_year for c in decision.accumulator_changes] == [2026]


def test_medicaid_plans_have_no_cost_share_by_their_data() -> None:
    world = World(coverage=(coverage(plan_id="MH", lob=MEDICAID, state="MA"),),
                  plans=(plan("MH", lob=MEDICAID),), fees=(fee(lob=MEDICAID),))
    decision = decide(build_claim(), world.reference())
    assert decision.patient_responsibility == 0 and decision.paid == 100


def test_missing_benefits_for_the_year_pend_the_claim() -> None:
    decision = decide(build_claim(), World(plans=(plan(year=2025),)).reference())
    assert decision.status == "pended"
    assert "no benefits on file" in (decision.lines[0].pend_reason or "")


# -- the decision as data ---------------------------------------------------------------------
def test_the_decision_serialises_to_json_with_money_as_two_decimal_strings() -> None:
    decision = decide(build_claim(), World().reference())
    data = decision.to_dict()
    text = json.dumps(data, sort_keys=True)
    assert data["paid"] == "100.00" and data["lines"][0]["allowed"] == "100.00"
    assert json.dumps(decide(build_claim(), World().reference()).to_dict(),
                      sort_keys=True) == text


def test_applying_a_decision_leaves_the_earlier_state_unchanged() -> None:
    reference = World(plans=(plan(deductible="100"),)).reference()
    empty = AdjudicationState()
    after = empty.apply(decide(build_claim(), reference))
    assert empty.accumulators == {} and empty.decided_lines == ()
    assert after.accumulators == {(MEMBER_ID, PLAN_ID, 2026): (money("100.00"),
                                                               money("100.00"))}
    assert [x.icn for x in after.decided_lines] == ["OBH-1"]
