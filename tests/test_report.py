"""The run report's situation table: what each decided claim shows, per line of business."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from adjudication.decision import TraceStep
from workers.decisions import may_show_a_bypass, pairs_bypassed
from workers.report import SITUATIONS, print_run, situation_counts, situations_of
from workers.summary import ClaimSummary, FileSummary, RunSummary


def decided(status: str = "paid", lob: str = "commercial", adjustments: str = "",
            **fields: Any) -> ClaimSummary:
    """A decided claim; ``adjustments`` as ``"CO-45 PR-2"``."""
    fields = {"claim_status_code": "1", "frequency_code": "1", **fields}
    return ClaimSummary(
        patient_control_number="PCN-1", front_end="accepted", charge="100.00",
        transaction_set="0001", payer_claim_control_number="OBH260010000001", status=status,
        line_of_business=lob,
        adjustments=[{"group": code.split("-")[0], "carc": code.split("-")[1],
                      "amount": "10.00"} for code in adjustments.split()],
        **fields)


def test_each_situation_is_read_from_the_claim_summary() -> None:
    # Given claims as summary.json describes them
    cases = {
        "secondary": decided(claim_status_code="2", adjustments="CO-45 OA-23"),
        "telehealth": decided(modifiers=["HO", "93"]),
        "out of network": decided(adjustments="PR-45 PR-1"),
        "partial authorization": decided(lines_partly_authorized=1, adjustments="CO-198 CO-45"),
        "units over the limit (CO-151)": decided("partially_paid", adjustments="CO-45 CO-151"),
        "add-on without its primary (CO-107)": decided("partially_paid",
                                                       adjustments="CO-45 CO-107"),
        "same-day pair denied (CO-236)": decided("partially_paid", adjustments="CO-45 CO-236"),
        "same-day pair with a bypass modifier": decided(modifiers=["XE"], adjustments="CO-45",
                                                        pairs_bypassed=1),
        "other plan pays first (CO-22)": decided("denied", lob="medicaid", adjustments="CO-22",
                                                 rules=["COORDINATION"]),
        "supervisor not on file (CO-16 N297)": decided(
            "denied", adjustments="CO-16", rarc=["N297"], rules=["SUPERVISOR-VERIFIED"]),
        "supervisor an associate or out of network (CO-185)": decided(
            "denied", adjustments="CO-185", rules=["SUPERVISOR-VERIFIED"]),
        "suspect duplicate": decided("pended", rules=["DUPLICATE"]),
        "late replacement": decided("denied", frequency_code="7", adjustments="CO-29",
                                    rules=["CORRECTION-WINDOW"]),
    }
    # Then each shows exactly its own situation
    for situation, claim in cases.items():
        assert situations_of(claim) == {situation}, situation
    # And a plain paid claim, an exact duplicate (OA-18, denied) and a pend for another
    # reason show none; a telehealth line denied CO-4 without a modifier still counts
    assert situations_of(decided(adjustments="CO-45 PR-2")) == set()
    assert situations_of(decided("denied", adjustments="OA-18", rules=["DUPLICATE"])) == set()
    assert situations_of(decided("pended", rules=["PRICING", "COST-SHARE"])) == set()
    assert situations_of(decided("denied", adjustments="CO-4", rules=["TELEHEALTH"])) == {
        "telehealth", "telehealth outside the policy"}
    assert situations_of(decided("denied", adjustments="CO-5", rules=["TELEHEALTH"],
                                 modifiers=["93"])) == {"telehealth",
                                                        "telehealth outside the policy"}
    # And a secondary claim paid with no OA-23 on any line (the payers before us paid
    # nothing: a primary denial, say) shows both secondary rows; one denied for another
    # reason, or one whose primary paid (OA-23), only the first
    assert situations_of(decided(claim_status_code="2", adjustments="CO-45 PR-2")) == {
        "secondary", "secondary after a primary paid nothing"}
    assert situations_of(decided("denied", claim_status_code="2", adjustments="CO-29")) == {
        "secondary"}
    assert situations_of(decided(claim_status_code="2", adjustments="CO-45 OA-23")) == {
        "secondary"}
    # And N297 or CO-185 from another rule (a supervisor not named; Medicaid enrolment)
    # is not a supervisor the payer checked and refused
    assert situations_of(decided("denied", adjustments="CO-16", rarc=["N297"],
                                 rules=["SUPERVISOR-NAMED"])) == set()
    assert situations_of(decided("denied", adjustments="CO-185",
                                 rules=["MEDICAID-ENROLLMENT"])) == set()
    # And a bypass modifier on a claim whose pair was denied all the same is not a bypass,
    # nor is one on a late replacement the pair edit never saw (denied CO-29 first)
    assert situations_of(decided("partially_paid", adjustments="CO-236", modifiers=["59"])) == {
        "same-day pair denied (CO-236)"}
    assert situations_of(decided("denied", frequency_code="7", adjustments="CO-29",
                                 modifiers=["XE"], rules=["CORRECTION-FILING"])) == {
        "late replacement"}


def test_a_bypass_is_counted_from_the_procedure_pair_trace() -> None:
    # Given trace steps as PROCEDURE-PAIR writes them: line 2 let through by XE, line 3
    # denied, and a step of another rule that happens to have the same input name
    def step(rule: str, line: int, bypassed: bool) -> TraceStep:
        return TraceStep(rule, 1, line, (("bypass_modifier", "XE"), ("bypassed", bypassed)),
                         "...")
    trace = (step("PROCEDURE-PAIR", 2, True), step("PROCEDURE-PAIR", 2, True),
             step("PROCEDURE-PAIR", 3, False), step("OTHER", 4, True))
    # Then one line was let through a pair edit by a bypass modifier
    assert pairs_bypassed(trace) == 1
    # And a stored decision's trace is worth reading only when a line has such a modifier
    assert may_show_a_bypass({"lines": [{"modifiers": ["HO"]}, {"modifiers": ["XE"]}]})
    assert not may_show_a_bypass({"lines": [{"modifiers": ["95", "U5"]}]})


def test_the_report_prints_the_situations_per_line_of_business() -> None:
    # Given a run with two commercial claims (one secondary and out of network, one
    # telehealth) and one Medicaid claim with a coding edit
    claims = [decided(claim_status_code="2", adjustments="PR-45 OA-23"),
              decided(modifiers=["95"]),
              decided("partially_paid", lob="medicaid", adjustments="CO-151 CO-45")]
    run = RunSummary(as_of="2026-02-01", files=[FileSummary(
        path="/in/a.837", sha256="0" * 64, status="processed", ack="999", ack_code="A",
        ack_path="/out/a.999", received_at="2026-02-01T12:00:00+00:00", claims=claims)])
    assert situation_counts(claims)["secondary"] == 1
    # When the report is printed
    console = Console(record=True, width=250)
    print_run(console, run)
    text = console.export_text()
    # Then the situation table has a column per line of business and a row per
    # situation, in the order of SITUATIONS, with the claims counted
    assert "Situations by line of business" in text
    table = text[text.index("Situations by line of business"):]
    table = table[:table.index("└")]
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in table.splitlines()
            if line.startswith("│")]
    header = next(line for line in table.splitlines() if line.startswith("┃"))
    assert [cell.strip() for cell in header.split("┃")[1:-1]] == [
        "situation", "commercial", "medicaid"]
    assert rows[0] == ["claims decided", "2", "1"]
    expected = {"secondary": ["1", "0"], "telehealth": ["1", "0"],  # the secondary had OA-23
                "out of network": ["1", "0"], "units over the limit (CO-151)": ["0", "1"]}
    assert [row[0] for row in rows[1:]] == list(SITUATIONS)
    for row in rows[1:]:
        assert row[1:] == expected.get(row[0], ["0", "0"]), row[0]
