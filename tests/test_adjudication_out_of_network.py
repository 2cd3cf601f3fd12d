"""Out-of-network benefits: a plan that covers out-of-network care pays under its
out-of-network benefit: a percent of the fee schedule, its own deductible,
coinsurance and maximum, and the charge above allowed is the member's (PR-45)."""

from __future__ import annotations

from datetime import date

from adjudication.decision import AccumulatorChange, Group
from adjudication.reference import OutOfNetworkBenefit, oon_accumulator_plan
from tests.adjudication_builders import (
    CLINICIAN_NPI,
    MEDICAID,
    MEMBER_ID,
    PLAN_ID,
    World,
    accumulator,
    build_claim,
    codes,
    coverage,
    decide,
    fee,
    money,
    past_claim,
    plan,
    provider,
)

OON = OutOfNetworkBenefit(effective=date(2026, 1, 1), plan_id=PLAN_ID, benefit_year=2026,
                          allowed_percent=money("70"), deductible=money("1000"),
                          coinsurance_percent=money("40"), out_of_pocket_max=money("6000"),
                          source="test row", verified=False)


def _world(*, covered: bool = True) -> World:
    """A PPO member (in-network deductible 500, 20 %); the LCSW is out of network;
    90837's fee is 100.00."""
    return World(plans=(plan(deductible="500", coinsurance="20", oon=covered),),
                 providers=(provider(CLINICIAN_NPI, network="out"),
                            *World().providers[1:]))


def test_an_out_of_network_ppo_line_is_priced_on_the_oon_benefit_and_the_rest_is_pr45() -> None:
    # Given the out-of-network deductible (1,000.00) already met this year
    reference = _world().reference(oon_benefits=(OON,), accumulators=(
        accumulator("1000", "1000", plan_id=oon_accumulator_plan(PLAN_ID)),))
    # When the out-of-network clinician bills 90837 for 200.00
    decision = decide(build_claim(), reference)
    # Then allowed = 70 % of 100.00 = 70.00; the 130.00 above it is the member's
    # (PR-45, not a CO-45 write-off: there is no contract); coinsurance 40 % of 70.00 =
    # 28.00 (PR-2); the plan pays 42.00; 200.00 - 130.00 - 28.00 = 42.00
    (paid,) = decision.lines
    assert [(a.code, a.amount) for a in paid.adjustments] == [
        ("PR-45", money("130.00")), ("PR-2", money("28.00"))]
    assert paid.allowed == money("70.00") and paid.paid == money("42.00")
    assert decision.patient_responsibility == money("158.00")
    # And the out-of-network out-of-pocket moves by the cost share only (not PR-45),
    # the in-network accumulators not at all
    (change,) = decision.accumulator_changes
    assert change.plan_id == "PLAN-C:OON"
    assert (change.deductible, change.out_of_pocket) == (money("0.00"), money("28.00"))
    # And the OUT-OF-NETWORK trace names the benefit row's source and verified flag
    step = dict(next(s for s in decision.trace if s.rule_id == "OUT-OF-NETWORK").shown)
    assert (step["source"], step["verified"]) == ("test row", "no")


def test_the_out_of_network_deductible_comes_first() -> None:
    # Nothing met: the whole 70.00 allowed goes to the OON deductible (PR-1); paid 0.00
    decision = decide(build_claim(), _world().reference(oon_benefits=(OON,)))
    assert codes(decision) == ["PR-45", "PR-1"]
    assert decision.lines[0].paid == money("0.00") and decision.status == "paid"


def test_a_plan_that_covers_out_of_network_care_without_a_benefit_row_pends() -> None:
    decision = decide(build_claim(), _world().reference())
    assert decision.status == "pended"
    assert decision.lines[0].pend_reason == "no out-of-network benefit on file for plan PLAN-C 2026"


def test_a_plan_without_out_of_network_cover_denies_co242() -> None:
    decision = decide(build_claim(), _world(covered=False).reference(oon_benefits=(OON,)))
    assert codes(decision) == ["CO-242"]


def test_an_in_network_line_is_unchanged_by_the_oon_benefit() -> None:
    decision = decide(build_claim(), World(plans=(plan(oon=True),)).reference(
        oon_benefits=(OON,)))
    assert codes(decision) == ["CO-45"] and decision.lines[0].paid == money("100.00")


def test_replacing_an_out_of_network_original_gives_back_to_the_oon_accumulator() -> None:
    # Given an out-of-network original in the history: 200.00 charged, allowed 70.00,
    # 130.00 above it (PR-45), 50.00 to the OON deductible (PR-1), 8.00 coinsurance
    # (40 % of the 20.00 left, PR-2), 12.00 paid; the OON accumulator shows 50.00 met
    original = past_claim(charge="200.00", paid="12.00", pr="188.00", remitted=date(2026, 3, 20),
                          adjustments="PR-45:130.00 PR-1:50.00 PR-2:8.00")
    reference = _world().reference(oon_benefits=(OON,), past_claims=(original,), accumulators=(
        accumulator("50", "58", plan_id=oon_accumulator_plan(PLAN_ID)),))
    # When its replacement arrives (the same 90837 at 200.00)
    decision = decide(build_claim(frequency="7", original_icn="OBH-ORIG", pcn="PCN-2"),
                      reference, received=date(2026, 4, 1))
    # Then the give-back goes to the out-of-network accumulator: the 50.00 deductible
    # and 58.00 of out-of-pocket (PR-1 + PR-2; the PR-45 never counted), nothing to the
    # in-network one
    assert decision.reversal is not None
    give_back, new = decision.accumulator_changes
    assert give_back == AccumulatorChange(MEMBER_ID, "PLAN-C:OON", 2026, money("-50.00"),
                                          money("-58.00"))
    # And the replacement meets the OON deductible again from 0: all 70.00 allowed to
    # PR-1, paid 0.00
    assert codes(decision) == ["PR-45", "PR-1"]
    assert decision.lines[0].amount(Group.PR, "1") == money("70.00")
    assert new == AccumulatorChange(MEMBER_ID, "PLAN-C:OON", 2026, money("70.00"),
                                    money("70.00"))


def test_a_medicaid_member_is_never_billed_the_charge_above_an_out_of_network_allowed() -> None:
    # Given a Medicaid plan with an out-of-network benefit (reference data may hold one:
    # an out-of-state clinician, say), its deductible met, and the LCSW out of network
    world = World(coverage=(coverage(lob=MEDICAID),),
                  plans=(plan(lob=MEDICAID, deductible="500", coinsurance="20", oon=True),),
                  providers=_world().providers, fees=(fee(lob=MEDICAID),))
    reference = world.reference(oon_benefits=(OON,), accumulators=(
        accumulator("1000", "1000", plan_id=oon_accumulator_plan(PLAN_ID)),))
    # When the clinician bills 90837 for 200.00
    decision = decide(build_claim(), reference)
    # Then allowed = 70 % of 100.00 = 70.00 as for any plan, but the 130.00 above it is a
    # CO-45 write-off, not the member's (42 CFR 447.15: the plan's payment is payment in
    # full); coinsurance 40 % of 70.00 = 28.00 (PR-2); paid 70.00 - 28.00 = 42.00
    (paid,) = decision.lines
    assert [(a.code, a.amount) for a in paid.adjustments] == [
        ("CO-45", money("130.00")), ("PR-2", money("28.00"))]
    assert paid.paid == money("42.00") and decision.patient_responsibility == money("28.00")
