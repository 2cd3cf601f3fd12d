"""pyx12's reader bookkeeping (`X12Reader._parse_segment`) over the engine's tokenizer.

The same counts, ids and trailer checks as `edi.validators._pyx12_source.Pyx12Source`,
which builds a pyx12 `Segment` for every segment: here only the envelope segments
(ISA, GS, ST, SE, GE, IEA) are built and handed to pyx12's own `_parse_segment`;
every other segment is counted and checked (empty, invalid id, HL numbering and
parents, LX numbering) on its text, the way `X12Base._parse_segment` does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pyx12.errors
import pyx12.segment
import pyx12.x12file

from edi.errors import X12SyntaxError
from edi.tokenizer import RawSegment
from edi.validators._pyx12_source import ControlNumbersSeen, Structure

ENVELOPE = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
NESTING = frozenset({*ENVELOPE, "TA1"})
"""The segment ids `Structure.fault` treats apart; any other id inside a set is fine."""


class Seg:
    """One segment as the compiled walk sees it."""

    __slots__ = ("elements", "line", "seg_id", "segment")

    def __init__(self, line: str, seg_id: str | None, elements: list[str],
                 segment: pyx12.segment.Segment | None) -> None:
        self.line = line
        self.seg_id = seg_id
        self.elements = elements
        """The elements after the segment id."""
        self.segment = segment
        """pyx12's own segment, for the envelope segments only."""


class CompiledSource(ControlNumbersSeen, pyx12.x12file.X12Reader):  # type: ignore[misc]
    """pyx12's reader state (counts, ids, trailers) fed with the tokenizer's segments."""

    def __init__(self, raw: Iterator[RawSegment], first: RawSegment) -> None:
        pyx12.x12file.X12Base.__init__(self)
        self.raw = raw
        self.first = first
        self.icvn = first.text[84:89]
        self._use(first)
        self.failure: X12SyntaxError | None = None
        self.raw_elements: list[str] = []
        self.raw_line = ""
        self.structure_faults: list[tuple[int, str]] = []
        self.valid_ids: dict[str, bool] = {}
        self.structure = Structure()
        self._hl_list: list[int] | None = None
        self._hl_members: Counter[int | None] = Counter()
        self.err_list: list[tuple[str, str, str, str | None, int | None]] = []

    def _use(self, raw: RawSegment) -> None:
        d = raw.delimiters
        self.seg_term, self.ele_term, self.subele_term = d.segment, d.element, d.component
        self.repetition_term = d.repetition or None

    def general(self, raw: RawSegment) -> Seg | None:
        """One segment the way `Pyx12Source.__iter__` takes it (None: it is skipped)."""
        structure = self.structure
        line = raw.text
        if line.startswith("ISA"):
            self._use(raw)
            self.loops: list[tuple[str, str | None]] = []
        ele_term = self.ele_term
        leading_space = line[:1] == " "
        if leading_space:
            # only a leading space is stripped, as `Pyx12Source` does: a control byte
            # such as \x1d (which str.isspace() counts as space) stays part of the id
            parts = line.lstrip().split(ele_term)
            nested_id = parts[0]
        else:
            parts = line.split(ele_term)
            nested_id = parts[0]
        if structure.level != 3 or structure.broken or nested_id in NESTING:
            fault = structure.fault(nested_id)
            if fault is not None:
                self.structure_faults.append((structure.interchanges, fault))
            if structure.broken:
                return None
        if leading_space:
            self._seg_error("1", "Segment contains a leading space", None, self.cur_line + 1)
            line = line.lstrip()
        if line and line[-1] == ele_term:
            self._seg_error("SEG1", "Segment contains trailing element terminators", None,
                            self.cur_line + 1)
        self.raw_line = line
        self.raw_elements = parts
        seg_id: str | None = parts[0] if line else None
        if seg_id in ENVELOPE:
            segment = pyx12.segment.Segment(line, self.seg_term, ele_term, self.subele_term)
            try:
                self._parse_segment(segment)
            except (IndexError, ValueError, TypeError, pyx12.errors.X12Error):
                self.structure_faults.append((structure.interchanges,
                                              "the envelope is malformed"))
                structure.broken = True
                return None
            return Seg(line, seg_id, parts[1:], segment)
        elements = parts[1:]
        self.parse_body(seg_id, elements)
        return Seg(line, seg_id, elements, None)

    def parse_body(self, seg_id: str | None, elements: list[str]) -> None:
        """`X12Base._parse_segment` for a segment that is not an envelope segment."""
        component = self.subele_term
        if not elements or (not elements[0].strip(component)
                            and not "".join(elements).strip(component)):
            self._seg_error("8", "Segment is empty", None, src_line=self.cur_line + 1)
        if seg_id is None:
            valid = False
        else:
            known = self.valid_ids.get(seg_id)
            if known is None:
                probe = pyx12.segment.Segment(seg_id, self.seg_term, self.ele_term, component)
                known = self.valid_ids[seg_id] = bool(probe.is_seg_id_valid())
            valid = known
        if not valid:
            self._seg_error("1", "Segment identifier is invalid", None,
                            src_line=self.cur_line + 1)
        if seg_id == "HL":
            self._hl(elements, component)
        elif seg_id == "CLM" and self.check_837_lx:
            self.lx_count = 0
        elif seg_id == "LX" and self.check_837_lx:
            self.lx_count += 1
            if _value(elements, 1, component) != f"{self.lx_count:d}":
                self._seg_error("LX", "the service line number does not match the count")
        self.seg_count += 1
        self.cur_line += 1

    def _hl(self, elements: list[str], component: str) -> None:
        """HL numbering and parents, as pyx12 checks them; its parent stack is searched
        through a count of its members (pyx12 scans the list, which grows with every
        HL without a parent)."""
        stack = self.hl_stack
        members = self._hl_members
        if stack is not self._hl_list:
            self._hl_list = stack
            members = self._hl_members = Counter(stack)
        self.hl_count += 1
        if self.hl_count != self._int(_value(elements, 1, component)):
            self._seg_error("HL1", "the HL count does not match")
        parent_value = _value(elements, 2, component)
        if parent_value != "":
            hl_parent = self._int(parent_value)
            if not members.get(hl_parent):
                self._seg_error("HL2", "the HL parent is not a valid parent")
            while stack and hl_parent != stack[-1]:
                left = stack.pop()
                if members[left] > 1:
                    members[left] -= 1
                else:  # not kept at zero: a set of any size keeps only its open levels
                    del members[left]
        stack.append(self.hl_count)
        members[self.hl_count] += 1


def _value(elements: list[str], position: int, component: str) -> str | None:
    """`Segment.get_value` of a simple element position: None when absent."""
    if position > len(elements):
        return None
    return elements[position - 1].rstrip(component)
