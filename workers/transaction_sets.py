"""Walk a file's transaction sets once, parsing the ones the 999 accepted.

Each accepted ST is parsed on its own (its ISA and GS in front of it), so a
`ParseError` in one set never loses the claims of the others. Every CLM segment a
set passes through is recorded lightly (CLM01, CLM02), so the claims of a set that
was rejected, or that the reader could not finish, are still listed.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import BinaryIO

from edi.claims import ParsedClaim
from edi.errors import ParseError, X12SyntaxError
from edi.parsers.claim837 import iter_claims
from edi.tokenizer import Segment, iter_segments


class ClaimHeads:
    """(CLM01, CLM02) of every claim of a set, in order, packed into one buffer: a set of
    200,000 claims keeps about 5 MB, where a tuple of two strings a claim took 35 MB.
    Pickled as two byte strings (the spool's unpickler builds nothing else)."""

    __slots__ = ("_lengths", "_text")

    def __init__(self, text: bytes = b"", lengths: bytes = b"") -> None:
        self._text = bytearray(text)
        self._lengths = array("I")
        self._lengths.frombytes(lengths)

    def append(self, pcn: str, charge: str) -> None:
        for value in (pcn, charge):
            encoded = value.encode("utf-8", "surrogatepass")
            self._text += encoded
            self._lengths.append(len(encoded))

    def __iter__(self) -> Iterator[tuple[str, str]]:
        text, lengths, start = self._text, self._lengths, 0
        for n in range(0, len(lengths), 2):
            middle = start + lengths[n]
            end = middle + lengths[n + 1]
            yield (text[start:middle].decode("utf-8", "surrogatepass"),
                   text[middle:end].decode("utf-8", "surrogatepass"))
            start = end

    def __len__(self) -> int:
        return len(self._lengths) // 2

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClaimHeads):
            return NotImplemented
        return self._text == other._text and self._lengths == other._lengths

    __hash__ = None  # type: ignore[assignment]  # mutable, as the list it replaces

    def __repr__(self) -> str:
        return f"ClaimHeads({list(self)!r})"

    def __reduce__(self) -> tuple[type, tuple[bytes, bytes]]:
        return ClaimHeads, (bytes(self._text), self._lengths.tobytes())


@dataclass
class SetReading:
    """What one pass over a transaction set found."""

    ordinal: int
    control_number: str
    accepted: bool
    clm_segments: ClaimHeads = field(default_factory=ClaimHeads)
    """(CLM01, CLM02) of every claim in the set, in order."""
    parse_error: ParseError | None = None
    sender_qualifier: str = ""
    """ISA05, ISA06, GS02, BHT03 and the submitter (1000A): what a 277CA answers to."""
    sender_id: str = ""
    application_sender: str = ""
    batch_reference: str | None = None
    submitter_name: str = ""
    submitter_id: str = ""
    usage_indicator: str = "P"
    """ISA15: a test (T) interchange is answered with a test 277CA."""

    @property
    def is_test(self) -> bool:
        """A test interchange's set: its claims are answered, never adjudicated."""
        return self.usage_indicator == "T"


class _SetSegments:
    """The segments of one ST, from the shared stream, recording its claims."""

    def __init__(self, first: Segment, rest: Iterator[Segment], reading: SetReading) -> None:
        self._first = first
        self._rest = rest
        self._reading = reading
        self._started = False
        self._finished = False

    def __iter__(self) -> Iterator[Segment]:
        if not self._started:
            self._started = True
            yield self._first
        if self._finished:
            return
        reading = self._reading
        for seg in self._rest:
            note(reading, seg)
            yield seg
            if seg.id == "SE":
                self._finished = True
                return
        self._finished = True

    def drain(self) -> None:
        for _ in self:
            pass


NOTED = frozenset({"CLM", "BHT", "NM1"})
"""The segments `note` records something of (it may skip the others unasked)."""


def note(reading: SetReading, seg: Segment) -> None:
    """What a set's reading records of a segment inside it: its claims (CLM01, CLM02),
    BHT03 and the submitter."""
    sid = seg.elements[0]
    if sid == "CLM":
        reading.clm_segments.append(seg.get(1), seg.get(2))
    elif sid == "BHT":
        reading.batch_reference = seg.get(3) or None
    elif sid == "NM1" and seg.get(1) == "41" and not reading.submitter_name:
        reading.submitter_name, reading.submitter_id = seg.get(3), seg.get(9)


def open_reading(ordinal: int, st: Segment, isa: Segment | None, gs: Segment | None,
                 accepted: bool) -> SetReading:
    """The reading of the set ``st`` opens, named from the ISA and GS in force."""
    reading = SetReading(ordinal, st.get(2), accepted)
    if isa is not None and gs is not None:
        reading.sender_qualifier, reading.sender_id = isa.get(5), isa.get(6).strip()
        reading.application_sender = gs.get(2)
        reading.usage_indicator = "T" if isa.get(15) == "T" else "P"
    return reading


def read_sets(
    stream: BinaryIO,
    accepted: frozenset[int],
    on_claim: Callable[[SetReading, ParsedClaim], None],
) -> Iterator[SetReading]:
    """Yield a `SetReading` per ST after calling ``on_claim`` for each parsed claim."""
    segments = iter_segments(stream)
    isa: Segment | None = None
    gs: Segment | None = None
    ordinal = 0
    try:
        for seg in segments:
            if seg.id == "ISA":
                isa, gs = seg, None
            elif seg.id == "GS":
                gs = seg
            elif seg.id == "ST":
                ordinal += 1
                reading = open_reading(ordinal, seg, isa, gs, ordinal in accepted)
                body = _SetSegments(seg, segments, reading)
                try:
                    if reading.accepted and isa is not None and gs is not None:
                        _parse(chain((isa, gs), body), reading, on_claim)
                    body.drain()
                except X12SyntaxError:
                    # the file ends inside this set: report what it held, then stop
                    yield reading
                    return
                yield reading
    except X12SyntaxError:
        return


def _parse(
    segments: Iterator[Segment] | chain[Segment],
    reading: SetReading,
    on_claim: Callable[[SetReading, ParsedClaim], None],
) -> None:
    try:
        for claim in iter_claims(segments):
            on_claim(reading, claim)
    except ParseError as exc:
        reading.parse_error = exc
