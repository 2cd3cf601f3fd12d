"""Streaming X12 tokenizer: bytes in, one segment at a time out.

Delimiters come from each ISA header at its fixed offsets (`edi.isa`), so every
interchange of a file may use its own. Line breaks (CR, LF) between segments are
tolerated. Bytes are decoded as Latin-1, which maps every byte to one character: no
input can make the tokenizer raise a decoding error, and characters outside the X12
character set are left for the validators to report.

Before the first ISA (a UTF-8 byte-order mark too) and after an interchange's IEA,
padding is no data, and anything else there that does not start an interchange
(`edi.between_interchanges`) is yielded as one empty segment whose ``stray`` says why,
so that the check rejects it with a TA1 of its own while the interchanges before and
after it stand.

Memory stays flat: the stream is read in chunks and only the unread tail of the
current chunk is kept. A segment is bounded too: past `MAX_SEGMENT_LENGTH` characters
the rest of it is skipped unread up to its terminator, and past `MAX_ELEMENTS` data
elements the rest are dropped; the segment is still yielded, cut, with ``cut`` saying
why, so the implementation-guide check can reject it (999 IK3/IK4 in a transaction
set, TA1 024 outside one) at its true position instead of holding it in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal, NamedTuple

from edi._buffer import Buffer
from edi.between_interchanges import PADDING, Gaps, Stray
from edi.errors import X12SyntaxError
from edi.isa import ISA_LENGTH, Delimiters

_CHUNK = 1 << 20
_FIRST_WINDOW = 1 << 10
"""The text an interchange's first split covers; each next one twice as much, up to
a chunk (`iter_raw_segments`)."""
_BETWEEN_SEGMENTS = "\r\n"
MAX_SEGMENT_LENGTH = 65_536
"""Characters a segment may hold, its terminator excluded. The longest 837P segment
the guide allows (an HI with twelve full composites) is about 2,100 characters."""
MAX_ELEMENTS = 99
"""Data elements a segment may hold: X12 numbers element positions with two digits
(NM109, CLM20, and IK401 in a 999), so no segment defines more."""
Cut = Literal["", "length", "elements"]
"""Why a segment was cut: not at all, past `MAX_SEGMENT_LENGTH`, past `MAX_ELEMENTS`."""


@dataclass(slots=True)
class Segment:
    """One X12 segment: ``elements[0]`` is the segment ID, ``elements[n]`` is element n."""

    elements: list[str]
    delimiters: Delimiters
    index: int
    """1-based ordinal of the segment in the file."""
    cut: Cut = ""
    """Why the tokenizer cut the segment short (``""``: it is whole)."""

    @property
    def id(self) -> str:
        return self.elements[0]

    def get(self, position: int) -> str:
        """Element at ``position`` (1-based), or ``""`` when absent."""
        elements = self.elements
        return elements[position] if position < len(elements) else ""

    def components(self, position: int) -> list[str]:
        """The components of a composite element (a simple element gives one)."""
        return self.get(position).split(self.delimiters.component)

    def component(self, position: int, sub: int) -> str:
        """Component ``sub`` (1-based) of element ``position``, or ``""``."""
        parts = self.components(position)
        return parts[sub - 1] if sub - 1 < len(parts) else ""

    def __len__(self) -> int:
        return len(self.elements) - 1


class RawSegment(NamedTuple):
    """A segment's text without its terminator, and the delimiters in force for it."""

    text: str
    delimiters: Delimiters
    cut: Cut = ""
    """Why ``text`` is not the whole segment (``""``: it is): see `MAX_SEGMENT_LENGTH`
    and `MAX_ELEMENTS`."""
    stray: Stray | None = None
    """Set on the empty segment that stands for data before or between interchanges
    that starts none (the delimiters are the interchange's before it, or before the
    first interchange the first's)."""


def iter_raw_segments(stream: BinaryIO, chunk_size: int = _CHUNK) -> Iterator[RawSegment]:
    """Yield each segment's raw text, interchange after interchange.

    Line breaks before a segment are dropped; other leading blanks are kept so the
    implementation-guide check can report them. Data before the first ISA or after an
    IEA that starts no interchange is one segment with ``stray`` set (`Stray`), and
    reading goes on at the next ISA after it (`edi.between_interchanges`). Raises
    `X12SyntaxError` when the file holds no interchange that can be read, or ends
    inside one; every segment before that point has been yielded.
    """
    buf = Buffer(stream, chunk_size)
    gaps = Gaps(buf)
    leading, first = gaps.first()
    for stray in leading:
        yield RawSegment("", first, "", stray)
    found: Delimiters | None = first
    while found is not None:
        delimiters = found
        isa = buf.text[buf.pos:buf.pos + ISA_LENGTH]
        terminator = delimiters.segment
        # the line breaks a segment may follow its terminator with, as pyx12 strips them
        # (`RawX12File.__iter__`): a CR terminator is often followed by LF (CRLF lines,
        # ISA16 then CR), whose LF began every segment after the ISA (TA1 022)
        strip = _BETWEEN_SEGMENTS.replace(terminator, "")
        trail = "\r" if terminator == "\n" else ""
        yield RawSegment(isa[:-1], delimiters)
        buf.pos += ISA_LENGTH
        element = delimiters.element
        cut: Cut
        window = _FIRST_WINDOW
        while True:
            # the usual case: whole segments already read, split at once (the same
            # segments as one at a time below, which reads more and cuts long ones),
            # a window at a time: the split stops at the IEA, and splitting all that was
            # read at every ISA made a file of many small interchanges quadratic
            chunk, start = buf.text, buf.pos
            last = chunk.rfind(terminator, start, start + window)
            window = min(2 * window, _CHUNK)
            if last > start:
                ended = long = False
                for text in chunk[start:last].split(terminator):
                    if len(text) > MAX_SEGMENT_LENGTH:
                        long = True
                        break  # cut one at a time below
                    start += len(text) + 1
                    buf.pos = start
                    text = text.lstrip(strip)
                    if trail:
                        text = text.rstrip(trail)
                    cut = ""
                    if text.count(element) > MAX_ELEMENTS:
                        text = element.join(text.split(element, MAX_ELEMENTS + 1)
                                            [:MAX_ELEMENTS + 1])
                        cut = "elements"
                    yield RawSegment(text, delimiters, cut)
                    if text.startswith("IEA") or (text[:1].isspace()
                                                  and text.lstrip().startswith("IEA")):
                        ended = True
                        break
                if ended:
                    break
                if not long:
                    continue
            end = buf.find(terminator, MAX_SEGMENT_LENGTH)
            cut = ""
            if end == -2:
                text, cut = buf.text[buf.pos:buf.pos + MAX_SEGMENT_LENGTH], "length"
                if not text.strip(PADDING):  # padding, perhaps up to the end of the file
                    buf.pos += len(text)
                    if not buf.skip(PADDING):
                        raise X12SyntaxError("the file ends before the IEA trailer", code="023")
                if not buf.skip_past(terminator):
                    raise X12SyntaxError("the file ends inside a segment", code="023")
            elif end < 0:
                # padding at the end of a file is no segment (`PADDING`), but a
                # separator such as 0x1D, which str.strip() took for a blank, is data
                rest = buf.text[buf.pos:].strip(PADDING)
                buf.pos = len(buf.text)
                if rest:
                    raise X12SyntaxError("the file ends inside a segment", code="023")
                raise X12SyntaxError("the file ends before the IEA trailer", code="023")
            else:
                text = buf.text[buf.pos:end]
                buf.pos = end + 1
            text = text.lstrip(strip)
            if trail:
                text = text.rstrip(trail)
            if text.count(delimiters.element) > MAX_ELEMENTS:
                text = delimiters.element.join(text.split(delimiters.element, MAX_ELEMENTS + 1)
                                               [:MAX_ELEMENTS + 1])
                cut = cut or "elements"
            yield RawSegment(text, delimiters, cut)
            if text.lstrip().startswith("IEA"):
                break
        for stray in gaps.after(delimiters):
            yield RawSegment("", delimiters, "", stray)
        found = gaps.found


def iter_segments(stream: BinaryIO, chunk_size: int = _CHUNK) -> Iterator[Segment]:
    """Yield parsed segments (leading blanks removed) from a binary stream; stray data
    between interchanges is no segment (`Stray`)."""
    index = 0
    for raw in iter_raw_segments(stream, chunk_size):
        if raw.stray is None:
            index += 1
            yield Segment(raw.text.lstrip().split(raw.delimiters.element), raw.delimiters,
                          index, raw.cut)


def segments_from_bytes(data: bytes) -> list[Segment]:
    """Tokenize an in-memory interchange (convenience for tests and small files)."""
    import io

    return list(iter_segments(io.BytesIO(data)))
