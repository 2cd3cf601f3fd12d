"""Coordination of benefits: secondary and tertiary claims, and primary claims of members
with another primary payer on file. Every amount is worked out by hand in the test.

The default world: a commercial member, 90837 at 100.00 and 90834 at 80.00, an
in-network LCSW at 100 % of the fee schedule; ``_met`` plans have their 500.00
deductible met and 20 % coinsurance.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import TypeVar

from hypothesis import given
from hypothesis import strategies as st

from adjudication.decision import AccumulatorChange, Decision
from adjudication.reference import (
    CobMethodType,
    LineOfBusiness,
    OutOfNetworkBenefit,
    ReferenceData,
    Row,
    oon_accumulator_plan,
)
from adjudication.rules.coordination import prior_paid, split
from edi.claims import ParsedClaim
from edi.parsers.claim837 import iter_claims
from edi.parsers.remit835 import read_835
from edi.tokenizer import segments_from_bytes
from edi.validators.codesets import CodeSetRegistry, CodeSetRelease
from edi.validators.outbound import outbound_problems
from remittance.balance import prove_interchanges
from remittance.claims import claim_payment
from tests.adjudication_builders import (
    CLINICIAN_NPI,
    MEDICAID,
    MEDICARE_ADVANTAGE,
    PLAN_ID,
    World,
    accumulator,
    build_claim,
    cas,
    cob_method,
    codes,
    coverage,
    decide,
    every_license_factor,
    fee,
    line,
    member,
    money,
    other_coverage,
    other_payer,
    paid_by,
    plan,
    practice_835,
    provider,
    rules_fired,
)
from tests.conftest import SHARED
from tests.pyx12_oracle import pyx12_accepts

R = TypeVar("R", bound=Row)


def _met() -> World:
    """Commercial, deductible 500.00 already met, 20 % coinsurance, OOP max 5,000.00."""
    return World(plans=(plan(deductible="500", coinsurance="20"),))


def _met_reference(world: World | None = None) -> ReferenceData:
    return (world or _met()).reference(accumulators=(accumulator("500.00", "500.00"),))


def _amounts(decision: Decision, number: int = 1) -> dict[str, str]:
    """The line's adjustments by code and its paid amount, as text."""
    found = next(x for x in decision.lines if x.line_number == number)
    return {a.code: str(a.amount) for a in found.adjustments} | {"paid": str(found.paid)}


# -- secondary, standard method -------------------------------------------------------------
def test_a_secondary_claim_pays_the_balance_after_the_primary_with_oa_23() -> None:
    # Given a secondary claim (SBR01 S): charge 200.00, the primary (2320 SBR01 P) paid
    # 70.00 (AMT*D); our allowed is 100.00, the deductible is met, coinsurance 20 %
    claim = build_claim(sequence="S", other_payers=(other_payer("P", "70.00"),))
    # When it is decided
    decision = decide(claim, _met_reference())
    # Then, worked by hand:
    #   CO-45           = 200.00 - 100.00                      = 100.00
    #   cost share      = 20 % x 100.00                        =  20.00
    #   normal benefit  = 100.00 - 20.00                       =  80.00
    #   balance         = 100.00 - 70.00                       =  30.00
    #   we pay          = min(80.00, 30.00)                    =  30.00
    #   member owes     = min(20.00, 100.00 - 70.00 - 30.00)   =   0.00
    #   OA-23           = 100.00 - 30.00 - 0.00                =  70.00
    #   200.00 = 30.00 paid + 100.00 CO-45 + 70.00 OA-23
    assert _amounts(decision) == {"CO-45": "100.00", "OA-23": "70.00", "paid": "30.00"}
    assert decision.paid == money("30.00") and decision.patient_responsibility == 0
    # And CLP02 says processed as secondary
    assert decision.claim_status_code == "2"
    # And the member owes nothing, so out-of-pocket does not move (deductible was met)
    assert decision.accumulator_changes == ()
    # And the trace shows sequence, method, prior paid, normal benefit and our liability
    step = next(s for s in decision.trace if s.rule_id == "COORDINATION-OF-BENEFITS")
    shown = dict(step.shown)
    assert (shown["sequence"], shown["method"], shown["prior_paid"]) == ("S", "standard",
                                                                         "70.00")
    assert (shown["normal_benefit"], shown["balance_after_prior"], shown["our_liability"]) == (
        "80.00", "30.00", "30.00")
    assert shown["prior_paid_from"] == "P AMT*D apportioned by charge"


def test_when_the_normal_benefit_is_less_than_the_balance_the_member_keeps_a_share() -> None:
    # Given the same claim with a primary that paid only 10.00
    claim = build_claim(sequence="S", other_payers=(other_payer("P", "10.00"),))
    decision = decide(claim, _met_reference())
    # Then, by hand: normal benefit 80.00, balance 100.00 - 10.00 = 90.00,
    #   we pay min(80.00, 90.00)                        = 80.00
    #   member owes min(20.00, 100.00 - 10.00 - 80.00)  = 10.00  (PR-2, coinsurance)
    #   OA-23 = 100.00 - 80.00 - 10.00                  = 10.00
    #   200.00 = 80.00 + 100.00 CO-45 + 10.00 PR-2 + 10.00 OA-23
    assert _amounts(decision) == {"CO-45": "100.00", "PR-2": "10.00", "OA-23": "10.00",
                                  "paid": "80.00"}
    # And out-of-pocket counts the 10.00 the member owes, not the 20.00 as if primary
    assert decision.accumulator_changes == (
        AccumulatorChange("M100", "PLAN-C", 2026, money("0.00"), money("10.00")),)


def test_a_secondary_claim_after_a_primary_denial_is_paid_as_our_normal_benefit() -> None:
    # Given the primary denied the claim: AMT*D 0.00 and CAS CO-96 for the whole charge
    denied = other_payer("P", "0.00", adjustments=(cas("CO", ("96", "200.00")),))
    claim = build_claim(sequence="S", other_payers=(denied,))
    decision = decide(claim, _met_reference())
    # Then, by hand: prior paid 0.00, balance 100.00, normal benefit 80.00:
    #   we pay min(80.00, 100.00) = 80.00, the member owes the 20.00 coinsurance (PR-2),
    #   OA-23 = 100.00 - 80.00 - 20.00 = 0.00 (not written)
    #   200.00 = 80.00 + 100.00 CO-45 + 20.00 PR-2
    assert _amounts(decision) == {"CO-45": "100.00", "PR-2": "20.00", "paid": "80.00"}
    assert decision.claim_status_code == "2"
    # And out-of-pocket moves by the full 20.00 (the member owes all of it)
    assert decision.accumulator_changes == (
        AccumulatorChange("M100", "PLAN-C", 2026, money("0.00"), money("20.00")),)


def test_a_primary_that_paid_more_than_our_allowed_leaves_nothing_to_pay() -> None:
    # Given a primary payment of 120.00 against our allowed 100.00
    claim = build_claim(sequence="S", other_payers=(other_payer("P", "120.00"),))
    decision = decide(claim, _met_reference())
    # Then balance = max(0, 100.00 - 120.00) = 0.00: we pay 0.00, the member 0.00,
    # OA-23 = 100.00 (the impact on our allowed amount), CO-45 100.00
    assert _amounts(decision) == {"CO-45": "100.00", "OA-23": "100.00", "paid": "0.00"}


# -- secondary, out of network: the balance bill after the primary --------------------------
_OON = OutOfNetworkBenefit(effective=date(2026, 1, 1), plan_id=PLAN_ID, benefit_year=2026,
                           allowed_percent=money("70"), deductible=money("1000"),
                           coinsurance_percent=money("40"), out_of_pocket_max=money("6000"),
                           source="test row", verified=False)


def _out_of_network_reference() -> ReferenceData:
    """A PPO that covers out-of-network care (70 % of the fee schedule, 40 %
    coinsurance), its out-of-network deductible (1,000.00) already met; the LCSW is out
    of network; 90837's fee is 100.00, so allowed = 70 % x 100.00 = 70.00."""
    world = World(plans=(plan(deductible="500", coinsurance="20", oon=True),),
                  providers=(provider(CLINICIAN_NPI, network="out"), *World().providers[1:]))
    return world.reference(oon_benefits=(_OON,), accumulators=(
        accumulator("1000", "1000", plan_id=oon_accumulator_plan(PLAN_ID)),))


def _out_of_network_secondary(primary_paid: str) -> tuple[Decision, ParsedClaim]:
    """Our secondary claim for 90837 at 200.00 whose primary reported the line in 2430."""
    claim = build_claim(sequence="S", other_payers=(
        other_payer("P", primary_paid, payer_id="PRIMARY1"),),
        lines=[line(adjudications=(paid_by("PRIMARY1", primary_paid),))])
    return decide(claim, _out_of_network_reference()), claim


def test_an_out_of_network_secondary_line_bills_the_member_only_what_the_primary_left() -> None:
    # Given an out-of-network secondary line (SBR01 S): charge 200.00, our allowed 70.00,
    # and a primary that paid most of the charge: 150.00 (2430 SVD02)
    decision, _claim = _out_of_network_secondary("150.00")
    # Then, worked by hand:
    #   balance bill before COB = 200.00 - 70.00                       = 130.00
    #   cost share (deductible met): 40 % x 70.00                      =  28.00
    #   normal benefit  = 70.00 - 28.00                                =  42.00
    #   balance         = max(0, 70.00 - 150.00)                       =   0.00
    #   we pay          = min(42.00, 0.00)                             =   0.00
    #   cost share owed = max(0, min(28.00, 70.00 - 150.00 - 0.00))    =   0.00
    #   the member owes at most 200.00 - 150.00 (primary) - 0.00 (us)  =  50.00
    #   PR-45           = min(130.00, 50.00 - 0.00)                    =  50.00
    #   OA-23 = (70.00 - 0.00 - 0.00) + (130.00 - 50.00) = 70.00 + 80.00 = 150.00
    #   200.00 - 50.00 PR-45 - 150.00 OA-23 = 0.00 paid
    #   primary 150.00 + member 50.00 + us 0.00 = 200.00, the charge (not 280.00)
    assert _amounts(decision) == {"PR-45": "50.00", "OA-23": "150.00", "paid": "0.00"}
    assert decision.patient_responsibility == money("50.00") and decision.paid == 0
    # And the member owes nothing of the cost share: out-of-pocket takes back the 28.00
    # COST-SHARE counted (28.00 - 28.00 = 0.00; the deductible was met), so no change
    assert decision.accumulator_changes == ()
    # And the trace shows the balance bill before and after coordination
    step = dict(next(s for s in decision.trace
                     if s.rule_id == "COORDINATION-OF-BENEFITS").shown)
    assert (step["balance_bill"], step["balance_bill_owed"]) == ("130.00", "50.00")


def test_an_out_of_network_secondary_line_after_a_small_primary_payment_keeps_pr_45() -> None:
    # Given the same line, the primary paid only 20.00 (2430 SVD02)
    decision, _claim = _out_of_network_secondary("20.00")
    # Then, worked by hand:
    #   normal benefit  = 70.00 - 28.00                                =  42.00
    #   balance         = 70.00 - 20.00                                =  50.00
    #   we pay          = min(42.00, 50.00)                            =  42.00
    #   cost share owed = min(28.00, 70.00 - 20.00 - 42.00)            =   8.00 (PR-2)
    #   the member owes at most 200.00 - 20.00 - 42.00                 = 138.00
    #   PR-45           = min(130.00, 138.00 - 8.00)                   = 130.00 (all of it)
    #   OA-23           = 70.00 - 42.00 - 8.00                         =  20.00
    #   200.00 - 130.00 - 8.00 - 20.00 = 42.00 paid
    assert _amounts(decision) == {"PR-45": "130.00", "PR-2": "8.00", "OA-23": "20.00",
                                  "paid": "42.00"}
    assert decision.patient_responsibility == money("138.00")
    # And out-of-pocket (out of network) moves by the 8.00 the member still owes
    assert decision.accumulator_changes == (
        AccumulatorChange("M100", "PLAN-C:OON", 2026, money("0.00"), money("8.00")),)


def test_the_835_of_an_out_of_network_secondary_claim_balances_and_pyx12_accepts_it() -> None:
    # Given the out-of-network secondary claim whose primary paid 150.00 of 200.00
    decision, claim = _out_of_network_secondary("150.00")
    payment = claim_payment(decision, claim)
    # When its 835 is written
    text = practice_835(payment, "NON", "0.00")
    segments = [s.strip() for s in text.split("~")]
    # Then CLP02 2, charge 200.00, paid 0.00, patient responsibility 50.00 (the PR-45)
    clp = next(s for s in segments if s.startswith("CLP*")).split("*")
    assert clp[2:6] == ["2", "200.00", "0.00", "50.00"]
    # And the line: 200.00 - 50.00 (PR-45) - 150.00 (OA-23) = 0.00
    assert "CAS*PR*45*50.00" in segments and "CAS*OA*23*150.00" in segments
    # And the 835 balances and pyx12 accepts it
    assert prove_interchanges(read_835(io.BytesIO(text.encode()))) == []
    assert outbound_problems(text) == [] and pyx12_accepts(text)


# -- Medicaid: payer of last resort ---------------------------------------------------------
def _medicaid(coinsurance: str = "0") -> World:
    return World(coverage=(coverage(plan_id="PLAN-M", lob=MEDICAID),),
                 plans=(plan("PLAN-M", lob=MEDICAID, coinsurance=coinsurance),),
                 fees=(fee(lob=MEDICAID, amount="80.00"),))


def test_medicaid_as_secondary_pays_its_allowed_less_the_primary_and_bills_no_cost_share(
) -> None:
    # Given a Medicaid member (an illustrative 10 % coinsurance on the plan, to show that
    # last resort bills none), a secondary claim whose primary reported line 1 in 2430:
    # SVD02 5.00 (and AMT*D 5.00)
    claim = build_claim(sequence="S", other_payers=(
        other_payer("P", "5.00", payer_id="PRIMARY1"),),
        lines=[line(adjudications=(paid_by("PRIMARY1", "5.00"),))])
    decision = decide(claim, _medicaid(coinsurance="10").reference())
    # Then, by hand: allowed 80.00 (Medicaid fee), CO-45 = 200.00 - 80.00 = 120.00;
    #   prior paid 5.00 from 2430 SVD02 (not apportioned)
    #   we pay max(0, 80.00 - 5.00)  = 75.00   (standard would pay min(72.00, 75.00))
    #   member owes                  =  0.00   (the 8.00 coinsurance is not billed)
    #   OA-23 = 80.00 - 75.00        =  5.00
    #   200.00 = 75.00 + 120.00 CO-45 + 5.00 OA-23
    assert _amounts(decision) == {"CO-45": "120.00", "OA-23": "5.00", "paid": "75.00"}
    step = dict(next(s for s in decision.trace
                     if s.rule_id == "COORDINATION-OF-BENEFITS").shown)
    assert step["method"] == "payer_of_last_resort"
    assert step["prior_paid_from"] == "P 2430 SVD02"
    # And the 8.00 coinsurance COST-SHARE counted is taken back off out-of-pocket
    assert decision.accumulator_changes == ()


def test_medicaid_pays_nothing_when_the_primary_paid_more_than_its_allowed() -> None:
    claim = build_claim(sequence="S", other_payers=(other_payer("P", "95.00"),))
    decision = decide(claim, _medicaid().reference())
    # Then max(0, 80.00 - 95.00) = 0.00 paid; OA-23 = 80.00; CO-45 = 120.00; no PR
    assert _amounts(decision) == {"CO-45": "120.00", "OA-23": "80.00", "paid": "0.00"}


# -- tertiary ----------------------------------------------------------------------------------
def test_a_tertiary_claim_subtracts_both_prior_payers_apportioned_by_charge() -> None:
    # Given a tertiary claim (SBR01 T): the primary paid 60.00 and the secondary 25.00,
    # claim level only (AMT*D); line 1 90837 charge 150.00, line 2 90834 charge 50.00
    claim = build_claim(
        sequence="T",
        other_payers=(other_payer("P", "60.00", payer_id="A1"),
                      other_payer("S", "25.00", payer_id="B2")),
        lines=[line(1, "90837", "150.00"), line(2, "90834", "50.00")])
    decision = decide(claim, _met_reference())
    # Then the AMT*D are apportioned by charge (150/200 and 50/200, cumulative to cents):
    #   primary   60.00: line 1 45.00, line 2 60.00 - 45.00 = 15.00
    #   secondary 25.00: line 1 18.75, line 2 25.00 - 18.75 =  6.25
    #   prior paid: line 1 63.75, line 2 21.25
    # Line 1: allowed min(150.00, 100.00) = 100.00, CO-45 50.00, coinsurance 20.00,
    #   normal 80.00, balance 100.00 - 63.75 = 36.25, we pay 36.25, member 0.00,
    #   OA-23 = 100.00 - 36.25 = 63.75; 150.00 = 36.25 + 50.00 + 63.75
    assert _amounts(decision, 1) == {"CO-45": "50.00", "OA-23": "63.75", "paid": "36.25"}
    # Line 2: allowed min(50.00, 80.00) = 50.00, no CO-45, coinsurance 10.00, normal
    #   40.00, balance 50.00 - 21.25 = 28.75, we pay 28.75, OA-23 21.25; 50 = 28.75 + 21.25
    assert _amounts(decision, 2) == {"OA-23": "21.25", "paid": "28.75"}
    assert decision.paid == money("65.00")
    assert decision.claim_status_code == "3"


def test_a_tertiary_claim_without_the_secondary_payers_loop_is_denied_co_16_ma04() -> None:
    # Given a tertiary claim that names only the primary in 2320
    claim = build_claim(sequence="T", other_payers=(other_payer("P", "60.00"),))
    decision = decide(claim, _met_reference())
    # Then every line is CO-16 with MA04 (the secondary's payment is unknown), CLP02 3
    assert codes(decision) == ["CO-16"] and decision.lines[0].rarcs == ("MA04",)
    assert decision.claim_status_code == "3" and decision.paid == 0


def test_a_secondary_claim_without_any_prior_payer_is_denied_co_16_ma04() -> None:
    # Given SBR01 S and no 2320 loop, and (separately) a 2320 without AMT*D or 2430
    for others in ((), (other_payer("P", None),)):
        decision = decide(build_claim(sequence="S", other_payers=others),
                          _met_reference())
        # Then the claim is denied CO-16 MA04 on every line, processed as secondary
        assert codes(decision) == ["CO-16"], others
        assert decision.lines[0].rarcs == ("MA04",)
        assert decision.claim_status_code == "2"
        assert "PRIOR-PAYER-REPORTED" in rules_fired(decision)


def test_a_secondary_line_pends_when_no_coordination_method_is_on_file() -> None:
    world = _met().with_(cob_methods=())
    claim = build_claim(sequence="S", other_payers=(other_payer("P", "70.00"),))
    decision = decide(claim, _met_reference(world))
    assert decision.status == "pended"
    assert "coordination-of-benefits method" in (decision.lines[0].pend_reason or "")


# -- a primary claim while another payer is primary -----------------------------------------
def _medicare_advantage(*rows: object) -> World:
    return World(coverage=(coverage(plan_id="PLAN-MA", lob=MEDICARE_ADVANTAGE),),
                 plans=(plan("PLAN-MA", lob=MEDICARE_ADVANTAGE),),
                 fees=(fee(lob=MEDICARE_ADVANTAGE, amount="90.00"),),
                 extra={"other_coverage": rows})


def test_a_medicare_advantage_claim_billed_as_primary_while_another_payer_is_primary_is_co_22(
) -> None:
    # Given an MA member whose employer group plan is primary (other_coverage P)
    world = _medicare_advantage(other_coverage("P"))
    # When the provider bills us as primary (SBR01 P)
    decision = decide(build_claim(), world.reference())
    # Then every line is CO-22 with MA04 for the whole charge, CLP02 1, nothing paid
    assert _amounts(decision) == {"CO-22": "200.00", "paid": "0.00"}
    assert decision.lines[0].rarcs == ("MA04",)
    assert decision.claim_status_code == "1" and decision.status == "denied"
    assert "OTHER-COVERAGE" in rules_fired(decision)


def test_the_same_member_billed_as_secondary_with_the_primary_payment_is_paid() -> None:
    world = _medicare_advantage(other_coverage("P"))
    claim = build_claim(sequence="S", other_payers=(other_payer("P", "50.00"),))
    decision = decide(claim, world.reference())
    # Then standard: allowed 90.00, no cost share, normal 90.00, balance 40.00:
    # we pay 40.00, OA-23 50.00, CO-45 110.00 (200.00 = 40 + 110 + 50)
    assert _amounts(decision) == {"CO-45": "110.00", "OA-23": "50.00", "paid": "40.00"}


def test_other_coverage_that_pays_after_us_or_a_commercial_member_is_not_turned_back() -> None:
    # Given an MA member whose other plan pays after us (S), and a commercial member with a
    # primary on file (commercial order of benefits is not modelled)
    after_us = _medicare_advantage(other_coverage("S"))
    commercial = World(extra={"other_coverage": (other_coverage("P"),)})
    # Then both primary claims are paid as usual
    assert decide(build_claim(), after_us.reference()).status == "paid"
    assert decide(build_claim(), commercial.reference()).status == "paid"


def test_a_medicaid_member_with_a_primary_payer_that_ended_is_paid_as_primary() -> None:
    ended = other_coverage("P", effective=date(2020, 1, 1))
    ended = ended.model_copy(update={"termination": date(2025, 12, 31)})
    world = _medicaid().with_(extra={"other_coverage": (ended,)})
    decision = decide(build_claim(), world.reference())
    assert codes(decision) == ["CO-45"] and decision.paid == money("80.00")


# -- the 835 ----------------------------------------------------------------------------------
def test_the_835_of_a_secondary_claim_says_clp02_2_with_oa_23_and_balances() -> None:
    # Given the secondary claim of the first test (we pay 30.00 of 200.00)
    claim = build_claim(sequence="S", other_payers=(other_payer("P", "70.00"),))
    payment = claim_payment(decide(claim, _met_reference()), claim)
    # When its 835 is written
    text = practice_835(payment, "CHK", "30.00")
    segments = [s.strip() for s in text.split("~")]
    # Then CLP02 is 2, CLP03 200.00, CLP04 30.00, CLP05 empty (the member owes nothing)
    clp = next(s for s in segments if s.startswith("CLP*")).split("*")
    assert clp[2:6] == ["2", "200.00", "30.00", ""]
    # And the line carries CO-45 100.00 and OA-23 70.00: 200.00 - 170.00 = 30.00
    assert "CAS*CO*45*100.00" in segments and "CAS*OA*23*70.00" in segments
    # And the 835 balances and pyx12 accepts it
    assert prove_interchanges(read_835(io.BytesIO(text.encode()))) == []
    assert outbound_problems(text) == [] and pyx12_accepts(text)


# -- a public TR3 COB example, end to end ---------------------------------------------------
def test_the_tr3_cob_example_3b_is_decided_as_secondary_from_its_2430_lines() -> None:
    # Given the public TR3 example: payer B (us, SBR01 S) after payer A (2320 P, 2330B
    # 999996666) paid each line in 2430: 99213 40.00, 90782 15.00, J3301 21.04
    path = SHARED / "corpus" / "public" / "837p" / "lfh-cob.example3.B.837"
    (claim,) = iter_claims(segments_from_bytes(path.read_bytes()))
    dos, received = date(2005, 10, 3), date(2005, 10, 20)
    since = date(2005, 1, 1)
    world = World(
        members=(member("M-TED", subscriber_id="222334444", relationship="child", first="TED",
                        last="SMITH", birth=date(1973, 5, 1), effective=since),),
        coverage=(coverage("M-TED", effective=since),),
        # no deductible, no coinsurance: the normal benefit is the allowed amount
        plans=_since(since, plan(year=dos.year)), providers=_since(since, provider("1999996666")),
        fees=_since(since, fee("99213", "42.00"), fee("90782", "15.00"), fee("J3301", "21.04")),
        license_factors=_since(since, *every_license_factor()),
        cob_methods=_since(since, cob_method()))
    # and, for its 2005 diagnoses (ICD-9, which the front end would refuse), a release
    # in force then that holds them: the example is about coordination, not code sets
    diagnoses = CodeSetRelease("the example's diagnoses (test)", date(2005, 10, 1),
                               frozenset({"4779", "2724", "2780", "53081"}))
    decision = decide(claim, world.reference(), received=received,
                      code_sets=CodeSetRegistry([diagnoses]))
    # Then, by hand, line by line (allowed = min(charge, fee); we pay allowed - SVD02):
    #   99213: charge 43.00, allowed 42.00, CO-45 1.00, prior 40.00 -> pay 2.00, OA-23 40.00
    #   90782: charge 15.00, allowed 15.00, prior 15.00 -> pay 0.00, OA-23 15.00
    #   J3301: charge 21.04, allowed 21.04, prior 21.04 -> pay 0.00, OA-23 21.04
    assert _amounts(decision, 1) == {"CO-45": "1.00", "OA-23": "40.00", "paid": "2.00"}
    assert _amounts(decision, 2) == {"OA-23": "15.00", "paid": "0.00"}
    assert _amounts(decision, 3) == {"OA-23": "21.04", "paid": "0.00"}
    assert decision.paid == money("2.00") and decision.claim_status_code == "2"


def _since(day: date, *rows: R) -> tuple[R, ...]:
    """Rows of the default builders made effective earlier (the example is from 2005)."""
    return tuple(row.model_copy(update={"effective": day}) for row in rows)


def test_coordination_methods_are_reference_data_per_line_of_business() -> None:
    # The shipped rows: standard for commercial and MA, last resort for Medicaid
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY, load_reference_dir

    data = load_reference_dir(SHIPPED_REFERENCE_DIRECTORY)
    day = date(2026, 3, 2)
    methods = {lob: data.cob_method(lob, day) for lob in LineOfBusiness}
    assert {lob: m.method if m else None for lob, m in methods.items()} == {
        LineOfBusiness.COMMERCIAL: CobMethodType.STANDARD,
        LineOfBusiness.MEDICARE_ADVANTAGE: CobMethodType.STANDARD,
        LineOfBusiness.MEDICAID: CobMethodType.PAYER_OF_LAST_RESORT}
    assert cob_method().source


# -- the arithmetic, for any amounts ------------------------------------------------------------
_CENTS = st.integers(min_value=0, max_value=1_000_000).map(lambda c: Decimal(c) / 100)


@given(allowed=_CENTS, share_cents=st.integers(0, 1_000_000), prior=_CENTS,
       method=st.sampled_from(list(CobMethodType)), balance_bill=_CENTS)
def test_the_split_always_adds_up_to_the_charge_and_oa_23_is_what_the_prior_payers_paid(
        allowed: Decimal, share_cents: int, prior: Decimal, method: CobMethodType,
        balance_bill: Decimal) -> None:
    cost_share = min(allowed, Decimal(share_cents) / 100)
    s = split(method, allowed, cost_share, prior, balance_bill)
    # we, the member and the prior payers account for the allowed amount exactly, and
    # the balance bill is owed or already paid by the prior payers
    assert s.liability + s.member + s.prior_impact == allowed
    assert s.balance_bill_owed + s.balance_bill_covered == balance_bill
    assert min(s.liability, s.member, s.prior_impact, s.balance_bill_owed,
               s.balance_bill_covered) >= 0
    # OA-23 is what the prior payers paid, up to the charge (allowed + balance bill)
    charge = allowed + balance_bill
    assert s.prior_impact + s.balance_bill_covered == min(prior, charge)
    # the member never owes more than the charge leaves after the prior payers and us
    assert s.member_total <= max(Decimal(0), charge - prior - s.liability)
    if method is CobMethodType.STANDARD:  # never more than as primary, nor the balance
        assert s.liability <= allowed - cost_share and s.member <= cost_share
    else:  # last resort: the member owes nothing
        assert s.member == 0 and s.liability == max(Decimal(0), allowed - prior)


@given(charges=st.lists(_CENTS, min_size=1, max_size=6), paid=_CENTS)
def test_an_amt_d_apportioned_by_charge_adds_up_to_itself(charges: list[Decimal],
                                                          paid: Decimal) -> None:
    lines = [line(n, charge=str(c)) for n, c in enumerate(charges, start=1)]
    claim = build_claim(lines, sequence="S", other_payers=(other_payer("P", str(paid)),))
    shares = [prior_paid(claim, n).amount for n in range(1, len(charges) + 1)]
    assert all(share >= 0 for share in shares)
    assert sum(shares, Decimal(0)) == (paid if sum(charges, Decimal(0)) > 0 else 0)
