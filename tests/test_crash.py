"""Crash tests: a run killed with SIGKILL at random points resumes and loses nothing.

A real subprocess processes a 1,000-claim file (four transaction sets, two
adjudication batches) and is killed with SIGKILL once the file reaches the step a
trial waits for, a random moment later (so the kills spread over every step whatever
the machine's load); the same command is then run again.
In every trial, on SQLite and on PostgreSQL: every accepted claim has exactly one
decision and one claim number, no claim number or outbound ISA13 is used twice, no
claim is denied as a duplicate of itself, and
``summary.json`` and the acknowledgments equal those of an uninterrupted run (times
aside; control numbers come out equal too: a step that dies takes its numbers back
with it, and the numbers reserved for a set's claims or a 277CA are kept and used
again by the step that resumes it).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import func, select

from store.engine import Store, sqlite_url
from store.migrate import upgrade
from store.models import Claim, DecisionRecord, ReceivedFile, Run
from tests.databases import outbound_isa13, postgres_schema, require_postgres

TRIALS = int(os.environ.get("EDI_CRASH_TRIALS", "6"))
"""Kills per engine: `make test` runs 6 (each step waited for at least once), `make
fault` 20."""
CLAIMS = 1000
AS_OF, RECEIVED = "2026-11-23", "2026-01-12"  # the generator's receipt date for seed 7
CLAIMS_BIN = Path(sys.executable).parent / "claims"


def _command(source: Path, out: Path, url: str) -> list[str]:
    # --no-remit: the payment cycle is one transaction with tests of its own
    # (tests/test_remittance_store.py); leaving it out keeps make test in its budget
    return [str(CLAIMS_BIN), "process", str(source), "--out", str(out), "--quiet",
            "--as-of", AS_OF, "--received", RECEIVED, "--db", url, "--no-remit"]


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The file, and what an uninterrupted run makes of it (with its duration)."""
    base = tmp_path_factory.mktemp("crash")
    source = base / "inbound" / "month-end.837"
    source.parent.mkdir()
    subprocess.run([str(CLAIMS_BIN), "generate", str(source), "--claims", str(CLAIMS),
                    "--seed", "7", "--per-transaction", "250"], check=True,
                   capture_output=True)
    out = base / "uninterrupted"
    out.mkdir()
    url = sqlite_url(out)
    subprocess.run([str(CLAIMS_BIN), "migrate", "--db", url], check=True, capture_output=True)
    started = time.monotonic()
    subprocess.run(_command(source, out, url), check=True, capture_output=True)
    return {"source": source, "seconds": time.monotonic() - started,
            "summary": _summary(out), "acks": _acks(out)}


def _summary(out: Path) -> list[dict[str, object]]:
    data = json.loads((out / "summary.json").read_text())
    for entry in data["files"]:
        for key in ("path", "ack_path", "claim_ack_path", "received_at"):
            entry.pop(key)
    return list(data["files"])


_TIMES = [
    (re.compile(r"^(ISA(?:\*[^*]*){8}\*)\d{6}\*\d{4}", re.M), r"\1YYMMDD*HHMM"),
    (re.compile(r"^(GS(?:\*[^*]*){3}\*)\d{8}\*\d{4,8}", re.M), r"\1CCYYMMDD*HHMM"),
    (re.compile(r"^(BHT(?:\*[^*]*){3}\*)\d{8}\*\d{4,8}", re.M), r"\1CCYYMMDD*HHMM"),
    (re.compile(r"^(TA1\*[^*]*\*)\d{6}\*\d{4}", re.M), r"\1YYMMDD*HHMM"),
]


def _acks(out: Path) -> dict[str, str]:
    texts = {}
    for path in sorted(out.iterdir()):
        if path.suffix in (".999", ".ta1", ".277ca"):
            text = path.read_text().replace("~", "~\n")
            for pattern, replacement in _TIMES:
                text = pattern.sub(replacement, text)
            texts[path.name] = text
    return texts


def _trial(workload: dict[str, object], directory: Path, url: str, seed: int) -> str:
    """One kill and one resume on a migrated database; returns the step the kill
    interrupted."""
    source = workload["source"]
    assert isinstance(source, Path)
    seconds = workload["seconds"]
    assert isinstance(seconds, float)
    out = directory / "out"
    out.mkdir(parents=True)
    rng = random.Random(seed)
    # the kill waits for a step chosen per trial, then a random moment more: under any
    # load (two test processes, other trials) the kills spread over every step
    target = KILL_AFTER[seed % len(KILL_AFTER)]
    extra = rng.uniform(0.0, min(1.0, seconds * 0.2))
    run = subprocess.Popen(_command(source, out, url), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while run.poll() is None and time.monotonic() < deadline:
        if _status_now(url) in target:
            time.sleep(extra)
            break
        time.sleep(0.02)
    if run.poll() is None:
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
    interrupted = _step_reached(url)
    if interrupted != "finished":
        # the same command again resumes the run (once a run has finished, the same
        # command is a new receipt of the same file: a duplicate, as it should be)
        again = subprocess.run(_command(source, out, url), capture_output=True, text=True)
        assert again.returncode == 0, again.stderr[-2000:]
    _check(workload, out, url)
    return interrupted


KILL_AFTER: tuple[frozenset[str | None], ...] = (
    frozenset({None}),  # not yet received: a random moment after the start
    frozenset({"received"}), frozenset({"acknowledged"}), frozenset({"answered"}),
    frozenset({"adjudicated", "done"}),
)
"""The file status each trial waits for before its random extra delay and the kill."""


def _status_now(url: str) -> str | None:
    """The file's status as a plain read (no write lock: the run keeps writing)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT status FROM received_files")).scalar()
    except Exception:  # the schema is not there yet
        return None
    finally:
        engine.dispose()


def _step_reached(url: str) -> str:
    """Where the killed run stopped: the file's state, with decided claims counted."""
    store = Store(url)
    try:
        with store.transaction() as s:
            status = s.scalar(select(ReceivedFile.status))
            decided = s.scalar(select(func.count()).select_from(DecisionRecord)) or 0
            finished = s.scalar(select(func.count()).select_from(Run)
                                .where(Run.finished_at.is_not(None))) or 0
    finally:
        store.dispose()
    if finished:
        return "finished"  # the kill came after the run had finished (or never came)
    if status == "answered" and 0 < decided < CLAIMS:
        return "adjudicating"
    return status or "not received"


def _check(workload: dict[str, object], out: Path, url: str) -> None:
    store = Store(url)
    try:
        with store.transaction() as s:
            accepted = s.scalar(select(func.count()).select_from(Claim)
                                .where(Claim.front_end == "accepted")) or 0
            per_claim = Counter(s.scalars(select(DecisionRecord.claim_id)))
            decided = set(s.scalars(select(Claim.id).where(Claim.front_end == "accepted")))
            numbers = list(s.scalars(select(Claim.icn).where(Claim.icn.is_not(None))))
            traces = list(s.execute(select(DecisionRecord.icn, DecisionRecord.trace)).tuples())
    finally:
        store.dispose()
    assert accepted == CLAIMS
    assert set(per_claim) == decided and set(per_claim.values()) == {1}
    assert len(numbers) == len(set(numbers)) == CLAIMS
    isa13 = outbound_isa13(store, out / "archive")
    assert len(isa13) == len(set(isa13)) >= 2
    # each trace read with its own claim's number (the file has suspect duplicates of
    # other claims, which a trace names; two unordered queries do not pair up)
    for icn, trace in traces:
        assert f"duplicate of {icn} ".encode() not in trace
    assert _summary(out) == workload["summary"]
    assert _acks(out) == workload["acks"]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_run_killed_at_random_points_resumes_and_loses_nothing(
    workload: dict[str, object], tmp_path: Path, engine: str,
) -> None:
    if engine == "postgresql":
        require_postgres()

    with ExitStack() as stack:
        urls = []
        for seed in range(TRIALS):
            if engine == "sqlite":
                (tmp_path / f"db-{seed}").mkdir()
                urls.append(sqlite_url(tmp_path / f"db-{seed}"))
            else:
                urls.append(stack.enter_context(postgres_schema()))
            upgrade(urls[-1])  # here, one at a time (alembic's context is global)

        def one(seed: int) -> str:
            return _trial(workload, tmp_path / f"trial-{seed}", urls[seed], seed)

        with ThreadPoolExecutor(max_workers=2) as pool:  # two trials at a time, one per core
            interrupted = Counter(pool.map(one, range(TRIALS)))
    # the kills landed in several different steps, not all before or after the work
    assert len(set(interrupted) - {"finished"}) >= 3, interrupted
