"""Serialise segments with chosen delimiters.

An element is a string, or a sequence of strings for a composite. Trailing empty
elements and trailing empty components are dropped, as X12 requires. A value that
contains one of the delimiters in force cannot be written and raises `WriterError`,
so the writer never produces a file that reads back differently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TextIO

from edi.errors import WriterError
from edi.isa import DEFAULT_DELIMITERS, Delimiters

Element = str | Sequence[str]


def _check(value: str, forbidden: frozenset[str]) -> str:
    if not forbidden.isdisjoint(value):
        raise WriterError("a value contains a delimiter character")
    return value


@lru_cache(maxsize=16)
def _separators(delimiters: Delimiters) -> tuple[str, frozenset[str], re.Pattern[str]]:
    """The element separator, every separator, and a pattern finding any separator
    but the element one (a segment's text holds only its own element separators)."""
    others = "".join(re.escape(c) for c in delimiters.all() if c != delimiters.element)
    return delimiters.element, delimiters.all(), re.compile(f"[{others}]" if others else "(?!)")


def format_segment(
    seg_id: str, elements: Sequence[Element], delimiters: Delimiters = DEFAULT_DELIMITERS
) -> str:
    """One segment's text, without the terminator."""
    separator, forbidden, others = _separators(delimiters)
    parts = [seg_id]
    composites = False
    for element in elements:
        if isinstance(element, str):
            parts.append(element)
        else:
            composites = True
            components = [_check(c, forbidden) for c in element]
            while components and components[-1] == "":
                components.pop()
            parts.append(delimiters.component.join(components))
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    text = separator.join(parts)
    # the simple values are checked on the joined text at once: it holds no other
    # separator and no element separator beyond the ones the join put there
    if text.count(separator) != len(parts) - 1 or (
            others.search(text) is not None and (
                not composites or any(isinstance(e, str) and not forbidden.isdisjoint(e)
                                      for e in elements))):
        raise WriterError("a value contains a delimiter character")
    return text


def isa_elements(
    *,
    sender_qualifier: str,
    sender_id: str,
    receiver_qualifier: str,
    receiver_id: str,
    control_number: int,
    when: datetime,
    usage: str = "P",
    ack_requested: str = "0",
    delimiters: Delimiters = DEFAULT_DELIMITERS,
) -> list[str]:
    """The 16 fixed-width ISA elements (ISA11 and ISA16 carry the separators)."""
    return [
        "00", " " * 10, "00", " " * 10,
        sender_qualifier.ljust(2)[:2], sender_id.ljust(15)[:15],
        receiver_qualifier.ljust(2)[:2], receiver_id.ljust(15)[:15],
        when.strftime("%y%m%d"), when.strftime("%H%M"),
        delimiters.repetition, "00501", f"{control_number:09d}", ack_requested, usage,
        delimiters.component,
    ]


def format_isa(elements: Sequence[str], delimiters: Delimiters = DEFAULT_DELIMITERS) -> str:
    """The ISA text: fixed width, never trimmed, separators taken literally."""
    if len(elements) != 16:
        raise WriterError("an ISA segment has exactly 16 elements")
    return delimiters.element.join(["ISA", *elements])


@dataclass
class X12Writer:
    """Writes segments to a text stream and counts them for SE01."""

    out: TextIO
    delimiters: Delimiters = DEFAULT_DELIMITERS
    line_break: str = "\n"
    segment_count: int = field(default=0, init=False)

    def write(self, seg_id: str, *elements: Element) -> None:
        if seg_id == "ISA":
            text = format_isa([e if isinstance(e, str) else "" for e in elements], self.delimiters)
        else:
            text = format_segment(seg_id, elements, self.delimiters)
        self.out.write(text + self.delimiters.segment + self.line_break)
        self.segment_count += 1

    def write_all(self, segments: Iterable[Sequence[Element]]) -> None:
        for seg in segments:
            first = seg[0]
            if not isinstance(first, str):
                raise WriterError("a segment starts with its ID")
            self.write(first, *seg[1:])
