"""SNIP 1-2 from the compiled tables: `check_stream` without pyx12 in the hot path (the
engine's check of every inbound 837P file, and of every 835 a payment cycle writes).

Same interface and verdicts as `edi.validators.implementation_guide.check_stream`.
The usual body segment (inside a transaction set, a walk seen before that raises no
error, a segment text whose element verdict is remembered or that the node's pattern
settles) takes the short path in `_run`; everything else goes through `steps`, which
follows pyx12's path one for one. The error tree becomes findings through the same
`fill_results`. pyx12 is still called for the exact element check of a segment the
fast tests do not accept, and the whole file goes to pyx12's path when the policy
names a map the tables do not hold (the outbound 999 and 277CA guides), or more than
one map.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any, BinaryIO

from edi import bounds
from edi.errors import X12SyntaxError
from edi.faults import record_fault
from edi.findings import FileCheck
from edi.tokenizer import RawSegment, iter_raw_segments
from edi.validators import implementation_guide as ig
from edi.validators._pyx12_results import fill_results
from edi.validators.compiled.compiler import COMPILED_MAPS
from edi.validators.compiled.source import NESTING, CompiledSource, Seg
from edi.validators.compiled.steps import (
    FIRST,
    FIRST_COMPONENT,
    THIRD,
    Guide,
    QuietPlan,
    Walk,
    element_checks,
    engine_fault,
    finish,
    general,
    guide,
    handle_errors,
    walk_segment,
)
from edi.validators.compiled.walker import LOOP_ENTRY, SEG_MATCH, Values, Walker


def compiled_map(policy: ig.EnvelopePolicy) -> str | None:
    """The one compiled transaction map every group the policy takes is checked with;
    None when it takes none, another map or more than one."""
    names = {map_name for map_name, _version in policy.groups.values()}
    return names.pop() if len(names) == 1 and names <= COMPILED_MAPS else None


def check_stream(stream: BinaryIO, policy: ig.EnvelopePolicy | None = None,
                 tap: Callable[[RawSegment], object] | None = None) -> FileCheck:
    """`implementation_guide.check_stream`'s verdicts, from the compiled tables.

    ``tap``, when given, sees every segment the tokenizer reads, in file order, before
    the check walks it: the one-pass front end parses the sets from it (a policy the
    tables do not cover goes to pyx12's path, which taps nothing: see `compiled_map`).
    """
    policy = policy or ig.EnvelopePolicy()
    transaction_map = compiled_map(policy)
    if transaction_map is None:
        return ig.check_stream(stream, policy)
    ig.silence_pyx12()
    g = guide(transaction_map)
    walk = Walk(policy, g, Walker(g.tables, g.outcomes))
    head = stream.read(ig._HEAD)
    raw = iter_raw_segments(ig._Prefixed(head, stream))  # type: ignore[arg-type]
    if tap is not None:
        raw = _tapped(raw, tap)
    try:
        first = next(raw)
    except X12SyntaxError as exc:
        walk.check.unreadable = ig._unreadable(exc, head)
        return walk.check
    except StopIteration:  # pragma: no cover - the tokenizer raises on empty input
        walk.check.unreadable = ig._unreadable(
            X12SyntaxError("the file is empty", code="023"), head)
        return walk.check
    src = CompiledSource(raw, first)
    walk.node = g.isa
    _run(walk, src)
    finish(walk, src)
    fill_results([(result, node) for result, node, _index in walk.links], walk.kept)
    return walk.check


def _tapped(raw: Iterator[RawSegment], tap: Callable[[RawSegment], object]
            ) -> Iterator[RawSegment]:
    for segment in raw:
        if segment.stray is None:  # no segment of any set (`iter_segments` skips it too)
            tap(segment)
        yield segment


def _run(walk: Walk, src: CompiledSource) -> None:
    """Every segment of the file: the usual body segment on a short path, any other
    (envelope, first sight of a transition, anything in error) through `steps.step`."""
    g = walk.guide
    quiet = g.quiet
    positions_of = g.match_positions
    counts = walk.walker.counts
    errh = walk.errh
    valid_ids = src.valid_ids
    memo: dict[tuple[int, str], tuple[Any, ...]] = {}
    patterns: dict[int, Any] = {}
    ruled = g.checker.ruled
    hot_ids: dict[str, bool] = {}  # ids that may take the short path: valid, not envelope
    hot = False
    ele_term = component = ""
    try:
        for raw in chain((src.first,), src.raw):
            line = raw.text
            if not hot or not line or line[0] <= " " or line[-1] == ele_term or raw.cut:
                hot, ele_term, component, memo, patterns = _full_step(walk, src, raw)
                continue
            parts = line.split(ele_term)
            seg_id = parts[0]
            if not hot_ids.get(seg_id) or len(parts) < 2 or not parts[1].strip(component):
                hot, ele_term, component, memo, patterns = _full_step(walk, src, raw)
                if seg_id not in NESTING and valid_ids.get(seg_id):
                    hot_ids[seg_id] = True
                continue
            # the reader's bookkeeping, as `CompiledSource.general` does it (raw_line and
            # raw_elements are set only where they are read: the full walk)
            if seg_id in _COUNTED:
                src.parse_body(seg_id, parts[1:])
                if seg_id == "CLM":
                    errh.current_claim = parts[1]
                elif seg_id == "HL":
                    errh.current_claim = None
            else:
                src.seg_count += 1
                src.cur_line += 1
            try:
                positions = positions_of.get(seg_id)
                signature: tuple[str | None, ...]
                if positions is None:
                    signature = (seg_id,)
                elif positions is FIRST:
                    signature = (seg_id, parts[1].rstrip(component))
                elif positions is FIRST_COMPONENT:
                    signature = (seg_id, parts[1].split(component, 1)[0])
                elif positions is THIRD:
                    signature = (seg_id, parts[3].rstrip(component) if len(parts) > 3 else None)
                else:
                    values = Values(parts[1:], component)
                    signature = (seg_id, *[values.get(e, s) for e, s in positions])
                key = (walk.node, signature)
                plan = quiet.get(key)
                if plan is None:
                    plan = _quiet_plan(g, key)
                misses, check_key, limit, zeros, low, incs, node, loop_id = plan
                full = counts[check_key] >= limit
                if not full:
                    for miss in misses:
                        if counts[miss] < 1:
                            full = True
                            break
                if full:
                    src.raw_line = line
                    src.raw_elements = parts
                    walk_segment(walk, src, Seg(line, seg_id, parts[1:], None), seg_id)
                    hot = not walk.skip_set and not walk.skip_group
                    continue
                if zeros:
                    counts[low:low + len(zeros)] = zeros
                for inc in incs:
                    counts[inc] += 1
                walk.node = node
                errh.pending = (seg_id, src.seg_count, loop_id, errh.current_claim)
                if src.err_list:
                    handle_errors(walk, src.pop_errors())
                found = memo.get((node, line))
                if found is None:
                    # a text the node's pattern accepts is not remembered: the pattern
                    # settles it as fast next time (the memo keeps the exact checks')
                    pattern = patterns.get(node, _UNBUILT)
                    if pattern is None or pattern is _UNBUILT \
                            or pattern.fullmatch(line) is None \
                            or (node in ruled and not ruled[node].hold(parts, component)):
                        element_checks(walk, src, node, parts[1:], line)
                elif found:
                    element_checks(walk, src, node, parts[1:], line)
            except Exception as exc:
                record_fault("guide-walk", exc)
                engine_fault(walk, src, seg_id)
                hot = not walk.skip_set and not walk.skip_group
    except X12SyntaxError as exc:  # the tokenizer's: the rest of the file is unreadable
        src.failure = exc


def _full_step(walk: Walk, src: CompiledSource, raw: Any
               ) -> tuple[bool, str, str, dict[tuple[int, str], tuple[Any, ...]],
                          dict[int, Any]]:
    """One segment through `steps.general`, then what the short path needs next:
    whether it may take the next segment, the delimiters, and their memo and patterns."""
    general(walk, src, raw)
    hot = src.structure.level == 3 and not src.structure.broken and not walk.skip_group \
        and not walk.skip_set
    delimiters = (src.seg_term, src.ele_term, src.subele_term, src.repetition_term)
    checker = walk.guide.checker
    return (hot, src.ele_term, src.subele_term, checker.memo_for(delimiters),
            checker.patterns_for(delimiters))


_COUNTED = frozenset({"HL", "LX", "CLM"})
_UNBUILT = object()
_COUNTED_USAGE = ("R", "S")
_FULL_WALK: QuietPlan = ((), 0, -1, [], 0, (), -1, None)
"""A plan whose check always fails: the segment takes the full walk."""


def _quiet_plan(g: Guide, key: tuple[int, tuple[str | None, ...]]) -> QuietPlan:
    """A remembered walk as the checks and counts to apply when it raises no error:
    no required segment or loop it passes is missing (their counts are not 0) and the
    count it raises stays within the repeat limit."""
    outcome = g.outcomes.get(key)
    if outcome is None:
        return _FULL_WALK  # first sight: the full walk analyses and remembers it
    nodes = g.nodes
    plan = _FULL_WALK
    if outcome.kind == SEG_MATCH:
        child = nodes[outcome.node]
        if child.usage in _COUNTED_USAGE:
            plan = (outcome.miss_keys, child.key, child.max_repeat, [], 0, (child.key,),
                    child.index, child.loop_id)
    elif outcome.kind == LOOP_ENTRY:
        loop, first = nodes[outcome.loop], nodes[outcome.node]
        below = loop.below
        if loop.usage in _COUNTED_USAGE and below and below[-1] - below[0] + 1 == len(below):
            plan = (outcome.miss_keys, loop.key, loop.max_repeat, [0] * len(below), below[0],
                    (loop.key, first.key), first.index, first.loop_id)
    if bounds.short(key[1]):
        bounds.remember(g.quiet, key, plan)
    return plan


