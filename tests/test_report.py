"""The run report's situation table: what each decided claim shows, per line of business."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console

from adjudication.decision import TraceStep
from workers.decisions import may_show_a_bypass, pairs_bypassed
from workers.report import (
    NOTABLE_SHOWN,
    REJECTED_SHOWN,
    SITUATIONS,
    RunTally,
    print_run,
    situations_of,
)
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
    assert sum(lob.situations["secondary"] for lob in RunTally.of(run).decided.values()) == 1
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


def test_the_command_reports_from_counts_what_kept_claims_report(tmp_path: Path) -> None:
    """`claims process` keeps no claim for its report: a `RunTally` fed as summary.json
    is written prints the same tables as the claims kept whole, on the demo's files
    (claims accepted, rejected, decided in every line of business)."""
    from workers.demo import demo_files
    from workers.pipeline import RunOptions, process_files
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY, read_reference_dir
    from workers.reference_store import InMemoryReference

    def report(keep: bool) -> tuple[RunSummary, str]:
        tally = RunTally()
        summary = process_files(demo_files(), RunOptions(
            out_dir=tmp_path / str(keep), as_of=date(2026, 1, 20),
            now=datetime(2026, 1, 20, 12, tzinfo=UTC), keep_claims=keep,
            on_claim=None if keep else tally.add,
            reference=InMemoryReference(*read_reference_dir(SHIPPED_REFERENCE_DIRECTORY))))
        console = Console(record=True, width=250)
        print_run(console, summary, None if keep else tally)
        return summary, console.export_text()

    kept, text = report(True)
    tallied, tallied_text = report(False)
    assert all(not f.claims for f in tallied.files)
    assert tallied_text == text
    # and the tables say what the kept claims say, counted here without the tally
    claims = [c for f in kept.files for c in f.claims]
    assert {c.front_end for c in claims} >= {"accepted", "rejected", "not_reached"}
    assert f"Claims rejected by the front-end edits (277CA), " \
           f"{sum(c.front_end == 'rejected' for c in claims)} in all" in text
    files = {row[0]: row[4:] for row in _table(text, "Files processed")}
    for f in kept.files:
        fronts = [c.front_end for c in f.claims]
        charges = sum(Decimal(c.charge) for c in f.claims if c.front_end == "accepted")
        assert files[f.path.rsplit("/", 1)[-1]] == [
            str(len(fronts)), str(fronts.count("accepted")), str(fronts.count("rejected")),
            str(fronts.count("not_reached")), f"{charges:,.2f}"]
    lobs = {row[0]: row[1:] for row in _table(text, "Adjudication by line of business")}
    decided_claims = [c for c in claims if c.status is not None]
    assert len(lobs) >= 3
    for lob, row in lobs.items():
        mine = [c for c in decided_claims if (c.line_of_business or "member not found") == lob]
        statuses = [c.status for c in mine]
        assert row == [str(len(mine)), *(str(statuses.count(s)) for s in (
            "paid", "partially_paid", "denied", "pended", "voided")),
            f"{sum(Decimal(c.paid or 0) for c in mine):,.2f}",
            f"{sum(Decimal(c.patient_responsibility or 0) for c in mine):,.2f}"]
    assert sum(int(row[0]) for row in lobs.values()) == len(decided_claims)


def _table(text: str, title: str) -> list[list[str]]:
    """The body rows of the table titled ``title`` in a printed report, cell by cell."""
    table = text[text.index(title):]
    table = table[:table.index("└")]
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in table.splitlines()
            if line.startswith("│")]


def test_the_tally_lists_the_first_claims_and_counts_them_all() -> None:
    """The tables name the first `REJECTED_SHOWN` rejected and `NOTABLE_SHOWN` denied,
    pended, partly paid or voided claims, and count every one."""
    tally = RunTally()
    rejected = decided().model_copy(update={"front_end": "rejected", "status": None})
    for number in range(REJECTED_SHOWN + 5):
        tally.add(0, "/in/a.837", rejected.model_copy(
            update={"patient_control_number": f"R{number}"}))
    for number in range(NOTABLE_SHOWN + 7):
        tally.add(1, "/in/b.837", decided("denied").model_copy(
            update={"patient_control_number": f"D{number}"}))
    tally.add(1, "/in/b.837", decided())
    assert tally.rejected_count == REJECTED_SHOWN + 5 and tally.notable_count == NOTABLE_SHOWN + 7
    assert [c.patient_control_number for _name, c in tally.rejected] == [
        f"R{n}" for n in range(REJECTED_SHOWN)]
    assert [c.patient_control_number for _name, c in tally.notable] == [
        f"D{n}" for n in range(NOTABLE_SHOWN)]
    assert (tally.files[0].claims, tally.files[1].claims) == (REJECTED_SHOWN + 5,
                                                              NOTABLE_SHOWN + 8)
    lob = tally.decided["commercial"]
    assert (lob.claims, lob.statuses["denied"], lob.statuses["paid"]) == (NOTABLE_SHOWN + 8,
                                                                       NOTABLE_SHOWN + 7, 1)
