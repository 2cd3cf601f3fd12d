"""Timely filing: days from the line's first date of service to the file's receipt date."""

from __future__ import annotations

from datetime import date

import pytest

from adjudication.reference import LineOfBusiness
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
    assert ("first_date_of_service", "2026-03-02") in step.shown and step.version == 2
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
