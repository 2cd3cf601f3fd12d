"""Adjudication in the pipeline: decisions in summary.json, explained, pends released."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from adjudication.decision import Decision, TraceStep
from adjudication.reference import LicenseLevel
from store.models import DecisionRecord, Event, PendRelease
from tests.databases import run_store
from tests.paths import ACK_FIXTURES, FIXTURES
from workers.cli import app
from workers.decisions import decision_from_dict, decision_from_record, split_decision
from workers.summary import RunSummary

runner = CliRunner()
PEND = FIXTURES / "adjudication" / "pend-no-fee.837"


def _process(tmp_path: Path, *sources: Path, out: str = "out") -> RunSummary:
    inbound = tmp_path / "inbound"
    inbound.mkdir(exist_ok=True)
    files = []
    for source in sources:
        target = inbound / source.name
        shutil.copy(source, target)
        files.append(str(target))
    result = runner.invoke(app, ["process", *files, "--out", str(tmp_path / out), "--quiet",
                                 "--as-of", "2026-11-23", "--received", "2026-11-23"])
    assert result.exit_code == 0, result.output
    return RunSummary.model_validate_json((tmp_path / out / "summary.json").read_text())


def _current(out: Path) -> dict[str, tuple[dict[str, Any], bytes]]:
    """Each claim number's current decision in the run's SQLite store."""
    store = run_store(out)
    try:
        with store.transaction() as s:
            rows = s.execute(select(DecisionRecord.icn, DecisionRecord.data,
                                    DecisionRecord.trace)
                             .where(DecisionRecord.current.is_(True)))
            return {icn: (data, trace) for icn, data, trace in rows}
    finally:
        store.dispose()


def _decision(out: Path, icn: str) -> Decision:
    data, trace = _current(out)[icn]
    return decision_from_record(data, trace)


def test_accepted_claims_are_adjudicated_with_money_codes_and_deciding_rules(
    tmp_path: Path,
) -> None:
    # Given the two-claim sample (a commercial and a MassHealth member)
    (entry,) = _process(tmp_path, ACK_FIXTURES / "valid-two-claims.837").files
    # Then each accepted claim carries its decision in summary.json
    commercial, medicaid = entry.claims
    assert (commercial.status, commercial.line_of_business) == ("paid", "commercial")
    assert (medicaid.status, medicaid.line_of_business) == ("paid", "medicaid")
    assert medicaid.patient_responsibility == "0.00"
    for claim in (commercial, medicaid):
        assert claim.paid is not None and claim.rules
        adjusted = sum(float(a["amount"]) for a in claim.adjustments)
        assert round(float(claim.charge) - adjusted, 2) == float(claim.paid)
    assert {a["group"] for a in commercial.adjustments} >= {"CO", "PR"}


def test_a_claim_with_no_fee_on_file_pends_and_a_reviewer_releases_it(tmp_path: Path) -> None:
    # Given a claim whose first line has no fee on file
    (entry,) = _process(tmp_path, PEND).files
    pended = next(c for c in entry.claims if c.patient_control_number == "PCN-0501")
    assert (pended.status, pended.paid) == ("pended", "0.00")
    out = tmp_path / "out"
    listing = runner.invoke(app, ["pends", "list", "--out", str(out)])
    assert pended.payer_claim_control_number in listing.output
    assert "no fee on file" in listing.output
    # When a reviewer releases it with an allowed amount for that line
    icn = pended.payer_claim_control_number or ""
    released = runner.invoke(app, ["pends", "release", icn, "--out", str(out), "--reviewer",
                                   "analyst.one", "--allowed", "1=150.00",
                                   "--note", "per contract"])
    assert released.exit_code == 0, released.output
    # Then the claim is decided again, paid, the reviewer's amount is in the trace,
    # and the release is an audited event
    decision = _decision(out, icn)
    assert decision.status in ("paid", "partially_paid")
    assert decision.lines[0].allowed == 150
    assert any("review" in step.conclusion.lower() or "override" in step.conclusion.lower()
               or any("override" in name or "review" in name for name, _ in step.shown)
               for step in decision.trace)
    store = run_store(out)
    with store.transaction() as s:
        (event,) = s.scalars(select(Event).where(Event.kind == "pend.released"))
        (kept,) = s.scalars(select(PendRelease))
    store.dispose()
    assert (event.actor, event.subject) == ("analyst.one", icn)
    assert (kept.from_version, kept.to_version, kept.overrides) == (1, 2, {"1": "150.00"})
    assert not runner.invoke(app, ["pends", "list", "--out", str(out)]).output.count(icn)
    # and a second release of the same claim is refused: it is no longer pended
    again = runner.invoke(app, ["pends", "release", icn, "--out", str(out), "--reviewer",
                                "analyst.one", "--allowed", "1=150.00"])
    assert again.exit_code == 2


def test_a_release_that_would_pend_again_or_names_no_reviewer_is_refused_and_writes_nothing(
    tmp_path: Path,
) -> None:
    # Given a claim pended for want of a fee (found by an audit: a release with no
    # amount wrote a new pended version and a release row, and an empty --reviewer paid)
    (entry,) = _process(tmp_path, PEND).files
    pended = next(c for c in entry.claims if c.patient_control_number == "PCN-0501")
    icn, out = pended.payer_claim_control_number or "", tmp_path / "out"

    def release(*options: str) -> Any:
        return runner.invoke(app, ["pends", "release", icn, "--out", str(out), *options])

    # When it is released with no amount, it would pend again: refused, saying why
    again = release("--reviewer", "analyst.one")
    assert again.exit_code == 2
    assert "would pend again" in again.output and "no fee on file" in again.output
    # and a reviewer that is no user name, or a note that is no plain text, is refused
    for options, option in ((["--reviewer", ""], "--reviewer"),
                            (["--reviewer", "   "], "--reviewer"),
                            (["--reviewer", "a" * 81], "--reviewer"),
                            (["--reviewer", "dana\udcff"], "--reviewer"),
                            (["--reviewer", "dana", "--note", "bad \udcff byte"], "--note"),
                            (["--reviewer", "dana", "--note", "nul \x00"], "--note"),
                            (["--reviewer", "dana", "--note", "n" * 2001], "--note")):
        refused = release(*options, "--allowed", "1=150.00")
        assert refused.exit_code == 2, (options, refused.output)
        assert option in refused.output and "Traceback" not in refused.output, options
        redecided = runner.invoke(app, ["pends", "redecide", "--out", str(out), *options])
        assert redecided.exit_code == 2 and option in redecided.output, options
    # Then nothing was written: the pend is the claim's only decision, and no release
    store = run_store(out)
    with store.transaction() as s:
        assert s.scalars(select(PendRelease)).all() == []
        assert s.scalars(select(Event).where(Event.kind == "pend.released")).all() == []
    store.dispose()
    assert _decision(out, icn).status == "pended"
    # and a claim number that is no text (a byte argv could not decode) is a usage error
    for command in (["explain", "OBH\udcff"], ["pends", "release", "OBH\udcff",
                                               "--reviewer", "dana"]):
        unread = runner.invoke(app, [*command, "--out", str(out)])
        assert unread.exit_code == 2 and "not a claim number" in unread.output, command
    assert release("--reviewer", "dana", "--allowed", "1=150.00").exit_code == 0


def test_releasing_a_claim_that_is_not_pended_is_refused(tmp_path: Path) -> None:
    (entry,) = _process(tmp_path, ACK_FIXTURES / "valid-two-claims.837").files
    icn = entry.claims[0].payer_claim_control_number or ""
    refused = runner.invoke(app, ["pends", "release", icn, "--out", str(tmp_path / "out"),
                                  "--reviewer", "analyst.one", "--allowed", "1=1.00"])
    assert refused.exit_code == 2


def test_explain_prints_every_rule_of_a_decision(tmp_path: Path) -> None:
    (entry,) = _process(tmp_path, ACK_FIXTURES / "valid-two-claims.837").files
    icn = entry.claims[0].payer_claim_control_number or ""
    shown = runner.invoke(app, ["explain", icn, "--out", str(tmp_path / "out")])
    assert shown.exit_code == 0, shown.output
    for rule in ("MEMBER-IDENTIFICATION", "ELIGIBILITY", "TIMELY-FILING", "PRICING",
                 "COST-SHARE"):
        assert rule in shown.output
    # the headline names the deciding rules, as summary.json lists them
    headline = " ".join(shown.output.split("Lines")[0].split())
    assert headline.endswith("decided by " + ", ".join(entry.claims[0].rules))
    assert entry.claims[0].rules
    unknown = runner.invoke(app, ["explain", "OBH000", "--out", str(tmp_path / "out")])
    assert unknown.exit_code == 2


def test_decisions_kept_in_the_store_read_back_exactly(tmp_path: Path) -> None:
    _process(tmp_path, *sorted((FIXTURES / "837p").glob("*.837")))
    records = _current(tmp_path / "out")
    assert len(records) > 50
    for data, trace in records.values():
        decision = decision_from_record(data, trace)
        assert decision.trace, "the trace is kept beside the decision"
        assert {k: v for k, v in decision.to_dict().items() if k != "trace"} == data
        assert decision_from_dict(decision.to_dict()) == decision


def test_a_stored_trace_keeps_each_input_typed_and_reads_as_the_engine_wrote_it() -> None:
    # Given a trace step whose inputs are the kinds rules note (written as the engine
    # keeps them: typed, not yet text)
    step = TraceStep("PRICING", 2, 1, (
        ("allowed", Decimal("101.10")), ("day", date(2026, 3, 6)), ("supervised", True),
        ("license_level", LicenseLevel.MD), ("modifiers", ("HO", "U5")), ("npi", None),
        ("units", 4)), "priced")
    decision = replace(_decision_with_trace(), trace=(step,))
    # When it is split for the store and read back
    data, trace = split_decision(decision)
    back = decision_from_record(data, trace)
    # Then the stored JSON keeps the types (amounts as exact text), and the step reads
    # exactly as the engine's own did
    assert orjson.loads(trace)[0]["inputs"] == [
        ["allowed", "101.10"], ["day", "2026-03-06"], ["supervised", True],
        ["license_level", "MD"], ["modifiers", ["HO", "U5"]], ["npi", None], ["units", 4]]
    assert back.trace[0].shown == (
        ("allowed", "101.10"), ("day", "2026-03-06"), ("supervised", "yes"),
        ("license_level", "MD"), ("modifiers", "HO U5"), ("npi", ""), ("units", "4"))
    assert back.trace == decision.trace


def _decision_with_trace() -> Decision:
    return decision_from_dict({
        "icn": "2026001000001", "patient_control_number": "P1", "billing_npi": "1234567893",
        "member_id": "M1", "line_of_business": "commercial", "plan_id": "COM-PPO-500",
        "state": "MA", "status": "paid", "claim_status_code": "1", "frequency_code": "1",
        "charge": "100.00", "paid": "100.00", "patient_responsibility": "0.00", "lines": [],
        "claim_adjustments": [], "rarcs": [], "trace": [], "accumulator_changes": [],
        "reversal": None, "received": "2026-03-10", "as_of": "2026-03-10"})


def test_the_same_services_sent_again_in_a_later_run_are_duplicates(tmp_path: Path) -> None:
    # Given a run that paid the two sample claims
    _process(tmp_path, ACK_FIXTURES / "valid-two-claims.837")
    # When the same services arrive again in a new interchange in a later run
    (again,) = _process(tmp_path, ACK_FIXTURES / "accepted-x222a2.837").files
    # Then they are denied as duplicates (OA-18), never paid twice
    assert [c.status for c in again.claims] == ["denied", "denied"]
    assert all(a["group"] == "OA" and a["carc"] == "18" for c in again.claims
               for a in c.adjustments)


def test_a_reference_directory_with_a_bad_row_is_a_usage_error_naming_where(
    tmp_path: Path,
) -> None:
    reference = tmp_path / "reference"
    shutil.copytree(FIXTURES / "reference", reference)
    lines = (reference / "plans.csv").read_text().splitlines()
    header = lines[0].split(",")
    row = lines[2].split(",")
    row[header.index("deductible")] = "lots"
    lines[2] = ",".join(row)
    (reference / "plans.csv").write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["process", str(ACK_FIXTURES / "valid-two-claims.837"),
                                 "--out", str(tmp_path / "out"), "--reference", str(reference)])
    assert result.exit_code == 2
    assert "plans.csv line 3, column deductible" in " ".join(result.output.split())
    assert not (tmp_path / "out" / "summary.json").exists()


def test_a_claim_dated_where_no_release_is_loaded_pends_and_is_decided_once_it_is(
    tmp_path: Path,
) -> None:
    # Given the two-claim sample (services in November 2026) processed with the
    # shipped releases only (an empty --code-sets directory: FY2027 not loaded)
    empty = tmp_path / "no-releases"
    empty.mkdir()
    inbound = tmp_path / "inbound"
    inbound.mkdir()
    shutil.copy(ACK_FIXTURES / "valid-two-claims.837", inbound / "in.837")
    out = tmp_path / "out"
    result = runner.invoke(app, ["process", str(inbound / "in.837"), "--out", str(out),
                                 "--quiet", "--as-of", "2026-11-23", "--received",
                                 "2026-11-23", "--code-sets", str(empty)])
    assert result.exit_code == 0, result.output
    entry = RunSummary.model_validate_json((out / "summary.json").read_text()).files[0]
    # Then the 277CA accepts both, and adjudication pends them: nothing decides the codes
    assert [c.status for c in entry.claims] == ["pended", "pended"]
    icn = entry.claims[0].payer_claim_control_number or ""
    pended = _decision(out, icn)
    assert pended.lines[0].pend_reason is not None
    assert "no ICD-10-CM release loaded is in force on 2026-11-05 (FY2027)" in (
        pended.lines[0].pend_reason)
    # When a reviewer releases it with FY2027 loaded (the tests' EDI_CODE_SETS_DIR)
    released = runner.invoke(app, ["pends", "release", icn, "--out", str(out),
                                   "--reviewer", "analyst.one"])
    assert released.exit_code == 0, released.output
    # Then it is decided on its merits and paid, the release that decided in its trace
    decision = _decision(out, icn)
    assert decision.status == "paid" and decision.paid > 0
    step = next(s for s in decision.trace if s.rule_id == "DIAGNOSIS-CODE-SET")
    assert "FY2027" in dict(step.shown)["release"]


def test_pends_a_data_load_resolves_are_decided_again_in_one_command(tmp_path: Path) -> None:
    # Given the two-claim sample and the no-fee sample (services in November 2026)
    # processed without FY2027: each claim pends for want of the release in force
    empty = tmp_path / "no-releases"
    empty.mkdir()
    inbound = tmp_path / "inbound"
    inbound.mkdir()
    files = []
    for source in (ACK_FIXTURES / "valid-two-claims.837", PEND):
        shutil.copy(source, inbound / source.name)
        files.append(str(inbound / source.name))
    out = tmp_path / "out"
    result = runner.invoke(app, ["process", *files, "--out", str(out), "--quiet", "--as-of",
                                 "2026-11-23", "--received", "2026-11-23",
                                 "--code-sets", str(empty)])
    assert result.exit_code == 0, result.output
    summary = RunSummary.model_validate_json((out / "summary.json").read_text())
    claims = {c.patient_control_number: c for e in summary.files for c in e.claims}
    # (PCN-0502 repeats PCN-0002's service: denied OA-18 before its diagnoses matter)
    assert [claims[p].status for p in ("PCN-0001", "PCN-0002", "PCN-0501")] == ["pended"] * 3
    # When an operator who has loaded FY2027 (the tests' EDI_CODE_SETS_DIR) asks for the
    # claims DIAGNOSIS-CODE-SET pended to be decided again
    unknown = runner.invoke(app, ["pends", "redecide", "--out", str(out), "--reviewer", "ops",
                                  "--rule", "NO-SUCH-RULE"])
    assert unknown.exit_code == 2 and "--rule" in unknown.output
    done = runner.invoke(app, ["pends", "redecide", "--out", str(out), "--reviewer", "ops",
                               "--rule", "DIAGNOSIS-CODE-SET"])
    assert done.exit_code == 0, done.output
    # Then the two sample claims are paid, released under the operator's name
    for pcn in ("PCN-0001", "PCN-0002"):
        icn = claims[pcn].payer_claim_control_number or ""
        assert _decision(out, icn).status == "paid", pcn
    # And the claim with no fee on file is decided again but pends again (now at
    # PRICING, for a person's allowed amount): nothing is written for it
    no_fee = claims["PCN-0501"].payer_claim_control_number or ""
    assert claims["PCN-0501"].rules == ["DIAGNOSIS-CODE-SET"]
    store = run_store(out)
    with store.transaction() as s:
        released = sorted(r.icn for r in s.scalars(select(PendRelease)))
        versions = {icn: v for icn, v in s.execute(
            select(DecisionRecord.icn, DecisionRecord.version)
            .where(DecisionRecord.current.is_(True)))}
    store.dispose()
    paid = sorted(claims[p].payer_claim_control_number or "" for p in ("PCN-0001", "PCN-0002"))
    assert released == paid and versions[no_fee] == 1
    assert "still pended" in done.output and "2 decided" in done.output


def test_redeciding_a_pend_the_engine_cannot_decide_leaves_it_pended_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a claim pended for want of a fee, and an engine that raises on it
    (entry,) = _process(tmp_path, PEND).files
    icn = next(c.payer_claim_control_number for c in entry.claims
               if c.patient_control_number == "PCN-0501") or ""
    out = tmp_path / "out"

    def broken(*_args: object, **_kwargs: object) -> Decision:
        raise RuntimeError("an engine bug")

    monkeypatch.setattr("workers.review_cli.adjudicate", broken)
    # When the pends are decided again
    result = runner.invoke(app, ["pends", "redecide", "--out", str(out), "--reviewer", "ops"])
    # Then the command says which claim was not decided and exits 1; the pend stands
    assert result.exit_code == 1, result.output
    assert f"{icn}: not decided: the engine could not decide this claim" in result.output
    assert _decision(out, icn).status == "pended"
