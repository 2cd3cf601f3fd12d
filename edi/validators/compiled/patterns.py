"""A regular expression per segment node that matches only segments pyx12 finds nothing in.

The first tier of the element checks: one `re.fullmatch` on the segment's text
instead of a Python loop over its elements. Each pattern is deliberately narrower
than the guide (dates with days 01-28 only, no trailing space at all, a required
composite's first component present): a segment it does not match goes on to the
exact Python test and then to pyx12, so a pattern can only ever make a clean
segment slower, never a bad one clean. Code values are taken into a pattern only
when the exact test accepts them. Syntax rules (P, R, C, E, L) are checked apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from edi.validators.compiled.tables import CompositeDef, ElementDef, Node

_DATE = r"(?:1[89]|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|1[0-9]|2[0-8])"
_TIME4 = r"(?:[01][0-9]|2[0-3])[0-5][0-9]"
_DTP_FORMATS = ("RD8", "D8", "D6", "DT", "TM")
_MAX_CODES = 400


def _type_pattern(data_type: str | None) -> tuple[str, int] | None:
    """(pattern, length) of values of a date or time type that are surely valid."""
    if data_type in ("D8", "DT"):
        return _DATE, 8
    if data_type == "RD8":
        return f"{_DATE}-{_DATE}", 17
    if data_type == "TM":
        return _TIME4, 4
    return None


class PatternBuilder:
    """Builds the patterns of one delimiter set."""

    def __init__(self, element: str, component: str, allowed: str,
                 exact: Callable[[ElementDef, str], bool]) -> None:
        self.element = element
        self.component = component
        chars = [c for c in allowed if c not in (element, component)]
        self.any_char = "[" + "".join(re.escape(c) for c in chars) + "]"
        self.last_char = "[" + "".join(re.escape(c) for c in chars if c != " ") + "]"
        self.exact = exact

    def segment(self, node: Node) -> re.Pattern[str] | None:
        if node.id in ("ISA", "GS", "ST", "SE", "GE", "IEA"):
            return None
        parts: list[tuple[str | None, bool]] = []
        type_codes: list[str | None] | None = None
        defs = node.elements
        for i, d in enumerate(defs):
            if isinstance(d, CompositeDef):
                parts.append(self._composite(d))
                continue
            if node.id == "DTP" and i == 2:
                parts.append((None, False))  # built with DTP02 below
                continue
            pattern = self._element(d)
            if d.data_ele == "1251" and type_codes:
                pattern = self._typed(d, type_codes)
            if d.data_ele == "1250" and d.codes is not None:
                type_codes = [*(type_codes or []), *d.codes]
            parts.append((pattern, d.usage != "R"))
        if node.id == "DTP":
            if len(defs) < 3 or not isinstance(defs[1], ElementDef) or \
                    not isinstance(defs[2], ElementDef):
                return None
            parts[1] = (self._dtp(defs[1], defs[2]), False)
            del parts[2]  # DTP02's alternatives carry DTP03
        if any(p is None for p, _optional in parts):
            return None
        text = re.escape(node.id) + self._sequence(
            [(p or "", optional) for p, optional in parts], re.escape(self.element))
        try:
            return re.compile(text)
        except re.error:
            return None

    def _sequence(self, parts: list[tuple[str, bool]], separator: str) -> str:
        """Each part after a separator; trailing parts may be left out while every
        one after them may be."""
        out = ""
        all_optional = True
        for pattern, optional in reversed(parts):
            body = f"(?:{pattern})?" if optional else f"(?:{pattern})"
            tail = f"{separator}{body}{out}"
            all_optional = all_optional and optional
            out = f"(?:{tail})?" if all_optional else tail
        return out

    def _element(self, d: ElementDef) -> str | None:
        if d.usage == "N":
            return ""
        if d.exact_only or d.regex is not None or d.data_type is None:
            return None
        if d.codes is not None:
            codes = sorted((c for c in d.codes if c and self.element not in c
                            and self.component not in c and self.exact(d, c)),
                           key=lambda c: (-len(c), c))
            if not codes or len(codes) > _MAX_CODES:
                return None
            return "|".join(re.escape(c) for c in codes)
        data_type = d.data_type
        low, high = d.min_len, d.max_len
        if low < 1 or high < low:
            return None
        if data_type in ("AN", "ID"):
            return f"{self.any_char}{{{low - 1},{high - 1}}}{self.last_char}"
        if data_type[0] == "N":
            return f"-?[0-9]{{{low},{high}}}"
        if data_type == "R":
            return rf"-?(?=(?:\.?[0-9]){{{low},{high}}}(?![0-9.]))[0-9]*(?:\.[0-9]+)?"
        typed = _type_pattern(data_type)
        if typed is not None and low <= typed[1] <= high:
            return typed[0]
        return None

    def _typed(self, d: ElementDef, types: list[str | None]) -> str | None:
        """A 1251 element after a 1250 one: a value of one of the 1250's types."""
        own = self._element(d)
        if own is None or d.data_type not in ("AN", "ID") or d.codes is not None:
            return None
        options = []
        for data_type in types:
            typed = _type_pattern(data_type)
            if typed is None:
                return None
            if d.min_len <= typed[1] <= d.max_len:
                options.append(typed[0])
        return "|".join(options) if options else None

    def _dtp(self, qualifier: ElementDef, value: ElementDef) -> str | None:
        """DTP02 and DTP03 together: DTP03 is checked as the type DTP02 names."""
        if qualifier.codes is None or value.usage != "R" or qualifier.usage != "R":
            return None
        generic = self._element(value)
        options = []
        for code in sorted(c for c in qualifier.codes if c):
            if not self.exact(qualifier, code) or self.element in code:
                continue
            if code in _DTP_FORMATS:
                typed = _type_pattern(code)
                if typed is None or not value.min_len <= typed[1] <= value.max_len \
                        or value.data_type not in ("AN", "ID") or value.codes is not None \
                        or value.regex is not None:
                    continue
                pattern = typed[0]
            elif generic is None:
                continue
            else:
                pattern = generic
            options.append(f"{re.escape(code)}{re.escape(self.element)}(?:{pattern})")
        return "|".join(options) if options else None

    def _composite(self, d: CompositeDef) -> tuple[str | None, bool]:
        if d.usage == "N":
            return "", True
        if d.usage not in ("R", "S"):
            return None, False
        parts: list[tuple[str, bool]] = []
        for j, sub in enumerate(d.components):
            pattern = self._element(sub)
            if pattern is None:
                return None, False
            # narrower than pyx12: a composite that is there has its first component
            optional = j > 0 and not (sub.usage == "R" and (sub.seq != 1 or d.usage == "R"))
            parts.append((pattern, optional))
        first = parts[0][0]
        rest = self._sequence(parts[1:], re.escape(self.component)) if parts[1:] else ""
        body = f"(?:{first}){rest}"
        return body, d.usage == "S"
