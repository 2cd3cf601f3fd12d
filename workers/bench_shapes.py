"""The front end on the same claims in files of other shapes, side by side.

``python -m workers.bench_shapes [CLAIMS]`` (default 20,000) writes the generated
claims of `workers.bench_validator` as files of four shapes:

- 5,000 claims a transaction set (the shape `workers.bench_validator` measures);
- one claim a transaction set, all in one functional group (some submitters send
  every claim as its own set);
- the same with a quarter of the claims: the whole file's claims/s at least this
  one's says the cost per set does not grow with the file (what each process loads
  first, the compiled tables and the code sets, weighs more on the smaller file);
- one claim an interchange (ISA, GS, one ST, GE, IEA each, numbered apart);

and measures on each, every step in its own subprocess and the steps taking turns over
`REPEATS` rounds (the best time of each): the compiled check with its 999, and the
whole front end (`bench_validator.whole_front_end`: the one pass into the set spool,
the 999, the claims answered from the spool, the 277CA). It prints claims/s and the
ratio to the first shape's, measured in the same run.

A one-claim set carries its own envelope, submitter, receiver and billing provider in
and its own 277CA header out (about 34 segments read and 29 written where a claim of
a large set has about 21 and 9), and the spool a set's frame and end record; a one-claim
interchange adds its ISA, GS, GE and IEA, walked with pyx12's own segment objects, and
its TA1/999 bookkeeping: a lower claims/s than the first shape's is that work, not a
cost that grows.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from workers import bench_validator
from workers.bench import best_of, in_subprocess, timed

REPEATS = 2
STEPS = {step: bench_validator.STEPS[step] for step in ("compiled", "front")}
"""The first part's steps of those names, as it measures them."""


def _isa(template: str, number: int) -> str:
    """``template`` (an ISA segment, terminator included) with ISA13 set to ``number``."""
    elements = template.split("*")
    elements[13] = f"{number:09d}"
    return "*".join(elements)


def one_claim_interchanges(text: str) -> str:
    """A file of one-claim, one-set functional groups rewritten as one interchange per
    group, each with an ISA13 of its own."""
    isa_end = text.index("~") + 1
    template, body = text[:isa_end], text[isa_end:]
    out: list[str] = []
    number = 0
    for segment in body.split("~"):
        seg = segment.strip()
        if seg.startswith("GS*"):
            number += 1
            out.append(_isa(template, number) + "\n")
        if seg and not seg.startswith("IEA*"):
            out.append(seg + "~\n")
        if seg.startswith("GE*"):
            out.append(f"IEA*1*{number:09d}~\n")
    return "".join(out)


def shapes(directory: Path, claims: int) -> list[tuple[str, Path, int]]:
    """The files to measure: (label, path, claims)."""
    from fixtures.generator import generate_837_text, write_837

    def write(name: str, count: int, per_set: int = 5_000) -> Path:
        path = directory / name
        with path.open("w", newline="") as out:
            write_837(out, claims=count, seed=claims, claims_per_transaction=per_set)
        return path

    quarter = max(1, claims // 4)
    interchanges = directory / "one-claim-interchanges.837"
    interchanges.write_text(one_claim_interchanges(generate_837_text(
        claims, claims, claims_per_transaction=1, transactions_per_group=1)), newline="")
    return [
        ("5,000 claims a set", write("sets-of-5000.837", claims), claims),
        ("one claim a set", write("one-claim-sets.837", claims, per_set=1), claims),
        ("one claim a set, a quarter",
         write("one-claim-sets-quarter.837", quarter, per_set=1), quarter),
        ("one claim an interchange", interchanges, claims),
    ]


def main(claims: int = 20_000) -> None:
    from edi.validators.compiled.cache import process_tables

    process_tables()
    print(f"front end by file shape, {claims:,} generated claims; each step in its own "
          f"process, {REPEATS} rounds taking turns, the best time of each")
    print(f"{'shape':<28} {'claims':>7} {'step':<27} {'claims/s':>9} {'x first':>8} "
          f"{'peak RSS MB':>12}")
    with tempfile.TemporaryDirectory(prefix="bench-shapes-") as tmp:
        files = shapes(Path(tmp), claims)
        best = best_of([{(label, step): in_subprocess("workers.bench_shapes", step, path)
                         for label, path, _count in files for step in STEPS}
                        for _round in range(REPEATS)])
        first: dict[str, float] = {}
        for label, _path, count in files:
            for step in STEPS:
                measured = best[(label, step)]
                rate = count / measured["seconds"]
                first.setdefault(step, rate)
                print(f"{label:<28} {count:>7,} {STEPS[step].label:<27} {rate:>9,.0f} "
                      f"{rate / first[step]:>8.2f} {measured['peak_rss_mb']:>12.1f}",
                      flush=True)


USAGE = "usage: python -m workers.bench_shapes [CLAIMS]  (a whole number, at least 4)"

if __name__ == "__main__":
    arguments = sys.argv[1:]
    if len(arguments) == 3 and arguments[0] == "--one":
        print(json.dumps(timed(STEPS[arguments[1]], Path(arguments[2]))))
    elif len(arguments) > 1 or (arguments and not (arguments[0].isdigit()
                                                   and int(arguments[0]) >= 4)):
        raise SystemExit(USAGE)
    else:
        main(int(arguments[0]) if arguments else 20_000)
