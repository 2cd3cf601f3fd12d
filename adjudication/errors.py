"""Exceptions the adjudication package raises on purpose.

    Exception
     └── AdjudicationError          base of everything below; catch this at an edge
          └── ReferenceDataError    reference rows that cannot be trusted: a bad cell, an
                                    unknown or missing column, a missing file, a broken
                                    link between files (``problems`` lists them all)

Decisions about claims are values (denials, pends), never exceptions: these errors
mean the engine cannot decide at all. Their messages name files, line numbers and
columns, never a cell's value, because a value may be PHI (a name, a birth date, a
member id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MAX_LISTED_PROBLEMS = 25
"""Problems spelled out in a `ReferenceDataError` message; the rest are counted."""


class AdjudicationError(Exception):
    """Base of the exceptions the adjudication package raises on purpose."""


@dataclass(frozen=True)
class ReferenceProblem:
    """One thing wrong with the reference data, located without quoting the value."""

    file: str
    line: int | None
    """1-based; the header row is line 1. None for a problem with the whole file."""
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class ReferenceDataError(AdjudicationError):
    """The reference data cannot be loaded; ``problems`` says every place and why."""

    def __init__(self, problems: Sequence[ReferenceProblem]) -> None:
        self.problems = tuple(problems)
        listed = [str(p) for p in self.problems[:MAX_LISTED_PROBLEMS]]
        hidden = len(self.problems) - len(listed)
        if hidden > 0:
            listed.append(f"... and {hidden} more")
        count = len(self.problems)
        heading = f"{count} problem{'s' if count != 1 else ''} in the reference data"
        super().__init__("\n".join([heading, *listed]))
