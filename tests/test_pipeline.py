"""`claims process`: every file answered, every claim listed, nothing processed twice."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from tests.paths import ACK_FIXTURES
from workers.cli import app
from workers.summary import RunSummary

runner = CliRunner()


def _run(tmp_path: Path, names: list[str], out: str = "out", *extra: str) -> RunSummary:
    inbound = tmp_path / "inbound"
    inbound.mkdir(exist_ok=True)
    files = []
    for name in names:
        target = inbound / name
        if not target.exists():
            shutil.copy(ACK_FIXTURES / name, target)
        files.append(str(target))
    result = runner.invoke(app, ["process", *files, "--out", str(tmp_path / out), "--quiet",
                                 "--as-of", "2026-11-23", "--received", "2026-11-23", *extra])
    assert result.exit_code == 0, result.output
    return RunSummary.model_validate_json((tmp_path / out / "summary.json").read_text())


def test_a_clean_file_is_processed_with_a_999_and_every_claim_accepted(tmp_path: Path) -> None:
    summary = _run(tmp_path, ["valid-two-claims.837"])
    (entry,) = summary.files
    assert (entry.status, entry.ack, entry.ack_code) == ("processed", "999", "A")
    assert Path(entry.ack_path).name == f"valid-two-claims-{entry.sha256[:12]}.999"
    assert Path(entry.ack_path).read_text().startswith("ISA*")
    assert [(c.patient_control_number, c.front_end, c.charge) for c in entry.claims] == [
        ("PCN-0001", "accepted", "300.00"), ("PCN-0002", "accepted", "150.00")]
    assert summary.as_of == "2026-11-23"
    # the --out the run made is its account's alone: the store, the archive, summary.json
    # and the answers are PHI (it was left to the umask, 0755)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o700


def test_claims_of_a_rejected_transaction_set_are_not_reached_and_the_rest_go_on(
    tmp_path: Path,
) -> None:
    (entry,) = _run(tmp_path, ["two-sets-one-bad.837"]).files
    assert (entry.status, entry.ack_code) == ("processed", "P")
    assert {c.patient_control_number: c.front_end for c in entry.claims} == {
        "PCN-0001": "accepted", "PCN-0002": "accepted",
        "PCN-0003": "not_reached", "PCN-0004": "not_reached"}


def test_broken_files_are_rejected_with_a_ta1_or_999_and_never_crash(tmp_path: Path) -> None:
    names = ["ta1-garbage.837", "ta1-empty.837", "ta1-pdf.837", "ta1-truncated.837",
             "ta1-isa-wrong-length.837", "ta1-wrong-receiver.837", "non-ascii-name.837",
             "missing-billing-name.837"]
    summary = _run(tmp_path, names)
    by_name = {Path(f.path).name: f for f in summary.files}
    for name in names:
        entry = by_name[name]
        assert entry.status == "rejected", name
        assert entry.ack_code == "R", name
        assert entry.problems, f"{name} carries no sentence saying what is wrong"
        assert Path(entry.ack_path).exists()
    assert by_name["ta1-empty.837"].ack == "TA1"
    assert by_name["non-ascii-name.837"].ack == "999"


def test_the_same_file_received_twice_is_a_duplicate_and_its_claims_are_not_processed_again(
    tmp_path: Path,
) -> None:
    first = _run(tmp_path, ["valid-two-claims.837"])
    second = _run(tmp_path, ["valid-two-claims.837"])
    assert first.files[0].status == "processed"
    (again,) = second.files
    assert (again.status, again.ack, again.claims) == ("duplicate", "TA1", [])
    assert "*R*025~" in Path(again.ack_path).read_text()


def test_the_same_bytes_twice_in_one_run_are_answered_once_and_then_as_a_duplicate(
    tmp_path: Path,
) -> None:
    # Given one run given the same file under two names (a clearinghouse's batch that
    # holds it twice)
    inbound = tmp_path / "inbound"
    inbound.mkdir()
    shutil.copy(ACK_FIXTURES / "valid-two-claims.837", inbound / "batch-a.837")
    shutil.copy(ACK_FIXTURES / "valid-two-claims.837", inbound / "batch-b.837")
    os.utime(inbound / "batch-b.837", (2_000_000_000, 2_000_000_000))  # received second
    summary = _run(tmp_path, ["batch-a.837", "batch-b.837"])
    # Then the first is processed and the second is its duplicate (TA1 025, no claims),
    # where both used to be reported processed and answered with the same 999
    first, second = summary.files
    assert (first.status, first.ack, len(first.claims)) == ("processed", "999", 2)
    assert (second.status, second.ack, second.claims) == ("duplicate", "TA1", [])
    assert "*R*025~" in Path(second.ack_path).read_text()
    assert Path(second.ack_path).name.startswith("batch-b-")


def test_a_duplicate_in_one_run_never_takes_the_first_files_ta1_name(tmp_path: Path) -> None:
    # Given the same bytes under one name in two folders, the first answered by a TA1
    # (sent to another receiver): the duplicate's TA1 025 was written over the first's
    # TA1 008, both summary entries naming one file (found by an audit, 2026-12-01)
    data = (ACK_FIXTURES / "valid-two-claims.837").read_text().replace(
        "*ZZ*87726          *", "*ZZ*99999          *")
    files = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.837").write_text(data)
        files.append(str(tmp_path / folder / "same.837"))
    os.utime(files[1], (2_000_000_000, 2_000_000_000))  # received second
    result = runner.invoke(app, ["process", *files, "--out", str(tmp_path / "out"), "--quiet",
                                 "--as-of", "2026-11-23", "--received", "2026-11-23"])
    assert result.exit_code == 0, result.output
    first, second = RunSummary.model_validate_json(
        (tmp_path / "out" / "summary.json").read_text()).files
    # Then each keeps its own answer
    assert (first.status, first.ack, second.status) == ("rejected", "TA1", "duplicate")
    assert first.ack_path != second.ack_path
    assert "*R*008~" in Path(first.ack_path).read_text()
    assert "*R*025~" in Path(second.ack_path).read_text()
    assert Path(second.ack_path).name.endswith("-duplicate.ta1")


def test_an_interchange_control_number_reused_by_the_same_sender_is_rejected(
    tmp_path: Path,
) -> None:
    _run(tmp_path, ["valid-two-claims.837"])
    inbound = tmp_path / "inbound"
    changed = (ACK_FIXTURES / "valid-two-claims.837").read_bytes().replace(b"PCN-0001", b"PCN-0009")
    (inbound / "resent.837").write_bytes(changed)
    (entry,) = _run(tmp_path, ["resent.837"]).files
    assert (entry.status, entry.ack, entry.ack_code) == ("rejected", "TA1", "R")
    assert all(c.front_end == "not_reached" for c in entry.claims)


def test_logs_carry_control_numbers_and_hashes_but_no_names_or_member_ids(
    tmp_path: Path, capsys: object
) -> None:
    inbound = tmp_path / "inbound"
    inbound.mkdir()
    shutil.copy(ACK_FIXTURES / "valid-two-claims.837", inbound)
    result = runner.invoke(app, ["process", str(inbound / "valid-two-claims.837"), "--out",
                                 str(tmp_path / "out"), "--quiet", "--log-level", "INFO"])
    assert result.exit_code == 0
    logged = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "file.processed" in logged and "000000101" in logged
    for phi in ("SAMPLE", "ALEX", "OBH000001", "F321", "19850412"):
        assert phi not in logged


def test_a_usage_error_exits_non_zero(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["process", str(tmp_path / "nope.837"), "--out", str(tmp_path)])
    assert missing.exit_code == 2
    bad_date = runner.invoke(app, ["process", str(ACK_FIXTURES / "valid-two-claims.837"),
                                   "--out", str(tmp_path), "--as-of", "23/11/2026"])
    assert bad_date.exit_code == 2
    level = runner.invoke(app, ["process", str(ACK_FIXTURES / "valid-two-claims.837"),
                                "--out", str(tmp_path), "--log-level", "garbage"])
    assert level.exit_code == 2 and "--log-level" in level.output  # was taken as WARNING
    assert not (tmp_path / "summary.json").exists()


def test_summary_json_keeps_the_documented_field_names(tmp_path: Path) -> None:
    _run(tmp_path, ["valid-two-claims.837"])
    raw = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert set(raw) >= {"as_of", "files"}
    assert set(raw["files"][0]) >= {"path", "sha256", "status", "ack", "ack_code", "ack_path",
                                     "claims"}
    assert set(raw["files"][0]["claims"][0]) >= {"patient_control_number", "front_end",
                                                  "front_end_codes", "charge"}


def test_a_set_the_reader_cannot_follow_returns_all_its_claims_as_unprocessable() -> None:
    # Given a transaction set treated as accepted whose service date the reader rejects
    from datetime import date

    from edi.front_end import InMemoryClaimNumbers
    from edi.validators.edits import EditContext
    from workers.front_end import run_front_end

    class AcceptEverything:
        def accepted_ordinals(self) -> frozenset[int]:
            return frozenset({1})

    # When the front end runs over it
    result = run_front_end(ACK_FIXTURES / "invalid-service-date.837",
                           AcceptEverything(),  # type: ignore[arg-type]
                           EditContext(received=date(2026, 11, 23)), InMemoryClaimNumbers())
    # Then every claim of the set is returned as unprocessable, with no claim number
    assert [(c.patient_control_number, c.front_end, c.front_end_codes,
             c.payer_claim_control_number) for c in result.claims] == [
        ("PCN-0001", "rejected", ["A3:21"], None), ("PCN-0002", "rejected", ["A3:21"], None)]
    # And the set is still answered on the 277CA, status 21 with its partner (0, no
    # further status electronically) in STC10, and pyx12 accepts the 277CA
    assert [len(ts.claims) for ts in result.answered] == [2]
    from edi.ack277 import render_277ca
    from edi.acks import CountingControlNumbers, Responder
    from edi.validators.outbound import outbound_problems

    text = render_277ca(result.answered, Responder(
        when=datetime(2026, 11, 23, 12, tzinfo=UTC), control=CountingControlNumbers()))
    stc = [seg for seg in (s.strip() for s in text.split("~")) if seg.startswith("STC*A3")]
    assert len(stc) == 2
    for segment in stc:
        elements = segment.split("*")
        assert elements[1] == "A3:21" and elements[3] == "U" and elements[10] == "A3:0"
    assert outbound_problems(text) == []


def test_the_claims_of_a_file_cut_short_are_still_listed(tmp_path: Path) -> None:
    (entry,) = _run(tmp_path, ["ta1-truncated.837"]).files
    assert [(c.patient_control_number, c.front_end) for c in entry.claims] == [
        ("PCN-0001", "not_reached")]


def test_a_test_interchange_is_answered_in_test_acknowledgments_and_never_paid(
        tmp_path: Path) -> None:
    # Given the sample claims sent as a test interchange (ISA15 = T), which asks for
    # test processing (X12 RFI 34): they were adjudicated and paid in a production 835,
    # and their fingerprints taken (found by an audit, 2026-12-01)
    from workers.front_end import TEST_CLAIM

    inbound = tmp_path / "inbound"
    inbound.mkdir()
    data = (ACK_FIXTURES / "valid-two-claims.837").read_text()
    (inbound / "test.837").write_text(data.replace("*000000101*1*P*", "*000000777*1*T*")
                                      .replace("IEA*1*000000101~", "IEA*1*000000777~"))
    (entry,) = _run(tmp_path, ["test.837"]).files
    # Then the 999 and the 277CA are test interchanges too
    for path in (entry.ack_path, entry.claim_ack_path or ""):
        isa = Path(path).read_text().split("~", 1)[0].split("*")
        assert isa[15] == "T", path
    # and each claim is checked and answered on the 277CA as production would be...
    assert "REF*1K*" in Path(entry.claim_ack_path or "").read_text()
    assert [(c.front_end, c.status, c.reasons) for c in entry.claims] == [
        ("accepted", None, [TEST_CLAIM])] * 2
    # ...and nothing is decided or paid
    assert list((tmp_path / "out").glob("*.835")) == []
    # And the same claims sent for production later are decided on their merits, not
    # as duplicates of the test
    (production,) = _run(tmp_path, ["valid-two-claims.837"]).files
    assert [(c.front_end, c.status) for c in production.claims] == [
        ("accepted", "paid"), ("accepted", "paid")]


def test_a_charge_of_seventeen_digits_is_rejected_with_a_valid_277ca_and_the_rest_go_on(
        tmp_path: Path) -> None:
    # Given a claim whose CLM02 and SV102 have 17 digits, which the 837 allows (R 1-18):
    # storing its charge was an OverflowError, the file stuck without a 999 or a 277CA,
    # and its 277CA's STC04 had 19 digits (found by an audit, 2026-12-01)
    from edi.validators.outbound import outbound_problems

    inbound = tmp_path / "inbound"
    inbound.mkdir()
    huge = "99999999999999999"
    data = (ACK_FIXTURES / "valid-two-claims.837").read_text()
    (inbound / "huge.837").write_text(
        data.replace("CLM*PCN-0001*300*", f"CLM*PCN-0001*{huge}*")
        .replace("SV1*HC:90837*200*", f"SV1*HC:90837*{int(huge) - 100}*"))
    (entry,) = _run(tmp_path, ["huge.837"]).files
    # Then the claim is rejected, saying why, and the other one goes on
    assert (entry.status, entry.ack_code) == ("processed", "A")
    first, second = entry.claims
    # (the store, and so summary.json, keeps such a charge as the first cent over the
    # largest the payer takes; the 277CA echoes it as received)
    assert (first.front_end, first.front_end_codes, first.charge) == (
        "rejected", ["A7:178", "A7:583"], "100000000.00")
    assert "over 99,999,999.99" in first.reasons[0]
    assert (second.front_end, second.status is not None) == ("accepted", True)
    # and the 277CA echoes its charge as received, and is valid X12
    text = Path(entry.claim_ack_path or "").read_text()
    assert f"*U*{huge}*" in text and f"AMT*YY*{huge}~" in text
    assert outbound_problems(text) == []


def test_charges_too_large_to_add_up_leave_the_277ca_totals_at_the_largest_amount(
        tmp_path: Path) -> None:
    # Given both claims of a set charged 18 digits, the most an 837 amount carries: their
    # sum has 19, and the 277CA's totals (2200B and 2200C STC04, AMT*YY) overran their
    # elements, so the partner's translator would refuse the 277CA and its rejections
    from edi.validators.outbound import outbound_problems

    inbound = tmp_path / "inbound"
    inbound.mkdir()
    huge = "9" * 18
    data = (ACK_FIXTURES / "valid-two-claims.837").read_text()
    (inbound / "huge.837").write_text(
        data.replace("CLM*PCN-0001*300*", f"CLM*PCN-0001*{huge}*")
        .replace("SV1*HC:90837*200*", f"SV1*HC:90837*{int(huge) - 100}*")
        .replace("CLM*PCN-0002*150*", f"CLM*PCN-0002*{huge}*")
        .replace("SV1*HC:90834*150*", f"SV1*HC:90834*{huge}*"))
    # When the file is processed
    (entry,) = _run(tmp_path, ["huge.837"]).files
    # Then both claims are rejected, each echoed at 2200D as its 837 sent it
    assert [c.front_end for c in entry.claims] == ["rejected", "rejected"]
    text = Path(entry.claim_ack_path or "").read_text()
    segments = [s.strip() for s in text.split("~")]
    assert sum(s.startswith("STC*A7:178*") and f"*U*{huge}*" in s for s in segments) == 2
    # and the totals, which cannot say 1999999999999999998, say the largest amount the
    # element carries, in a 277CA that is valid X12
    assert [s for s in segments if s.startswith("STC*A1:19:PR")] == [
        f"STC*A1:19:PR*20261123*U*{huge}", f"STC*A1:19:PR**U*{huge}"]
    assert [s for s in segments if s.startswith("AMT")] == [f"AMT*YY*{huge}"] * 2
    assert outbound_problems(text) == []
