"""Exact duplicates (OA-18) and prior authorization (CO-197 missing, CO-198 units)."""

from __future__ import annotations

from datetime import date

from adjudication.state import AdjudicationState
from tests.adjudication_builders import (
    BILLING_NPI,
    DOS,
    World,
    authorization,
    build_claim,
    category,
    codes,
    decide,
    line,
    past_claim,
    requires_auth,
)


# -- duplicates -----------------------------------------------------------------------------
def test_a_claim_billed_twice_in_one_run_is_a_duplicate_the_second_time() -> None:
    # Given a claim paid earlier in this run
    reference = World().reference()
    first = decide(build_claim(pcn="A"), reference, icn="OBH-A")
    state = AdjudicationState().apply(first)
    # When the same service arrives again under another claim number
    second = decide(build_claim(pcn="B"), reference, icn="OBH-B", state=state)
    # Then it is denied OA-18 (CARC 18 takes group OA)
    assert first.status == "paid"
    assert codes(second) == ["OA-18"]
    assert second.paid == 0


def test_a_service_paid_in_history_is_a_duplicate() -> None:
    reference = World().reference(past_claims=(past_claim("OBH-OLD"),))
    decision = decide(build_claim(), reference)
    assert codes(decision) == ["OA-18"]
    assert "OBH-OLD" in next(s.conclusion for s in decision.trace if s.rule_id == "DUPLICATE")


def test_a_denied_history_line_still_counts_but_a_reversed_or_voided_one_does_not() -> None:
    for status, expected in (("denied", ["OA-18"]), ("reversed", ["CO-45"]),
                             ("voided", ["CO-45"])):
        reference = World().reference(past_claims=(past_claim("OBH-OLD", status=status),))
        assert codes(decide(build_claim(), reference)) == expected, status


def test_modifiers_in_another_order_are_the_same_service() -> None:
    history = (past_claim("OBH-OLD", modifiers=("HO", "95")),)
    reference = World().reference(past_claims=history)
    same = build_claim([line(modifiers=("95", "HO"))])
    assert codes(decide(same, reference)) == ["OA-18"]


def test_the_same_service_with_another_charge_is_a_suspect_duplicate_for_a_person() -> None:
    # Given OBH-OLD line 1: 90837 on DOS, one unit, 200.00, paid
    reference = World().reference(past_claims=(past_claim("OBH-OLD"),))
    # When the same clinician bills the same service again for 210.00
    decision = decide(build_claim([line(charge="210.00")]), reference)
    # Then nothing is paid twice unseen: the claim pends, naming the earlier claim
    assert decision.status == "pended" and decision.paid == 0
    (pended,) = decision.lines
    assert pended.status == "pended"
    assert pended.pend_reason == ("suspect duplicate of OBH-OLD line 1 (history, paid; "
                                  "charge 200.00 there, 210.00 here)")


def test_the_same_service_with_other_units_is_a_suspect_duplicate() -> None:
    reference = World().reference(past_claims=(past_claim("OBH-OLD", units="2"),))
    decision = decide(build_claim(), reference)
    (pended,) = decision.lines
    assert pended.status == "pended"
    assert pended.pend_reason == ("suspect duplicate of OBH-OLD line 1 (history, paid; "
                                  "units 2 there, 1 here)")


def test_an_exact_duplicate_wins_over_a_suspect_one() -> None:
    history = (past_claim("OBH-A", charge="180.00"), past_claim("OBH-B"))
    decision = decide(build_claim(), World().reference(past_claims=history))
    assert codes(decision) == ["OA-18"] and decision.status == "denied"


def test_two_lines_of_one_claim_for_one_service_at_two_charges_pend_the_claim() -> None:
    decision = decide(build_claim([line(1), line(2, charge="150.00")]), World().reference())
    assert decision.status == "pended"
    second = next(x for x in decision.lines if x.line_number == 2)
    assert second.pend_reason == ("suspect duplicate of line 1 of this claim "
                                  "(charge 200.00 there, 150.00 here)")


def test_another_clinician_on_the_same_day_is_not_a_duplicate() -> None:
    reference = World().reference(past_claims=(past_claim("OBH-OLD",
                                                          rendering_npi="1999999999"),))
    assert codes(decide(build_claim(), reference)) == ["CO-45"]


def test_the_second_of_two_identical_lines_in_one_claim_is_a_duplicate() -> None:
    decision = decide(build_claim([line(1), line(2)]), World().reference())
    assert codes(decision, 1) == ["CO-45"]
    assert codes(decision, 2) == ["OA-18"]
    assert decision.status == "partially_paid"


def test_a_claim_replayed_under_its_own_icn_is_not_its_own_duplicate() -> None:
    reference = World().reference(past_claims=(past_claim("OBH-1"),))
    assert codes(decide(build_claim(), reference, icn="OBH-1")) == ["CO-45"]


def test_a_pended_claim_blocks_an_identical_one_later_in_the_run() -> None:
    reference = World(fees=()).reference()
    state = AdjudicationState().apply(decide(build_claim(), reference, icn="OBH-A"))
    assert codes(decide(build_claim(), reference, icn="OBH-B", state=state)) == ["OA-18"]


# -- prior authorization --------------------------------------------------------------------
def _testing_world() -> World:
    """Psychological testing (96130) needs an authorization under every plan."""
    return World(extra={"service_categories": (category("96130", "testing"),),
                        "prior_auth": (requires_auth("testing"),)})


def _testing(units: str = "2", dos: date = DOS, auth: tuple[str, ...] = ()):
    return build_claim([line(code="96130", charge="1000.00", units=units, dos=dos, auth=auth)])


def test_a_service_needing_authorization_without_one_is_denied_co197() -> None:
    decision = decide(_testing(), _testing_world().reference())
    assert codes(decision) == ["CO-197"]


def test_an_authorization_for_other_dates_does_not_count() -> None:
    reference = _testing_world().reference(authorizations=(
        authorization(start=date(2026, 4, 1), end=date(2026, 6, 30)),))
    assert codes(decide(_testing(), reference)) == ["CO-197"]


def test_an_authorization_for_the_billing_provider_counts() -> None:
    reference = _testing_world().reference(authorizations=(authorization(npi=BILLING_NPI),))
    decision = decide(_testing(), reference)
    assert decision.status == "paid"
    assert decision.lines[0].authorization == "PA1"


def test_more_units_than_authorized_are_denied_co198() -> None:
    reference = _testing_world().reference(authorizations=(authorization(units="4"),))
    assert decide(_testing(units="4"), reference).status == "paid"
    assert codes(decide(_testing(units="5"), reference)) == ["CO-198"]


def test_units_used_earlier_in_the_run_and_in_history_are_counted() -> None:
    # Given 4 units authorized and 1 already paid in history
    history = (past_claim("OBH-OLD", code="96130", service_date=date(2026, 3, 1),
                          charge="500.00"),)
    reference = _testing_world().reference(authorizations=(authorization(units="4"),),
                                           past_claims=history)
    # When 2 units are paid earlier in this run
    first = decide(_testing(units="2"), reference, icn="OBH-A")
    state = AdjudicationState().apply(first)
    assert state.authorization_units_used("PA1") == 2
    # Then 2 more units exceed what is left (4 - 1 - 2 = 1) and 1 unit fits
    later = date(2026, 3, 9)
    assert codes(decide(_testing(units="2", dos=later), reference, icn="OBH-B",
                        state=state)) == ["CO-198"]
    assert decide(_testing(units="1", dos=later), reference, icn="OBH-C",
                  state=state).status == "paid"


def test_a_reversed_claim_gives_its_units_back() -> None:
    reference = _testing_world().reference(authorizations=(authorization(units="4"),))
    first = decide(_testing(units="4"), reference, icn="OBH-A")
    state = AdjudicationState().apply(first)
    void = decide(build_claim(frequency="8", original_icn="OBH-A"), reference, icn="OBH-V",
                  state=state)
    assert void.status == "voided"
    assert state.apply(void).authorization_units_used("PA1") == 0


def test_lines_of_one_claim_use_the_authorization_in_turn() -> None:
    reference = _testing_world().reference(authorizations=(authorization(units="4"),))
    claim = build_claim([line(1, "96130", "1000.00", units="3"),
                         line(2, "96130", "900.00", units="3", dos=date(2026, 3, 3))])
    decision = decide(claim, reference)
    assert decision.lines[0].status == "paid"
    assert codes(decision, 2) == ["CO-198"]


def test_the_authorization_the_claim_cites_is_used_first() -> None:
    reference = _testing_world().reference(authorizations=(
        authorization("PA1"), authorization("PA2")))
    decision = decide(_testing(auth=("PA2",)), reference)
    assert decision.lines[0].authorization == "PA2"
