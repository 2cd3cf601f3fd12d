"""`make demo` (`claims demo`): the README's first command, run as a newcomer runs it.

The run must need no service, leave every answer where it says, and end with one
upload through the service's actors on the in-process broker: its 999, 277CA and
835s in the partner's outbound folder (each accepted by pyx12), the same bytes again
answered with a TA1 note 025 and nothing decided twice; then it prints how to open
its store in the review screens (`claims user add`, `claims review`, the address).
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from store.engine import Store, sqlite_url
from store.models import DecisionRecord, DuplicateReceipt, ReceivedFile
from tests.pyx12_oracle import pyx12_accepts
from workers.report import SITUATIONS, RunTally
from workers.summary import RunSummary

logging.getLogger("pyx12").setLevel(logging.CRITICAL + 1)
CLAIMS_BIN = Path(sys.executable).parent / "claims"


def test_the_demo_runs_the_pipeline_then_the_service_in_process(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    done = subprocess.run([str(CLAIMS_BIN), "demo", "--out", str(out)], capture_output=True,
                          text=True, timeout=600, env={"PATH": "/usr/bin:/bin",
                                                      "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "answer_set" in done.stdout and "The service, in process" in done.stdout
    outbound = out / "service" / "mailboxes" / "demo-gateway" / "outbound"
    names = sorted(p.name for p in outbound.iterdir())
    suffixes = sorted({name.rsplit(".", 1)[1] for name in names})
    assert suffixes == ["277ca", "835", "999", "html", "ta1"]
    for path in outbound.iterdir():
        if path.suffix in (".999", ".277ca", ".835"):
            assert pyx12_accepts(path.read_text()), path.name
    (ta1,) = outbound.glob("again-*-duplicate.ta1")
    assert "*025~" in ta1.read_text()
    store = Store(sqlite_url(out / "service" / "data"))
    try:
        with store.transaction() as s:
            assert list(s.scalars(select(ReceivedFile.status))) == ["done"]
            assert s.scalar(select(func.count()).select_from(DuplicateReceipt)) == 1
            decided = s.scalar(select(func.count(DecisionRecord.claim_id.distinct())))
            rows = s.scalar(select(func.count()).select_from(DecisionRecord))
    finally:
        store.dispose()
    assert decided and decided == rows  # every claim decided once, the duplicate nothing
    # the pipeline part: its answers are in its own mailbox
    pipeline = out / "mailboxes" / "demo-clearinghouse" / "outbound"
    assert any(p.suffix == ".835" for p in pipeline.iterdir())
    # and its claims show every situation the rules single out at least once, as the
    # situation table it printed says
    summary = RunSummary.model_validate_json((pipeline / "summary.json").read_text())
    decided_claims = [c for f in summary.files for c in f.claims if c.status]
    by_lob = RunTally.of(summary).decided
    counts = sum((lob.situations for lob in by_lob.values()), Counter[str]())
    assert all(counts[situation] for situation in SITUATIONS), counts
    assert "Situations by line of business" in done.stdout
    for row in ("add-on without its primary (CO-107)", "supervisor not on file (CO-16 N297)",
                "supervisor an associate or out of network (CO-185)",
                "secondary after a primary paid nothing", "same-day pair with a bypass modifier"):
        assert row in done.stdout, row
    # and each line of business has secondary claims (Medicaid as payer of last resort)
    for lob in ("commercial", "medicaid", "medicare_advantage"):
        assert by_lob[lob].situations["secondary"], lob
    # and a pair let through by its bypass modifier was paid money, not only allowed
    assert any(c.pairs_bypassed and Decimal(c.paid or 0) > 0 for c in decided_claims)
    # and it ends by saying how to look at this run in the review screens, and where
    said = " ".join(done.stdout.split())  # the console wraps long lines
    data = out / "data"
    assert (f"Review screens for this run's store: claims user add NAME --role supervisor "
            f"--out {data}, then claims review --out {data} and open "
            "http://127.0.0.1:8000/ (docs/review.md)") in said
    assert (data / "claims.db").is_file()  # the store it names is there to look at


def test_the_demo_never_empties_a_directory_it_did_not_make(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given directories the demo did not make: it removed whatever --out named, so
    # `claims demo --out .` emptied the current directory (an audit lost a clone, .git
    # included) and `--out RUN` a run's store and archive (found 2026-12-01)
    from typer.testing import CliRunner

    from workers.cli import app

    run = tmp_path / "run"
    (run / "archive").mkdir(parents=True)
    (run / "claims.db").write_text("a store")
    (tmp_path / "notes.txt").write_text("mine")
    monkeypatch.chdir(tmp_path)
    for out in (str(run), ".", "", str(tmp_path / "notes.txt")):
        result = CliRunner().invoke(app, ["demo", "--out", out])
        # Then each is a usage error, and nothing is removed
        assert result.exit_code == 2, (out, result.output)
        assert "--out" in result.output
    assert (run / "claims.db").read_text() == "a store" and (run / "archive").is_dir()
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_the_demo_starts_its_own_directory_afresh(tmp_path: Path) -> None:
    from workers.demo import MARK, fresh_out

    out = tmp_path / "demo"
    fresh_out(out)  # a new directory
    assert [p.name for p in out.iterdir()] == [MARK]
    (out / "data").mkdir()
    (out / "data" / "claims.db").write_text("last demo's store")
    fresh_out(out)  # an earlier demo's: emptied
    assert [p.name for p in out.iterdir()] == [MARK]
    older = tmp_path / "older"  # a demo from before the mark: only what a demo makes
    (older / "mailboxes").mkdir(parents=True)
    (older / "service").mkdir()
    fresh_out(older)
    assert [p.name for p in older.iterdir()] == [MARK]
