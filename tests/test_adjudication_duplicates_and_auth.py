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
    money,
    past_claim,
    practice_835,
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


def test_a_suspect_duplicate_a_reviewer_releases_with_an_allowed_amount_is_paid() -> None:
    # Given OBH-OLD line 1 paid, and the same service billed again at 210.00 (pended)
    reference = World().reference(past_claims=(past_claim("OBH-OLD"),))
    claim = build_claim([line(charge="210.00")])
    # When a person finds it a separate session and releases it allowing 95.00
    released = decide(claim, reference, overrides={1: money("95.00")})
    # Then the line is paid at 95.00, 115.00 CO-45, and the trace says who decided
    assert released.status == "paid" and released.paid == money("95.00")
    assert codes(released) == ["CO-45"]
    step = next(s for s in released.trace if s.rule_id == "DUPLICATE")
    assert step.conclusion == ("suspect duplicate of OBH-OLD line 1 (history, paid; charge "
                               "200.00 there, 210.00 here): a separate service, released "
                               "by a reviewer with an allowed amount")


def test_an_exact_duplicate_is_denied_whatever_amount_a_reviewer_enters() -> None:
    reference = World().reference(past_claims=(past_claim("OBH-OLD"),))
    decision = decide(build_claim(), reference, overrides={1: money("95.00")})
    assert codes(decision) == ["OA-18"] and decision.paid == 0


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


def test_a_pended_claim_released_is_not_a_duplicate_of_the_copy_denied_because_of_it() -> None:
    # Given claim A pended (no fee on file) and its copy B denied OA-18 as A's duplicate
    reference = World(fees=()).reference()
    state = AdjudicationState().apply(decide(build_claim(), reference, icn="OBH-A"))
    copy = decide(build_claim(), reference, icn="OBH-B", state=state)
    assert codes(copy) == ["OA-18"]
    state = state.apply(copy)
    # When a person releases A with an allowed amount
    released = decide(build_claim(), reference, icn="OBH-A", state=state,
                      overrides={1: money("90.00")})
    # Then A is paid: B repeated A, so B is no earlier service of A's
    assert released.status == "paid" and codes(released) == ["CO-45"]
    # And the same holds with the copy in history instead of this run
    history = (past_claim("OBH-B", adjustments="OA-18:200.00", status="denied", paid="0.00"),)
    again = decide(build_claim(), World().reference(past_claims=history), icn="OBH-A")
    assert codes(again) == ["CO-45"]


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


def test_a_procedure_without_a_service_category_pends_where_the_plan_requires_any_auth(
) -> None:
    # Given a plan that requires authorization for testing, and 96130 billed while
    # service_categories.csv has no row for it: nothing tells whether it is testing
    world = World(extra={"prior_auth": (requires_auth("testing"),)})
    # When the line is decided
    decision = decide(_testing(), world.reference())
    # Then it pends for a person, naming the missing row (version 4 took "no category" for
    # "no authorization required" and paid the line: allowed 2 x 150.00 = 300.00)
    assert decision.status == "pended" and decision.paid == 0
    assert decision.lines[0].pend_reason == (
        "no service category on file for 96130 on 2026-03-02 (service_categories.csv): "
        "whether plan PLAN-C requires prior authorization for it cannot be told")
    step = next(s for s in decision.trace if s.rule_id == "PRIOR-AUTHORIZATION")
    assert step.version == 5
    assert step.conclusion == "pended: no service category on file for the procedure"
    # And a plan that requires authorization for nothing needs no category to pay it
    assert decide(_testing(), World().reference()).status == "paid"


def test_an_authorization_for_other_dates_does_not_count() -> None:
    reference = _testing_world().reference(authorizations=(
        authorization(start=date(2026, 4, 1), end=date(2026, 6, 30)),))
    assert codes(decide(_testing(), reference)) == ["CO-197"]


def test_an_authorization_for_another_service_or_provider_says_which() -> None:
    # DOMAIN.md 9: on file but for another service CO-284, another provider CO-296
    other_code = authorization(codes=("96131",))
    other_npi = authorization("PA2", npi="1555555555")
    decision = decide(_testing(), _testing_world().reference(authorizations=(other_code,)))
    assert codes(decision) == ["CO-284"]
    step = next(t for t in decision.trace if t.rule_id == "PRIOR-AUTHORIZATION")
    assert step.version == 5 and "not for this procedure" in step.conclusion
    assert codes(decide(_testing(), _testing_world().reference(authorizations=(
        other_npi,)))) == ["CO-296"]
    # both on file: the one the claim cites (REF*G1) says why
    both = _testing_world().reference(authorizations=(other_code, other_npi))
    assert codes(decide(_testing(), both)) == ["CO-284"]
    assert codes(decide(_testing(auth=("PA2",)), both)) == ["CO-296"]
    # neither this provider nor this service: none on file for it
    unrelated = authorization(codes=("96131",), npi="1555555555")
    assert codes(decide(_testing(), _testing_world().reference(authorizations=(
        unrelated,)))) == ["CO-197"]


def test_an_authorization_for_the_billing_provider_counts() -> None:
    reference = _testing_world().reference(authorizations=(authorization(npi=BILLING_NPI),))
    decision = decide(_testing(), reference)
    assert decision.status == "paid"
    assert decision.lines[0].authorization == "PA1"


def test_units_beyond_the_authorization_are_denied_co198_and_the_units_within_paid() -> None:
    # Given 5 units of 96130 authorized, 2 already paid in history: 3 left
    history = (past_claim("OBH-OLD", code="96130", service_date=date(2026, 3, 1),
                          charge="400.00", units="2"),)
    reference = _testing_world().reference(authorizations=(authorization(units="5"),),
                                           past_claims=history)
    # When 5 units are billed for 1000.00 (200.00 a unit; the fee is 150.00 a unit)
    decision = decide(_testing(units="5"), reference)
    # Then the line is split: 3 units paid, 2 denied
    (split,) = decision.lines
    assert split.status == "paid" and split.units == 5 and split.units_paid == 3
    # 2 units x 200.00 = 400.00 CO-198; 3 units: charge 600.00, allowed 3 x 150.00 =
    # 450.00, CO-45 150.00; paid 450.00; 1000.00 - 400.00 - 150.00 = 450.00
    assert [(a.code, a.amount) for a in split.adjustments] == [
        ("CO-198", money("400.00")), ("CO-45", money("150.00"))]
    assert split.allowed == money("450.00") and split.paid == money("450.00")
    assert split.authorization == "PA1"
    step = next(s for s in decision.trace if s.rule_id == "PRIOR-AUTHORIZATION")
    assert step.conclusion == "partly authorized by PA1: 3 of 5 units paid, 2 denied CO-198"
    # And the authorization is used up by the 3 units paid, not the 5 billed
    assert AdjudicationState().apply(decision).authorization_units_used("PA1") == 3


def test_a_line_with_no_units_left_is_denied_co198_whole() -> None:
    history = (past_claim("OBH-OLD", code="96130", service_date=date(2026, 3, 1),
                          charge="800.00", units="4"),)
    reference = _testing_world().reference(authorizations=(authorization(units="4"),),
                                           past_claims=history)
    decision = decide(_testing(units="2"), reference)
    assert codes(decision) == ["CO-198"] and decision.status == "denied"
    assert decision.lines[0].units_paid is None


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
    # Then of 2 more units (1000.00) only 1 is left (4 - 1 - 2): 500.00 CO-198, and the
    # unit within is priced at 150.00 (CO-45 350.00)
    later = date(2026, 3, 9)
    decision = decide(_testing(units="2", dos=later), reference, icn="OBH-B", state=state)
    assert codes(decision) == ["CO-198", "CO-45"]
    assert decision.lines[0].adjustments[0].amount == money("500.00")
    assert decision.lines[0].paid == money("150.00") and decision.lines[0].units_paid == 1


def test_a_reversed_claim_gives_its_units_back() -> None:
    reference = _testing_world().reference(authorizations=(authorization(units="4"),))
    first = decide(_testing(units="4"), reference, icn="OBH-A")
    state = AdjudicationState().apply(first)
    void = decide(build_claim(frequency="8", original_icn="OBH-A"), reference, icn="OBH-V",
                  state=state)
    assert void.status == "voided"
    assert state.apply(void).authorization_units_used("PA1") == 0


def test_a_replacement_is_not_charged_the_units_its_original_used() -> None:
    # Given 4 units of 96130 authorized, all paid earlier in the run on OBH-A
    reference = _testing_world().reference(authorizations=(authorization(units="4"),))
    first = decide(_testing(units="4"), reference, icn="OBH-A")
    assert first.status == "paid" and first.lines[0].authorization == "PA1"
    state = AdjudicationState().apply(first)
    # When OBH-B replaces OBH-A with the same 4 units at 900.00
    replacement = build_claim([line(code="96130", charge="900.00", units="4")],
                              frequency="7", original_icn="OBH-A", pcn="PCN-2")
    decision = decide(replacement, reference, icn="OBH-B", state=state)
    # Then the 4 units OBH-A used are the ones the replacement reprices: every unit is
    # authorized, allowed 4 x 150.00 = 600.00, CO-45 300.00, paid 600.00 (version 3
    # counted OBH-A's units as used too and denied the line CO-198 whole)
    assert decision.reversal is not None and decision.reversal.original_icn == "OBH-A"
    (priced,) = decision.lines
    assert priced.status == "paid" and priced.units_paid is None
    assert [(a.code, a.amount) for a in priced.adjustments] == [("CO-45", money("300.00"))]
    assert priced.paid == money("600.00") and priced.authorization == "PA1"
    step = next(s for s in decision.trace if s.rule_id == "PRIOR-AUTHORIZATION")
    assert step.version == 5 and dict(step.inputs)["units_left"] == "PA1=4.00"
    # And afterwards the authorization counts the replacement's 4 units, once
    assert state.apply(decision).authorization_units_used("PA1") == 4


def test_lines_of_one_claim_use_the_authorization_in_turn() -> None:
    reference = _testing_world().reference(authorizations=(authorization(units="4"),))
    claim = build_claim([line(1, "96130", "1000.00", units="3"),
                         line(2, "96130", "900.00", units="3", dos=date(2026, 3, 3))])
    decision = decide(claim, reference)
    assert decision.lines[0].status == "paid" and decision.lines[0].units_paid is None
    # line 2: 1 unit left of 3 billed at 900.00: 600.00 CO-198; 300.00 for the unit,
    # allowed 150.00 (CO-45 150.00), paid 150.00
    assert codes(decision, 2) == ["CO-198", "CO-45"]
    second = decision.lines[1]
    assert [a.amount for a in second.adjustments] == [money("600.00"), money("150.00")]
    assert second.paid == money("150.00") and second.units_paid == 1


def test_the_authorization_the_claim_cites_is_used_first() -> None:
    reference = _testing_world().reference(authorizations=(
        authorization("PA1"), authorization("PA2")))
    decision = decide(_testing(auth=("PA2",)), reference)
    assert decision.lines[0].authorization == "PA2"


def test_a_split_line_is_remitted_with_units_paid_of_units_billed() -> None:
    """835 for the 3-of-5 split: SVC05 3 units paid, SVC07 5 billed, CO-198 for 2 units."""
    import io

    from edi.parsers.remit835 import read_835
    from edi.validators.outbound import outbound_problems
    from remittance.balance import prove_interchanges
    from remittance.claims import claim_payment

    history = (past_claim("OBH-OLD", code="96130", service_date=date(2026, 3, 1),
                          charge="400.00", units="2"),)
    reference = _testing_world().reference(authorizations=(authorization(units="5"),),
                                           past_claims=history)
    claim = _testing(units="5")
    payment = claim_payment(decide(claim, reference), claim)
    text = practice_835(payment, "CHK", "450.00")
    segments = [s.strip() for s in text.split("~")]
    assert "SVC*HC:96130*1000.00*450.00**3**5" in segments
    assert "CAS*CO*198*400.00*2*45*150.00" in segments
    assert outbound_problems(text) == []
    assert prove_interchanges(read_835(io.BytesIO(text.encode()))) == []
