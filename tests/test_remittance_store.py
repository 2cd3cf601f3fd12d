"""Payment cycles through the store: released once, proven first, refused whole."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import remittance.cycle
import workers.remit
from edi.parsers.remit835 import read_835
from edi.validators.outbound import outbound_problems
from remittance.balance import prove_interchanges
from store import migrate
from store.engine import Store
from store.models import DecisionRecord, PayeeBalance, PaymentCycle, RemittedClaim
from tests.databases import ack_text
from tests.paths import ACK_FIXTURES, FIXTURES
from tests.pyx12_oracle import pyx12_accepts
from workers.archive import archive_path
from workers.cli import app
from workers.decisions import decision_from_record

runner = CliRunner()
AS_OF = "2026-01-16"
PEND = FIXTURES / "adjudication" / "pend-no-fee.837"
PEND_AS_OF = "2026-11-23"
TWO_CLAIMS = ACK_FIXTURES / "valid-two-claims.837"


def _process(tmp_path: Path, url: str, *extra: str, sources: list[Path] | None = None,
             as_of: str = AS_OF) -> dict[str, Any]:
    inbound = tmp_path / "inbound"
    inbound.mkdir(exist_ok=True)
    files = []
    for source in sources or sorted((FIXTURES / "837p").glob("*.837")):
        shutil.copy(source, inbound / source.name)
        files.append(str(inbound / source.name))
    result = runner.invoke(app, ["process", *files, "--out", str(tmp_path / "out"), "--db", url,
                                 "--quiet", "--as-of", as_of, "--received", as_of, *extra])
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads((tmp_path / "out" / "summary.json").read_text())
    return summary


def _count(url: str, model: Any, *where: Any) -> int:
    store = Store(url)
    try:
        with store.transaction() as s:
            return s.scalar(select(func.count()).select_from(model).where(*where)) or 0
    finally:
        store.dispose()


def test_a_cycle_pays_each_decided_claim_once_in_balanced_valid_835s(
    database_url: str, tmp_path: Path,
) -> None:
    migrate.upgrade(database_url)
    summary = _process(tmp_path, database_url)
    remittances = summary["remittances"]
    assert remittances and summary["remittance_problems"] == []
    remitted: Counter[str] = Counter()
    for r in remittances:
        assert r["balanced"] is True
        text = Path(r["path"]).read_text()
        assert Path(r["path"]).name == f"{r['payee_npi']}-{r['trace']}.835"
        assert outbound_problems(text) == [] and pyx12_accepts(text)
        interchanges = read_835(io.BytesIO(text.encode()))
        assert prove_interchanges(interchanges) == []
        (ts,) = [t for ic in interchanges for g in ic.groups for t in g.transactions]
        assert ts.amount == Decimal(r["payment"]) and ts.trace_number == r["trace"]
        assert (ts.method == "NON") == (ts.amount == 0)
        remitted.update(c.payer_claim_control_number for c in ts.claims if c.status != "22")
        assert Path(r["html_path"]).read_text().startswith("<!DOCTYPE html>")
    # every decided claim that is not pended is in exactly one CLP, and no other claim is
    decided = {c["payer_claim_control_number"] for f in summary["files"] for c in f["claims"]
               if c.get("status") not in (None, "pended", "voided")}
    assert set(remitted) == decided and set(remitted.values()) == {1}
    traces = [r["trace"] for r in remittances]
    assert len(traces) == len(set(traces))


def test_running_the_cycle_again_releases_nothing_twice(database_url: str,
                                                        tmp_path: Path) -> None:
    migrate.upgrade(database_url)
    _process(tmp_path, database_url)
    rows = _count(database_url, RemittedClaim)
    out = tmp_path / "out"
    before = sorted(p.name for p in out.glob("*.835"))
    result = runner.invoke(app, ["remit", "--as-of", AS_OF, "--out", str(out),
                                 "--db", database_url])
    assert result.exit_code == 0, result.output
    assert "nothing to remit" in result.output
    assert _count(database_url, RemittedClaim) == rows
    assert sorted(p.name for p in out.glob("*.835")) == before
    assert _count(database_url, PaymentCycle, PaymentCycle.outcome == "empty") == 1


def _timeless(x12: str) -> list[list[str]]:
    """An 835's segments without the times of its writing (ISA09-10, GS04-05, DTM*405),
    which the two runs of a test may take a minute apart."""
    segments = [segment.strip().split("*") for segment in x12.split("~") if segment.strip()]
    for elements in segments:
        if elements[0] == "ISA":
            elements[9:11] = ["", ""]
        elif elements[0] == "GS" or elements[:2] == ["DTM", "405"]:
            elements[4 if elements[0] == "GS" else 2:] = []
    return segments


class _Killed(BaseException):
    """The run stopped as by SIGKILL: nothing after it runs, no handler catches it."""


@contextlib.contextmanager
def _killed_at_the_first_835(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command run within stops (`_Killed`) as it copies its first 835 into --out,
    once its cycle is released."""
    import workers.pipeline

    real_copy = workers.pipeline.copy_atomically

    def killed(source: Path, target: Path) -> None:
        if target.suffix == ".835":
            raise _Killed
        real_copy(source, target)

    with monkeypatch.context() as patch:
        patch.setattr(workers.pipeline, "copy_atomically", killed)
        with pytest.raises(_Killed):
            yield


def test_a_run_killed_after_its_cycle_was_released_copies_that_cycle_s_835s_when_resumed(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run stops once its cycle is released, before any 835 is in --out; the same
    command again resumes the run. Before 2026-12-02 it ran a second, empty cycle:
    summary.json listed no 835 and --out had none, though the store had paid them."""
    migrate.upgrade(database_url)
    (tmp_path / "whole").mkdir()
    uninterrupted = "sqlite:///" + str(tmp_path / "whole.db")
    migrate.upgrade(uninterrupted)
    whole = _process(tmp_path / "whole", uninterrupted)
    assert whole["remittances"]
    with _killed_at_the_first_835(monkeypatch):
        _process(tmp_path, database_url)
    out = tmp_path / "out"
    assert not list(out.glob("*.835")) and not (out / "summary.json").exists()
    assert _count(database_url, PaymentCycle, PaymentCycle.outcome == "released") == 1
    resumed = _process(tmp_path, database_url)
    assert _count(database_url, PaymentCycle) == 1  # no second cycle ran

    def shown(summary: dict[str, Any]) -> list[dict[str, Any]]:
        return [{**r, "path": Path(r["path"]).name, "html_path": Path(r["html_path"]).name}
                for r in summary["remittances"]]

    assert shown(resumed) == shown(whole)
    assert resumed["remittance_problems"] == whole["remittance_problems"] == []
    for r in resumed["remittances"]:
        assert Path(r["path"]).parent == out
        assert _timeless(Path(r["path"]).read_text()) == _timeless(
            (tmp_path / "whole" / "out" / Path(r["path"]).name).read_text())
        assert Path(r["html_path"]).is_file()


def test_claims_remit_killed_after_its_cycle_was_released_copies_its_835s_when_run_again(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """claims remit stops once its cycle is released, before any 835 is in --out; the
    same command again copies that cycle's 835s, and only the run after that pays what
    was decided since. Before 2026-12-02 the second ran an empty cycle ("nothing to
    remit") and the released 835s never reached --out."""
    migrate.upgrade(database_url)
    _process(tmp_path, database_url, "--no-remit")
    out = tmp_path / "out"
    remit = ["remit", "--as-of", AS_OF, "--out", str(out), "--db", database_url]
    with _killed_at_the_first_835(monkeypatch):
        runner.invoke(app, remit, catch_exceptions=False)
    assert not list(out.glob("*.835")) and not (out / "remittances.json").exists()
    assert _count(database_url, PaymentCycle, PaymentCycle.outcome == "released") == 1
    again = runner.invoke(app, remit)
    assert again.exit_code == 0, again.output
    assert _count(database_url, PaymentCycle) == 1  # no second cycle ran
    listing = json.loads((out / "remittances.json").read_text())
    assert listing["remittances"] and listing["remittance_problems"] == []
    for r in listing["remittances"]:
        assert Path(r["path"]).parent == out and Path(r["path"]).is_file()
    # Then the next claims remit runs a new cycle (nothing left to pay: empty)
    third = runner.invoke(app, remit)
    assert third.exit_code == 0 and "nothing to remit" in third.output, third.output
    assert _count(database_url, PaymentCycle) == 2
    assert json.loads((out / "remittances.json").read_text())["remittances"] == []


def test_a_cycle_date_that_is_not_a_plain_day_of_this_century_is_a_usage_error(
    database_url: str, tmp_path: Path,
) -> None:
    # Given decided claims waiting for a cycle (found by an audit: --as-of 9999-12-31
    # released 835s promising funds that day, and 20260101 or 2026-W01-1 were read)
    migrate.upgrade(database_url)
    _process(tmp_path, database_url, "--no-remit")
    out = tmp_path / "out"
    for day in ("9999-12-31", "1999-12-31", "20260116", "2026-W03-5", "2026-02-30", "",
                "２０２６-01-16"):
        result = runner.invoke(app, ["remit", "--as-of", day, "--out", str(out),
                                     "--db", database_url])
        # Then it is refused naming --as-of, and no cycle is run
        assert result.exit_code == 2 and "--as-of" in result.output, (day, result.output)
        assert "Traceback" not in result.output
    assert _count(database_url, PaymentCycle) == 0
    refused = runner.invoke(app, ["process", str(TWO_CLAIMS), "--out", str(tmp_path / "b"),
                                  "--received", ""])
    assert refused.exit_code == 2 and "--received" in refused.output
    assert runner.invoke(app, ["remit", "--as-of", f" {AS_OF} ", "--out", str(out),
                               "--db", database_url]).exit_code == 0


def test_a_released_pend_is_paid_in_the_next_cycle(database_url: str, tmp_path: Path) -> None:
    migrate.upgrade(database_url)
    summary = _process(tmp_path, database_url, sources=[PEND], as_of=PEND_AS_OF)
    pended = [c["payer_claim_control_number"] for f in summary["files"] for c in f["claims"]
              if c.get("status") == "pended"]
    assert pended, "the fixtures hold a claim pended for a person"
    out = tmp_path / "out"
    released = runner.invoke(app, ["pends", "release", pended[0], "--allowed", "1=80.00",
                                   "--reviewer", "analyst", "--note", "fee agreed",
                                   "--out", str(out), "--db", database_url])
    assert released.exit_code == 0, released.output
    result = runner.invoke(app, ["remit", "--as-of", PEND_AS_OF, "--out", str(out),
                                 "--db", database_url])
    assert result.exit_code == 0, result.output
    listed = json.loads((out / "remittances.json").read_text())["remittances"]
    assert [r["claims"] for r in listed] == [[pended[0]]]


def test_an_835_that_does_not_balance_is_not_released_and_nothing_is_remitted(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a defect that pays one claim a cent more than its lines say
    original = remittance.cycle.claim_payment
    broken: list[str] = []

    def off_by_a_cent(decision: Any, claim: Any) -> Any:
        payment = original(decision, claim)
        if not broken and payment.paid > 0:
            broken.append(payment.payer_claim_control_number)
            return replace(payment, paid=payment.paid + Decimal("0.01"))
        return payment

    monkeypatch.setattr(remittance.cycle, "claim_payment", off_by_a_cent)
    migrate.upgrade(database_url)
    summary = _process(tmp_path, database_url)
    # Then the cycle is refused: no 835 released, nothing recorded as remitted, and
    # the problems name the claim and the rules it broke
    assert broken, "the defect found a paid claim"
    assert all(r["path"] is None for r in summary["remittances"]), summary["remittance_problems"]
    assert any(r["balanced"] is False for r in summary["remittances"])
    assert list((tmp_path / "out").glob("*.835")) == []
    assert _count(database_url, RemittedClaim) == 0
    assert _count(database_url, PayeeBalance) == 0
    problems = summary["remittance_problems"]
    assert [p.split(": ", 2)[1] for p in problems] == ["claim"]
    assert f"({broken[0]})" in problems[0] and "is not CLP04" in problems[0]
    # When the defect is gone, the next cycle releases every claim
    monkeypatch.setattr(remittance.cycle, "claim_payment", original)
    result = runner.invoke(app, ["remit", "--as-of", AS_OF, "--out", str(tmp_path / "out"),
                                 "--db", database_url])
    assert result.exit_code == 0, result.output
    assert _count(database_url, RemittedClaim) > 0
    assert _count(database_url, RemittedClaim, RemittedClaim.icn == broken[0]) == 1


def test_process_no_remit_decides_but_pays_nobody(database_url: str, tmp_path: Path) -> None:
    migrate.upgrade(database_url)
    summary = _process(tmp_path, database_url, "--no-remit")
    assert summary["remittances"] == []
    assert _count(database_url, DecisionRecord) > 0
    assert _count(database_url, RemittedClaim) == 0


def _variant(source: Path, target: Path, isa13: str, *, edits: list[tuple[str, str]]) -> Path:
    text = source.read_text().replace("000000101", isa13)
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


def _processed(url: str, out: Path, day: str, path: Path, *extra: str) -> dict[str, Any]:
    """``claims process`` of one file received and decided on ``day``: its summary."""
    result = runner.invoke(app, ["process", str(path), "--out", str(out), "--db", url,
                                 "--quiet", "--as-of", day, "--received", day, *extra])
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


def test_a_void_carries_a_forward_balance_that_the_next_cycle_recovers(
    database_url: str, tmp_path: Path,
) -> None:
    migrate.upgrade(database_url)
    out, day = tmp_path / "out", "2026-11-23"

    def process(path: Path) -> dict[str, Any]:
        return _processed(database_url, out, day, path)

    # Given PCN-0001 paid and remitted in a first cycle
    first = process(_variant(TWO_CLAIMS, tmp_path / "in" / "first.837", "000000101", edits=[]))
    (icn,) = [c["payer_claim_control_number"] for f in first["files"] for c in f["claims"]
              if c["patient_control_number"] == "PCN-0001"]
    paid = Decimal(next(c["paid"] for f in first["files"] for c in f["claims"]
                        if c["payer_claim_control_number"] == icn))
    assert paid > 0
    # When the provider voids it (frequency 8, REF*F8) and nothing else is paid
    voided = process(_variant(TWO_CLAIMS, tmp_path / "in" / "void.837", "000000102", edits=[
        ("CLM*PCN-0001*300***11:B:1*Y*A*Y*Y~", f"CLM*PCN-0001*300***11:B:8*Y*A*Y*Y~REF*F8*{icn}~"),
        ("CLM*PCN-0002*150***11:B:1*", "CLM*PCN-0002*150***11:B:8*"),
        ("SE*42*0001", "SE*43*0001")]))
    (remittance,) = [r for r in voided["remittances"] if r["payee_npi"] == "1234567893"]
    text = Path(remittance["path"]).read_text()
    # Then the 835 pays 0.00, reverses the original and carries the balance as FB
    assert remittance["method"] == "NON" and remittance["payment"] == "0.00"
    assert f"CLP*PCN-0001*22*-300.00*-{paid:.2f}*" in text
    assert f"PLB*1234567893*20261231*FB:{icn}*-{paid:.2f}~" in text
    assert _count(database_url, PayeeBalance, PayeeBalance.amount_cents == int(paid * 100)) == 1
    # And the next cycle that pays the payee recovers it first (WO) and owes nothing more
    later = process(_variant(TWO_CLAIMS, tmp_path / "in" / "later.837", "000000103", edits=[
        ("DTP*472*D8*20261105", "DTP*472*D8*20261112"), ("PCN-0001", "PCN-0011"),
        ("PCN-0002", "PCN-0012")]))
    (again,) = [r for r in later["remittances"] if r["payee_npi"] == "1234567893"]
    text = Path(again["path"]).read_text()
    assert f"PLB*1234567893*20261231*WO:{icn}*{paid:.2f}~" in text
    clp_paid = sum(Decimal(line.split("*")[4]) for line in text.split("~") if
                   line.strip().startswith("CLP*"))
    assert Decimal(again["payment"]) == clp_paid - paid
    assert _count(database_url, PayeeBalance, PayeeBalance.amount_cents > 0) == 0


def test_a_correction_of_an_original_this_engine_remitted_counts_its_window_from_the_835(
    database_url: str, tmp_path: Path,
) -> None:
    """Found by an audit: every original this engine had decided was taken as not
    remitted, so a replacement 197 days after its 835 was paid (the window is 180)."""
    migrate.upgrade(database_url)
    out = tmp_path / "out"

    def process(path: Path, day: str) -> dict[str, Any]:
        result = runner.invoke(app, ["process", str(path), "--out", str(out), "--db",
                                     database_url, "--quiet", "--as-of", day, "--received", day])
        assert result.exit_code == 0, result.output
        summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
        return summary

    # Given a commercial claim (PCN-0001) and a MassHealth one (PCN-0002) paid in an 835
    # of 2026-11-23
    first = process(_variant(TWO_CLAIMS, tmp_path / "in" / "first.837", "000000101", edits=[]),
                    "2026-11-23")
    icns = {c["patient_control_number"]: c["payer_claim_control_number"]
            for f in first["files"] for c in f["claims"]}
    assert first["remittances"] and all("BPR*" in Path(r["path"]).read_text()
                                        and "*20261123~" in Path(r["path"]).read_text()
                                        for r in first["remittances"])
    # When both are replaced 181 days later (2027-05-23): past the commercial window of
    # 180 days, within MassHealth's 365
    later = process(_variant(TWO_CLAIMS, tmp_path / "in" / "replaced.837", "000000102", edits=[
        ("CLM*PCN-0001*300***11:B:1*Y*A*Y*Y~",
         f"CLM*PCN-0101*300***11:B:7*Y*A*Y*Y~REF*F8*{icns['PCN-0001']}~"),
        ("CLM*PCN-0002*150***11:B:1*Y*A*Y*Y~",
         f"CLM*PCN-0102*150***11:B:7*Y*A*Y*Y~REF*F8*{icns['PCN-0002']}~"),
        ("SE*42*0001", "SE*44*0001")]), "2027-05-23")
    decided = {c["patient_control_number"]: c for f in later["files"] for c in f["claims"]}
    # Then the commercial replacement is denied CO-29 and its original stands; the
    # MassHealth one is decided on its merits
    assert decided["PCN-0101"]["status"] == "denied"
    assert [(a["group"], a["carc"]) for a in decided["PCN-0101"]["adjustments"]] == [
        ("CO", "29")]
    assert decided["PCN-0102"]["status"] in ("paid", "partially_paid")
    text = "".join(Path(r["path"]).read_text() for r in later["remittances"])
    assert f"*{icns['PCN-0001']}*" not in text.replace(f"REF*F8*{icns['PCN-0001']}", "")
    assert "CLP*PCN-0002*22*" in text and "CLP*PCN-0001*22*" not in text
    store = Store(database_url)
    try:
        with store.transaction() as s:
            data, trace = s.execute(select(DecisionRecord.data, DecisionRecord.trace).where(
                DecisionRecord.icn == decided["PCN-0101"]["payer_claim_control_number"],
                DecisionRecord.current.is_(True))).one()
    finally:
        store.dispose()
    (window,) = [step for step in decision_from_record(data, trace).trace
                 if step.rule_id == "CORRECTION-WINDOW"]
    assert window.conclusion == "late: 181 days after the original's remittance, limit 180"
    assert dict(window.inputs)["remittance_date"] == "2026-11-23"


def test_corrections_of_originals_from_the_stored_history_are_reversed_in_the_835(
    database_url: str, tmp_path: Path,
) -> None:
    """The originals of demo-lob-mix.837's replacements were paid by the system before
    this engine: their lines are in the stored reference history (past_claims.csv), and
    the cycle reverses them from there (never holds the corrections)."""
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY

    migrate.upgrade(database_url)
    loaded = runner.invoke(app, ["reference", "load", str(SHIPPED_REFERENCE_DIRECTORY),
                                 "--db", database_url])
    assert loaded.exit_code == 0, loaded.output
    summary = _process(tmp_path, database_url, sources=[FIXTURES / "837p" / "demo-lob-mix.837"])
    texts = "".join(Path(r["path"]).read_text() for r in summary["remittances"] if r["path"])
    # past_claims.csv: OBH260140315050 one line, charge 168.00, paid 73.54;
    # OBH253505066603 four lines of 228.00, each paid 96.90 (912.00 and 387.60)
    assert "*22*-168.00*-73.54*" in texts and "*OBH260140315050*" in texts
    assert "*22*-912.00*-387.60*" in texts and "*OBH253505066603*" in texts
    store = Store(database_url)
    try:
        with store.transaction() as s:
            (held,) = s.scalars(select(PaymentCycle.held))
    finally:
        store.dispose()
    assert held == []


def test_a_file_is_acknowledged_while_a_payment_cycle_is_still_open_on_postgresql(
    tmp_path: Path,
) -> None:
    """A cycle writes and checks every 835 before it commits (half a minute for 20,000
    claims). Its ISA13 and GS06 are taken in short transactions of their own, so a file
    arriving meanwhile gets its 999 at once instead of waiting for the cycle's commit
    on the sequences' rows; every number is still used once."""
    import threading
    from datetime import UTC, datetime

    from remittance.era import render_era
    from tests.databases import postgres_schema
    from workers import steps
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY, read_reference_dir
    from workers.reference_store import InMemoryReference
    from workers.service import Service, receive_into_service

    with postgres_schema() as url:
        migrate.upgrade(url)
        (tmp_path / "first").mkdir()
        _process(tmp_path / "first", url, "--no-remit")  # decided, waiting for a cycle
        store = Store(url)
        try:
            written, go_on = threading.Event(), threading.Event()

            def slow_advice(remittance: Any) -> str:  # called once the 835s are checked
                written.set()
                assert go_on.wait(120), "the test never let the cycle go on"
                return render_era(remittance)

            outcomes: list[workers.remit.CycleOutcome] = []
            cycle = threading.Thread(target=lambda: outcomes.append(workers.remit.run_cycle(
                store, tmp_path / "first" / "out" / "archive",
                as_of=datetime.fromisoformat(AS_OF).date(), now=datetime.now(tz=UTC),
                reference=InMemoryReference(*read_reference_dir(SHIPPED_REFERENCE_DIRECTORY)),
                render_html=slow_advice)))
            cycle.start()
            try:
                assert written.wait(120), "the cycle wrote no 835"
                service = Service(store, tmp_path / "second" / "archive",
                                  tmp_path / "second" / "outbound", None)
                upload = tmp_path / "two.837"
                shutil.copy(TWO_CLAIMS, upload)
                file_id, _ = receive_into_service(service, upload)
                acknowledged = threading.Thread(
                    target=steps.acknowledge_file, args=(service.context(), file_id))
                acknowledged.start()
                acknowledged.join(30)
                # the cycle is still open, and the file has its 999 all the same
                assert not acknowledged.is_alive() and cycle.is_alive()
            finally:
                go_on.set()
                cycle.join(120)
            assert outcomes and outcomes[0].outcome == "released"
            ack = ack_text(store, tmp_path / "second" / "archive", file_id)
            numbers = [ack.split("*")[13]] if ack else []
            for r in outcomes[0].remittances:
                assert r.sha256 is not None
                released = archive_path(tmp_path / "first" / "out" / "archive", r.sha256)
                numbers += [released.read_text().split("*")[13]]
            assert len(numbers) == 1 + len(outcomes[0].remittances) == len(set(numbers))
        finally:
            store.dispose()


def test_a_second_reversal_of_one_original_is_held_and_the_other_payees_are_paid(
    database_url: str, tmp_path: Path,
) -> None:
    """Two corrections decided at once could each reverse the same original (a pend
    released while another replacement was decided: since 2026-12-01 they take the same
    locks). Such a second reversal failed every later cycle, for every payee, on the
    store's key for it, with no cycle recorded. It is now held: listed on each cycle,
    never paid, while the cycle pays the rest."""
    from sqlalchemy.orm import make_transient

    from store.models import Claim

    migrate.upgrade(database_url)
    out, day = tmp_path / "out", "2026-11-23"

    def process(path: Path, *extra: str) -> dict[str, Any]:
        return _processed(database_url, out, day, path, *extra)

    first = process(_variant(TWO_CLAIMS, tmp_path / "in" / "first.837", "000000101", edits=[]))
    (icn,) = [c["payer_claim_control_number"] for f in first["files"] for c in f["claims"]
              if c["patient_control_number"] == "PCN-0001"]
    process(_variant(TWO_CLAIMS, tmp_path / "in" / "void.837", "000000102", edits=[
        ("CLM*PCN-0001*300***11:B:1*Y*A*Y*Y~", f"CLM*PCN-0001*300***11:B:8*Y*A*Y*Y~REF*F8*{icn}~"),
        ("PCN-0002", "PCN-0012"), ("DTP*472*D8*20261105", "DTP*472*D8*20261112"),
        ("SE*42*0001", "SE*43*0001")]), "--no-remit")
    # Given a twin of the void: a second current decision reversing the same original
    store = Store(database_url)
    try:
        with store.transaction() as s:
            void = s.scalar(select(DecisionRecord).join(Claim).where(
                Claim.original_icn == icn, DecisionRecord.current.is_(True)))
            assert void is not None
            claim = s.get(Claim, void.claim_id)
            assert claim is not None
            twin_icn = void.icn[:-1] + ("9" if void.icn[-1] != "9" else "8")
            s.expunge(claim)
            make_transient(claim)
            claim.id, claim.icn, claim.fingerprint = None, twin_icn, None  # type: ignore[assignment]
            s.add(claim)
            s.flush()
            s.expunge(void)
            make_transient(void)
            void.id, void.icn, void.claim_id = None, twin_icn, claim.id  # type: ignore[assignment]
            void.data = {**void.data, "icn": twin_icn}
            s.add(void)
    finally:
        store.dispose()
    # When two cycles run
    for _ in range(2):
        result = runner.invoke(app, ["remit", "--db", database_url, "--out", str(out),
                                     "--as-of", day])
        assert result.exit_code == 0, result.output
    # Then the first releases (the void's reversal and PCN-0012 paid) holding the twin,
    # and the second has nothing to pay but still lists the twin
    store = Store(database_url)
    try:
        with store.transaction() as s:
            cycles = list(s.execute(select(PaymentCycle.outcome, PaymentCycle.held)
                                    .order_by(PaymentCycle.id)))
    finally:
        store.dispose()
    assert cycles[-2:] == [("released", [twin_icn]), ("empty", [twin_icn])]
    assert _count(database_url, RemittedClaim, RemittedClaim.reverses_icn == icn) == 1
