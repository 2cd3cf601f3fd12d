"""The fast element test never accepts a segment pyx12's own check would fault.

`ElementChecker.accepts` may say "not sure" freely (pyx12 then checks), but a yes must
mean pyx12's `segment_if.is_valid_errors` finds nothing. Every segment of the samples,
and seeded variations of one or two of its elements, is put to both against every
map node with its segment id.
"""

from __future__ import annotations

import random
import re

import pytest
import pyx12.segment
import pyx12.syntax

from edi.tokenizer import segments_from_bytes
from edi.validators.compiled.check import guide
from edi.validators.compiled.compiler import CLAIM_MAP, REMIT_MAP
from edi.validators.compiled.elements import SyntaxRules, _pyx12_node, exact_errors
from edi.validators.compiled.walker import Values, is_match
from tests.test_compiled_validator import SAMPLES

NASTY = ["", " ", "A ", "a", "1", "-1", "1.5", "-.5", "1.", "0", "00", "123456789012345678901",
         "20260230", "20240229", "19000101", "17991231", "2026010", "20260101-20260102",
         "20260101-2026013", "1200", "2460", "1261", "235959", "D8", "RD8", "TM", "DT",
         "ZZ", "XX", "87", "85", "IL", "HC", "HC:99213", "HC:99213:25", "ABK:F4322", ":",
         "::", "A:", ":A", "\t", "A\x07", "é", "`", "^", "~", "Y", "N", "W", "11:B:1",
         "11::1", "11:B", "U", "P", "18", "X" * 80, "9" * 19, "-", "."]


def _segments() -> list[str]:
    texts: set[str] = set()
    for path in SAMPLES:
        data = path.read_bytes()
        if not data.lstrip(b"\xef\xbb\xbf").startswith(b"ISA") or len(data) > 40_000:
            continue
        try:
            texts.update("*".join([s.id, *s.elements]) for s in segments_from_bytes(data)
                         if s.id != "ISA")
        except Exception:  # an unreadable sample has no segments to offer
            continue
    return sorted(texts)


def test_the_fast_test_accepts_only_what_pyx12_finds_nothing_in() -> None:
    g = guide()
    by_id: dict[str, list[int]] = {}
    for node in g.nodes:
        if node.kind == 2 and not node.locator.startswith("x12.control"):
            by_id.setdefault(node.id, []).append(node.index)
    rng = random.Random(13)
    accepted = checked = matched = 0
    for text in _segments():
        seg_id, *elements = text.split("*")
        candidates = [g.nodes[i] for i in by_id.get(seg_id, [])]
        matching = [n for n in candidates if is_match(n, seg_id, Values(elements, ":"))]
        for node in matching or candidates[:2]:
            for variant in range(10):
                values = list(elements)
                if variant:
                    for _ in range(rng.randint(1, 2)):
                        at = rng.randrange(len(values) + 1)
                        value = rng.choice(NASTY)
                        values[at:at + 1] = [value]
                checked += 1
                line = "*".join([seg_id, *values])
                by_pattern = g.checker.matches(node, values, line, ("~", "*", ":", "^"))
                if not by_pattern and not g.checker.accepts(node, values, ":"):
                    continue
                matched += by_pattern
                accepted += 1
                segment = pyx12.segment.Segment("*".join([seg_id, *values]), "~", "*", ":")
                _ok, errors = _pyx12_node(node.locator).is_valid_errors(segment)
                assert errors == [], (node.locator, re.sub(r"[A-Z]{3,}", "X", text))
    print(f"{checked} checks, {accepted} accepted by the fast test, {matched} by a pattern")
    assert checked > 5_000 and accepted > 2_000 and matched > 1_000


@pytest.mark.parametrize("text", ["NM1*85*2*GROUP*****XX*123", "DTP*472*D8*20260230",
                                  "CLM*A1*1***11:B:1*Y*A*Y*Y*Z", "HI*ABK:F4322:X:Y:Z:1:2:3:4"])
def test_a_segment_in_error_gets_pyx12s_own_errors(text: str) -> None:
    g = guide()
    seg_id, *elements = text.split("*")
    node = next(n for n in g.nodes if n.kind == 2 and n.id == seg_id
                and not n.locator.startswith("x12.control"))
    assert not g.checker.accepts(node, elements, ":")
    assert exact_errors(node, elements, ("~", "*", ":", "^"))


@pytest.mark.parametrize("transaction_map", [CLAIM_MAP, REMIT_MAP])
def test_syntax_rules_remembered_by_presence_give_pyx12s_verdict(transaction_map: str) -> None:
    """`SyntaxRules.hold` remembers a verdict per pattern of present elements: on every
    node with rules, segments with the named elements empty, absent, a component
    separator alone or filled, in seeded patterns (most seen twice, with other values),
    get pyx12's `is_syntax_valid` verdict on every rule."""
    rng = random.Random(29)
    nodes = [n for n in guide(transaction_map).nodes if n.kind == 2 and n.syntax
             and all(len(r) >= 3 for r in n.syntax)]
    assert len(nodes) > 10
    held = refused = 0
    for node in nodes:
        rules = SyntaxRules([(str(r[0]), tuple(int(p) for p in r[1:])) for r in node.syntax])
        width = max(int(p) for r in node.syntax for p in r[1:])
        for _ in range(60):
            elements = [rng.choice(["", "", ":", "A", "12.50", "A:B"]) for _ in range(width)]
            elements = elements[:rng.randint(0, width)]  # the rest absent
            segment = pyx12.segment.Segment("*".join([node.id, *elements]), "~", "*", ":")
            expected = all(pyx12.syntax.is_syntax_valid(segment, rule)[0] for rule in node.syntax)
            assert rules.hold([node.id, *elements], ":") == expected, (node.id, elements)
            held += expected
            refused += not expected
    assert held > 100 and refused > 100
