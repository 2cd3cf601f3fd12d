"""The fuzz suite: seeded mutations of real files through the front end, with oracles.

    python -m workers.fuzz N [SEED] [FIRST] [--jobs J]    (make fuzz N=100000)

FIRST runs only cases FIRST to N-1 of the seed's sequence (same bytes as in a full
run); ``--jobs`` cuts the cases into J contiguous ranges run by J processes (each
case has the same bytes either way; `make fuzz` runs 2, one per core); each failing
case is printed to stderr with its index as it happens, and `case(seed, index)`
rebuilds one case's bytes.

Each case is a sample file (`sources`) with planted markers (`fixtures.fuzz.plant`)
and one to three mutations (`fixtures.fuzz.mutate`), run through what a received file
meets: the envelope and implementation-guide check, the TA1 or 999, the front end and
its 277CA. The oracles, each a kind of failure:

- ``traceback``: any exception (the engine must answer every file);
- ``no acknowledgment``, ``invalid 999``, ``invalid TA1``, ``invalid 277CA``: every
  answer exists and passes pyx12 (TA1 through pyx12 itself, 999 and 277CA through the
  engine's pyx12-driven check of outbound files);
- ``planted PHI``: a marker in a problem, a claim's reasons or an exception text;
- ``unbalanced 835``, ``invalid 835``, ``lost claim``, ``overpaid``, ``negative
  payment``: the claims the front end accepted, decided in memory against the shipped
  reference data and the planted member (`_reference`, `workers.adjudicate`) as
  received the day the file was made (BHT04)
  and paid in one cycle (`remittance.cycle.plan_cycle`; a correction's original from
  the reference history, as a cycle finds one no cycle here remitted), must give 835s
  that balance when read back and pass pyx12's 835 guide, with every claim decided,
  each one not pended or held in exactly one CLP of its own (a void in none) and each
  original it reverses in one reversal, never paying a claim more than its charge nor
  a payee less than nothing (`remit_failures`);
- ``slow``: a case over `SECONDS_PER_CASE`;
- ``memory``: the process more than `MB_GROWTH` resident over what it held when the
  run began, after a case (what one file needs is freed after it; a process that
  keeps growing leaks per file).
The run ends with a table: cases, failures by kind, the slowest case, peak memory.
"""

from __future__ import annotations

import functools
import hashlib
import io
import itertools
import logging
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyx12.map_if
import pyx12.map_index
import pyx12.params
import pyx12.x12n_document

from adjudication.reference import Coverage, LineOfBusiness, Member, ReferenceData
from edi.ack277 import render_277ca
from edi.acks import CountingControlNumbers, Responder, acknowledge
from edi.claims import ParsedClaim
from edi.faults import FAULTS
from edi.findings import FileCheck
from edi.front_end import InMemoryClaimNumbers
from edi.remit835 import render_835
from edi.validators.codesets import default_registry
from edi.validators.edits import EditContext
from edi.validators.implementation_guide import EnvelopePolicy
from edi.validators.outbound import outbound_problems
from fixtures.fuzz import (
    PLANTED,
    PLANTED_BIRTH,
    PLANTED_FIRST,
    PLANTED_ID,
    PLANTED_LAST,
    PLANTED_MEDICAID_ID,
    PLANTED_MEDICARE_ID,
    mutate,
    plant,
)
from remittance.claims import REVERSAL_STATUS, original_from_history
from remittance.cycle import Waiting, is_held, plan_cycle, waiting_of
from remittance.payer import DEFAULT_PAYER
from workers import logs
from workers.adjudicate import decide_in_memory
from workers.front_end import FrontEndResult, Outcomes, front_end_result, front_pass
from workers.reference import SHIPPED_REFERENCE_DIRECTORY, read_reference_dir
from workers.remit import check_835
from workers.summary_store import problems_of

SECONDS_PER_CASE = 20.0
MB_GROWTH = 250.0
"""Resident memory a fuzz run may add to its process, measured after every case (the
long run's processes start near 40 MB and load about 90 MB on the first cases: the
compiled guide, pyx12's maps for the answers, the samples; the suite's run starts in
a pytest process that holds whatever earlier tests loaded)."""
PROGRESS_EVERY = 1000
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
    index: int
    mutations: tuple[str, ...]
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    faults: tuple[str, ...] = ()
    """Where the engine's catch-alls caught a fault of its own on this case."""


KEPT_FAILING = 100
"""Failing cases a tally keeps whole (each is printed as it happens; the rest counted)."""
KEPT_FAULT_CASES = 10
"""Cases a tally names per place an engine fault was caught."""


@dataclass
class Tally:
    """What a run keeps of its cases, in a size that does not grow with them (so the
    memory oracle measures the engine, not the run's own bookkeeping): counts, the
    failing cases (the first `KEPT_FAILING`), the slowest, the cases of each engine
    fault (the first `KEPT_FAULT_CASES`), and a digest of which cases ran with which
    mutations and failures (the same however the cases are cut into jobs)."""

    cases: int = 0
    last: int = -1
    """The index of the last case taken."""
    failed: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    mutations: Counter[str] = field(default_factory=Counter)
    failing: list[Outcome] = field(default_factory=list)
    slowest: Outcome | None = None
    fault_cases: dict[str, list[int]] = field(default_factory=dict)
    digest: int = 0

    def add(self, outcome: Outcome) -> None:
        self.cases += 1
        self.last = max(self.last, outcome.index)
        self.failures.update(outcome.failures)
        self.mutations.update(outcome.mutations)
        if outcome.failures:
            self.failed += 1
            if len(self.failing) < KEPT_FAILING:
                self.failing.append(outcome)
        if self.slowest is None or outcome.seconds > self.slowest.seconds:
            self.slowest = outcome
        for where in outcome.faults:
            seen = self.fault_cases.setdefault(where, [])
            if len(seen) < KEPT_FAULT_CASES and outcome.index not in seen:
                seen.append(outcome.index)
        case = repr((outcome.index, outcome.mutations, outcome.failures)).encode()
        self.digest = (self.digest + int.from_bytes(
            hashlib.sha256(case).digest()[:8], "big")) % 2**64

    def merge(self, other: Tally) -> None:
        """``other``'s cases added (a later range of the same run)."""
        self.cases += other.cases
        self.last = max(self.last, other.last)
        self.failed += other.failed
        self.failures.update(other.failures)
        self.mutations.update(other.mutations)
        self.failing += other.failing[:KEPT_FAILING - len(self.failing)]
        if other.slowest is not None and (
                self.slowest is None or other.slowest.seconds > self.slowest.seconds):
            self.slowest = other.slowest
        for where, seen in other.fault_cases.items():
            mine = self.fault_cases.setdefault(where, [])
            mine += seen[:KEPT_FAULT_CASES - len(mine)]
        self.digest = (self.digest + other.digest) % 2**64


def front_end_in_memory(data: bytes) -> tuple[FileCheck, FrontEndResult]:
    """The engine's one pass over ``data`` (the check, and the sets parsed and edited)
    and its claims settled by the check's verdicts, numbered in memory, received on
    `RECEIVED`."""
    kept = Outcomes()
    check = front_pass(io.BytesIO(data), EnvelopePolicy(), EditContext(received=RECEIVED), kept)
    accepted = check.accepted_ordinals()
    result = front_end_result((outcome.settle(accepted) for outcome in kept.sets),
                              InMemoryClaimNumbers(), RECEIVED)
    return check, result


def run_case(data: bytes) -> list[str]:
    """The failures of one file (empty: every oracle holds)."""
    failures: list[str] = []
    texts: list[str] = []
    try:
        check, result = front_end_in_memory(data)
        responder = Responder(when=WHEN, control=CountingControlNumbers())
        ack = acknowledge(check, responder)
        if not ack.text.startswith("ISA"):
            failures.append("no acknowledgment")
        elif ack.kind == "999" and outbound_problems(ack.text):
            failures.append("invalid 999")
        elif ack.kind == "TA1" and not _pyx12_accepts(ack.text):
            failures.append("invalid TA1")
        texts += problems_of(check)
        for claim in result.claims:
            texts += claim.reasons
        if result.answered and outbound_problems(render_277ca(result.answered, responder)):
            failures.append("invalid 277CA")
        if result.accepted:
            failures += remit_failures(result.accepted)
    except Exception as exc:  # an oracle: the engine must answer, never raise
        failures.append(f"traceback ({type(exc).__name__})")
        texts.append(str(exc))
    joined = "\n".join(texts)
    if any(marker in joined for marker in PLANTED):
        failures.append("planted PHI")
    return failures


def remit_failures(accepted: list[tuple[str, ParsedClaim]]) -> list[str]:
    """The back half's oracles on the accepted claims (claim number, claim): decided in
    memory, one payment cycle planned, each payee's 835 written, read back and checked
    as the cycle checks it before release (`workers.remit.check_835`)."""
    failures: list[str] = []
    reference = _reference()
    made = accepted[0][1].header.bht.creation_date  # BHT04
    # decided as received the day the file was made (most samples' services are months
    # before RECEIVED: all denied as filed late there), unless that day is no sense
    received = made if made is not None and date(2000, 1, 1) <= made <= RECEIVED else RECEIVED
    decisions = decide_in_memory(accepted, reference, as_of=received, received=received,
                                 code_sets=default_registry())
    if [d.icn for d in decisions] != [icn for icn, _claim in accepted]:
        return ["lost claim"]  # a claim not decided, or decided under another number
    waiting: list[Waiting] = []
    for key, ((_icn, claim), decision) in enumerate(zip(accepted, decisions, strict=True)):
        if decision.status == "pended":
            continue
        # an original no cycle here remitted: the reference history's, as a cycle finds it
        item = waiting_of(key, decision, claim, lambda icn, like: original_from_history(
            list(reference.by_icn(icn)), like))
        if not is_held(item):
            waiting.append(item)
    traces = itertools.count(1)
    cycle = plan_cycle(waiting, payer=DEFAULT_PAYER, carried={}, account=lambda _p: None,
                       next_trace=lambda: f"F{next(traces):09d}", effective=received,
                       produced=received)
    # (a reversal?, CLP07): each claim's own CLP (none for a void), and the reversal of
    # each original a correction reverses
    expected: Counter[tuple[bool, str]] = Counter()
    for item in waiting:
        if item.original is not None:
            expected[(True, item.original.payer_claim_control_number)] += 1
        if item.payment is not None:
            expected[(False, item.payment.payer_claim_control_number)] += 1
    remitted: Counter[tuple[bool, str]] = Counter()
    for planned in cycle.remittances:
        checked = check_835(render_835(
            planned.remittance, Responder(when=WHEN, control=CountingControlNumbers())))
        if checked.imbalances:
            failures.append("unbalanced 835")
        if checked.refused:
            failures.append("invalid 835")
        for ic in checked.read:
            for group in ic.groups:
                for ts in group.transactions:
                    if ts.amount < 0:
                        failures.append("negative payment")
                    for clp in ts.claims:
                        remitted[(clp.status == REVERSAL_STATUS,
                                  clp.payer_claim_control_number)] += 1
                        if abs(clp.paid) > abs(clp.charge):  # a reversal's are negative
                            failures.append("overpaid")
    if remitted != expected:
        failures.append("lost claim")
    return list(dict.fromkeys(failures))  # each kind once


@functools.cache
def _reference() -> ReferenceData:
    """The shipped reference data, and the three members `fixtures.fuzz.plant` makes of
    the subscribers (one card id per line of business, the same names and birth date):
    commercial (a PPO in MA), MassHealth and Medicare Advantage, so a planted file's
    claims are decided by each line of business's rules and can be paid, not only
    denied as a member not found (CO-31). The claims history is theirs (each past claim
    the planted member's of its line of business), so a sample's replacement or void
    finds its original and is remitted with its reversal."""
    shipped = read_reference_dir(SHIPPED_REFERENCE_DIRECTORY)[0]
    since = date(2000, 1, 1)
    members, coverage = list(shipped.members), list(shipped.coverage)
    member_of: dict[LineOfBusiness, str] = {}
    for card, line, plan in (
            (PLANTED_ID, LineOfBusiness.COMMERCIAL, "COM-PPO-1500"),
            (PLANTED_MEDICAID_ID, LineOfBusiness.MEDICAID, "MCD-MA-ACO"),
            (PLANTED_MEDICARE_ID, LineOfBusiness.MEDICARE_ADVANTAGE, "MA-HMO")):
        member = Member(member_id=f"{card}-00", subscriber_id=card, relationship="self",
                        last_name=PLANTED_LAST, first_name=PLANTED_FIRST,
                        birth_date=datetime.strptime(PLANTED_BIRTH, "%Y%m%d").date(),
                        gender="F", effective=since)
        members.append(member)
        coverage.append(Coverage(member_id=member.member_id, plan_id=plan,
                                 line_of_business=line, state="MA", effective=since))
        member_of[line] = member.member_id
    history = [past.model_copy(update={"member_id": member_of[past.line_of_business]})
               for past in shipped.past_claims]
    return shipped.with_member_rows(
        members=members, coverage=coverage, authorizations=shipped.authorizations,
        past_claims=history, accumulators=shipped.accumulators,
        other_coverage=shipped.other_coverage)


def _pyx12_accepts(text: str) -> bool:
    """pyx12's verdict on a TA1; pyx12 raising on it counts as rejecting it (its error
    handler has no node for an element error outside a transaction set, so an invalid
    TA102 or TA103 made it raise AttributeError, which read as the engine's traceback)."""
    with _maps_loaded_once():
        try:
            return bool(pyx12.x12n_document.x12n_document(
                pyx12.params.params(), io.StringIO(text), io.StringIO(), None))
        except Exception:
            return False


@contextmanager
def _maps_loaded_once() -> Iterator[None]:
    """pyx12's own ``x12n_document``, without reloading its maps on every call.

    It parses the control map, its code lists and the map index afresh each time
    (about 0.25 s, most of a TA1 case). A map is read-only to a walk (the walk state
    lives in the walker and the error handler), so it gets the ones loaded once per
    process: the same verdicts, in a fraction of the time.
    """
    def cached_load(map_file: str, param: object, map_path: str | None = None) -> object:
        return _map(map_file) if map_path is None else _LOAD(map_file, param, map_path)

    pyx12.map_if.load_map_file = cached_load
    pyx12.map_index.map_index = lambda map_path=None: (
        _map_index() if map_path is None else _MAP_INDEX(map_path))
    try:
        yield
    finally:
        pyx12.map_if.load_map_file, pyx12.map_index.map_index = _LOAD, _MAP_INDEX


_LOAD = pyx12.map_if.load_map_file
_MAP_INDEX = pyx12.map_index.map_index


@functools.cache
def _map(name: str) -> object:
    return _LOAD(name, pyx12.params.params())


@functools.cache
def _map_index() -> object:
    return _MAP_INDEX()


def cases(count: int, seed: int) -> Iterator[tuple[bytes, tuple[str, ...]]]:
    """The ``count`` cases of ``seed`` in order (case i is the same whatever ``count``)."""
    rng = random.Random(seed)
    files = sources()
    for _ in range(count):
        yield mutate(rng.choice(files), rng)


def case(seed: int, index: int) -> tuple[bytes, tuple[str, ...]]:
    """Case ``index`` of ``seed`` alone (the draws of the cases before it are made again)."""
    *_, last = cases(index + 1, seed)
    return last


def run(count: int, seed: int = 0, first: int = 0,
        on_failure: Callable[[Outcome], None] | None = None,
        on_progress: Callable[[Tally], None] | None = None) -> Tally:
    """Run cases ``first`` to ``count - 1`` of ``seed`` (the earlier draws are still made,
    so a case has the same bytes in any range); ``on_failure`` sees each failing case,
    ``on_progress`` the tally so far after every `PROGRESS_EVERY` cases."""
    logging.getLogger("pyx12").setLevel(logging.CRITICAL + 1)
    logs.configure("ERROR")
    tally = Tally()
    baseline = _resident_mb()
    for index, (data, mutations) in enumerate(cases(count, seed)):
        if index < first:
            continue
        started = time.perf_counter()
        before = FAULTS.copy()
        outcome = Outcome(index, mutations, run_case(data))
        outcome.seconds = time.perf_counter() - started
        outcome.faults = tuple(sorted((FAULTS - before).elements()))
        if outcome.seconds > SECONDS_PER_CASE:
            outcome.failures.append("slow")
        if _resident_mb() - baseline > MB_GROWTH:
            outcome.failures.append("memory")
        if outcome.failures and on_failure is not None:
            on_failure(outcome)
        tally.add(outcome)
        if on_progress is not None and tally.cases % PROGRESS_EVERY == 0:
            on_progress(tally)
    return tally


def report(tally: Tally, faults: Counter[str] | None = None) -> str:
    """The summary table; ``faults`` are engine faults the catch-alls counted (each
    turned into a rejection and logged, so not a failure, but worth a look)."""
    slowest = tally.slowest
    peak_mb = _peak_mb()
    lines = [f"fuzz: {tally.cases:,} cases, {tally.failed:,} with failures"]
    lines += [f"  {kind}: {count:,}" for kind, count in sorted(tally.failures.items())]
    if slowest is not None:
        lines.append(f"  slowest case: {slowest.seconds:.2f} s "
                     f"(case {slowest.index}: {', '.join(slowest.mutations)})")
    lines.append(f"  peak memory (max RSS): {peak_mb:,.0f} MB")
    for where, count in sorted((faults or Counter()).items()):
        seen = sorted(tally.fault_cases.get(where, []))
        cases = ", ".join(map(str, seen)) + (", ..." if count > len(seen) else "")
        lines.append(f"  engine faults caught ({where}): {count:,} (cases {cases})")
    return "\n".join(lines)


def _print_failure(outcome: Outcome) -> None:
    print(f"case {outcome.index}: {', '.join(outcome.failures)} "
          f"({', '.join(outcome.mutations)})", file=sys.stderr, flush=True)


def _print_progress(tally: Tally) -> None:
    print(f"progress: {tally.cases:,} cases (last {tally.last}), {tally.failed:,} failing, "
          f"resident {_resident_mb():,.0f} MB, peak {_peak_mb():,.0f} MB",
          file=sys.stderr, flush=True)


def _peak_mb() -> float:
    """The largest resident set of this process or of any process it ran (the jobs)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def _resident_mb() -> float:
    """This process's resident memory now (Linux), else its peak so far."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ranges(first: int, count: int, jobs: int) -> list[tuple[int, int]]:
    """``first`` to ``count - 1`` cut into at most ``jobs`` contiguous (first, end) ranges."""
    total = max(0, count - first)
    jobs = max(1, min(jobs, total or 1))
    bounds = [first + total * part // jobs for part in range(jobs + 1)]
    return [(low, high) for low, high in itertools.pairwise(bounds) if high > low]


def _run_range(seed: int, first: int, end: int) -> tuple[Tally, Counter[str]]:
    """One job: cases ``first`` to ``end - 1`` (in a process of its own)."""
    before = FAULTS.copy()
    tally = run(end, seed, first, on_failure=_print_failure, on_progress=_print_progress)
    return tally, FAULTS - before


def run_jobs(count: int, seed: int, first: int, jobs: int) -> tuple[Tally, Counter[str]]:
    """Cases ``first`` to ``count - 1`` of ``seed`` in ``jobs`` processes, one contiguous
    range each (the same bytes per case as one process makes); their tallies merged in
    case order, and the engine faults of every job."""
    parts = ranges(first, count, jobs)
    if len(parts) <= 1:
        return _run_range(seed, first, count)
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(len(parts), mp_context=get_context("fork")) as pool:
        done = list(pool.map(_run_range, [seed] * len(parts), *zip(*parts, strict=True)))
    tally, faults = Tally(), Counter[str]()
    for part, part_faults in done:
        tally.merge(part)
        faults.update(part_faults)
    return tally, faults


USAGE = "usage: python -m workers.fuzz [N] [SEED] [FIRST] [--jobs J]"


def main(argv: list[str]) -> int:
    args = list(argv)
    jobs = 1
    try:
        if "--jobs" in args:
            at = args.index("--jobs")
            jobs = int(args[at + 1])
            del args[at:at + 2]
            if jobs < 1:
                raise ValueError(jobs)
        count = int(args[0]) if args else 2000
        seed = int(args[1]) if len(args) > 1 else 0
        first = int(args[2]) if len(args) > 2 else 0
        if len(args) > 3 or count < 0 or first < 0:
            raise ValueError(args)
    except (ValueError, IndexError):
        print(USAGE, file=sys.stderr)
        return 2
    tally, faults = run_jobs(count, seed, first, jobs)
    print(report(tally, faults))
    return 1 if tally.failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
