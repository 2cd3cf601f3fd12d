"""DIAGNOSIS-CODE-SET: a line's diagnoses billable in the ICD-10-CM release in force on
its date of service (CO-146 M76), and a pend when no loaded release is in force."""

from __future__ import annotations

from datetime import date

from adjudication.rules.diagnoses import NO_RELEASE_REASON
from edi.validators.codesets import (
    FY2026_RELEASE_NAME,
    CodeSetRegistry,
    CodeSetRelease,
    packaged_registry,
    packaged_releases,
)
from tests.adjudication_builders import (
    World,
    build_claim,
    codes,
    decide,
    line,
    money,
)

OCTOBER = date(2026, 10, 5)
"""A date of service in FY2027, which no packaged release governs."""


def _step(decision, number: int = 1):  # type: ignore[no-untyped-def]
    return next(s for s in decision.trace
                if s.rule_id == "DIAGNOSIS-CODE-SET" and s.line_number == number)


def test_a_diagnosis_billable_on_the_date_of_service_lets_the_line_be_priced() -> None:
    # Given F41.1 (generalized anxiety disorder), billable in FY2026, served 2026-03-02
    decision = decide(build_claim(diagnoses=["F411"]), World().reference(),
                      code_sets=packaged_registry())
    # Then the line is paid, and the trace names the release that decided
    assert decision.status == "paid"
    shown = dict(_step(decision).shown)
    assert shown["release"] == FY2026_RELEASE_NAME and shown["diagnoses"] == "F411"


def test_a_code_valid_only_in_another_fiscal_year_denies_its_lines_co146_m76() -> None:
    # Given G35 (multiple sclerosis), billable in FY2025 and expanded in FY2026, as the
    # principal diagnosis of a claim served in March 2026
    decision = decide(build_claim(diagnoses=["G35"]), World().reference(),
                      code_sets=packaged_registry())
    # Then the line is denied CO-146 with M76 for its whole charge, nothing paid
    assert codes(decision) == ["CO-146"] and decision.lines[0].rarcs == ("M76",)
    assert decision.status == "denied" and decision.paid == money("0.00")
    assert _step(decision).conclusion == "not billable on the date of service: G35"


def test_only_the_lines_pointing_at_the_invalid_code_are_denied() -> None:
    # Given F41.1 as principal and G35 second, line 2 pointing at both
    claim = build_claim([line(1), line(2, "90834", "150.00", pointers=(1, 2))],
                        diagnoses=["F411", "G35"])
    decision = decide(claim, World().reference(), code_sets=packaged_registry())
    # Then line 1 (principal only) is paid and line 2 is denied CO-146
    assert [x.status for x in decision.lines] == ["paid", "denied"]
    assert codes(decision, 2) == ["CO-146"]
    assert dict(_step(decision, 2).shown)["diagnoses"] == "F411, G35"


def test_an_invalid_principal_diagnosis_denies_every_line() -> None:
    claim = build_claim([line(1), line(2, "90834", "150.00", pointers=(2,))],
                        diagnoses=["G35", "F411"])
    decision = decide(claim, World().reference(), code_sets=packaged_registry())
    assert [codes(decision, n) for n in (1, 2)] == [["CO-146"], ["CO-146"]]


def test_a_date_no_loaded_release_governs_pends_the_line_never_paid_on_a_guess() -> None:
    # Given only the packaged releases (FY2027 not loaded) and a service on 2026-10-05
    claim = build_claim([line(dos=OCTOBER)], diagnoses=["F411"])
    decision = decide(claim, World().reference(), received=date(2026, 10, 20),
                      code_sets=packaged_registry())
    # Then the line pends, saying which year's release to load, and nothing is paid
    assert decision.status == "pended" and decision.paid == money("0.00")
    reason = NO_RELEASE_REASON.format(day="2026-10-05", year=2027)
    assert decision.lines[0].pend_reason == reason
    # And once FY2027 is loaded the same claim is decided on its merits
    fy2027 = CodeSetRelease("FY2027 (test)", date(2026, 10, 1), frozenset({"F411"}))
    loaded = CodeSetRegistry([*packaged_releases(), fy2027])
    decided = decide(claim, World().reference(), received=date(2026, 10, 20),
                     code_sets=loaded)
    assert decided.status == "paid"
    assert dict(_step(decided).shown)["release"] == "FY2027 (test)"


def test_a_late_line_is_denied_co29_before_its_diagnoses_are_looked_at() -> None:
    # Given a March service received in October (past the 90 days) with G35
    decision = decide(build_claim(diagnoses=["G35"]), World().reference(),
                      received=date(2026, 10, 1), code_sets=packaged_registry())
    assert codes(decision) == ["CO-29"]
