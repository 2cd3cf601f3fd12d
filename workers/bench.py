"""`make bench`: the engine against pyx12 on the same files, in one run.

Generates 1,000- and 20,000-claim 837P files (deterministic seeds), then measures,
each in a fresh subprocess so peak memory is its own:

- tokenize + parse: `iter_segments` -> `iter_claims` (typed claims), claims/s;
- validate + 999: the engine's implementation-guide check and 999, claims/s;
- front end: validate + 999, then parse, the front-end edits and the 277CA, claims/s;
- adjudication: the front end plus adjudication against the shipped reference data
  (receipt date: the one the generator wrote the file for), claims/s;
- pyx12: `x12n_document` with its 999 writer on the same file, claims/s;

and prints the ratio engine / pyx12 and each step's peak RSS. Absolute times on a
shared 2-core machine are noise; the ratio measured side by side is the figure.
"""

from __future__ import annotations

import io
import json
import logging
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

DATA = Path("bench-data")
SIZES = (1_000, 20_000)
#: Best of N runs per step, the steps interleaved: one run of 20,000 claims through
#: pyx12 takes over a minute, so the large file is measured once.
REPEATS = {1_000: 3, 20_000: 1}
STEPS = ("parse", "engine", "front_end", "adjudicate", "pyx12")


def peak_rss_mb() -> float:
    """This process's peak resident size in MB, since it started its program: Linux's
    VmHWM. (``ru_maxrss`` keeps, across exec, the peak of the process it was forked
    from: a bench step run as a child of a 300 MB parent would report 300 MB.) Where
    there is no /proc, ``ru_maxrss``."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _parse(path: Path) -> int:
    from edi.parsers.claim837 import iter_claims
    from edi.tokenizer import iter_segments

    with path.open("rb") as stream:
        return sum(1 for _ in iter_claims(iter_segments(stream)))


def _engine(path: Path) -> int:
    from edi.acks import CountingControlNumbers, Responder, acknowledge
    from edi.validators.compiled import check_stream

    with path.open("rb") as stream:
        check = check_stream(stream)
    ack = acknowledge(check, Responder(when=datetime.now(tz=UTC),
                                       control=CountingControlNumbers()))
    if ack.kind != "999" or ack.code != "A":
        raise SystemExit(f"engine did not accept the generated file: {ack.code}")
    return _count_claims(path)


def _front_end(path: Path) -> int:
    from edi.ack277 import render_277ca
    from edi.acks import CountingControlNumbers, Responder, acknowledge
    from edi.front_end import InMemoryClaimNumbers
    from edi.validators.compiled import check_stream
    from edi.validators.edits import EditContext
    from workers.front_end import run_front_end

    now = datetime.now(tz=UTC)
    responder = Responder(when=now, control=CountingControlNumbers())
    with path.open("rb") as stream:
        check = check_stream(stream)
    acknowledge(check, responder)
    result = run_front_end(path, check, EditContext(received=now.date()), InMemoryClaimNumbers())
    render_277ca(result.answered, responder)
    return len(result.claims)


def _adjudicate(path: Path) -> int:
    """The front end plus adjudication against the shipped reference data."""
    from edi.acks import CountingControlNumbers, Responder, acknowledge
    from edi.front_end import InMemoryClaimNumbers
    from edi.validators.compiled import check_stream
    from edi.validators.edits import EditContext
    from fixtures.generator import default_receipt_date
    from workers.adjudicate import decide_in_memory
    from workers.front_end import run_front_end
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY, load_reference_dir

    seed = int(path.stem.rsplit("-", 1)[-1])
    received = default_receipt_date(seed)
    reference = load_reference_dir(SHIPPED_REFERENCE_DIRECTORY)
    with path.open("rb") as stream:
        check = check_stream(stream)
    acknowledge(check, Responder(when=datetime.now(tz=UTC), control=CountingControlNumbers()))
    result = run_front_end(path, check, EditContext(received=received), InMemoryClaimNumbers())
    return len(decide_in_memory(result.accepted, reference, received, received))


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


def run_one(step: str, path: Path) -> dict[str, float]:
    """One measurement in this process (called in a subprocess by `main`)."""
    steps: dict[str, Callable[[Path], int]] = {
        "parse": _parse, "engine": _engine, "front_end": _front_end,
        "adjudicate": _adjudicate, "pyx12": pyx12_document}
    start = time.perf_counter()
    claims = steps[step](path)
    seconds = time.perf_counter() - start
    return {"claims": claims, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def _measure(step: str, path: Path) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, "-m", "workers.bench", "--one", step, str(path)],
        check=True, capture_output=True, text=True,
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


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
    header = f"{'claims':>7} {'step':<22} {'claims/s':>10} {'seconds':>8} {'peak RSS MB':>12}"
    print("each step in its own process, best of the repeats; RSS is that process's peak")
    print(header)
    for size in SIZES:
        path = ensure_file(size)
        runs: dict[str, list[dict[str, float]]] = {step: [] for step in STEPS}
        for _ in range(REPEATS[size]):
            for step in STEPS:
                runs[step].append(_measure(step, path))
        results = {step: min(r, key=lambda m: m["seconds"]) for step, r in runs.items()}
        for step, label in (("parse", "tokenize + parse"), ("engine", "engine validate + 999"),
                            ("front_end", "+ edits + 277CA"),
                            ("adjudicate", "+ adjudication"),
                            ("pyx12", "pyx12 validate + 999")):
            r = results[step]
            print(f"{size:>7} {label:<22} {r['claims'] / r['seconds']:>10.0f} "
                  f"{r['seconds']:>8.2f} {r['peak_rss_mb']:>12.1f}")
        ratio = results["pyx12"]["seconds"] / results["engine"]["seconds"]
        print(f"{size:>7} engine is {ratio:.2f}x pyx12's speed on the same file "
              f"(validation + 999)")
        ratio = results["pyx12"]["seconds"] / results["front_end"]["seconds"]
        print(f"{size:>7} engine with the front end (999 + edits + 277CA) is {ratio:.2f}x "
              f"pyx12's validation + 999")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(run_one(sys.argv[2], Path(sys.argv[3]))))
    else:
        main()
