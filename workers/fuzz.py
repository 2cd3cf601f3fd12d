"""The fuzz suite: seeded mutations of real files through the front end, with oracles.

    python -m workers.fuzz N [SEED]        (make fuzz N=100000)

Each case is a sample file (`sources`) with planted markers (`fixtures.fuzz.plant`)
and one to three mutations (`fixtures.fuzz.mutate`), run through what a received file
meets: the envelope and implementation-guide check, the TA1 or 999, the front end and
its 277CA. The oracles, each a kind of failure:

- ``traceback``: any exception (the engine must answer every file);
- ``no acknowledgment``, ``invalid 999``, ``invalid TA1``, ``invalid 277CA``: every
  answer exists and passes pyx12 (TA1 through pyx12 itself, 999 and 277CA through the
  engine's pyx12-driven check of outbound files);
- ``planted PHI``: a marker in a problem, a claim's reasons or an exception text;
- ``slow``: a case over `SECONDS_PER_CASE`.
The run ends with a table: cases, failures by kind, the slowest case, peak memory.
"""

from __future__ import annotations

import io
import logging
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from edi.ack277 import render_277ca
from edi.acks import CountingControlNumbers, Responder, acknowledge
from edi.faults import FAULTS
from edi.front_end import InMemoryClaimNumbers
from edi.validators.edits import EditContext
from edi.validators.implementation_guide import EnvelopePolicy, check_stream
from edi.validators.outbound import outbound_problems
from fixtures.fuzz import PLANTED, mutate, plant
from workers import logs
from workers.front_end import run_front_end
from workers.summary_store import problems_of

SECONDS_PER_CASE = 20.0
MAX_SOURCE_BYTES = 200_000
WHEN = datetime(2026, 11, 23, 12, tzinfo=UTC)
RECEIVED = date(2026, 11, 23)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PUBLIC = FIXTURES.parent.parent / "shared" / "corpus" / "public" / "837p"


def sources() -> list[bytes]:
    """The files mutated: the shipped samples and hand-made fixtures, and the public
    837P corpus beside the project when it is there (each under 200 KB)."""
    paths = [*sorted((FIXTURES / "837p").glob("*.837")),
             *sorted((FIXTURES / "ack").glob("*.837")),
             *sorted((FIXTURES / "edits").glob("*.837")),
             *sorted(PUBLIC.glob("*"))]
    return [plant(p.read_bytes()) for p in paths
            if p.is_file() and p.stat().st_size <= MAX_SOURCE_BYTES]


@dataclass
class Outcome:
    mutations: tuple[str, ...]
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run_case(data: bytes, directory: Path) -> list[str]:
    """The failures of one file (empty: every oracle holds)."""
    failures: list[str] = []
    texts: list[str] = []
    try:
        check = check_stream(io.BytesIO(data), EnvelopePolicy())
        responder = Responder(when=WHEN, control=CountingControlNumbers())
        ack = acknowledge(check, responder)
        if not ack.text.startswith("ISA"):
            failures.append("no acknowledgment")
        elif ack.kind == "999" and outbound_problems(ack.text):
            failures.append("invalid 999")
        elif ack.kind == "TA1" and not _pyx12_accepts(ack.text):
            failures.append("invalid TA1")
        texts += problems_of(check)
        path = directory / "case.837"
        path.write_bytes(data)
        result = run_front_end(path, check, EditContext(received=RECEIVED),
                               InMemoryClaimNumbers())
        for claim in result.claims:
            texts += claim.reasons
        if result.answered and outbound_problems(render_277ca(result.answered, responder)):
            failures.append("invalid 277CA")
    except Exception as exc:  # an oracle: the engine must answer, never raise
        failures.append(f"traceback ({type(exc).__name__})")
        texts.append(str(exc))
    joined = "\n".join(texts)
    if any(marker in joined for marker in PLANTED):
        failures.append("planted PHI")
    return failures


def _pyx12_accepts(text: str) -> bool:
    import pyx12.params
    import pyx12.x12n_document

    return bool(pyx12.x12n_document.x12n_document(
        pyx12.params.params(), io.StringIO(text), io.StringIO(), None))


def cases(count: int, seed: int) -> Iterator[tuple[bytes, tuple[str, ...]]]:
    rng = random.Random(seed)
    files = sources()
    for _ in range(count):
        yield mutate(rng.choice(files), rng)


def run(count: int, seed: int = 0) -> list[Outcome]:
    logging.getLogger("pyx12").setLevel(logging.CRITICAL + 1)
    logs.configure("ERROR")
    outcomes = []
    with tempfile.TemporaryDirectory() as directory:
        for data, mutations in cases(count, seed):
            started = time.perf_counter()
            outcome = Outcome(mutations, run_case(data, Path(directory)))
            outcome.seconds = time.perf_counter() - started
            if outcome.seconds > SECONDS_PER_CASE:
                outcome.failures.append("slow")
            outcomes.append(outcome)
    return outcomes


def report(outcomes: list[Outcome], faults: Counter[str] | None = None) -> str:
    """The summary table; ``faults`` are engine faults the catch-alls counted (each
    turned into a rejection and logged, so not a failure, but worth a look)."""
    kinds = Counter(kind for o in outcomes for kind in o.failures)
    slowest = max(outcomes, key=lambda o: o.seconds) if outcomes else None
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [f"fuzz: {len(outcomes):,} cases, "
             f"{sum(1 for o in outcomes if o.failures):,} with failures"]
    lines += [f"  {kind}: {count:,}" for kind, count in sorted(kinds.items())]
    if slowest is not None:
        lines.append(f"  slowest case: {slowest.seconds:.2f} s ({', '.join(slowest.mutations)})")
    lines.append(f"  peak memory (max RSS): {peak_mb:,.0f} MB")
    for where, count in sorted((faults or Counter()).items()):
        lines.append(f"  engine faults caught ({where}): {count:,}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    try:
        count = int(argv[0]) if argv else 2000
        seed = int(argv[1]) if len(argv) > 1 else 0
    except ValueError:
        print("usage: python -m workers.fuzz [N] [SEED]", file=sys.stderr)
        return 2
    before = FAULTS.copy()
    outcomes = run(count, seed)
    print(report(outcomes, FAULTS - before))
    return 1 if any(o.failures for o in outcomes) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
