"""Fault test (`make fault`): a worker killed and Redis restarted mid-file lose nothing.

Two `claims worker` processes on a Redis server of the test's own (Debian's
redis-server on a free port, keeping nothing on disk, like the machine's) and on a
PostgreSQL schema of the machine's server share a 5,000-claim file taken in by
`claims intake`. At a random moment one worker is killed with SIGKILL and the Redis
server is stopped and started again: every queued message and every connection is
gone. The surviving worker reconnects, and its reconciler sends the unfinished steps
again. Then, on the store: every accepted claim has exactly one decision, a payment
cycle puts every paid claim in exactly one 835, and the 835s pay exactly what the
decisions say. The same file uploaded again is a duplicate and pays nothing.
`make test` runs this once (about a minute on a slow day for this machine),
`make fault` 5 times (``EDI_FAULT_REPEATS``), each at another random moment.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from fixtures.generator import CLEARINGHOUSE_ID
from store.engine import Store
from store.models import Claim, DecisionRecord, ReceivedFile
from tests.databases import postgres_schema

CLAIMS = 5000
REPEATS = int(os.environ.get("EDI_FAULT_REPEATS", "1"))
RECEIVED = datetime(2026, 1, 12, 12, tzinfo=UTC)  # the generator's receipt date, seed 7
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
CLAIMS_BIN = Path(sys.executable).parent / "claims"


class RedisServer:
    """A redis-server of the test's own on a free port, keeping nothing on disk, so a
    restart loses every queued message the way the machine's would."""

    def __init__(self, directory: Path) -> None:
        if not Path(REDIS_SERVER).exists():
            if os.environ.get("CI"):
                raise AssertionError("CI needs redis-server (Debian's redis-server package)")
            pytest.skip("needs redis-server")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert self.process.poll() is None, "redis-server did not start"
                assert time.monotonic() < deadline, "redis-server did not listen in time"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def restart(self) -> None:
        self.stop()
        time.sleep(0.5)
        self.start()


@pytest.fixture(scope="module")
def month_end(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fault") / "month-end.837"
    subprocess.run([str(CLAIMS_BIN), "generate", str(path), "--claims", str(CLAIMS),
                    "--seed", "7", "--per-transaction", "500"], check=True,
                   capture_output=True)
    return path


class Site:
    """One service: its store, archive and mailboxes, and the commands it runs."""

    def __init__(self, base: Path, database_url: str, redis_url: str) -> None:
        self.url = database_url
        self.base = base
        self.env = {**os.environ, "EDI_DATABASE_URL": self.url, "EDI_REDIS_URL": redis_url,
                    "EDI_ARCHIVE_DIR": str(base / "archive"),
                    "EDI_MAILBOXES": str(base / "mailboxes"),
                    "EDI_OUTBOUND_DIR": str(base / "outbound"),
                    "EDI_RECEIPT_CLOCK": "file"}  # uploads dated as they were sent
        self.inbound = base / "mailboxes" / "acme" / "inbound"
        self.outbound = base / "mailboxes" / "acme" / "outbound"

    def run(self, *args: str) -> str:
        done = subprocess.run([str(CLAIMS_BIN), *args], env=self.env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def worker(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([str(CLAIMS_BIN), "worker", "--threads", "2",
                                 "--reconcile-after", "10"], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def upload(self, source: Path, name: str, when: datetime) -> None:
        target = self.inbound / name
        shutil.copy(source, target)
        os.utime(target, (when.timestamp(), when.timestamp()))

    def statuses(self) -> list[str]:
        return self._column(ReceivedFile.status)

    def delivered(self) -> list[str | None]:
        """What each file's last delivery answered (`ReceivedFile.delivered_status`)."""
        return self._column(ReceivedFile.delivered_status)

    def _column(self, column: Any) -> list[Any]:
        store = Store(self.url)
        try:
            with store.transaction() as s:
                return list(s.scalars(select(column).order_by(ReceivedFile.id)))
        finally:
            store.dispose()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def site(tmp_path: Path, redis_server: RedisServer) -> Iterator[Site]:
    with postgres_schema() as url:
        here = Site(tmp_path, url, redis_server.url)
        here.run("migrate", "--db", here.url)
        from workers.reference import SHIPPED_REFERENCE_DIRECTORY

        here.run("reference", "load", str(SHIPPED_REFERENCE_DIRECTORY), "--db", here.url)
        here.run("partner", "add", "acme", "--sender-id", CLEARINGHOUSE_ID)
        yield here


@pytest.mark.parametrize("trial", range(REPEATS))
def test_a_killed_worker_and_a_restarted_redis_lose_no_claim_and_pay_nothing_twice(
    site: Site, redis_server: RedisServer, month_end: Path, trial: int,
) -> None:
    rng = random.Random(trial)
    workers = [site.worker(), site.worker()]
    try:
        site.upload(month_end, "month-end.837", RECEIVED)
        site.run("intake", "--once", "--stable-seconds", "0")
        time.sleep(rng.uniform(2.0, 12.0))
        workers[0].send_signal(signal.SIGKILL)  # mid-file, at a random step
        workers[0].wait()
        redis_server.restart()  # every queued message and every connection is gone
        deadline = time.monotonic() + 300
        # done, and its answers delivered (a delivery lost with the restart after the
        # file was done is sent again by the reconciler)
        while site.statuses() != ["done"] or site.delivered() != ["done"]:
            assert workers[1].poll() is None, "the surviving worker died"
            assert time.monotonic() < deadline, \
                f"stuck at {site.statuses()}, delivered {site.delivered()}"
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
