"""Where the whole front end's CPU time goes, by phase, on one 837P file.

``python -m workers.bench_phases FILE [ROUNDS]`` measures, in this process and with
the engine's modules already imported, each part alone (the best CPU time of ROUNDS,
default 3):

- check: the compiled check alone (`compiled.check_stream`, no tap);
- segments: the tokenizer and the `Segment`s the reader takes;
- reader: `iter_claims` over the same segments, less the segments;
- edits: `EditedClaim.of` (edits, fingerprint, kept JSON) over the parsed claims;
- pass: `front_pass` into a sink that keeps nothing, then into the set spool;
- whole: what `workers.bench_validator` times as the whole front end;

and prints each phase's share of the whole: the collector's bookkeeping is what the
pass takes beyond the check, segments, reader and edits, the spool writes what the
pass into the spool takes beyond the pass into nothing, and the answers what the
whole takes beyond the pass into the spool. The parts interact (caches, allocation),
so the shares are estimates; the README's Performance section quotes them.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from edi.parsers.claim837 import iter_claims
from edi.tokenizer import iter_segments
from edi.validators.compiled import check_stream
from edi.validators.compiled.cache import process_tables
from edi.validators.edits import EditContext
from edi.validators.implementation_guide import EnvelopePolicy
from workers.bench_validator import whole_front_end
from workers.collector import cyclic_gc_held_off
from workers.front_end import EditedClaim, front_pass
from workers.set_spool import SetSpool
from workers.transaction_sets import SetReading


class _Nothing:
    """A `SetSink` that keeps nothing."""

    def begin(self, reading: SetReading) -> None:
        pass

    def claim(self, claim: EditedClaim) -> None:
        pass

    def end(self, reading: SetReading) -> None:
        pass


def measure(path: Path, rounds: int = 3) -> dict[str, float]:
    """The best CPU seconds of each part (see the module's docstring)."""
    process_tables()
    context = EditContext(received=datetime.now(tz=UTC).date())
    with cyclic_gc_held_off(), path.open("rb") as stream:
        parsed = list(iter_claims(iter_segments(stream)))

    def check() -> None:
        with path.open("rb") as stream:
            check_stream(stream, EnvelopePolicy())

    def segments() -> None:
        with cyclic_gc_held_off(), path.open("rb") as stream:
            for _segment in iter_segments(stream):
                pass

    def reader() -> None:
        with cyclic_gc_held_off(), path.open("rb") as stream:
            for _claim in iter_claims(iter_segments(stream)):
                pass

    def edits() -> None:
        with cyclic_gc_held_off():
            for claim in parsed:
                EditedClaim.of(claim, context)

    def pass_nothing() -> None:
        with path.open("rb") as stream:
            front_pass(stream, EnvelopePolicy(), context, _Nothing())

    def pass_spool() -> None:
        with tempfile.TemporaryDirectory() as spooled, path.open("rb") as stream:
            front_pass(stream, EnvelopePolicy(), context, SetSpool(Path(spooled), "phases"))

    parts: dict[str, Callable[[], None]] = {
        "check": check, "segments": segments, "reader": reader, "edits": edits,
        "pass": pass_nothing, "pass+spool": pass_spool, "whole": lambda: whole_front_end(path)}
    best: dict[str, float] = {}
    for _round in range(rounds):
        for name, part in parts.items():
            start = time.process_time()
            part()
            best[name] = min(best.get(name, float("inf")), time.process_time() - start)
    return best


def phases(best: dict[str, float]) -> dict[str, float]:
    """The whole front end's CPU seconds by phase, from `measure`'s parts."""
    reader = best["reader"] - best["segments"]
    return {
        "compiled check": best["check"],
        "837P reader (typed models)": reader,
        "edits, fingerprint, kept JSON": best["edits"],
        "collector bookkeeping and segments":
            best["pass"] - best["check"] - reader - best["edits"],
        "spool writes": best["pass+spool"] - best["pass"],
        "answers (spool loads, numbers, summaries, 277CA)":
            best["whole"] - best["pass+spool"],
    }


def main(path: Path, rounds: int) -> None:
    best = measure(path, rounds)
    print("  ".join(f"{name} {seconds:.2f}" for name, seconds in best.items()))
    whole = best["whole"]
    for name, seconds in phases(best).items():
        print(f"{name:<50} {seconds:6.2f} s {100 * seconds / whole:4.0f} %")


USAGE = "usage: python -m workers.bench_phases FILE [ROUNDS] (ROUNDS a whole number, 1 or more)"

if __name__ == "__main__":
    arguments = sys.argv[1:]
    if len(arguments) not in (1, 2) or not Path(arguments[0]).is_file() or (
            len(arguments) == 2 and not (arguments[1].isdigit() and int(arguments[1]) > 0)):
        raise SystemExit(USAGE)
    main(Path(arguments[0]), int(arguments[1]) if len(arguments) == 2 else 3)
