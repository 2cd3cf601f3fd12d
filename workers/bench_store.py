"""`make bench`, the store part: a payment cycle, adjudication through the store beside
in memory, and a 100,000-claim file against a 1,000,000-member reference set.

    python -m workers.bench_store            (make bench runs it after workers.bench)

0. Payment cycles over the claims of the 5,000- and 20,000-claim files, decided first
   (untimed): claims/s, each 835 written, read back, proven and checked on the X221A1
   tables; and the cycle's own memory, its peak RSS (restarted before it:
   `bench.restart_peak_rss`) less the RSS before it, which stays about the size of the
   largest payee's claims (`workers.cycle_spool`) instead of growing with the cycle.
1. Adjudication alone, on the same 5,000 claims, each in its own process: in memory
   (`decide_in_memory`, the engine threading its state from claim to claim), and
   through the store on SQLite and on PostgreSQL (`adjudication_step.adjudicate_file`: batches,
   state and reference rows read by index, decisions written). The front end runs
   first in each process and is not timed.
2. Scale: a reference set of 1,000,000 members (the shipped one plus generated
   members, each with a coverage row) is loaded with `claims reference load`, then a
   100,000-claim file is processed end to end with `claims process --db --no-remit`,
   in a process of its own whose peak RSS is reported (the cycle is measured in 0).
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from workers.bench import DATA, ensure_file, peak_rss_mb, restart_peak_rss, rss_mb

ADJUDICATION_CLAIMS = 5_000
CYCLE_SIZES = (5_000, 20_000)
SCALE_CLAIMS = 100_000
SCALE_MEMBERS = 1_000_000
CLAIMS_BIN = Path(sys.executable).parent / "claims"


def adjudicate_once(engine: str, path: Path) -> dict[str, float]:
    """One measurement in this process (the front end first, untimed)."""
    from fixtures.generator import default_receipt_date
    from store.engine import sqlite_url
    from store.migrate import upgrade
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY, load_reference_dir

    received = default_receipt_date(int(path.stem.rsplit("-", 1)[-1]))
    now = datetime.now(tz=UTC)
    if engine == "memory":
        from edi.front_end import InMemoryClaimNumbers
        from edi.validators.codesets import default_registry
        from edi.validators.compiled import check_stream
        from edi.validators.edits import EditContext
        from workers.adjudicate import decide_in_memory
        from workers.front_end import run_front_end

        reference = load_reference_dir(SHIPPED_REFERENCE_DIRECTORY)
        with path.open("rb") as stream:
            check = check_stream(stream)
        result = run_front_end(path, check, EditContext(received=received),
                               InMemoryClaimNumbers())
        start = time.perf_counter()
        count = len(decide_in_memory(result.accepted, reference, received, received,
                                     code_sets=default_registry()))
        return {"claims": count, "seconds": time.perf_counter() - start,
                "peak_rss_mb": peak_rss_mb()}
    scratch = DATA / f"store-{engine}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    if engine == "sqlite":
        url = sqlite_url(scratch)
        upgrade(url)
        return _adjudicate_stored(url, scratch, path, received, now)
    from store.scratch import SERVER, scratch_schema

    with scratch_schema(SERVER) as url:
        upgrade(url)
        return _adjudicate_stored(url, scratch, path, received, now)


def _adjudicate_stored(url: str, scratch: Path, path: Path, received: object,
                       now: datetime) -> dict[str, float]:
    from datetime import date

    from edi.validators.codesets import default_registry
    from edi.validators.implementation_guide import EnvelopePolicy
    from store.engine import Store
    from workers import adjudication_step, steps
    from workers.archive import archive_copy
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY
    from workers.reference_store import StoredReference, load_reference

    assert isinstance(received, date)
    store = Store(url)
    load_reference(store, SHIPPED_REFERENCE_DIRECTORY, now)
    ctx = steps.StepContext(store=store, archive=scratch / "archive", now=now, as_of=received,
                            policy=EnvelopePolicy(), code_sets=default_registry(),
                            reference=StoredReference(store))
    with path.open("rb") as raw:
        sha, size, _kept = archive_copy(raw, ctx.archive)
    run = steps.begin_run(ctx, sha)
    file_id, _role = steps.receive(ctx, run, path.name, sha, size, now, received)
    steps.acknowledge_file(ctx, file_id)
    steps.answer_sets(ctx, file_id)
    start = time.perf_counter()
    count = adjudication_step.adjudicate_file(ctx, file_id)
    seconds = time.perf_counter() - start
    store.dispose()
    return {"claims": count, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def cycle_once(path: Path) -> dict[str, float]:
    """A payment cycle over a file's decided claims on SQLite (front end and
    adjudication first, untimed): planning, writing, reading back, proving and
    checking with pyx12 every 835, and recording what was remitted."""
    from fixtures.generator import default_receipt_date
    from store.engine import Store, sqlite_url
    from store.migrate import upgrade
    from workers import adjudication_step, steps
    from workers.archive import archive_copy
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY
    from workers.reference_store import StoredReference, load_reference
    from workers.remit import run_cycle

    received = default_receipt_date(int(path.stem.rsplit("-", 1)[-1]))
    now = datetime.now(tz=UTC)
    scratch = DATA / "store-cycle"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    url = sqlite_url(scratch)
    upgrade(url)
    store = Store(url)
    load_reference(store, SHIPPED_REFERENCE_DIRECTORY, now)
    from edi.validators.codesets import default_registry
    from edi.validators.implementation_guide import EnvelopePolicy

    reference = StoredReference(store)
    ctx = steps.StepContext(store=store, archive=scratch / "archive", now=now, as_of=received,
                            policy=EnvelopePolicy(), code_sets=default_registry(),
                            reference=reference)
    with path.open("rb") as raw:
        sha, size, _kept = archive_copy(raw, ctx.archive)
    run = steps.begin_run(ctx, sha)
    file_id, _role = steps.receive(ctx, run, path.name, sha, size, now, received)
    steps.acknowledge_file(ctx, file_id)
    steps.answer_sets(ctx, file_id)
    adjudication_step.adjudicate_file(ctx, file_id)
    process_peak, before = peak_rss_mb(), rss_mb()
    restarted = restart_peak_rss()  # the cycle's own peak, apart from what ran before it
    start = time.perf_counter()
    cycle = run_cycle(store, ctx.archive, as_of=received, now=now, reference=reference)
    seconds = time.perf_counter() - start
    cycle_peak = peak_rss_mb()
    store.dispose()
    claims = sum(len(r.claims) for r in cycle.remittances)
    return {"claims": claims, "seconds": seconds,
            "peak_rss_mb": max(process_peak, cycle_peak), "rss_before_mb": before,
            "cycle_peak_rss_mb": cycle_peak if restarted else float("nan"),
            "remittances": len(cycle.remittances),
            "released": float(cycle.outcome == "released")}


def _measure(engine: str, path: Path) -> dict[str, float] | None:
    done = subprocess.run([sys.executable, "-m", "workers.bench_store", "--one", engine,
                           str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        print(f"  {engine}: not measured ({done.stderr.strip().splitlines()[-1:]})")
        return None
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- the 1,000,000-member reference set ------------------------------------------------
def reference_set(members: int) -> Path:
    """The shipped reference directory plus generated members up to ``members``."""
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY

    target = DATA / f"reference-{members}"
    if (target / "members.csv").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(SHIPPED_REFERENCE_DIRECTORY, target)
    with (target / "members.csv").open() as existing:
        shipped = sum(1 for _ in existing) - 1
    plans = ["COM-PPO-500", "COM-PPO-1500"]
    with (target / "members.csv").open("a", newline="") as m_out, \
            (target / "coverage.csv").open("a", newline="") as c_out:
        m, c = csv.writer(m_out, lineterminator="\n"), csv.writer(c_out, lineterminator="\n")
        for n in range(members - shipped):
            subscriber = f"8{n:08d}"
            member = f"{subscriber}-00"
            m.writerow([member, subscriber, "self", "BENCH", "MEMBER", "1980-01-01", "F",
                        "2024-01-01", ""])
            c.writerow([member, plans[n % 2], "commercial", "MA", "2025-01-01", ""])
    return target


def scale() -> None:
    from fixtures.generator import default_receipt_date
    from store.engine import sqlite_url

    print(f"\nscale: {SCALE_CLAIMS:,} claims against {SCALE_MEMBERS:,} members, SQLite store")
    directory = reference_set(SCALE_MEMBERS)
    path = ensure_file(SCALE_CLAIMS)
    scratch = DATA / "scale"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    url = sqlite_url(scratch)
    subprocess.run([str(CLAIMS_BIN), "migrate", "--db", url], check=True, capture_output=True)
    start = time.perf_counter()
    load = _timed([str(CLAIMS_BIN), "reference", "load", str(directory), "--db", url])
    print(f"  reference load: {time.perf_counter() - start:.0f} s, peak RSS "
          f"{load:.0f} MB")
    received = default_receipt_date(SCALE_CLAIMS).isoformat()
    start = time.perf_counter()
    peak = _timed([str(CLAIMS_BIN), "process", str(path), "--out", str(scratch / "out"),
                   "--db", url, "--quiet", "--as-of", received, "--received", received,
                   "--no-remit"])
    seconds = time.perf_counter() - start
    print(f"  claims process --no-remit (front end + adjudication + summary): {seconds:.0f} s, "
          f"{SCALE_CLAIMS / seconds:.0f} claims/s, peak RSS {peak:.0f} MB")


def _timed(command: list[str]) -> float:
    """Run a command; its peak RSS in MB (GNU time's maximum resident set size)."""
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], check=True,
                          capture_output=True, text=True)
    return int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    print("\npayment cycles over a file's decided claims, SQLite store (front end and "
          "adjudication first, untimed); the cycle's memory is its own peak RSS less the "
          "process's RSS before it")
    for size in CYCLE_SIZES:
        r = _measure("cycle", ensure_file(size))
        if r is not None:
            print(f"  {size:>6,} claims: {r['remittances']:.0f} 835s, "
                  f"{'released' if r['released'] else 'REFUSED'}, "
                  f"{r['claims'] / r['seconds']:.0f} claims/s ({r['seconds']:.1f} s, each 835 "
                  f"checked on the X221A1 tables); the cycle's memory "
                  f"{r['cycle_peak_rss_mb'] - r['rss_before_mb']:+.0f} MB (RSS "
                  f"{r['rss_before_mb']:.0f} MB before it), process peak "
                  f"{r['peak_rss_mb']:.0f} MB")
    path = ensure_file(ADJUDICATION_CLAIMS)
    print(f"\nadjudication alone, {ADJUDICATION_CLAIMS:,} claims, each engine in its own "
          "process (front end untimed)")
    print(f"{'engine':<26} {'claims/s':>10} {'seconds':>8} {'peak RSS MB':>12}")
    for engine, label in (("memory", "in memory (no store)"), ("sqlite", "store on SQLite"),
                          ("postgresql", "store on PostgreSQL")):
        r = _measure(engine, path)
        if r is not None:
            print(f"{label:<26} {r['claims'] / r['seconds']:>10.0f} {r['seconds']:>8.2f} "
                  f"{r['peak_rss_mb']:>12.1f}")
    if "--no-scale" not in sys.argv:
        scale()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        one = (cycle_once(Path(sys.argv[3])) if sys.argv[2] == "cycle"
               else adjudicate_once(sys.argv[2], Path(sys.argv[3])))
        print(json.dumps(one))
    else:
        main()
