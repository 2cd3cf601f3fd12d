"""Element checks of one segment: a fast accept test, pyx12's own check otherwise.

`accepts` says yes only when pyx12's `segment_if.is_valid_errors` is certain to find
nothing: element count, presence by usage, lengths (pyx12's way of measuring
numbers), code values, data types (pyx12's own regexes and date and time functions),
the map's regexes, the DTP and 1250/1251 type rules and the syntax rules (P, R, C, E,
L). Anything it is not sure of goes to pyx12's own check of the same segment, so the
errors (and their order) are pyx12's by construction.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import pyx12.segment
from pyx12 import validation

from edi import bounds
from edi.validators._pyx12_segment import segment_errors, valid_data_type
from edi.validators.compiled.patterns import PatternBuilder
from edi.validators.compiled.tables import CompositeDef, ElementDef, GuideTables, Node

_PATTERN_AFTER = 16
"""Segments of a node checked without its pattern before the pattern is built."""
_DATE_TYPES = ("RD8", "DT", "D8", "D6")
_DTP_FORMATS = ("RD8", "D8", "D6", "DT", "TM")

ElementError = tuple[Any, ...]
"""("seg", code, value) for a segment-level error (IK3 8), or
("ele", cursor, position, component, element ref, name, code, value)."""


class ElementChecker:
    """Checks segments against the compiled element tables, remembering verdicts."""

    def __init__(self, tables: GuideTables) -> None:
        self.tables = tables
        self.charset = tables.charset
        self.icvn = tables.icvn
        if self.charset == "E":
            self._bad_char = validation.rec_ID_E5 if self.icvn == "00501" else validation.rec_ID_E
        else:
            self._bad_char = validation.rec_ID_B
        self._regex: dict[str, re.Pattern[str]] = {}
        self._known: dict[tuple[int, str], bool] = {}
        self._plans: dict[int, _Plan] = {}
        self._allowed = "".join(c for c in map(chr, range(32, 127))
                                if not self._bad_char.search(c))
        self.ruled: dict[int, SyntaxRules] = {}
        """The syntax rules of the nodes that have some: a pattern match alone does not
        settle those."""
        self._sightings: dict[int, int] = {}
        self._builders: dict[tuple[str, str, str, str | None], PatternBuilder] = {}
        self._patterns: dict[tuple[str, str, str, str | None],
                             dict[int, re.Pattern[str] | None]] = {}
        self.memos: dict[tuple[str, str, str, str | None], dict[tuple[int, str],
                                                                  tuple[ElementError, ...]]] = {}

    def patterns_for(self, delimiters: tuple[str, str, str, str | None]
                     ) -> dict[int, re.Pattern[str] | None]:
        """The segment patterns built so far for one delimiter set, by node."""
        patterns = self._patterns.get(delimiters)
        if patterns is None:
            self._make_room(self._patterns)
            patterns = self._patterns[delimiters] = {}
        return patterns

    def memo_for(self, delimiters: tuple[str, str, str, str | None]
                 ) -> dict[tuple[int, str], tuple[ElementError, ...]]:
        """The remembered verdicts for one delimiter set, by (node, segment text)."""
        memo = self.memos.get(delimiters)
        if memo is None:
            self._make_room(self.memos)
            memo = self.memos[delimiters] = {}
        return memo

    def _make_room(self, kept: dict[Any, Any]) -> None:
        """Before a new delimiter set is kept: at `bounds.DELIMITER_SETS`, forget them
        all (what one delimiter set remembers is no use to another)."""
        if len(kept) >= bounds.DELIMITER_SETS:
            kept.clear()
            self._builders.clear()

    def check(self, node: Node, elements: list[str], line: str,
              delimiters: tuple[str, str, str, str | None]) -> tuple[ElementError, ...]:
        """pyx12's element errors for the segment (``elements`` excludes the id).

        Verdicts are remembered per segment text and delimiters: about half the
        segments of a claim file repeat verbatim (payer, provider, codes).
        """
        memo = self.memo_for(delimiters)
        key = (node.index, line)
        found = memo.get(key)
        if found is not None:
            return found
        if self.matches(node, elements, line, delimiters) or \
                self.accepts(node, elements, delimiters[2]):
            found = ()
        else:
            found = exact_errors(node, elements, delimiters)
        if len(line) <= bounds.LINE:
            bounds.remember(memo, key, found)
        return found

    def matches(self, node: Node, elements: list[str], line: str,
                delimiters: tuple[str, str, str, str | None]) -> bool:
        """The first tier: the node's pattern matches the text and its syntax rules hold."""
        patterns = self.patterns_for(delimiters)
        if node.index in patterns:
            pattern = patterns[node.index]
        elif self._sightings.get(node.index, 0) < _PATTERN_AFTER:
            # a pattern costs a few milliseconds to build: only for nodes seen often
            self._sightings[node.index] = self._sightings.get(node.index, 0) + 1
            return False
        else:
            builder = self._builders.get(delimiters)
            if builder is None:
                builder = self._builders[delimiters] = PatternBuilder(
                    delimiters[1], delimiters[2], self._allowed, self._element_uncached)
            pattern = patterns[node.index] = builder.segment(node)
        plan = self._plans.get(node.index)
        if plan is None:
            plan = self._plans[node.index] = _Plan(node)
        if node.syntax and node.index not in self.ruled:
            # a rule pyx12 does not know keeps a pattern from settling anything; a rule
            # every text the pattern matches satisfies need not be checked again
            rules = [r for r in plan.rules if not _implied(r, node)]
            if rules or not plan.rules_known:
                self.ruled[node.index] = SyntaxRules(rules if plan.rules_known else [("?", ())])
        if pattern is None or pattern.fullmatch(line) is None:
            return False
        component = delimiters[2]
        return plan.rules_known and all(_rule_ok(code, positions, elements, component)
                                        for code, positions in plan.rules)

    def accepts(self, node: Node, elements: list[str], component: str) -> bool:
        """Whether pyx12's check of this segment against ``node`` is sure to find nothing."""
        plan = self._plans.get(node.index)
        if plan is None:
            plan = self._plans[node.index] = _Plan(node)
        defs = plan.defs
        count = len(elements)
        if count > len(defs) or not plan.rules_known:
            return False
        if not plan.simple:
            return self._accepts_any(node, elements, component)
        known = self._known
        for i in range(count):
            value = elements[i]
            d = defs[i]
            if d.__class__ is CompositeDef:
                if not self._composite(d, value, component):
                    return False
                continue
            if value == "":
                if d.usage == "R":
                    return False
                continue
            if component in value:
                return False
            ok = known.get((id(d), value))
            if ok is None:
                ok = self._element(d, value)  # type: ignore[arg-type]
            if not ok:
                return False
        if not plan.absent_ok[count]:
            return False
        return all(_rule_ok(code, positions, elements, component)
                   for code, positions in plan.rules)

    def _accepts_any(self, node: Node, elements: list[str], component: str) -> bool:
        """`accepts` for the ISA and for segments with the DTP and 1250/1251 type rules."""
        defs = node.elements
        count = len(elements)
        if count > len(defs):
            return False
        if node.id == "ISA":
            component = ""
        dtype: str | None = None
        type_list: list[str | None] = []
        for i, d in enumerate(defs):
            value = elements[i] if i < count else None
            if isinstance(d, CompositeDef):
                if not self._composite(d, value, component):
                    return False
                continue
            if value is None or value == "":
                if d.usage == "R":
                    return False
                continue
            if component and component in value:
                return False
            if i == 1 and node.id == "DTP" and value in _DTP_FORMATS:
                dtype = value
            if d.data_ele == "1250" and d.codes is not None:
                type_list.extend(d.codes)
            if not self._element(d, value):
                return False
            if i == 2 and node.id == "DTP":
                if dtype is not None and not _type_list_ok(value, [dtype], self.charset):
                    return False
            elif d.data_ele == "1251" and type_list and \
                    not _type_list_ok(value, type_list, self.charset):
                return False
        return all(_syntax_ok(rule, elements, component) for rule in node.syntax)

    def _composite(self, d: CompositeDef, value: str | None, component: str) -> bool:
        parts = value.split(component) if value is not None and component else \
            ([value] if value is not None else [])
        empty = all(p == "" for p in parts)
        if empty and d.usage in ("N", "S"):
            return True
        if value is None or d.usage not in ("R", "S") or empty:
            return False
        if len(parts) > len(d.components):
            return False
        for j, sub in enumerate(d.components):
            part = parts[j] if j < len(parts) else ""
            if part == "":
                if sub.usage == "R" and (sub.seq != 1 or d.usage == "R"):
                    return False
            elif not self._element(sub, part):
                return False
        return True

    def _element(self, d: ElementDef, value: str) -> bool:
        """No error from `element_if.is_valid_errors` on a non-empty simple value."""
        key = (id(d), value)
        known = self._known.get(key)
        if known is None:
            known = self._element_uncached(d, value)
            if len(value) <= bounds.VALUE:
                bounds.remember(self._known, key, known)
        return known

    def _element_uncached(self, d: ElementDef, value: str) -> bool:
        data_type = d.data_type
        if d.exact_only or d.usage == "N" or data_type is None:
            return False
        if data_type == "R" or data_type[0] == "N":
            measured = len(value.replace("-", "").replace(".", ""))
        else:
            measured = len(value)
        if measured < d.min_len or measured > d.max_len:
            return False
        if d.codes is not None and value not in d.codes:
            return False
        if data_type in ("AN", "ID"):
            if self._bad_char.search(value):
                return False
            if value[-1] == " " and len(value.rstrip()) >= d.min_len:
                return False
        elif data_type[0] == "N":
            if not validation.match_re("N", value):
                return False
        elif data_type == "R":
            if not validation.match_re("R", value):
                return False
        elif data_type in ("DT", "D8", "D6"):
            if not validation.is_valid_date(data_type, value):
                return False
        elif data_type == "TM":
            if not validation.is_valid_time(value):
                return False
        elif data_type == "RD8":
            if not valid_data_type(value, "RD8", self.charset, self.icvn):
                return False
        else:
            return False
        if _has_control(value):
            return False
        if d.regex is not None:
            pattern = self._regex.get(d.regex)
            if pattern is None:
                pattern = self._regex[d.regex] = re.compile(d.regex, re.S)
            if not pattern.search(value):
                return False
        return True


class _Plan:
    """What `accepts` needs of a node, worked out on first use."""

    def __init__(self, node: Node) -> None:
        self.defs = node.elements
        self.simple = node.id not in ("ISA", "DTP") and not any(
            isinstance(d, ElementDef) and d.data_ele in ("1250", "1251") for d in self.defs)
        self.rules_known = all(len(r) >= 3 and r[0] in "PRECL" and len(r[0]) == 1
                               for r in node.syntax)
        self.rules = [(str(r[0]), tuple(int(p) for p in r[1:])) for r in node.syntax]
        # absent_ok[k]: every element from position k+1 on may be left out
        self.absent_ok = [True] * (len(self.defs) + 1)
        for k in range(len(self.defs) - 1, -1, -1):
            d = self.defs[k]
            ok = d.usage in ("N", "S") if isinstance(d, CompositeDef) else d.usage != "R"
            self.absent_ok[k] = ok and self.absent_ok[k + 1]


def _implied(rule: tuple[str, tuple[int, ...]], node: Node) -> bool:
    """Whether every segment the node's pattern matches satisfies the rule: the pattern
    makes a required element (or composite) non-empty and a not-used one empty."""
    code, positions = rule
    if not positions or max(positions) > len(node.elements):
        return False
    usage = [node.elements[p - 1].usage for p in positions]
    required = [u == "R" for u in usage]
    unused = [u == "N" for u in usage]
    if code == "R":
        return any(required)
    if code == "P":
        return all(required) or all(unused)
    if code == "E":
        return sum(not u for u in unused) <= 1
    if code == "C":
        return unused[0] or all(required[1:])
    if code == "L":
        return unused[0] or any(required[1:])
    return False


class SyntaxRules:
    """A node's syntax rules (paired, required, exclusive, conditional, list), whose
    verdict on a segment depends only on which of the elements they name are present:
    worked out once for each such pattern of presence (a segment of amounts, such as an
    835's CAS or SVC, is seldom the same text twice, but its pattern of presence is)."""

    __slots__ = ("_positions", "_verdicts", "rules")

    def __init__(self, rules: list[tuple[str, tuple[int, ...]]]) -> None:
        self.rules = rules
        self._positions = tuple(sorted({p for _code, positions in rules for p in positions}))
        self._verdicts: dict[tuple[bool, ...], bool] = {}

    def hold(self, parts: list[str], component: str) -> bool:
        """Every rule holds (`pyx12.syntax.is_syntax_valid` finds nothing) on a segment
        split at its element separator (``parts[0]`` is the id)."""
        elements = parts[1:]
        present = tuple(_present(elements, p, component) for p in self._positions)
        verdict = self._verdicts.get(present)
        if verdict is None:
            verdict = rules_hold(self.rules, parts, component)
            bounds.remember(self._verdicts, present, verdict)
        return verdict


def rules_hold(rules: list[tuple[str, tuple[int, ...]]], parts: list[str],
               component: str) -> bool:
    """Every rule holds (`pyx12.syntax.is_syntax_valid` finds nothing) on a segment
    split at its element separator (``parts[0]`` is the id)."""
    return all(_rule_ok(code, positions, parts[1:], component) for code, positions in rules)


def _rule_ok(code: str, positions: tuple[int, ...], elements: list[str],
             component: str) -> bool:
    present = [_present(elements, p, component) for p in positions]
    if code == "P":
        return sum(present) in (0, len(positions))
    if code == "R":
        return any(present)
    if code == "E":
        return sum(present) <= 1
    if code == "C":
        return not present[0] or all(present[1:])
    if code == "L":
        return not present[0] or any(present[1:])
    return False


_CONTROL = re.compile("[\x01-\x07\x09-\x0d\x11-\x17\x1c-\x1f]")


def _has_control(value: str) -> bool:
    return _CONTROL.search(value) is not None


def _type_list_ok(value: str, types: list[str | None], charset: str) -> bool:
    """`element_if._validate_type_list` finds nothing."""
    if any(t is not None and valid_data_type(value, t, charset) for t in types):
        return True
    return not ("TM" in types or any(t in types for t in _DATE_TYPES))


def _present(elements: list[str], position: int, component: str) -> bool:
    if position > len(elements):
        return False
    value = elements[position - 1]
    return (value.strip(component) if component else value) != ""


def _syntax_ok(rule: tuple[Any, ...], elements: list[str], component: str) -> bool:
    """`pyx12.syntax.is_syntax_valid` on the segment is (True, None)."""
    if len(rule) < 3:
        return False
    code, positions = rule[0], [int(p) for p in rule[1:]]
    present = [_present(elements, p, component) for p in positions]
    count = sum(present)
    if code == "P":
        return count in (0, len(positions))
    if code == "R":
        return count > 0
    if code == "E":
        return count <= 1
    if code == "C":
        return not present[0] or all(present[1:])
    if code == "L":
        return not present[0] or any(present[1:])
    return False


@functools.cache
def _pyx12_node(locator: str) -> Any:
    """pyx12's own segment node for a compiled one (loads the map on first use)."""
    from edi.validators.implementation_guide import load_map

    map_name, _, steps = locator.partition("|")
    node = load_map(map_name)
    for step in steps.split("/"):
        children = [c for pos in sorted(node.pos_map) for c in node.pos_map[pos]]
        node = children[int(step)]
    return node


def exact_errors(node: Node, elements: list[str],
                 delimiters: tuple[str, str, str, str | None]) -> tuple[ElementError, ...]:
    """pyx12's `is_valid_errors` on the segment, as replayable tuples."""
    segment_term, element_term, component, _repetition = delimiters
    segment = pyx12.segment.Segment(element_term.join([node.id, *elements]), segment_term,
                                    element_term, component)
    errors = segment_errors(_pyx12_node(node.locator), segment)
    out: list[ElementError] = []
    for error in errors:
        map_node = error.map_node
        if map_node is None:
            out.append(("seg", "8", error.err_val))
            continue
        if map_node.parent.is_composite():
            position, sub = map_node.parent.seq, map_node.seq
        else:
            position, sub = map_node.seq, None
        out.append(("ele", id(map_node), position, sub, map_node.data_ele, map_node.name,
                    error.err_cde, error.err_val))
    return tuple(out)
