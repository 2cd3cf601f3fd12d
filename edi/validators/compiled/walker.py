"""pyx12's map walk (`pyx12.map_walker.walk_tree.walk_errors`) over the compiled tables.

Which node a segment lands on, and which loops and segments the walk passes on the
way, depend only on the segment (its id and the qualifier values `is_match` reads)
and the node the walk starts from, never on the counts. So each (start node,
segment signature) is analysed once into an `Outcome`: the matched node, the action
at the match (a segment counted, a loop entered) and the required segments and loops
passed (which are missing only if their count is still 0). Replaying an outcome
against the counts gives pyx12's errors, in pyx12's order.
"""

from __future__ import annotations

from dataclasses import dataclass

from edi import bounds
from edi.validators.compiled.tables import LOOP, ROOT, SEGMENT, GuideTables, Node

NOT_FOUND, SEG_MATCH, LOOP_ENTRY, LOST = 0, 1, 2, 3


class WalkFault(Exception):
    """The map holds a usage pyx12's walker raises on."""


@dataclass(frozen=True, slots=True)
class Miss:
    """A required segment or loop the scan passed: missing if its count is 0."""

    key: int
    node: int
    """The segment the error is filed against (a loop's first segment)."""
    seg_id: str
    eq: int
    pos: int


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: int
    node: int
    """The segment matched (-1 when none)."""
    loop: int
    """The loop entered, for LOOP_ENTRY."""
    misses: tuple[Miss, ...]
    miss_keys: tuple[int, ...]


WalkError = tuple[str, int, str | None, int]
"""(IK304-like code, map node or -1, segment id the error node shows, segment count)."""


class Walker:
    """The loop and segment counts of one pass, and the memo of outcomes."""

    def __init__(self, tables: GuideTables, memo: dict[tuple[int, tuple[str | None, ...]],
                                                        Outcome]) -> None:
        self.nodes = tables.nodes
        self.counts = [0] * len(tables.keys)
        self.memo = memo

    def reset(self, below: tuple[int, ...]) -> None:
        counts = self.counts
        if below and below[-1] - below[0] + 1 == len(below):
            # the slots under a loop are numbered in a row (the compiler walks depth first)
            counts[below[0]:below[-1] + 1] = [0] * len(below)
            return
        for key in below:
            counts[key] = 0

    def walk(self, start: int, signature: tuple[str | None, ...], elements: list[str],
             component: str, seg_id: str | None, seg_count: int) -> tuple[int, list[WalkError]]:
        """The node the segment lands on (-1: not found) and the errors of the walk."""
        outcome = self.memo.get((start, signature))
        if outcome is None:
            outcome = analyse(self.nodes, start, seg_id, Values(elements, component))
            if bounds.short(signature):
                bounds.remember(self.memo, (start, signature), outcome)
        return self.replay(outcome, start, seg_id, seg_count)

    def replay(self, outcome: Outcome, start: int, seg_id: str | None,
               seg_count: int) -> tuple[int, list[WalkError]]:
        counts = self.counts
        nodes = self.nodes
        errors: list[WalkError] = []
        pending: list[Miss] = []
        for key in outcome.miss_keys:
            if counts[key] < 1:
                pending = [m for m in outcome.misses if counts[m.key] < 1]
                break
        kind = outcome.kind
        if kind == SEG_MATCH:
            child = nodes[outcome.node]
            counts[child.key] += 1
            self._segment_usage(child, seg_id, seg_count, errors)
            if pending:
                pending = [m for m in pending if m.eq != child.eq]
                errors += [("3", m.node, m.seg_id, seg_count) for m in pending
                           if m.pos != child.pos]
            return child.index, errors
        if kind == LOOP_ENTRY:
            loop = nodes[outcome.loop]
            self._loop_usage(loop, seg_id, seg_count, errors)
            counts[nodes[outcome.node].key] += 1
            errors += [("3", m.node, m.seg_id, seg_count) for m in pending]
            return outcome.node, errors
        if kind == NOT_FOUND:
            errors.append(("1", start, seg_id, seg_count))
        return -1, errors

    def _segment_usage(self, child: Node, seg_id: str | None, seg_count: int,
                       errors: list[WalkError]) -> None:
        if child.usage == "N":
            errors.append(("2", -1, None, seg_count))
        elif child.usage in ("R", "S"):
            if self.counts[child.key] > child.max_repeat:
                errors.append(("5", child.index, seg_id, seg_count))
        else:
            raise WalkFault("segment usage")

    def _loop_usage(self, loop: Node, seg_id: str | None, seg_count: int,
                    errors: list[WalkError]) -> None:
        if loop.usage == "N":
            errors.append(("2", -1, None, seg_count))
        elif loop.usage in ("R", "S"):
            self.reset(loop.below)
            self.counts[loop.key] += 1
            if self.counts[loop.key] > loop.max_repeat:
                errors.append(("4", loop.index, seg_id, seg_count))
        else:
            raise WalkFault("loop usage")


class Values:
    """The values `is_match` reads from one segment (pyx12's `Segment.get_value`)."""

    __slots__ = ("component", "elements")

    def __init__(self, elements: list[str], component: str) -> None:
        self.elements = elements
        self.component = component

    def get(self, element: int, sub: int) -> str | None:
        if element > len(self.elements):
            return None
        text = self.elements[element - 1]
        if sub:
            parts = text.split(self.component)
            return parts[sub - 1] if sub <= len(parts) else None
        # a composite's value drops its trailing empty components (`Composite.format`)
        return text.rstrip(self.component)


def is_match(node: Node, seg_id: str | None, values: Values) -> bool:
    if seg_id != node.id:
        return False
    if node.match is None:
        return True
    element, sub, codes = node.match
    return values.get(element, sub) in codes


class _Analysis:
    """One symbolic run of pyx12's walk: which nodes it passes and where it lands."""

    def __init__(self, nodes: list[Node], seg_id: str | None, values: Values) -> None:
        self.nodes = nodes
        self.seg_id = seg_id
        self.values = values
        self.misses: list[Miss] = []

    def parent_loop(self, node: Node) -> Node:
        if node.kind == ROOT:
            return node
        parent = self.nodes[node.parent]
        while parent.kind not in (LOOP, ROOT):
            parent = self.nodes[parent.parent]
        return parent

    def run(self, start: int) -> Outcome:
        orig = self.nodes[start]
        node, node_pos = orig, orig.pos
        if node.kind not in (LOOP, ROOT):
            node = self.parent_loop(node)
        orig_loop = orig if orig.kind in (LOOP, ROOT) else self.parent_loop(orig)
        while True:
            found = self.scan(node, node_pos, orig_loop)
            if found is not None:
                return found
            if node.kind == ROOT:
                return self.outcome(NOT_FOUND, -1, -1)
            node_pos = node.pos
            node = self.parent_loop(node)

    def outcome(self, kind: int, node: int, loop: int) -> Outcome:
        misses = tuple(self.misses)
        return Outcome(kind, node, loop, misses, tuple(dict.fromkeys(m.key for m in misses)))

    def scan(self, node: Node, node_pos: int, orig_loop: Node) -> Outcome | None:
        for pos, index in node.scan:
            if pos < node_pos:
                continue
            child = self.nodes[index]
            if child.kind == SEGMENT:
                if is_match(child, self.seg_id, self.values):
                    if node.kind == LOOP and self.loop_match(node):
                        return self.goto(node)
                    return self.outcome(SEG_MATCH, child.index, -1)
                if child.usage == "R":
                    self.misses.append(Miss(child.key, child.index, child.id, child.eq,
                                            child.pos))
            elif child.kind == LOOP and self.loop_match(child):
                return self.goto(child)
        return None

    def loop_match(self, loop: Node) -> bool:
        if not loop.scan:
            return False
        first = self.nodes[loop.first]
        if first.kind == LOOP:
            return any(self.nodes[c].kind == LOOP and self.loop_match(self.nodes[c])
                       for _pos, c in loop.scan)
        if first.kind == SEGMENT and is_match(first, self.seg_id, self.values):
            return True
        if loop.usage == "R":
            self.misses.append(Miss(loop.key, first.index, first.id, first.eq, first.pos))
        return False

    def goto(self, loop: Node) -> Outcome:
        entered = self.find_entry(loop)
        if entered is None:
            return self.outcome(LOST, -1, -1)
        seg, entered_loop = entered
        return self.outcome(LOOP_ENTRY, seg, entered_loop)

    def find_entry(self, loop: Node) -> tuple[int, int] | None:
        """`_goto_seg_match`: the loop whose first segment matches, depth first."""
        if loop.first_seg >= 0 and is_match(self.nodes[loop.first_seg], self.seg_id,
                                             self.values):
            return loop.first_seg, loop.index
        for _pos, index in loop.scan:
            child = self.nodes[index]
            if child.kind == LOOP:
                found = self.find_entry(child)
                if found is not None:
                    return found
        return None


def analyse(nodes: list[Node], start: int, seg_id: str | None, values: Values) -> Outcome:
    return _Analysis(nodes, seg_id, values).run(start)
