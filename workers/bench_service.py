"""`make bench`, the service part: uploads to answers through Redis and real workers.

    python -m workers.bench_service          (make bench runs it last)

For 1 and then 2 `claims worker` processes (2 threads each) on the machine's Redis,
with a SQLite store and then with a fresh schema of the machine's PostgreSQL
(`store.scratch.SERVER`, as the store and review benches use): four 1,000-claim files
are dropped into a partner's mailbox at once and taken by `claims intake`; the clock
runs until the last 277CA is in the partner's outbound folder (claims/s, upload to
277CA). Then, with one worker, one 1,000-claim file alone: the seconds from its
upload to its 999 and to its 277CA; and the same claims as 1,000 one-claim transaction
sets (a shape some submitters send): the seconds to its 277CA.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path

from workers.bench import DATA

CLAIMS_BIN = Path(sys.executable).parent / "claims"
REDIS = os.environ.get("EDI_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
FILES, PER_FILE = 4, 1_000


def _site(base: Path, url: str | None) -> dict[str, str]:
    """A new site under ``base``: its store at ``url`` (None: SQLite under ``base``)."""
    from fixtures.generator import CLEARINGHOUSE_ID
    from store.engine import sqlite_url
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY

    shutil.rmtree(base, ignore_errors=True)
    (base / "db").mkdir(parents=True)
    url = url or sqlite_url(base / "db")
    env = {**os.environ, "EDI_DATABASE_URL": url, "EDI_REDIS_URL": REDIS,
           "EDI_ARCHIVE_DIR": str(base / "archive"), "EDI_MAILBOXES": str(base / "mailboxes"),
           "EDI_OUTBOUND_DIR": str(base / "outbound"),
           "EDI_RECEIPT_CLOCK": "file"}  # the files are dated at their receipt days
    for args in (["migrate"], ["reference", "load", str(SHIPPED_REFERENCE_DIRECTORY)],
                 ["partner", "add", "bench", "--sender-id", CLEARINGHOUSE_ID]):
        subprocess.run([str(CLAIMS_BIN), *args], env=env, check=True, capture_output=True)
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    return env


def _files(count: int, per_set: int = 5_000) -> list[Path]:
    from fixtures.generator import default_receipt_date, write_837

    DATA.mkdir(exist_ok=True)
    paths = []
    for n in range(count):
        shape = "" if per_set == 5_000 else f"-sets-of-{per_set}"
        path = DATA / f"service-{PER_FILE}-{n}{shape}.837"
        if not path.exists():
            with path.open("w", newline="") as out:
                write_837(out, claims=PER_FILE, seed=9000 + n, claims_per_transaction=per_set)
        # noon UTC: the receipt day on the payer's calendar (America/Chicago) too
        received = datetime.combine(default_receipt_date(9000 + n), clock_time(12),
                                    tzinfo=UTC).timestamp()
        os.utime(path, (received, received))
        paths.append(path)
    return paths


def _run(workers: int, files: list[Path], base: Path,
         url: str | None) -> tuple[float, float | None]:
    """(seconds from the drop to the last 277CA, seconds to the first 999)."""
    env = _site(base, url)
    outbound = base / "mailboxes" / "bench" / "outbound"
    inbound = base / "mailboxes" / "bench" / "inbound"
    running = [subprocess.Popen([str(CLAIMS_BIN), "worker", "--threads", "2"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(workers)]
    try:
        time.sleep(2)  # the workers are up
        start = time.perf_counter()
        for path in files:
            shutil.copy2(path, inbound / path.name)
        subprocess.run([str(CLAIMS_BIN), "intake", "--once", "--stable-seconds", "0"],
                       env=env, check=True, capture_output=True)
        first_999 = None
        while len(list(outbound.glob("*.277ca"))) < len(files):
            if first_999 is None and list(outbound.glob("*.999")):
                first_999 = time.perf_counter() - start
            if time.perf_counter() - start > 1800:
                raise RuntimeError("the answers did not arrive in 30 minutes")
            time.sleep(0.2)
        return time.perf_counter() - start, first_999
    finally:
        for process in running:
            process.send_signal(signal.SIGINT)
            process.wait(60)


@contextmanager
def _store(engine: str) -> Iterator[str | None]:
    """A store for one run: None (SQLite under the run's directory) or a new schema of
    the machine's PostgreSQL, dropped afterwards."""
    from store.scratch import SERVER, scratch_schema

    if engine == "SQLite":
        yield None
        return
    with scratch_schema(SERVER) as url:
        yield url


def main() -> None:
    files = _files(FILES)
    for engine in ("SQLite", "PostgreSQL"):
        print(f"\nservice: {FILES} files of {PER_FILE:,} claims dropped at once, upload to "
              f"the last 277CA ({engine} store, Redis)")
        for workers in (1, 2):
            with _store(engine) as url:
                seconds, _ = _run(workers, files, DATA / f"service-{workers}", url)
            print(f"  {workers} worker process(es): {seconds:.1f} s, "
                  f"{FILES * PER_FILE / seconds:.0f} claims/s", flush=True)
        with _store(engine) as url:
            seconds, first = _run(1, files[:1], DATA / "service-one", url)
        print(f"  one {PER_FILE:,}-claim file, 1 worker: 999 after {first or 0:.1f} s, "
              f"277CA after {seconds:.1f} s")
        with _store(engine) as url:
            seconds, first = _run(1, _files(1, per_set=1), DATA / "service-one", url)
        print(f"  the same claims as {PER_FILE:,} one-claim sets, 1 worker: 999 after "
              f"{first or 0:.1f} s, 277CA after {seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main()
