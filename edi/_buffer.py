"""A binary stream read in chunks and decoded as Latin-1, with a read position: what
the tokenizer (`edi.tokenizer`) and the reading between interchanges
(`edi.between_interchanges`) take their text from.

Latin-1 maps every byte to one character, so no input can raise a decoding error.
Only the unread tail of the current chunk is kept: memory stays flat whatever the
file's size.
"""

from __future__ import annotations

from typing import BinaryIO


class Buffer:
    """A decoded chunked view of a binary stream, with a read position."""

    def __init__(self, stream: BinaryIO, chunk_size: int) -> None:
        self._stream = stream
        self._chunk_size = chunk_size
        self.text = ""
        self.pos = 0
        self.eof = False
        self._extend(stream.read(chunk_size))

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
