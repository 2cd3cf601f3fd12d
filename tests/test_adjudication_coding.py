"""Coding edits from reference data: units a day (CO-151), add-ons without their
primary (CO-107), same-day pairs (CO-236) and the modifiers that bypass a pair."""

from __future__ import annotations

from datetime import date

import pytest

from adjudication.decision import Decision
from adjudication.reference import AddOnCode, ProcedurePair, ReferenceData, UnitLimit
from adjudication.state import AdjudicationState
from tests.adjudication_builders import (
    World,
    build_claim,
    codes,
    decide,
    fee,
    line,
    money,
    past_claim,
)

START = date(2026, 1, 1)
EM = ("99213", "99214")


def _reference(**tables: object) -> ReferenceData:
    world = World(fees=(fee("90837", "100.00"), fee("90834", "80.00"), fee("90791", "150.00"),
                        fee("90833", "70.00"), fee("99214", "110.00")))
    rows: dict[str, object] = {
        "unit_limits": (UnitLimit(effective=START, procedure_code="90837",
                                  max_units_per_day=money("1"), source="test",
                                  verified=False),),
        "add_on_codes": (AddOnCode(effective=START, add_on_code="90833", primary_codes=EM,
                                   source="test", verified=False),),
        "procedure_pairs": (
            ProcedurePair(effective=START, column1_code="90791", column2_code="90837",
                          modifier_allowed=True, source="test", verified=False),
            ProcedurePair(effective=START, column1_code="90837", column2_code="90834",
                          modifier_allowed=False, source="test", verified=False)),
        **tables}
    return world.reference(**rows)  # type: ignore[arg-type]


def test_units_over_the_daily_limit_deny_the_line_co151() -> None:
    # Given 90837 limited to 1 unit a day; when 5 units are billed for 1,000.00
    decision = decide(build_claim([line(charge="1000.00", units="5")]), _reference())
    # Then the line is denied CO-151 for its whole charge, not priced at five sessions
    assert codes(decision) == ["CO-151"] and decision.paid == money("0.00")
    assert decision.lines[0].adjustments[0].amount == money("1000.00")
    step = next(s for s in decision.trace if s.rule_id == "UNIT-LIMIT")
    assert dict(step.shown)["limit_per_day"] == "1" and dict(step.shown)["units"] == "5"


def test_one_unit_a_day_is_paid_and_a_second_that_day_by_the_same_clinician_is_not() -> None:
    assert decide(build_claim(), _reference()).status == "paid"
    # history: 90837 with HO that day (another service to the duplicate rule, not to MUE)
    history = (past_claim("OBH-OLD", modifiers=("HO",)),)
    decision = decide(build_claim(), _reference(past_claims=history))
    assert codes(decision) == ["CO-151"]
    step = next(s for s in decision.trace if s.rule_id == "UNIT-LIMIT")
    assert dict(step.shown)["counted"] == "OBH-OLD line 1 (history)"


def test_an_add_on_without_its_primary_is_denied_co107_and_with_it_paid() -> None:
    # 90833 (psychotherapy with an E/M) alone: no E/M that day
    alone = decide(build_claim([line(1, "90833", "150.00")]), _reference())
    assert codes(alone) == ["CO-107"] and alone.status == "denied"
    # with 99214 on the same claim: both paid (99214 fee 110.00, 90833 fee 70.00)
    both = decide(build_claim([line(1, "99214", "200.00"), line(2, "90833", "150.00")]),
                  _reference())
    assert both.status == "paid"
    assert [x.paid for x in both.lines] == [money("110.00"), money("70.00")]
    step = next(s for s in both.trace if s.rule_id == "ADD-ON-PRIMARY" and s.line_number == 2)
    assert step.conclusion == "billed with its primary 99214 (line 1 of this claim)"


def test_a_pair_denies_the_column_2_code_co236_unless_xe_marks_a_distinct_service() -> None:
    claim = build_claim([line(1, "90791", "250.00"), line(2, "90837", "200.00")])
    decision = decide(claim, _reference())
    # 90791 stands (paid 150.00); 90837 on the same day by the same clinician: CO-236
    assert decision.lines[0].paid == money("150.00")
    assert codes(decision, 2) == ["CO-236"] and decision.status == "partially_paid"
    # the same pair with XE on 90837 (a separate encounter): both paid
    bypassed = decide(build_claim([line(1, "90791", "250.00"),
                                   line(2, "90837", "200.00", modifiers=("XE",))]),
                      _reference())
    assert bypassed.status == "paid"
    assert [x.paid for x in bypassed.lines] == [money("150.00"), money("100.00")]
    # and the PROCEDURE-PAIR step says the modifier let the pair through (the denial's
    # step says it did not)
    def pair_step(d: Decision) -> dict[str, str]:
        return dict(next(s for s in d.trace
                         if s.rule_id == "PROCEDURE-PAIR" and s.line_number == 2).shown)
    assert (pair_step(bypassed)["bypassed"], pair_step(bypassed)["bypass_modifier"]) == (
        "yes", "XE")
    assert pair_step(decision)["bypassed"] == "no"


def test_a_pair_that_allows_no_modifier_is_not_bypassed() -> None:
    # 90837 and 90834 the same day: 90834 denied even with XE
    decision = decide(build_claim([line(1, "90837", "200.00"),
                                   line(2, "90834", "160.00", modifiers=("XE",))]),
                      _reference())
    assert codes(decision, 2) == ["CO-236"]
    step = next(s for s in decision.trace if s.rule_id == "PROCEDURE-PAIR" and s.line_number == 2)
    assert dict(step.shown)["modifier_allowed"] == "no"
    assert dict(step.shown)["bypassed"] == "no"


def test_a_pair_reaches_a_claim_already_decided_that_day() -> None:
    history = (past_claim("OBH-EVAL", code="90791", charge="250.00"),)
    decision = decide(build_claim(), _reference(past_claims=history))
    assert codes(decision) == ["CO-236"]
    # another clinician's evaluation that day does not pair with this one's therapy
    other = (past_claim("OBH-EVAL", code="90791", charge="250.00",
                        rendering_npi="1999999999"),)
    assert decide(build_claim(), _reference(past_claims=other)).status == "paid"


def test_the_run_checks_read_a_members_lines_of_the_services_day_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The duplicate and same-day checks (here the units a day) ask the run's state for
    the member's lines of one date of service, never for all the member's lines: each
    line reading all of them was quadratic in a member's claims (4,000 claims of one
    member took `claims process` 72 s; README, Hostile input)."""
    reference = _reference()
    state = AdjudicationState().apply(decide(build_claim(pcn="A"), reference, icn="OBH-A"))

    def every_line(self: AdjudicationState, member_id: str) -> tuple[object, ...]:
        raise AssertionError("a check read every line of the member")

    monkeypatch.setattr(AdjudicationState, "lines_for_member", every_line)
    # the same code that day with a modifier: not a duplicate, one unit over the limit
    second = decide(build_claim([line(modifiers=("HO",))], pcn="B"), reference,
                    icn="OBH-B", state=state)
    assert codes(second) == ["CO-151"]
    assert [n.rule_id for n in second.trace if n.rule_id in ("DUPLICATE", "UNIT-LIMIT")] == [
        "DUPLICATE", "UNIT-LIMIT"]


def test_a_claims_line_facts_are_made_once_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same-day checks of every line read the facts of all the claim's lines; they
    are made once a claim (`ClaimContext.line_facts`), not again for each line and rule:
    400 claims of 50 lines made 1.4 million and took `claims process` 19.1 s, now 14.0 s."""
    from adjudication import context

    made: list[int] = []
    real = context.LineFacts.of.__func__  # type: ignore[attr-defined]

    def counted(cls: type[context.LineFacts], claim: object, line: object) -> object:
        made.append(1)
        return real(cls, claim, line)

    monkeypatch.setattr(context.LineFacts, "of", classmethod(counted))
    lines = [line(number, code) for number, code in
             enumerate(("90791", "90837", "90837", "90834", "90833"), start=1)]
    decision = decide(build_claim(lines), _reference())
    # the same-day checks ran: 90837 paired with 90791 (CO-236), 90833 with no E/M
    assert codes(decision, 2) == ["CO-236"] and codes(decision, 5) == ["CO-107"]
    # once a line for the claim's days of service (member identification), once a line
    # for the line rules (30 before: the same-day checks made them again for each line)
    assert len(made) == 2 * len(lines)
