"""Where a received file's TA1 or 999 is kept, and how it is read.

The acknowledge step writes the answer straight into the archive as it is made and
the file's row names it by sha256 (`workers.archive.archive_text`), as the 277CA is:
a file of 200,000 interchanges is answered with some 37 MB, which is never held whole.
A row answered before revision 0013 keeps its answer as text in the row; `KeptAnswer`
reads either, so every reader (delivery, ``claims process``'s output, the review
screens' download) takes the answer one way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from workers.archive import archive_path
from workers.files import atomic_text, copy_atomically

HEAD_CHARACTERS = 128
"""What `KeptAnswer.head` reads: an ISA segment is 106 characters, terminator included."""


class Answered(Protocol):
    """A row that names an answer: a received file's, or a duplicate receipt's (its
    ORM object, or a result row of those two columns)."""

    @property
    def ack_sha256(self) -> str | None: ...

    @property
    def ack_text(self) -> str | None: ...


@dataclass(frozen=True)
class KeptAnswer:
    """One kept answer: archived under ``sha256``, or (before revision 0013) ``text``."""

    sha256: str | None
    text: str | None

    @classmethod
    def of(cls, row: Answered) -> KeptAnswer | None:
        """The answer a row names, or None when it has none yet."""
        if row.ack_sha256 is None and row.ack_text is None:
            return None
        return cls(row.ack_sha256, row.ack_text)

    def path(self, archive: Path) -> Path | None:
        """The archived file, or None for an answer kept as text."""
        return archive_path(archive, self.sha256) if self.sha256 is not None else None

    def head(self, archive: Path) -> str:
        """The answer's first characters: its first ISA segment whole."""
        path = self.path(archive)
        if path is None:
            assert self.text is not None
            return self.text[:HEAD_CHARACTERS]
        with path.open(encoding="utf-8", newline="") as kept:
            return kept.read(HEAD_CHARACTERS)

    def copy_to(self, archive: Path, target: Path) -> None:
        """The answer written to ``target``, whole or not at all, in blocks."""
        path = self.path(archive)
        if path is not None:
            copy_atomically(path, target)
            return
        assert self.text is not None
        with atomic_text(target) as out:
            out.write(self.text)
