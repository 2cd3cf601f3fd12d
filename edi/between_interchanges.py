"""What stands before and between a file's interchanges: padding, stray data, ISAs that
cannot be read.

Padding (`PADDING`: blanks, line breaks, NUL and SUB bytes) before the first ISA or
after an interchange's IEA is no data, and neither is a UTF-8 byte-order mark at the
start of the file. Anything else there that does not start an interchange (stray data,
or an ISA that cannot be read) is a `Stray`, and the next interchange is looked for
after it (`Gaps.first`, `Gaps.after`), so that the check rejects it with a TA1 of its
own while the interchanges before and after it stand. The tokenizer (`edi.tokenizer`)
yields each stray as one empty segment whose ``stray`` says why.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import NamedTuple

from edi._buffer import Buffer
from edi.errors import X12SyntaxError
from edi.isa import ISA_ELEMENT_WIDTHS, ISA_LENGTH, Delimiters, delimiters_from_isa, readable_isa

PADDING = " \t\r\n\x00\x1a"
"""What may stand before the first ISA or after an interchange's IEA and is no data:
blanks, line breaks, and the NUL and SUB (0x1A, the old end-of-file mark) bytes that
some mailbox transfers pad a file to a block with."""
UTF8_BOM = b"\xef\xbb\xbf"
"""The byte-order mark Windows tools write at the start of a UTF-8 file: no data there."""
_BOM = UTF8_BOM.decode("latin-1")
MAX_STRAYS = 1_000
"""Stretches of data before or between interchanges that start none (`Stray`) a file is
answered for one by one; past them, the data up to each readable ISA is one stretch, so
that a file of "ISA*" on every line is not a TA1 for every 106 characters of it."""


class Stray(NamedTuple):
    """Data before or between interchanges that starts none."""

    error: X12SyntaxError
    """Why, with the TA105 note code that answers it: ``022`` for data that does not
    start with an ISA segment, the ISA's own code for an ISA that cannot be read."""
    isa: str = ""
    """The first 106 characters of an ISA that cannot be read (what its TA1 can echo);
    empty for data that does not start with an ISA segment."""
    following: str = ""
    """For data before the file's first interchange, that interchange's ISA (its sender
    is answered); empty after an interchange."""


class Gaps:
    """The data before and between the interchanges of the file ``buf`` reads, and the
    strays counted in it."""

    def __init__(self, buf: Buffer) -> None:
        self._buf = buf
        self.strays = 0
        """Strays found so far in the file (`MAX_STRAYS`)."""
        self.found: Delimiters | None = None
        """The delimiters of the ISA the last gap ended at (``buf`` is at it); None when
        the stream ended first."""

    def first(self) -> tuple[list[Stray], Delimiters]:
        """Before the file's first interchange: a byte-order mark and padding are
        skipped, then each stretch of data that starts no interchange is a `Stray`
        naming the ISA after it (``following``), up to the first ISA that can be read
        (`found`): the strays, held until that ISA is found (`MAX_STRAYS` at most),
        and its delimiters.

        The file's first "ISA" is taken for its header whatever follows it (X12 reads
        a file's first 106 characters as its ISA); one that cannot be read is a stray
        like any other, and since no delimiters can be trusted from it, only padding
        (line breaks) bounds where the next ISA starts unless that one can be read.

        Raises `X12SyntaxError` when the file holds no interchange that can be read:
        ``023`` when it holds nothing but padding, else the first stray's error (the
        file cannot be read at all)."""
        buf = self._buf
        buf.ensure(len(_BOM))
        if buf.text.startswith(_BOM, buf.pos):
            buf.pos += len(_BOM)
        if not buf.skip(PADDING):
            raise X12SyntaxError("the file is empty", code="023")
        strays = list(self._strays(PADDING, "the data", opening=True))
        if self.found is None:
            raise strays[0].error
        following = buf.text[buf.pos:buf.pos + ISA_LENGTH]
        return [stray._replace(following=following) for stray in strays], self.found

    def after(self, before: Delimiters) -> Iterator[Stray]:
        """After an interchange (read as ``before``): padding is skipped, then each
        stretch of data that starts no interchange is yielded as a `Stray`, up to the
        next ISA that can be read (`found`)."""
        return self._strays(PADDING + before.segment, "the data after an interchange's IEA")

    def _strays(self, boundaries: str, what: str, opening: bool = False
                ) -> Iterator[Stray]:
        """From after padding: each stretch of data that starts no interchange (``what``
        names it), up to the next ISA that can be read (`found`); an ISA starts after
        one of ``boundaries`` or wherever it can be read (`next_isa`), and with
        ``opening`` the data first looked at is an ISA if it starts with "ISA"."""
        buf = self._buf
        self.found = None
        while buf.skip(PADDING):
            buf.ensure(ISA_LENGTH)
            isa = buf.text[buf.pos:buf.pos + ISA_LENGTH]
            if isa.startswith("ISA") and (opening or (len(isa) > 3 and _may_separate(isa[3]))):
                try:
                    self.found = delimiters_from_isa(isa)
                    return
                except X12SyntaxError as exc:
                    stray = Stray(exc, isa)
            else:
                stray = Stray(X12SyntaxError(f"{what} does not start with an ISA segment",
                                             code="022"))
            yield stray
            opening = False
            self.strays += 1
            if not next_isa(buf, boundaries if self.strays < MAX_STRAYS else "",
                            ISA_LENGTH if stray.isa else 1):
                return


_BLANKS = " \t\r\n\x0b\x0c"
_SEPARATOR = r"[^0-9A-Za-z \t\r\n\x0b\x0c]"
"""A character that may be an element separator after "ISA" (`_may_separate` has the
last word: a Latin-1 letter is none)."""
_GLUED_ISA = re.compile(
    rf"ISA({_SEPARATOR})" + "".join(rf".{{{width}}}\1" for width in ISA_ELEMENT_WIDTHS[:-1]),
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


def next_isa(buf: Buffer, boundaries: str, header: int = 1) -> bool:
    """Drop everything up to the next ISA after ``buf``'s position, keeping none of it
    in memory: an ``ISA`` followed by a character that may be an element separator,
    that either follows one of ``boundaries`` (if any) at least ``header`` characters
    after the position (it starts a segment: an ISA, readable or not) or starts a
    readable ISA (an interchange glued to what is before it); False when the stream
    ends first. "ISA" inside a value is neither. After an ISA that cannot be read,
    ``header`` is its width: what its header spans is its own, so that data of ISAs is
    answered with one TA1 per 106 characters at most, not one per "ISA"."""
    if header > 1:
        buf.ensure(header + ISA_LENGTH)
        start = buf.pos
        for glued in _GLUED_ISA.finditer(buf.text, start + 1,
                                         start + header + ISA_LENGTH - 3):
            if readable_isa(buf.text[glued.start():glued.start() + ISA_LENGTH]):
                buf.pos = glued.start()
                return True
    pattern = _isa_start(boundaries)
    searched = buf.pos + header
    while True:
        text = buf.text
        match = pattern.search(text, searched)
        while match is not None:
            index = match.start()
            if match.group(1) is None:  # after a boundary
                if _may_separate(text[index + 3]):
                    buf.pos = index
                    return True
            else:
                buf.pos = index
                buf.ensure(ISA_LENGTH)  # may drop what is before pos, moving it
                if readable_isa(buf.text[buf.pos:buf.pos + ISA_LENGTH]):
                    return True
                text, index = buf.text, buf.pos
            match = pattern.search(text, index + 1)
        # kept: a boundary and an ISA header the end of what was read may cut
        keep = max(buf.pos, len(text) - ISA_LENGTH)
        buf.pos = keep
        if not buf.fill():
            buf.pos = len(buf.text)
            return False
        searched = max(1, searched - keep)
