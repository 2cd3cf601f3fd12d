"""pyx12's reader bookkeeping over the engine's tokenizer, and the envelope nesting guard.

`Pyx12Source` feeds pyx12's map walker with segments from `edi.tokenizer` (so every
interchange uses its own delimiters, a BOM or line breaks do no harm and no byte can
raise) while keeping pyx12's own counts and trailer checks (`X12Reader._parse_segment`).
`Structure` tracks the ISA > GS > ST nesting; a violation makes the interchange
unusable (TA1 022) instead of letting pyx12's bookkeeping raise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pyx12.errors
import pyx12.segment
import pyx12.x12file

from edi.between_interchanges import Stray
from edi.errors import X12SyntaxError
from edi.findings import interchange_key
from edi.segment_ids import segment_name
from edi.tokenizer import Cut, RawSegment


class SeenIds(set[str | None]):
    """The control numbers pyx12's reader has seen (``isa_ids``, ``gs_ids``,
    ``st_ids``), kept in a set: pyx12 only appends to its lists and asks whether a
    number is in them, and a list made that a scan of every number before it (a file
    of 20,000 one-claim transaction sets took 6 times as long to check as one set of
    20,000 claims)."""

    def append(self, number: str | None) -> None:
        self.add(number)


class SeenInterchanges(SeenIds):
    """The interchanges pyx12's reader has seen in a file, by `interchange_key` (sender
    and ISA13) where pyx12 keeps and asks for ISA13s alone: an interchange whose ISA13
    another sender had used earlier in the file was a duplicate (TA1 025), though the
    store takes it from a later file. ``sender`` is the ISA05 and ISA06 of the ISA
    being read, which pyx12's questions are about."""

    sender: tuple[str, str] = ("", "")

    def __contains__(self, number: object) -> bool:
        return isinstance(number, str) and super().__contains__(
            interchange_key(*self.sender, number))

    def append(self, number: str | None) -> None:
        self.add(interchange_key(*self.sender, number or ""))


def _seen_ids(name: str, kind: type[SeenIds] = SeenIds) -> Any:
    """An attribute that turns whatever pyx12 assigns to it (``[]`` at each ISA or GS)
    into a ``kind`` of `SeenIds`."""
    kept = f"_seen_{name}"

    def get(reader: object) -> SeenIds:
        seen: SeenIds = getattr(reader, kept)
        return seen

    def put(reader: object, numbers: Iterable[str | None]) -> None:
        setattr(reader, kept, kind(numbers))

    return property(get, put)


class ControlNumbersSeen:
    """Mixed in before pyx12's `X12Reader`: its control-number lists kept as sets, the
    interchanges' by sender and ISA13."""

    isa_ids = _seen_ids("isa_ids", SeenInterchanges)
    gs_ids = _seen_ids("gs_ids")
    st_ids = _seen_ids("st_ids")

    def _parse_segment(self, seg_data: pyx12.segment.Segment) -> None:
        if seg_data.get_seg_id() == "ISA":
            self.isa_ids.sender = (seg_data.get_value("ISA05") or "",
                                   seg_data.get_value("ISA06") or "")
        super()._parse_segment(seg_data)  # type: ignore[misc]


class Pyx12Source(ControlNumbersSeen, pyx12.x12file.X12Reader):  # type: ignore[misc]
    """pyx12's reader bookkeeping (counts, trailers) over our tokenizer's segments."""

    def __init__(self, raw: Iterator[RawSegment], first: RawSegment) -> None:
        pyx12.x12file.X12Base.__init__(self)
        self._raw = raw
        self._first = first
        self.icvn = first.text[84:89]
        self._use(first)
        self.failure: X12SyntaxError | None = None
        self.raw_elements: list[str] = []
        self.raw_line = ""
        self.raw_cut: Cut = ""
        self.structure_faults: list[tuple[int, str]] = []

    def _use(self, raw: RawSegment) -> None:
        d = raw.delimiters
        self.seg_term, self.ele_term, self.subele_term = d.segment, d.element, d.component
        self.repetition_term = d.repetition or None

    def _segments(self) -> Iterator[RawSegment]:
        yield self._first
        try:
            yield from self._raw
        except X12SyntaxError as exc:
            self.failure = exc

    def __iter__(self) -> Iterator[pyx12.segment.Segment | Stray]:
        """pyx12's segments, and each stretch of data between interchanges that starts
        none as its `Stray` (the walk answers it as an interchange of its own)."""
        self.err_list: list[Any] = []
        structure = Structure()
        for raw in self._segments():
            if raw.stray is not None:
                structure.stray()
                yield raw.stray
                continue
            line = raw.text
            if line.startswith("ISA"):
                self._use(raw)
                self.loops: list[Any] = []
            # the ID pyx12 will see: only a leading space is stripped (below); lstrip()
            # also took control bytes such as \x1d, so "\x1dGS" opened a group here that
            # the walk never opened (IndexError on the next ST, a guide-walk fault)
            seen = line.lstrip() if line.startswith(" ") else line
            fault = structure.fault(seen.split(self.ele_term, 1)[0])
            if fault is not None:
                self.structure_faults.append((structure.interchanges, fault))
            if structure.broken:
                continue
            if line.startswith(" "):
                self._seg_error("1", "Segment contains a leading space", None, self.cur_line + 1)
                line = line.lstrip()
            if line and line[-1] == self.ele_term:
                self._seg_error("SEG1", "Segment contains trailing element terminators", None,
                                self.cur_line + 1)
            self.raw_line = line
            self.raw_cut = raw.cut
            self.raw_elements = line.split(self.ele_term)
            seg = pyx12.segment.Segment(line, self.seg_term, self.ele_term, self.subele_term)
            try:
                self._parse_segment(seg)
            except (IndexError, ValueError, TypeError, pyx12.errors.X12Error):
                self.structure_faults.append((structure.interchanges, "the envelope is malformed"))
                structure.broken = True
                continue
            yield seg


class Structure:
    """The ISA > GS > ST nesting; a violation makes the interchange unusable (TA1 022)."""

    def __init__(self) -> None:
        self.level = 0  # 0 outside, 1 in ISA, 2 in GS, 3 in ST
        self.interchanges = 0
        self.broken = False

    def stray(self) -> None:
        """Data between interchanges that starts none counts as an interchange (the
        check answers it with a TA1 of its own), so that a fault's ordinal is its
        interchange's place among the check's."""
        self.interchanges += 1

    def fault(self, seg_id: str) -> str | None:
        if seg_id == "ISA":
            self.interchanges += 1
            self.level, self.broken = 1, False
            return None
        if self.broken:
            return None
        expected = {"GS": (1,), "TA1": (1,), "ST": (2,), "SE": (3,), "GE": (2, 3),
                    "IEA": (1, 2, 3)}
        allowed = expected.get(seg_id, (3,))
        if self.level not in allowed:
            self.broken = True
            where = ("outside a transaction set" if allowed == (3,)
                     else "where the envelope does not allow it")
            return f"a {segment_name(seg_id)} stands {where}"
        self.level = {"GS": 2, "ST": 3, "SE": 2, "GE": 1, "IEA": 0}.get(seg_id, self.level)
        return None
