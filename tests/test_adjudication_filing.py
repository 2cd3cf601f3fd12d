"""Timely filing: days from the line's first date of service to the file's receipt date."""

from __future__ import annotations

from datetime import date

import pytest

from adjudication.reference import LineOfBusiness
from edi.claims import ParsedClaim, UntypedSegment
from tests.adjudication_builders import (
    COMMERCIAL,
    DOS,
    MEDICAID,
    MEDICARE_ADVANTAGE,
    World,
    build_claim,
    codes,
    coverage,
    days_after,
    decide,
    fee,
    filing_limit,
    line,
    other_payer,
    paid_by,
    plan,
)


def _world(lob: LineOfBusiness, state: str = "TX") -> World:
    return World(coverage=(coverage(plan_id="P", lob=lob, state=state),),
                 plans=(plan("P", lob=lob),), fees=(fee(lob=lob),))


@pytest.mark.parametrize("lob", list(LineOfBusiness), ids=str)
def test_a_claim_received_on_day_90_is_in_time(lob: LineOfBusiness) -> None:
    # Given a service on DOS and the default 90-day limit
    # When the file arrives 90 days later
    decision = decide(build_claim(), _world(lob).reference(), received=days_after(DOS, 90))
    # Then the line is paid
    assert decision.status == "paid"


@pytest.mark.parametrize("lob", list(LineOfBusiness), ids=str)
def test_a_claim_received_on_day_91_is_denied_co29_and_never_billed_to_the_patient(
        lob: LineOfBusiness) -> None:
    # When the file arrives 91 days after the service
    decision = decide(build_claim(), _world(lob).reference(), received=days_after(DOS, 91))
    # Then the line is denied CO-29, the provider's write-off, not the patient's
    assert codes(decision) == ["CO-29"]
    assert decision.patient_responsibility == 0
    assert decision.claim_status_code == "1"


def test_the_clock_starts_on_the_first_day_of_a_date_span() -> None:
    # Given a line spanning 03-02 to 03-06 (RD8)
    claim = build_claim([line(dos=DOS, through=date(2026, 3, 6))])
    # When it arrives 90 days after the first day (86 after the last), it is in time
    decision = decide(claim, World().reference(), received=days_after(DOS, 90))
    assert decision.status == "paid"
    step = next(s for s in decision.trace if s.rule_id == "TIMELY-FILING")
    assert ("first_date_of_service", "2026-03-02") in step.shown and step.version == 6
    # And 91 days after the first day (87 after the last), the whole line is late
    late = decide(claim, World().reference(), received=days_after(DOS, 91))
    assert codes(late) == ["CO-29"]


def test_a_state_row_wins_over_the_every_state_row_and_the_default() -> None:
    # Given MassHealth allows 120 days in MA, and 90 elsewhere
    world = _world(MEDICAID, "MA").with_(filing_limits=(
        filing_limit(MEDICAID, "initial", 90), filing_limit(MEDICAID, "initial", 120, "MA")))
    # Then day 120 is in time and day 121 is late
    assert decide(build_claim(), world.reference(),
                  received=days_after(DOS, 120)).status == "paid"
    assert codes(decide(build_claim(), world.reference(),
                        received=days_after(DOS, 121))) == ["CO-29"]


def test_the_limit_is_the_one_in_force_on_the_receipt_date() -> None:
    # Given a 60-day limit that took effect after the service but before receipt
    late_rule = filing_limit(COMMERCIAL, "initial", 60).model_copy(
        update={"effective": date(2026, 4, 1)})
    world = World(filing_limits=(filing_limit(COMMERCIAL, "initial", 90).model_copy(
        update={"termination": date(2026, 3, 31)}), late_rule))
    # When the claim arrives on day 70 (after 2026-04-01)
    decision = decide(build_claim(), world.reference(), received=days_after(DOS, 70))
    # Then the 60-day limit applies
    assert codes(decision) == ["CO-29"]


def test_the_receipt_date_decides_not_the_replay_date() -> None:
    # Given a claim received on day 30 and replayed a year later
    decision = decide(build_claim(), World().reference(), received=days_after(DOS, 30),
                      as_of=date(2027, 3, 1))
    # Then it is still in time
    assert decision.status == "paid"


def test_medicare_advantage_late_line_among_timely_lines_is_denied_alone() -> None:
    # Given an MA claim with a December line and a March line, received in March
    reference = _world(MEDICARE_ADVANTAGE).reference(plans=(
        plan("P", lob=MEDICARE_ADVANTAGE, year=2025), plan("P", lob=MEDICARE_ADVANTAGE)))
    claim = build_claim([line(1, dos=date(2025, 12, 1)), line(2, dos=DOS)])
    # When it is adjudicated
    decision = decide(claim, reference, received=days_after(DOS, 10))
    # Then only the December line is late
    assert codes(decision, 1) == ["CO-29"]
    assert decision.lines[1].status == "paid"
    assert decision.status == "partially_paid"


# -- secondary claims: the clock after the prior payer -----------------------------------------
def _secondary(adjudicated: date | None, *, claim_level: bool = False) -> ParsedClaim:
    """A secondary claim for 90837 on DOS whose primary paid 70.00 and dated its
    adjudication ``adjudicated``: on the line (2430 DTP*573) or, ``claim_level``, on
    the claim (2330B DTP*573, no 2430)."""
    primary = other_payer("P", "70.00")
    if claim_level:
        assert primary.other_payer is not None
        untyped = () if adjudicated is None else (UntypedSegment(
            loop_id="2330B", elements=("DTP", "573", "D8", f"{adjudicated:%Y%m%d}")),)
        primary = primary.model_copy(update={"other_payer": primary.other_payer.model_copy(
            update={"untyped": untyped})})
        return build_claim(sequence="S", other_payers=(primary,))
    svd = paid_by("OTHERPLAN1", "70.00").model_copy(update={"adjudication_date": adjudicated})
    return build_claim([line(adjudications=(svd,))], sequence="S", other_payers=(primary,))


def _with_secondary_limit(days: int | None) -> World:
    world = _world(COMMERCIAL)
    rows = (filing_limit(COMMERCIAL, "secondary", days),) if days is not None else ()
    return world.with_(filing_limits=rows)


@pytest.mark.parametrize("claim_level", [False, True], ids=["2430", "2330B"])
def test_a_late_secondary_claim_is_in_time_within_the_limit_after_the_primary_decided(
        claim_level: bool) -> None:
    # Given a secondary claim received 150 days after its service (past the 90-day
    # initial limit), whose primary adjudicated it 60 days before receipt, and a
    # 90-day secondary limit on file
    received = days_after(DOS, 150)
    claim = _secondary(days_after(DOS, 90), claim_level=claim_level)
    decision = decide(claim, _with_secondary_limit(90).reference(), received=received)
    # Then it is not late: 60 days after the primary's decision is within 90
    assert "CO-29" not in codes(decision)
    step = next(s for s in decision.trace if s.rule_id == "TIMELY-FILING")
    inputs = dict(step.inputs)
    assert inputs["prior_payer_adjudicated"] == days_after(DOS, 90)
    assert inputs["days_since_prior_payer"] == 60 and inputs["secondary_limit_days"] == 90


def test_a_secondary_claim_past_both_limits_is_denied_co29() -> None:
    # Given the primary decided 91 days before receipt (150 days after the service)
    claim = _secondary(days_after(DOS, 59))
    decision = decide(claim, _with_secondary_limit(90).reference(),
                      received=days_after(DOS, 150))
    # Then it is late by both clocks
    assert codes(decision) == ["CO-29"]


def test_without_a_secondary_limit_or_a_prior_adjudication_date_only_the_initial_limit_counts(
) -> None:
    received = days_after(DOS, 150)
    # No secondary row on file: the primary's recent decision does not extend the clock
    assert codes(decide(_secondary(days_after(DOS, 140)), _with_secondary_limit(None).reference(),
                        received=received)) == ["CO-29"]
    # No DTP*573 on the line or the claim: nothing to count from
    assert codes(decide(_secondary(None), _with_secondary_limit(90).reference(),
                        received=received)) == ["CO-29"]
    assert codes(decide(_secondary(None, claim_level=True),
                        _with_secondary_limit(90).reference(), received=received)) == ["CO-29"]


def test_a_primary_claim_is_never_given_the_secondary_clock() -> None:
    # Given a primary claim 150 days after its service, a secondary row on file
    decision = decide(build_claim(), _with_secondary_limit(90).reference(),
                      received=days_after(DOS, 150))
    assert codes(decision) == ["CO-29"]
