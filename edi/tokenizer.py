"""Streaming X12 tokenizer: bytes in, one segment at a time out.

Delimiters come from each ISA header at its fixed offsets (element separator at
offset 3, repetition separator ISA11 at offset 82, component separator ISA16 at
offset 104, segment terminator at offset 105), so every interchange of a file may
use its own. Line breaks (CR, LF) between segments and a UTF-8 byte-order mark at
the start of the file are tolerated. Bytes are decoded as Latin-1, which maps every
byte to one character: no input can make the tokenizer raise a decoding error, and
characters outside the X12 character set are left for the validators to report.

After an interchange's IEA, padding (`PADDING`: blanks, line breaks, NUL and SUB
bytes) is no data. Anything else there that does not start an interchange (stray data,
or an ISA that cannot be read) is yielded as one empty segment whose ``stray`` says
why, and the next interchange is looked for after it, so that the check rejects it
with a TA1 of its own while the interchanges before and after it stand.

Memory stays flat: the stream is read in chunks and only the unread tail of the
current chunk is kept. A segment is bounded too: past `MAX_SEGMENT_LENGTH` characters
the rest of it is skipped unread up to its terminator, and past `MAX_ELEMENTS` data
elements the rest are dropped; the segment is still yielded, cut, with ``cut`` saying
why, so the implementation-guide check can reject it (999 IK3/IK4 in a transaction
set, TA1 024 outside one) at its true position instead of holding it in memory.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal, NamedTuple

from edi.errors import X12SyntaxError

ISA_LENGTH = 106
UTF8_BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 20
_FIRST_WINDOW = 1 << 10
"""The text an interchange's first split covers; each next one twice as much, up to
a chunk (`iter_raw_segments`)."""
_BETWEEN_SEGMENTS = "\r\n"
PADDING = " \t\r\n\x00\x1a"
"""What may follow an interchange's IEA and is no data: blanks, line breaks, and the NUL
and SUB (0x1A, the old end-of-file mark) bytes that some mailbox transfers pad a file
to a block with."""
MAX_STRAYS = 1_000
"""Stretches of data between interchanges that start none (`Stray`) a file is answered
for one by one; past them, the data up to each readable ISA is one stretch, so that a
file of "ISA*" on every line is not a TA1 for every 106 characters of it."""
_ISA_ELEMENT_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
MAX_SEGMENT_LENGTH = 65_536
"""Characters a segment may hold, its terminator excluded. The longest 837P segment
the guide allows (an HI with twelve full composites) is about 2,100 characters."""
MAX_ELEMENTS = 99
"""Data elements a segment may hold: X12 numbers element positions with two digits
(NM109, CLM20, and IK401 in a 999), so no segment defines more."""
Cut = Literal["", "length", "elements"]
"""Why a segment was cut: not at all, past `MAX_SEGMENT_LENGTH`, past `MAX_ELEMENTS`."""


class Delimiters(NamedTuple):
    """The four X12 separators of one interchange."""

    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"

    def all(self) -> frozenset[str]:
        """The separator characters in force (no repetition separator is ``""``)."""
        return frozenset(c for c in self if c)


DEFAULT_DELIMITERS = Delimiters()


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


def delimiters_from_isa(isa: str) -> Delimiters:
    """Read the separators from a complete 106-character ISA segment.

    Raises `X12SyntaxError` naming the first ISA element whose width is wrong, so the
    envelope check can answer with the matching TA1 note code.
    """
    if not isa.startswith("ISA") or len(isa) < 4:
        raise X12SyntaxError("the interchange does not start with an ISA segment", code="022")
    element = isa[3]
    if element.isalnum() or element == " ":
        raise X12SyntaxError("the ISA element separator is not a delimiter", code="026")
    parts = isa.split(element)
    if len(parts) < 17:
        raise X12SyntaxError("the ISA segment has fewer than 16 elements", code="022")
    for position, width in enumerate(_ISA_ELEMENT_WIDTHS, start=1):
        value = parts[position] if position < 16 else parts[16][:1]
        if len(value) != width:
            raise X12SyntaxError(
                f"ISA{position:02d} is {len(value)} characters long, the standard fixes {width}",
                code=isa_element_note_code(position),
                element=position,
            )
    if len(isa) < ISA_LENGTH:
        raise X12SyntaxError("the ISA segment is cut short", code="023")
    # ISA11 was the standards identifier ("U") before 5010; senders still put it there.
    # An alphanumeric ISA11 means the interchange has no repetition separator.
    repetition = "" if isa[82].isalnum() else isa[82]
    delimiters = Delimiters(element, isa[104], repetition, isa[105])
    chosen = delimiters.all()
    if len(chosen) != (4 if repetition else 3) or any(c.isalnum() for c in chosen):
        raise X12SyntaxError(
            "the ISA delimiters are not four distinct non-alphanumeric characters", code="026"
        )
    return delimiters


def isa_element_note_code(position: int) -> str:
    """TA105 note code (X12 element I18) for a bad ISA element at ``position``."""
    return {
        1: "010", 2: "011", 3: "012", 4: "013", 5: "005", 6: "006", 7: "007", 8: "008",
        9: "014", 10: "015", 11: "026", 12: "017", 13: "018", 14: "019", 15: "020", 16: "027",
    }[position]


class Stray(NamedTuple):
    """Data between two interchanges that starts none."""

    error: X12SyntaxError
    """Why, with the TA105 note code that answers it: ``022`` for data that does not
    start with an ISA segment, the ISA's own code for an ISA that cannot be read."""
    isa: str = ""
    """The first 106 characters of an ISA that cannot be read (what its TA1 can echo);
    empty for data that does not start with an ISA segment."""


class RawSegment(NamedTuple):
    """A segment's text without its terminator, and the delimiters in force for it."""

    text: str
    delimiters: Delimiters
    cut: Cut = ""
    """Why ``text`` is not the whole segment (``""``: it is): see `MAX_SEGMENT_LENGTH`
    and `MAX_ELEMENTS`."""
    stray: Stray | None = None
    """Set on the empty segment that stands for data between two interchanges that
    starts none (the delimiters are the interchange's before it)."""


class _Buffer:
    """A decoded chunked view of a binary stream, with a read position."""

    def __init__(self, stream: BinaryIO, chunk_size: int) -> None:
        self._stream = stream
        self._chunk_size = chunk_size
        self.text = ""
        self.pos = 0
        self.eof = False
        first = stream.read(chunk_size)
        if first.startswith(UTF8_BOM):
            first = first[len(UTF8_BOM):]
        self._extend(first)

    def _extend(self, data: bytes) -> None:
        if not data:
            self.eof = True
            return
        self.text = self.text[self.pos:] + data.decode("latin-1")
        self.pos = 0

    def fill(self) -> bool:
        """Read one more chunk; False at end of stream."""
        if self.eof:
            return False
        self._extend(self._stream.read(self._chunk_size))
        return not self.eof

    def ensure(self, count: int) -> bool:
        """Make at least ``count`` unread characters available if the stream has them."""
        while len(self.text) - self.pos < count:
            if not self.fill():
                return False
        return True

    def skip(self, chars: str = " \t\r\n") -> bool:
        """Move past any of ``chars``; False at the end of the stream."""
        while True:
            text, pos = self.text, self.pos
            while pos < len(text) and text[pos] in chars:
                pos += 1
            self.pos = pos
            if pos < len(text):
                return True
            if not self.fill():
                return False

    def next_isa(self, boundaries: str, header: int = 1) -> bool:
        """Drop everything up to the next ISA after pos, keeping none of it in memory:
        an ``ISA`` followed by a character that may be an element separator, that
        either follows one of ``boundaries`` (if any) at least ``header`` characters
        after pos (it starts a segment: an ISA, readable or not) or starts a readable
        ISA (an interchange glued to what is before it); False when the stream ends
        first. "ISA" inside a value is neither. After an ISA that cannot be read,
        ``header`` is its width: what its header spans is its own, so that data of ISAs
        is answered with one TA1 per 106 characters at most, not one per "ISA"."""
        if header > 1:
            self.ensure(header + ISA_LENGTH)
            start = self.pos
            for glued in _GLUED_ISA.finditer(self.text, start + 1,
                                             start + header + ISA_LENGTH - 3):
                if _readable_isa(self.text[glued.start():glued.start() + ISA_LENGTH]):
                    self.pos = glued.start()
                    return True
        pattern = _isa_start(boundaries)
        searched = self.pos + header
        while True:
            text = self.text
            match = pattern.search(text, searched)
            while match is not None:
                index = match.start()
                if match.group(1) is None:  # after a boundary
                    if _may_separate(text[index + 3]):
                        self.pos = index
                        return True
                else:
                    self.pos = index
                    self.ensure(ISA_LENGTH)  # may drop what is before pos, moving it
                    if _readable_isa(self.text[self.pos:self.pos + ISA_LENGTH]):
                        return True
                    text, index = self.text, self.pos
                match = pattern.search(text, index + 1)
            # kept: a boundary and an ISA header the end of what was read may cut
            keep = max(self.pos, len(text) - ISA_LENGTH)
            self.pos = keep
            if not self.fill():
                self.pos = len(self.text)
                return False
            searched = max(1, searched - keep)

    def find(self, char: str, limit: int | None = None) -> int:
        """Index of the next ``char`` at or after pos, reading more as needed; -1 at EOF,
        -2 when it is not within ``limit`` characters of pos (the rest is not read)."""
        searched = self.pos
        while True:
            index = self.text.find(char, searched)
            if index >= 0:
                return -2 if limit is not None and index - self.pos > limit else index
            already = len(self.text) - self.pos  # unread characters already searched
            if limit is not None and already > limit:
                return -2
            if not self.fill():
                return -1
            searched = self.pos + already

    def skip_past(self, char: str) -> bool:
        """Drop everything up to and including the next ``char``, keeping none of it in
        memory; False when the stream ends first."""
        while True:
            index = self.text.find(char, self.pos)
            if index >= 0:
                self.pos = index + 1
                return True
            self.pos = len(self.text)
            if not self.fill():
                return False


_BLANKS = " \t\r\n\x0b\x0c"
_SEPARATOR = r"[^0-9A-Za-z \t\r\n\x0b\x0c]"
"""A character that may be an element separator after "ISA" (`_may_separate` has the
last word: a Latin-1 letter is none)."""
_GLUED_ISA = re.compile(
    rf"ISA({_SEPARATOR})" + "".join(rf".{{{width}}}\1" for width in _ISA_ELEMENT_WIDTHS[:-1]),
    re.DOTALL)
"""An ISA whose separator stands where each of ISA01-ISA15 ends, as in any readable one
(an "ISA" in data fails this, in the regular expression, before its header is parsed)."""


@functools.lru_cache(maxsize=64)
def _isa_start(boundaries: str) -> re.Pattern[str]:
    """An ISA start between interchanges: after one of ``boundaries`` (group 1 None),
    or anywhere if it may be readable (`_GLUED_ISA`, all there is without boundaries)."""
    if not boundaries:
        return _GLUED_ISA
    return re.compile(rf"(?<=[{re.escape(boundaries)}])ISA{_SEPARATOR}|{_GLUED_ISA.pattern}")


def _may_separate(char: str) -> bool:
    """Whether ``char`` after "ISA" may be an element separator, so that the "ISA" is
    taken for an ISA segment's start between interchanges (readable or not): no letter,
    digit or blank ("ISA " is a word; control characters such as 0x1D may separate)."""
    return not char.isalnum() and char not in _BLANKS


def _readable_isa(isa: str) -> bool:
    try:
        delimiters_from_isa(isa)
    except X12SyntaxError:
        return False
    return True


def iter_raw_segments(stream: BinaryIO, chunk_size: int = _CHUNK) -> Iterator[RawSegment]:
    """Yield each segment's raw text, interchange after interchange.

    Line breaks before a segment are dropped; other leading blanks are kept so the
    implementation-guide check can report them. Data after an IEA that starts no
    interchange is one segment with ``stray`` set (`Stray`), and reading goes on at the
    next ISA after it. Raises `X12SyntaxError` when the data does not start with an
    interchange, or ends inside one; every segment before that point has been yielded.
    """
    buf = _Buffer(stream, chunk_size)
    if not buf.skip():
        raise X12SyntaxError("the file is empty", code="023")
    buf.ensure(ISA_LENGTH)
    if not buf.text.startswith("ISA", buf.pos):
        raise X12SyntaxError("the data does not start with an ISA segment", code="022")
    found: Delimiters | None = delimiters_from_isa(buf.text[buf.pos:buf.pos + ISA_LENGTH])
    strays = 0
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
                if not buf.skip_past(terminator):
                    raise X12SyntaxError("the file ends inside a segment", code="023")
            elif end < 0:
                rest = buf.text[buf.pos:].strip()
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
        found, strays = yield from _between(buf, delimiters, strays)


def _between(buf: _Buffer, before: Delimiters, strays: int
             ) -> Generator[RawSegment, None, tuple[Delimiters | None, int]]:
    """After an interchange (read as ``before``): padding is skipped, then each stretch
    of data that starts no interchange is yielded as one stray segment, up to the next
    ISA that can be read; its delimiters (None when the stream ends first), and the
    file's ``strays`` counted on."""
    boundaries = PADDING + before.segment
    while buf.skip(PADDING):
        buf.ensure(ISA_LENGTH)
        isa = buf.text[buf.pos:buf.pos + ISA_LENGTH]
        if isa.startswith("ISA") and len(isa) > 3 and _may_separate(isa[3]):
            try:
                return delimiters_from_isa(isa), strays
            except X12SyntaxError as exc:
                stray = Stray(exc, isa)
        else:
            stray = Stray(X12SyntaxError(
                "the data after an interchange's IEA does not start with an ISA segment",
                code="022"))
        yield RawSegment("", before, "", stray)
        strays += 1
        if not buf.next_isa(boundaries if strays < MAX_STRAYS else "",
                            ISA_LENGTH if stray.isa else 1):
            return None, strays
    return None, strays


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
