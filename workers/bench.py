"""`make bench`, second part: the engine's stages past validation against pyx12, in one run.

Generates 1,000- and 20,000-claim 837P files (deterministic seeds), then measures,
each step in a fresh subprocess so its peak memory is its own, its modules imported
before its clock starts (as `workers.bench_validator` does):

- tokenize + parse: `iter_segments` -> `iter_claims` (typed claims);
- whole front end: `bench_validator.whole_front_end`, the one pass as the engine's steps
  run it without the store (check, parse, edits, spool; the 999; then set by set the
  numbers, claim JSON, summary lines and the 277CA);
- + adjudication: the same one pass, then every accepted claim read back from the spool
  and decided in order against the shipped reference data (receipt date: the one the
  generator wrote the file for), in memory (`workers.adjudicate.decided`: the state
  carried from claim to claim, no decision kept);
- pyx12: `x12n_document` with its 999 writer on the same file (the baseline);

and prints claims/s, the ratio to pyx12 and each step's peak RSS. Validation alone, the
compiled guide and the 200,000-claim file are `workers.bench_validator`'s. Absolute times
on a shared 2-core machine are noise; the ratio measured side by side is the figure.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

K = TypeVar("K", bound=Hashable)

if TYPE_CHECKING:  # not imported at run time: the pyx12 steps' RSS is pyx12's own
    from edi.claims import ParsedClaim
    from edi.front_end import ClaimNumbers
    from workers.set_spool import SetSpool

DATA = Path("bench-data")
SIZES = (1_000, 20_000)
#: Best of N runs per step, the steps interleaved: one run of 20,000 claims through
#: pyx12 takes over a minute, so the large file is measured once.
REPEATS = {1_000: 3, 20_000: 1}


def peak_rss_mb() -> float:
    """This process's peak resident size in MB, since it started its program (or since
    `restart_peak_rss`): Linux's VmHWM. (``ru_maxrss`` keeps, across exec, the peak of
    the process it was forked from: a bench step run as a child of a 300 MB parent would
    report 300 MB.) Where there is no /proc, ``ru_maxrss``."""
    return _status_mb("VmHWM:")


def rss_mb() -> float:
    """This process's resident size now, in MB (VmRSS; ``ru_maxrss`` without /proc)."""
    return _status_mb("VmRSS:")


def restart_peak_rss() -> bool:
    """Start `peak_rss_mb` again from the resident size now (Linux: ``5`` written to
    /proc/self/clear_refs), so a step's own peak can be read after what ran before it;
    False where that cannot be done."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _status_mb(field: str) -> float:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for line in status.splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


FRONT_END_MODULES = (
    "edi.ack277", "edi.acks", "edi.claim_status", "edi.validators.edits",
    "edi.validators.implementation_guide", "workers.collector", "workers.front_end",
    "workers.set_spool")
"""What `bench_validator.whole_front_end` imports (both benches run it)."""


def cpu_seconds() -> float:
    """CPU time of this process so far, user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Step:
    """One measured step of a bench: its row's label, what it runs on a file (the claims
    it counted, or None when that is the file's size), and the modules it imports before
    its clock starts, as a running worker has them before a file comes (what it loads
    from disk per process, the compiled tables, the code sets, the reference CSVs, stays
    in its time)."""

    label: str
    run: Callable[[Path], int | None]
    modules: tuple[str, ...] = ()


def timed(step: Step, path: Path) -> dict[str, float]:
    """One measurement in this process: wall and CPU seconds, peak RSS, and the claims
    the step counted when it counts them."""
    for module in step.modules:
        importlib.import_module(module)
    start, cpu_start = time.perf_counter(), cpu_seconds()
    counted = step.run(path)
    result = {"seconds": time.perf_counter() - start, "cpu_seconds": cpu_seconds() - cpu_start,
              "peak_rss_mb": peak_rss_mb()}
    if counted is not None:
        result["claims"] = counted
    return result


def in_subprocess(bench: str, step: str, path: Path) -> dict[str, float]:
    """``python -m <bench> --one <step> <path>`` in a process of its own (its peak RSS
    is its own); a step that fails ends the bench with the step's own error."""
    done = subprocess.run([sys.executable, "-m", bench, "--one", step, str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the {step!r} step failed on {path.name}:\n{done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def best_of(rounds: Sequence[Mapping[K, Mapping[str, float]]]) -> dict[K, dict[str, float]]:
    """Each step's best over rounds in which the steps took turns (``[{step: measured}]``):
    the least wall and CPU seconds, the highest peak RSS."""
    return {step: {"seconds": min(r[step]["seconds"] for r in rounds),
                   "cpu_seconds": min(r[step]["cpu_seconds"] for r in rounds),
                   "peak_rss_mb": max(r[step]["peak_rss_mb"] for r in rounds)}
            for step in rounds[0]}


def _parse(path: Path) -> int:
    from edi.parsers.claim837 import iter_claims
    from edi.tokenizer import iter_segments

    with path.open("rb") as stream:
        return sum(1 for _ in iter_claims(iter_segments(stream)))


def _front_end(path: Path) -> int:
    from workers.bench_validator import whole_front_end

    whole_front_end(path)
    return _count_claims(path)


def _adjudicate(path: Path) -> int:
    """The one pass into a set spool, then each accepted claim read back from it, numbered
    and decided in file order; how many were decided."""
    from edi.acks import CountingControlNumbers, Responder, acknowledge
    from edi.front_end import InMemoryClaimNumbers
    from edi.validators.edits import EditContext
    from edi.validators.implementation_guide import EnvelopePolicy
    from fixtures.generator import default_receipt_date
    from workers.adjudicate import decided
    from workers.front_end import front_pass
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY, load_reference_dir
    from workers.set_spool import SetSpool

    received = default_receipt_date(int(path.stem.rsplit("-", 1)[-1]))
    reference = load_reference_dir(SHIPPED_REFERENCE_DIRECTORY)
    context = EditContext(received=received)
    with tempfile.TemporaryDirectory(prefix="bench-spool-") as spooled:
        spool = SetSpool(Path(spooled), "bench")
        with path.open("rb") as stream:
            check = front_pass(stream, EnvelopePolicy(), context, spool)
        spool.seal()
        ack = acknowledge(check, Responder(when=datetime.now(tz=UTC),
                                           control=CountingControlNumbers()))
        if ack.code != "A":
            raise SystemExit(f"the check did not accept the generated file: {ack.code}")
        accepted = _accepted_claims(spool, check.accepted_ordinals(), received,
                                    InMemoryClaimNumbers())
        return sum(1 for _decision in decided(accepted, reference, received, received,
                                              code_sets=context.code_sets))


def _accepted_claims(spool: SetSpool, accepted: frozenset[int], received: date,
                     numbers: ClaimNumbers) -> Iterator[tuple[str, ParsedClaim]]:
    """Each accepted claim of the spooled sets with its claim number, in file order."""
    from workers.front_end import answered_claims

    for ordinal in range(1, (spool.sets() or 0) + 1):
        found = spool.get(ordinal)
        if found is None:
            raise SystemExit(f"set {ordinal} was not spooled")
        for one in answered_claims(found.settle(accepted), numbers, received):
            if one.status is not None and one.kept is not None:
                yield one.status.payer_claim_control_number or "", one.kept.parsed()


def pyx12_document(path: Path) -> int:
    """pyx12 itself validating the file and writing its 999 (`x12n_document`); the
    file's claims. Both benches' baseline."""
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL + 1)
    out = io.StringIO()
    valid = pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), out, None)
    if not valid:
        raise SystemExit("pyx12 did not accept the generated file")
    return _count_claims(path)


def _count_claims(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(chunk.count(b"~CLM*") + chunk.count(b"\nCLM*")
                   for chunk in iter(lambda: stream.read(1 << 20), b""))


STEPS = {
    "parse": Step("tokenize + parse", _parse, ("edi.parsers.claim837", "edi.tokenizer")),
    "front": Step("whole front end (+ 277CA)", _front_end,
                  ("workers.bench_validator", *FRONT_END_MODULES)),
    "adjudicate": Step("+ adjudication", _adjudicate, (
        "edi.acks", "edi.front_end", "edi.validators.edits",
        "edi.validators.implementation_guide", "fixtures.generator", "workers.adjudicate",
        "workers.front_end", "workers.reference", "workers.set_spool")),
    "pyx12": Step("pyx12 validate + 999", pyx12_document,
                  ("pyx12.params", "pyx12.x12n_document")),
}


def run_one(step: str, path: Path) -> dict[str, float]:
    """One measurement in this process (`main` runs each in a subprocess)."""
    return timed(STEPS[step], path)


def ensure_file(claims: int) -> Path:
    from fixtures.generator import write_837

    DATA.mkdir(exist_ok=True)
    path = DATA / f"bench-{claims}.837"
    if not path.exists():
        with path.open("w", newline="") as out:
            write_837(out, claims=claims, seed=claims)
    return path


def main() -> None:
    print(f"benchmark {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC, python {sys.version.split()[0]}")
    print("each step in its own process: the least seconds and the highest peak RSS of "
          "the repeats")
    print(f"{'claims':>7} {'step':<26} {'claims/s':>10} {'seconds':>8} {'x pyx12':>8} "
          f"{'peak RSS MB':>12}")
    for size in SIZES:
        path = ensure_file(size)
        rounds = [{step: in_subprocess("workers.bench", step, path) for step in STEPS}
                  for _ in range(REPEATS[size])]
        results = best_of(rounds)
        baseline = results["pyx12"]["seconds"]
        for step in STEPS:
            r, claims = results[step], rounds[0][step]["claims"]
            print(f"{size:>7} {STEPS[step].label:<26} {claims / r['seconds']:>10.0f} "
                  f"{r['seconds']:>8.2f} {baseline / r['seconds']:>8.1f} "
                  f"{r['peak_rss_mb']:>12.1f}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(run_one(sys.argv[2], Path(sys.argv[3]))))
    else:
        main()
