"""Replacements (CLM05-3 = 7) and voids (8): the original, its window, its reversal."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from adjudication.decision import AccumulatorChange, Group
from adjudication.reference import LineOfBusiness, ReferenceData
from adjudication.state import AdjudicationState
from tests.adjudication_builders import (
    COMMERCIAL,
    DOS,
    MEDICAID,
    MEDICARE_ADVANTAGE,
    MEMBER_ID,
    PLAN_ID,
    World,
    accumulator,
    build_claim,
    codes,
    coverage,
    days_after,
    decide,
    fee,
    filing_limit,
    line,
    money,
    past_claim,
    plan,
)

REMITTED = date(2026, 3, 20)
ORIGINAL = "OBH-ORIG"


def _history(lob: LineOfBusiness = COMMERCIAL, status: str = "paid") -> World:
    """A member whose claim OBH-ORIG (200.00 charged, 100.00 to the deductible, 50.00 paid)
    was remitted on 2026-03-20."""
    original = past_claim(ORIGINAL, charge="200.00", paid="50.00", pr="100.00", status=status,
                          remitted=REMITTED, lob=lob, adjustments="CO-45:50.00 PR-1:100.00")
    return World(coverage=(coverage(lob=lob),), plans=(plan(lob=lob, deductible="500"),),
                 fees=(fee(lob=lob, amount="150.00"),),
                 extra={"past_claims": (original,), "accumulators": (accumulator("100", "100"),)})


def _replacement(frequency: str = "7", original: str | None = ORIGINAL):
    return build_claim(frequency=frequency, original_icn=original, pcn="PCN-2")


@pytest.mark.parametrize(("lob", "limit"), [(COMMERCIAL, 180), (MEDICARE_ADVANTAGE, 180),
                                            (MEDICAID, 365)], ids=str)
def test_a_replacement_on_the_last_day_of_its_window_is_accepted(lob: LineOfBusiness,
                                                                 limit: int) -> None:
    # Given an original remitted on 2026-03-20
    # When its replacement arrives on the last day of the LOB's correction window
    decision = decide(_replacement(), _history(lob).reference(),
                      received=days_after(REMITTED, limit))
    # Then the original is reversed and the replacement decided on its own merits
    assert decision.reversal is not None and decision.reversal.original_icn == ORIGINAL
    assert decision.status == "paid"


@pytest.mark.parametrize(("lob", "limit"), [(COMMERCIAL, 180), (MEDICARE_ADVANTAGE, 180),
                                            (MEDICAID, 365)], ids=str)
def test_a_replacement_one_day_past_its_window_is_denied_co29(lob: LineOfBusiness,
                                                              limit: int) -> None:
    decision = decide(_replacement(), _history(lob).reference(),
                      received=days_after(REMITTED, limit + 1))
    assert codes(decision) == ["CO-29"]
    assert decision.status == "denied"
    assert decision.reversal is None and decision.accumulator_changes == ()


def test_the_window_comes_from_a_correction_filing_limit_row_when_there_is_one() -> None:
    reference = _history().reference(filing_limits=(filing_limit(COMMERCIAL, "correction", 30),))
    assert codes(decide(_replacement(), reference,
                        received=days_after(REMITTED, 31))) == ["CO-29"]
    assert decide(_replacement(), reference,
                  received=days_after(REMITTED, 30)).reversal is not None


def test_a_window_from_the_originals_receipt_applies_only_where_a_row_says_so() -> None:
    # DOMAIN.md 1 row 4: "within 90 days of receipt of the initial claim", guidance by
    # default (open question 3): no row, no such window
    assert not any(s.rule_id == "CORRECTION-RECEIPT-WINDOW" for s in decide(
        _replacement(), _history().reference(), received=days_after(DOS, 150)).trace)
    # With a row: the original (received on its service date, 2026-03-02) counts from
    # there; day 90 in time, day 91 late, though both are inside the 180 days from the
    # remittance
    reference = _history().reference(filing_limits=(
        filing_limit(COMMERCIAL, "correction_receipt", 90),))
    on_time = decide(_replacement(), reference, received=days_after(DOS, 90))
    assert on_time.reversal is not None and on_time.status == "paid"
    late = decide(_replacement(), reference, received=days_after(DOS, 91))
    assert codes(late) == ["CO-29"] and late.reversal is None
    step = next(s for s in late.trace if s.rule_id == "CORRECTION-RECEIPT-WINDOW")
    assert step.conclusion == ("late: 91 days after the first claim of its chain was "
                               "received, limit 90")
    assert dict(step.inputs)["first_received"] == DOS.isoformat()


def test_the_receipt_window_also_holds_an_original_decided_earlier_in_the_run() -> None:
    reference = World(filing_limits=(filing_limit(COMMERCIAL, "correction_receipt", 90),
                                     filing_limit(COMMERCIAL, "initial", 90))).reference()
    first = decide(build_claim(), reference, icn="OBH-A", received=days_after(DOS, 10))
    state = AdjudicationState().apply(first)
    late = decide(_replacement(original="OBH-A"), reference, icn="OBH-B", state=state,
                  received=days_after(DOS, 101))
    assert codes(late) == ["CO-29"]
    assert decide(_replacement(original="OBH-A"), reference, icn="OBH-B", state=state,
                  received=days_after(DOS, 100)).reversal is not None


def _replaced_once(reference: ReferenceData, first_day: int, second_day: int
                   ) -> AdjudicationState:
    """The state after OBH-A, received ``first_day`` days after the service and paid, and
    OBH-B, replacing it ``second_day`` days after the service (paid, reversing OBH-A),
    both decided in this run: the first two claims of a chain of replacements."""
    first = decide(build_claim(), reference, icn="OBH-A", received=days_after(DOS, first_day))
    state = AdjudicationState().apply(first)
    second = decide(_replacement(original="OBH-A"), reference, icn="OBH-B", state=state,
                    received=days_after(DOS, second_day))
    assert second.status == "paid" and second.reversal is not None
    return state.apply(second)


def test_the_receipt_window_counts_from_the_first_claim_of_a_chain_of_replacements(
) -> None:
    # Given a 90-day receipt window; OBH-A received on day 10 and paid, OBH-B replacing
    # it on day 60 (50 days after OBH-A: in time), both decided in this run
    reference = World(filing_limits=(filing_limit(COMMERCIAL, "correction_receipt", 90),
                                     filing_limit(COMMERCIAL, "initial", 90))).reference()
    state = _replaced_once(reference, 10, 60)
    # When OBH-C replaces OBH-B on day 110: 50 days after OBH-B, 100 after OBH-A
    third = decide(_replacement(original="OBH-B"), reference, icn="OBH-C", state=state,
                   received=days_after(DOS, 110))
    # Then it is late, CO-29, nothing reversed: the 90 days run from the receipt of the
    # initial claim, OBH-A (version 1 counted from OBH-B's, so each replacement in a
    # chain restarted them)
    assert codes(third) == ["CO-29"] and third.reversal is None
    step = next(s for s in third.trace if s.rule_id == "CORRECTION-RECEIPT-WINDOW")
    assert step.version == 2
    assert dict(step.inputs)["first_received"] == days_after(DOS, 10).isoformat()
    assert step.conclusion == ("late: 100 days after the first claim of its chain was "
                               "received, limit 90")
    # And on day 100 (90 days after OBH-A) it is in time
    assert decide(_replacement(original="OBH-B"), reference, icn="OBH-C", state=state,
                  received=days_after(DOS, 100)).reversal is not None


def test_a_replacement_of_a_timely_original_is_not_late_after_90_days() -> None:
    # Given a replacement 150 days after the service (inside 180 days from remittance)
    # of an original received on the day of its service
    decision = decide(_replacement(), _history().reference(), received=days_after(DOS, 150))
    # Then it is not late: its line is timed to the original's receipt, and the
    # correction window holds
    assert decision.status == "paid"


def test_a_replacement_for_an_unknown_original_is_denied_co16_m47() -> None:
    decision = decide(_replacement(original="OBH-NOPE"), _history().reference())
    assert codes(decision) == ["CO-16"]
    assert decision.lines[0].rarcs == ("M47",)
    assert decision.reversal is None


def test_a_replacement_without_ref_f8_is_denied_co16_m47() -> None:
    decision = decide(_replacement(original=None), _history().reference())
    assert codes(decision) == ["CO-16"] and decision.lines[0].rarcs == ("M47",)


def test_a_replacement_reverses_its_original_and_gives_its_deductible_back_first() -> None:
    # Given the original met 100.00 of a 500.00 deductible
    # When its replacement (allowed 150.00) is adjudicated
    decision = decide(_replacement(), _history().reference())
    # Then the original's line is reversed as originally decided
    assert decision.reversal is not None
    reversed_line = decision.reversal.lines[0]
    assert (reversed_line.paid, reversed_line.patient_responsibility) == (50, 100)
    assert [a.code for a in reversed_line.adjustments] == ["CO-45", "PR-1"]
    # And the deductible it met is given back before the new line is priced:
    # the new 150.00 all goes to the deductible (0 met after the give-back)
    assert codes(decision) == ["CO-45", "PR-1"]
    assert decision.lines[0].amount(Group.PR, "1") == 150
    assert decision.accumulator_changes == (
        AccumulatorChange(MEMBER_ID, PLAN_ID, 2026, money("-100.00"), money("-100.00")),
        AccumulatorChange(MEMBER_ID, PLAN_ID, 2026, money("150.00"), money("150.00")),
    )
    assert decision.reversal.accumulator_changes == decision.accumulator_changes[:1]


def test_a_replacement_is_not_a_duplicate_of_its_own_original() -> None:
    # The replacement bills the very service of the original (same date, code, charge)
    decision = decide(_replacement(), _history().reference())
    assert "OA-18" not in codes(decision)


def test_a_replacement_within_the_run_reverses_the_runs_original_and_closes_it() -> None:
    # Given a claim paid earlier in this run
    reference = World(plans=(plan(deductible="50"),)).reference()
    first = decide(build_claim(), reference, icn="OBH-A")
    state = AdjudicationState().apply(first)
    # When its replacement arrives in the same run
    second = decide(_replacement(original="OBH-A"), reference, icn="OBH-B", state=state)
    # Then the original's lines (as decided in the run) are reversed
    assert second.reversal is not None and second.reversal.lines == first.lines
    # And its deductible is given back first, so the replacement meets it again
    assert second.accumulator_changes[0].deductible == -50
    assert second.lines[0].amount(Group.PR, "1") == 50
    # And after the replacement the original is closed and the deductible counted once
    after = state.apply(second)
    assert after.closed("OBH-A") == "reversed"
    assert after.accumulator_delta(MEMBER_ID, PLAN_ID, 2026) == (50, 50)
    # And the day's lines that later claims' duplicate checks read show it reversed
    day = first.lines[0].service_date
    assert [(row.icn, row.status) for row in after.lines_for_member_on(MEMBER_ID, day)] == [
        ("OBH-A", "reversed"), ("OBH-B", second.lines[0].status)]


def test_a_void_reverses_the_original_pays_nothing_and_gives_accumulators_back() -> None:
    # When the provider voids OBH-ORIG
    decision = decide(_replacement(frequency="8"), _history().reference())
    # Then the claim is voided: nothing paid, the original reversed, accumulators given back
    assert decision.status == "voided"
    assert decision.paid == 0 and decision.lines == ()
    assert decision.reversal is not None and decision.reversal.paid == 50
    assert decision.accumulator_changes == (
        AccumulatorChange(MEMBER_ID, PLAN_ID, 2026, money("-100.00"), money("-100.00")),)
    assert AdjudicationState().apply(decision).closed(ORIGINAL) == "voided"


def test_a_void_decided_again_is_counted_once_and_one_that_no_longer_voids_reopens() -> None:
    # Given a claim paid earlier in this run (50.00 to its deductible), then voided
    reference = World(plans=(plan(deductible="50"),)).reference()
    first = decide(build_claim(), reference, icn="OBH-A")
    state = AdjudicationState().apply(first)
    void = decide(_replacement(frequency="8", original="OBH-A"), reference, icn="OBH-V",
                  state=state)
    once = state.apply(void)
    assert once.closed("OBH-A") == "voided"
    assert once.accumulator_delta(MEMBER_ID, PLAN_ID, 2026) == (0, 0)
    # When the void is decided again (a second version of the same claim)
    twice = once.apply(void)
    # Then the state is the one a single decision left: closed once, given back once
    assert twice.closed("OBH-A") == "voided"
    assert twice.accumulator_delta(MEMBER_ID, PLAN_ID, 2026) == (0, 0)
    assert [line.icn for line in twice.decided_lines] == ["OBH-A"]
    # And a second version that no longer voids (denied, reversing nothing) reopens the
    # original and takes back what the void gave back
    denied = replace(void, status="denied", reversal=None, accumulator_changes=())
    reopened = twice.apply(denied)
    assert reopened.closed("OBH-A") is None
    assert reopened.accumulator_delta(MEMBER_ID, PLAN_ID, 2026) == (50, 50)


def test_the_window_of_an_original_decided_in_this_run_is_explained_without_its_lob() -> None:
    # Given a member with no coverage on file: the claim is decided in this run, denied,
    # with no line of business
    reference = World(coverage=()).reference()
    first = decide(build_claim(), reference, icn="OBH-A")
    assert first.member_id == MEMBER_ID and first.line_of_business is None
    # When its replacement comes in the same run
    second = decide(_replacement(original="OBH-A"), reference, icn="OBH-B",
                    state=AdjudicationState().apply(first))
    # Then the trace says why its window holds (it used to say nothing of the window)
    step = next(s for s in second.trace if s.rule_id == "CORRECTION-WINDOW")
    assert step.conclusion == "in time: the original is not remitted yet"
    assert dict(step.inputs)["line_of_business"] == "unknown"


def test_an_original_decided_by_this_engine_counts_its_window_from_its_remittance() -> None:
    # Given an original decided by this engine and, as the store says, remitted
    reference = World().reference()
    first = decide(build_claim(), reference, icn="OBH-A")
    assert first.status in ("paid", "partially_paid")
    paid_on = first.received
    state = AdjudicationState().apply(first).with_remittance("OBH-A", paid_on)
    # When its replacement comes on day 180 after that remittance, and on day 181
    in_time = decide(_replacement(original="OBH-A"), reference, icn="OBH-B", state=state,
                     received=days_after(paid_on, 180))
    late = decide(_replacement(original="OBH-A"), reference, icn="OBH-C", state=state,
                  received=days_after(paid_on, 181))
    # Then the first stands and the second is denied CO-29, each saying why (before,
    # any original of this engine's counted as not remitted: both were in time)
    assert in_time.status != "denied"
    assert late.status == "denied"
    assert {a.code for line in late.lines for a in line.adjustments} == {"CO-29"}
    step = next(s for s in late.trace if s.rule_id == "CORRECTION-WINDOW")
    assert step.conclusion == "late: 181 days after the original's remittance, limit 180"


@pytest.mark.parametrize("frequency", ["7", "8"])
def test_a_correction_under_another_tin_than_its_original_was_paid_to_reverses_nothing(
        frequency: str) -> None:
    # Given an original paid to the billing NPI under the TIN on the provider file, and a
    # replacement or void from the same NPI under another TIN (found by an audit: the
    # void reversed the original into a payee never paid, whose balance was never
    # recovered, and a replacement denied N257 still reversed its original)
    claim = _replacement(frequency)
    billing = claim.billing_provider
    other = claim.model_copy(update={"billing_provider": billing.model_copy(update={
        "tax_identification": billing.tax_identification.model_copy(  # type: ignore[union-attr]
            update={"value": "999999999"})})})
    decision = decide(other, _history().reference(), received=date(2026, 4, 1))
    # Then it is denied CO-16 N257, reversing nothing, and the trace says why
    assert decision.status == "denied" and decision.reversal is None
    assert {a.code for line in decision.lines for a in line.adjustments} == {"CO-16"}
    assert "N257" in {r for line in decision.lines for r in line.rarcs}
    step = next(s for s in decision.trace if s.rule_id == "CORRECTION-PAYEE")
    assert step.conclusion.startswith("denied: the claim's billing TIN")
    # while the same correction under the TIN on file stands on its original
    same = decide(claim, _history().reference(), received=date(2026, 4, 1))
    assert same.reversal is not None and same.reversal.original_icn == ORIGINAL


def test_a_remitted_original_without_a_line_of_business_is_never_left_unchecked() -> None:
    # Given a remitted original whose line of business nothing gives (history rows always
    # carry one: this is an engine fault, not data)
    from adjudication.engine import DEFAULT_POLICY
    from adjudication.rules.corrections import _line_and_state, _window, find_original

    reference = _history().reference(coverage=())
    original = find_original(ORIGINAL, reference, AdjudicationState())
    assert original is not None
    original = replace(original, line_of_business=None)
    member = reference.members[0]
    # Then its window raises (the claim pends as an engine fault), never passes unchecked
    with pytest.raises(ValueError, match="has no line of business"):
        _window(original, *_line_and_state(original, member, reference), reference,
                DEFAULT_POLICY, days_after(REMITTED, 30))


def test_a_correction_after_a_void_in_the_same_run_is_denied_co16_m47() -> None:
    # Given OBH-ORIG voided earlier in this run
    reference = _history().reference()
    void = decide(_replacement(frequency="8"), reference, icn="OBH-V")
    state = AdjudicationState().apply(void)
    # When a replacement for OBH-ORIG arrives
    decision = decide(_replacement(), reference, icn="OBH-R", state=state)
    # Then it is denied: its original no longer stands
    assert codes(decision) == ["CO-16"] and decision.lines[0].rarcs == ("M47",)
    assert decision.reversal is None
    assert "already voided" in next(s.conclusion for s in decision.trace
                                    if s.rule_id == "CORRECTION-ORIGINAL")


@pytest.mark.parametrize("status", ["voided", "reversed"])
def test_a_correction_of_an_original_closed_in_history_is_denied(status: str) -> None:
    decision = decide(_replacement(), _history(status=status).reference())
    assert codes(decision) == ["CO-16"] and decision.lines[0].rarcs == ("M47",)


def test_a_correction_naming_another_members_claim_reverses_nothing() -> None:
    # Given OBH-ORIG on file as another member's claim
    other = past_claim(ORIGINAL, charge="200.00", paid="50.00", remitted=REMITTED,
                       adjustments="CO-45:150.00", member_id="W999999999")
    reference = _history().reference(past_claims=(other,))
    for frequency in ("7", "8"):
        # When our member's replacement or void names it
        decision = decide(_replacement(frequency), reference)
        # Then it is denied CO-16 M47, nothing of the other member's claim is taken back,
        # and the trace says why
        assert decision.status == "denied" and codes(decision) == ["CO-16"]
        assert decision.lines[0].rarcs == ("M47",) and decision.reversal is None
        assert any("is another member's" in step.conclusion for step in decision.trace)


def test_a_void_from_another_billing_provider_is_denied() -> None:
    claim = build_claim(frequency="8", original_icn=ORIGINAL, billing_npi="1999999999")
    decision = decide(claim, _history().reference())
    assert decision.status == "denied" and codes(decision) == ["CO-16"]


def test_a_void_of_a_claim_still_pended_in_the_run_is_denied() -> None:
    reference = World(fees=()).reference()
    pended = decide(build_claim(), reference, icn="OBH-P")
    assert pended.status == "pended"
    state = AdjudicationState().apply(pended)
    decision = decide(_replacement(frequency="8", original="OBH-P"), reference, state=state)
    assert decision.status == "denied"


def test_a_pended_replacement_reverses_nothing_yet() -> None:
    # Given a replacement whose line has no fee on file
    decision = decide(_replacement(), _history().reference(fees=()))
    # Then it pends and the original keeps standing until it is released
    assert decision.status == "pended"
    assert decision.reversal is None and decision.accumulator_changes == ()
    assert AdjudicationState().apply(decision).closed(ORIGINAL) is None


def _late_original() -> World:
    """OBH-ORIG was denied for timely filing: 200.00 charged, nothing paid, CO-29 200.00,
    remitted on 2026-03-20."""
    original = past_claim(ORIGINAL, charge="200.00", paid="0.00", pr="0.00", status="denied",
                          remitted=REMITTED, adjustments="CO-29:200.00")
    return World(coverage=(coverage(),), plans=(plan(deductible="500"),),
                 fees=(fee(amount="150.00"),),
                 extra={"past_claims": (original,), "accumulators": (accumulator("100", "100"),)})


def test_a_replacement_of_a_claim_denied_for_timely_filing_is_denied_co29() -> None:
    # Given an original denied CO-29, when its replacement arrives inside the 180-day
    # correction window (10 days after the remittance)
    decision = decide(_replacement(), _late_original().reference(),
                      received=days_after(REMITTED, 10))
    # Then the replacement keeps the verdict: its line of that date CO-29 for its charge,
    # nothing paid, no deductible billed, and the trace says why; the original (paid
    # 0.00) is reversed, as for any replacement that stands on it
    assert decision.status == "denied" and codes(decision) == ["CO-29"]
    line = decision.lines[0]
    assert line.paid == money("0.00") and line.adjustments[0].amount == line.charge
    assert decision.accumulator_changes == ()
    assert decision.reversal is not None and decision.reversal.paid == money("0.00")
    step = next(s for s in decision.trace if s.rule_id == "CORRECTION-FILING")
    assert step.conclusion == ("the replacement's lines of 2026-03-02 keep the CO-29 of the "
                               "original's lines of those dates")
    assert dict(step.inputs)["original_dates_denied_co29"] == DOS.isoformat()


def test_a_replacement_of_a_replacement_that_was_itself_late_is_denied_co16_m47() -> None:
    # Given OBH-ORIG paid and remitted 2026-03-20, and its replacement OBH-2 received on
    # day 181 of the commercial window (denied CO-29, decided in this run)
    world = _history()
    late = decide(_replacement(), world.reference(), icn="OBH-2",
                  received=days_after(REMITTED, 181))
    assert codes(late) == ["CO-29"]
    state = AdjudicationState().apply(late)
    # When a replacement of OBH-2 arrives the next day
    again = decide(build_claim(frequency="7", original_icn="OBH-2", pcn="PCN-3"),
                   world.reference(), icn="OBH-3", received=days_after(REMITTED, 182),
                   state=state)
    # Then it names no original that stands: OBH-2 reversed nothing (CORRECTION-ORIGINAL
    # v2; version 1 took OBH-2 for an original and gave its CO-29)
    assert again.status == "denied" and codes(again) == ["CO-16"]
    assert again.lines[0].rarcs == ("M47",) and again.reversal is None


def test_a_void_of_a_claim_denied_for_timely_filing_closes_it_with_nothing_paid() -> None:
    # Given an original denied CO-29; when the provider voids it
    decision = decide(_replacement(frequency="8"), _late_original().reference(),
                      received=days_after(REMITTED, 10))
    # Then the void is processed: status voided, the original's denied line reversed
    # (charge 200.00, paid 0.00, its CO-29 200.00 given back in the 835's CLP 22), no
    # accumulator moves, and nothing more can replace it
    assert decision.status == "voided" and decision.lines == ()
    assert decision.reversal is not None and decision.reversal.original_icn == ORIGINAL
    (reversed_line,) = decision.reversal.lines
    assert reversed_line.paid == money("0.00") and reversed_line.charge == money("200.00")
    assert [a.code for a in reversed_line.adjustments] == ["CO-29"]
    assert decision.accumulator_changes == ()
    state = AdjudicationState().apply(decision)
    after = decide(_replacement(), _late_original().reference(), icn="OBH-4",
                   received=days_after(REMITTED, 11), state=state)
    assert codes(after) == ["CO-16"] and after.status == "denied"


def test_a_refused_correction_stands_for_no_service_and_is_no_claims_duplicate() -> None:
    """A replacement or void that reversed nothing (denied CO-16 M47) never stood for a
    service. Its lines counted as an earlier service: the valid replacement that
    followed a mistyped one, and a member's genuine claim after a refused void naming
    the wrong original, were denied OA-18 as its duplicates and paid nothing."""
    reference = World().reference()
    first = decide(build_claim(), reference, icn="OBH-A", received=days_after(DOS, 10))
    state = AdjudicationState().apply(first)
    # Given a replacement of OBH-A whose REF*F8 was mistyped: refused
    typo = decide(_replacement(original="OBH-NOPE"), reference, icn="OBH-T", state=state,
                  received=days_after(DOS, 20))
    assert codes(typo) == ["CO-16"] and typo.reversal is None
    state = state.apply(typo)
    # When the corrected replacement comes
    fixed = decide(_replacement(original="OBH-A"), reference, icn="OBH-R", state=state,
                   received=days_after(DOS, 21))
    # Then it reverses OBH-A and is paid on its merits, no duplicate of the refused one
    assert fixed.reversal is not None and fixed.reversal.original_icn == "OBH-A"
    assert fixed.status == "paid" and "OA-18" not in codes(fixed)
    # And a genuine claim for a service a refused void named is paid
    void = decide(_replacement("8", original="OBH-NOPE"), reference, icn="OBH-V",
                  received=days_after(DOS, 10))
    genuine = decide(build_claim(pcn="PCN-9"), reference, icn="OBH-G",
                     state=AdjudicationState().apply(void), received=days_after(DOS, 11))
    assert genuine.status == "paid"
    # while a claim that stood (OBH-A, paid) still makes its copy a duplicate
    again = decide(build_claim(pcn="PCN-8"), reference, icn="OBH-C", state=state,
                   received=days_after(DOS, 12))
    assert codes(again) == ["OA-18"]



@pytest.mark.parametrize("refused_by", ["another TIN (N257)", "a mistyped REF*F8 (M47)"])
def test_a_correction_naming_a_refused_correction_is_denied_co16_m47(refused_by: str) -> None:
    # Given OBH-ORIG paid 50.00 in history (no deductible), and a replacement OBH-R1 of
    # it refused earlier in the run: it reversed nothing, OBH-ORIG still stands
    original = past_claim(ORIGINAL, charge="200.00", paid="50.00", remitted=REMITTED,
                          adjustments="CO-45:150.00")
    reference = World(fees=(fee(amount="150.00"), fee("90834", "80.00")),
                      extra={"past_claims": (original,)}).reference()
    first = _replacement()
    if refused_by.startswith("another TIN"):
        billing = first.billing_provider
        first = first.model_copy(update={"billing_provider": billing.model_copy(update={
            "tax_identification": billing.tax_identification.model_copy(  # type: ignore[union-attr]
                update={"value": "999999999"})})})
    else:
        first = _replacement(original="OBH-NOPE")
    refused = decide(first, reference, icn="OBH-R1")
    assert refused.status == "denied" and refused.reversal is None
    state = AdjudicationState().apply(refused)
    # When a replacement billing 90834 (200.00) and a void name OBH-R1 as their original
    replacement = build_claim([line(code="90834")], frequency="7", original_icn="OBH-R1",
                              pcn="PCN-2")
    for claim in (replacement, _replacement("8", original="OBH-R1")):
        decision = decide(claim, reference, icn="OBH-R2", state=state)
        # Then each is denied CO-16 M47 for its whole charge and reverses nothing: OBH-R1
        # stood for no claim (before, the replacement reversed OBH-R1's denied line and
        # was paid 80.00 while OBH-ORIG kept its 50.00, one service paid twice)
        assert decision.status == "denied" and decision.reversal is None
        assert decision.paid == 0 and decision.accumulator_changes == ()
        assert [(a.code, a.amount) for x in decision.lines for a in x.adjustments] == [
            ("CO-16", money("200.00"))]
        assert decision.lines[0].rarcs == ("M47",)
        step = next(s for s in decision.trace if s.rule_id == "CORRECTION-ORIGINAL")
        assert step.version == 2
        assert step.conclusion == ("denied: original claim OBH-R1 is a correction that was "
                                   "refused (it reversed nothing)")


def test_a_replacement_is_timed_by_the_day_its_chain_first_received_the_service() -> None:
    # Given OBH-ORIG, received on day 120 after its service (late) but denied CO-27 for
    # want of coverage on file then, remitted on day 130
    late = past_claim(ORIGINAL, charge="200.00", paid="0.00", status="denied",
                      remitted=days_after(DOS, 130), adjustments="CO-27:200.00"
                      ).model_copy(update={"effective": days_after(DOS, 120)})
    reference = World(extra={"past_claims": (late,)}).reference()
    # When its replacement arrives on day 140, inside the 180-day correction window
    decision = decide(_replacement(), reference, received=days_after(DOS, 140))
    # Then the line is CO-29: the 90 days run from the service to the day the claim was
    # first received (day 120), which a replacement cannot restart (before, a
    # replacement skipped the initial limit and was paid 100.00)
    assert decision.status == "denied" and codes(decision) == ["CO-29"]
    step = next(s for s in decision.trace if s.rule_id == "TIMELY-FILING")
    assert step.version == 6
    assert dict(step.inputs)["received"] == days_after(DOS, 120)
    assert step.conclusion == "late: received 120 days after the service, limit 90"


def test_a_chain_of_replacements_keeps_the_first_claims_receipt() -> None:
    # Given OBH-A received on day 80 (in time) and paid, then OBH-B replacing it on day
    # 100, both decided in this run
    reference = World().reference()
    state = _replaced_once(reference, 80, 100)
    # When OBH-C replaces OBH-B on day 120
    third = decide(_replacement(original="OBH-B"), reference, icn="OBH-C", state=state,
                   received=days_after(DOS, 120))
    # Then its line is timed to day 80, when OBH-A first billed the service: in time
    assert third.status == "paid" and third.reversal is not None
    step = next(s for s in third.trace if s.rule_id == "TIMELY-FILING")
    assert dict(step.inputs)["received"] == days_after(DOS, 80)
    assert dict(step.inputs)["days"] == 80


@pytest.mark.parametrize("frequency", ["7", "8"])
def test_a_correction_of_a_history_original_without_a_remittance_date_pends(
        frequency: str) -> None:
    # Given OBH-ORIG paid in history with no remittance date on file: the correction
    # window, counted from it, cannot be counted
    original = past_claim(ORIGINAL, charge="200.00", paid="50.00", remitted=None,
                          adjustments="CO-45:150.00")
    reference = World(extra={"past_claims": (original,)}).reference()
    # When a replacement or a void of it arrives a year after the service
    decision = decide(_replacement(frequency), reference, received=days_after(DOS, 365))
    # Then it pends for a person: nothing paid, nothing reversed, no accumulator moves
    # (version 1 took it as not remitted yet, so in time, and reversed it)
    assert decision.status == "pended" and decision.reversal is None
    assert decision.paid == 0 and decision.accumulator_changes == ()
    assert [x.status for x in decision.lines] == ["pended"]
    assert decision.lines[0].pend_reason == (
        "a line of the original claim has no remittance date on file: its correction "
        "window cannot be counted")
    step = next(s for s in decision.trace if s.rule_id == "CORRECTION-WINDOW")
    assert step.version == 3
    assert step.conclusion == "pended: a line of the original in history has no remittance date"
    assert AdjudicationState().apply(decision).closed(ORIGINAL) is None


def test_a_correction_of_a_history_original_with_a_line_not_remitted_pends() -> None:
    # Given OBH-ORIG in history with a line on 03-02 remitted 2026-03-20 and a line on
    # 03-09 with no remittance date: whether and when it was remitted is not on file
    later = date(2026, 3, 9)
    history = (past_claim(ORIGINAL, charge="200.00", paid="100.00", remitted=REMITTED,
                          adjustments="CO-45:100.00"),
               past_claim(ORIGINAL, line_number=2, service_date=later, charge="200.00",
                          paid="100.00", remitted=None, adjustments="CO-45:100.00"))
    reference = World(extra={"past_claims": history}).reference()
    # When its replacement arrives 30 days after the one remittance on file
    claim = build_claim([line(1), line(2, dos=later)], frequency="7",
                        original_icn=ORIGINAL, pcn="PCN-2")
    decision = decide(claim, reference, received=days_after(REMITTED, 30))
    # Then it pends for a person, nothing reversed (version 2 counted the window from
    # 2026-03-20 without asking about the other line, took it as in time and reversed
    # the original)
    assert decision.status == "pended" and decision.reversal is None
    assert [x.pend_reason for x in decision.lines] == [
        "a line of the original claim has no remittance date on file: its correction "
        "window cannot be counted"] * 2
    step = next(s for s in decision.trace if s.rule_id == "CORRECTION-WINDOW")
    assert step.version == 3
    assert step.conclusion == "pended: a line of the original in history has no remittance date"


def test_a_replacement_keeps_the_co29_of_its_originals_late_dates_only() -> None:
    # Given OBH-ORIG with a line on 03-02 denied CO-29 (200.00) and a line on 03-09 paid
    # 100.00 (CO-45 100.00), remitted 2026-03-20
    later = date(2026, 3, 9)
    history = (past_claim(ORIGINAL, charge="200.00", paid="0.00", status="denied",
                          remitted=REMITTED, adjustments="CO-29:200.00"),
               past_claim(ORIGINAL, line_number=2, service_date=later, charge="200.00",
                          paid="100.00", remitted=REMITTED, adjustments="CO-45:100.00"))
    reference = World(extra={"past_claims": history}).reference()
    # When its replacement bills both dates again, 10 days after the remittance
    claim = build_claim([line(1), line(2, dos=later)], frequency="7",
                        original_icn=ORIGINAL, pcn="PCN-2")
    decision = decide(claim, reference, received=days_after(REMITTED, 10))
    # Then only the 03-02 line keeps the CO-29 (200.00); the 03-09 line, filed in time,
    # is priced on its merits: allowed 100.00 (fee 100.00), CO-45 100.00, paid 100.00,
    # and the original is reversed (CORRECTION-FILING v1 denied every line CO-29 and
    # reversed nothing, so the 03-09 line could never be corrected)
    assert [(a.code, a.amount) for a in decision.lines[0].adjustments] == [
        ("CO-29", money("200.00"))]
    assert decision.lines[1].status == "paid" and decision.lines[1].paid == money("100.00")
    assert codes(decision, 2) == ["CO-45"]
    assert decision.status == "partially_paid"
    assert decision.reversal is not None and decision.reversal.paid == money("100.00")
    step = next(s for s in decision.trace if s.rule_id == "CORRECTION-FILING")
    assert step.version == 2
    assert dict(step.inputs)["original_dates_denied_co29"] == "2026-03-02"
    line_step = next(s for s in decision.trace
                     if s.rule_id == "TIMELY-FILING" and s.line_number == 1)
    assert line_step.version == 6 and line_step.conclusion == (
        "late: the original's line of this date of service was denied for timely filing "
        "(CO-29), and a replacement keeps that verdict")


def test_a_line_a_replacement_adds_on_a_new_date_is_timed_to_the_replacements_receipt(
) -> None:
    # Given OBH-ORIG, one line on 03-02 received that day, paid, remitted 2026-03-20
    later = date(2026, 3, 9)
    reference = _history().reference()
    # When its replacement arrives on 06-10 (day 100 after 03-02) billing 03-02 again and
    # a new line on 03-09, which the original never billed
    claim = build_claim([line(1), line(2, dos=later)], frequency="7",
                        original_icn=ORIGINAL, pcn="PCN-2")
    decision = decide(claim, reference, received=days_after(DOS, 100))
    # Then the 03-02 line is timed to the original's receipt (day 0: in time) and the
    # 03-09 line to the replacement's own: 93 days, late, CO-29 (TIMELY-FILING v5 gave
    # it the original's receipt: 7 days, and paid it)
    assert decision.lines[0].status == "paid"
    assert codes(decision, 2) == ["CO-29"]
    step = next(s for s in decision.trace
                if s.rule_id == "TIMELY-FILING" and s.line_number == 2)
    assert step.version == 6
    assert dict(step.inputs)["received"] == days_after(DOS, 100)
    assert step.conclusion == "late: received 93 days after the service, limit 90"
