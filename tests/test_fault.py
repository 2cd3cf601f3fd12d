"""Fault test (`make fault`): workers killed and Redis emptied mid-file lose nothing.

Two `claims worker` processes on the machine's Redis share a 5,000-claim file taken in
by `claims intake`. At a random moment one worker is killed with SIGKILL and every
queued message is dropped (`FLUSHDB`: the machine's Redis keeps nothing on disk, so a
restart loses exactly this). The reconciler of the surviving worker sends the
unfinished steps again. Then, on the real store: every accepted claim has exactly one
decision, a payment cycle puts every paid claim in exactly one 835, and the 835s pay
exactly what the decisions say. The same file uploaded again is a duplicate and pays
nothing. `make fault` repeats this 5 times (``EDI_FAULT_REPEATS``); `make test` once,
to stay within its time budget.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fixtures.generator import CLEARINGHOUSE_ID
from store.engine import Store, sqlite_url
from store.models import Claim, DecisionRecord, ReceivedFile

CLAIMS = 5000
REPEATS = int(os.environ.get("EDI_FAULT_REPEATS", "1"))
RECEIVED = datetime(2026, 1, 12, 12, tzinfo=UTC)  # the generator's receipt date, seed 7
REDIS = os.environ.get("EDI_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
CLAIMS_BIN = Path(sys.executable).parent / "claims"


def _redis() -> object:
    import redis

    client = redis.Redis.from_url(REDIS, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception:
        if os.environ.get("CI"):
            raise
        pytest.skip("no Redis at " + REDIS)
    return client


@pytest.fixture(scope="module")
def month_end(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fault") / "month-end.837"
    subprocess.run([str(CLAIMS_BIN), "generate", str(path), "--claims", str(CLAIMS),
                    "--seed", "7", "--per-transaction", "500"], check=True,
                   capture_output=True)
    return path


class Site:
    """One service: its store, archive and mailboxes, and the commands it runs."""

    def __init__(self, base: Path) -> None:
        (base / "db").mkdir()
        self.url = sqlite_url(base / "db")
        self.base = base
        self.env = {**os.environ, "EDI_DATABASE_URL": self.url, "EDI_REDIS_URL": REDIS,
                    "EDI_ARCHIVE_DIR": str(base / "archive"),
                    "EDI_MAILBOXES": str(base / "mailboxes"),
                    "EDI_OUTBOUND_DIR": str(base / "outbound")}
        self.inbound = base / "mailboxes" / "acme" / "inbound"
        self.outbound = base / "mailboxes" / "acme" / "outbound"

    def run(self, *args: str) -> str:
        done = subprocess.run([str(CLAIMS_BIN), *args], env=self.env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def worker(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([str(CLAIMS_BIN), "worker", "--threads", "2",
                                 "--reconcile-after", "20"], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def upload(self, source: Path, name: str, when: datetime) -> None:
        target = self.inbound / name
        shutil.copy(source, target)
        os.utime(target, (when.timestamp(), when.timestamp()))

    def statuses(self) -> list[str]:
        store = Store(self.url)
        try:
            with store.transaction() as s:
                return list(s.scalars(select(ReceivedFile.status).order_by(ReceivedFile.id)))
        finally:
            store.dispose()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    client = _redis()
    client.flushdb()  # type: ignore[attr-defined]
    here = Site(tmp_path)
    here.run("migrate", "--db", here.url)
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY

    here.run("reference", "load", str(SHIPPED_REFERENCE_DIRECTORY), "--db", here.url)
    here.run("partner", "add", "acme", "--sender-id", CLEARINGHOUSE_ID)
    yield here
    client.flushdb()  # type: ignore[attr-defined]


@pytest.mark.parametrize("trial", range(REPEATS))
def test_a_killed_worker_and_lost_messages_lose_no_claim_and_pay_nothing_twice(
    site: Site, month_end: Path, trial: int,
) -> None:
    rng = random.Random(trial)
    workers = [site.worker(), site.worker()]
    try:
        site.upload(month_end, "month-end.837", RECEIVED)
        site.run("intake", "--once", "--stable-seconds", "0")
        time.sleep(rng.uniform(2.0, 12.0))
        workers[0].send_signal(signal.SIGKILL)  # mid-file, at a random step
        workers[0].wait()
        _redis().flushdb()  # type: ignore[attr-defined]  # every queued message is gone
        deadline = time.monotonic() + 300
        while site.statuses() != ["done"]:
            assert workers[1].poll() is None, "the surviving worker died"
            assert time.monotonic() < deadline, f"stuck at {site.statuses()}"
            time.sleep(1)
    finally:
        _stop(workers)
    _check_decisions_and_payments(site)
    answers = sorted(p.suffix for p in site.outbound.iterdir())
    assert answers == [".277ca", ".999"]  # delivered once each, to the partner
    # the same bytes again: a duplicate, nothing decided, nothing paid
    site.upload(month_end, "again.837", datetime.now(tz=UTC))
    site.run("intake", "--once", "--stable-seconds", "0")
    assert len(list(site.outbound.glob("again-*-duplicate.ta1"))) == 1
    assert "nothing to remit" in site.run("remit", "--as-of", _today(), "--db", site.url,
                                          "--out", str(site.base / "remit"))


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    """Ask each worker to stop; one still busy after a minute is killed (what it was
    doing is idempotent and the reconciler would send it again)."""
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGINT)
    for w in workers:
        try:
            w.wait(60)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()


def _today() -> str:
    return datetime.now(tz=UTC).date().isoformat()


def _check_decisions_and_payments(site: Site) -> None:
    store = Store(site.url)
    try:
        with store.transaction() as s:
            accepted = s.scalar(select(func.count()).select_from(Claim)
                                .where(Claim.front_end == "accepted")) or 0
            per_claim = Counter(s.scalars(select(DecisionRecord.claim_id)))
            paid = {icn: cents for icn, cents in s.execute(
                select(DecisionRecord.icn, DecisionRecord.paid_cents)
                .where(DecisionRecord.current.is_(True)))}
    finally:
        store.dispose()
    assert accepted > 4000
    assert len(per_claim) == accepted and set(per_claim.values()) == {1}
    out = site.base / "remit"
    site.run("remit", "--as-of", _today(), "--db", site.url, "--out", str(out))
    clp: Counter[str] = Counter()
    clp_paid = Decimal(0)
    for path in out.glob("*.835"):
        for segment in path.read_text().split("~"):
            elements = segment.strip().split("*")
            if elements[0] == "CLP" and elements[2] != "22":
                clp[elements[7]] += 1
                clp_paid += Decimal(elements[4])
    assert set(clp.values()) == {1}
    assert {icn for icn, cents in paid.items() if cents > 0} <= set(clp)
    assert clp_paid == Decimal(sum(paid.values())) / 100
