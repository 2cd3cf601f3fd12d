"""How much the engine remembers of its input, from segment to segment and file to file.

Its memos (the compiled guide's walk and element checks, the 837P reader's values, the
ICD-10-CM answers) are keyed by input text (segment texts, element values, qualifiers,
codes) and live as long as the process: a worker checks file after file, the fuzz run
checks 100,000 of them. So each memo keeps a bounded number of entries, starting again
when full, and never keeps a long text (a real segment worth remembering is short; a
65,536-character one is checked, not remembered). The compiled guide's memos and
segment patterns are kept for a few delimiter sets (a partner's files use one).
"""

from __future__ import annotations

from typing import TypeVar

ENTRIES = 20_000
"""Entries a memo of the compiled guide keeps before it starts again."""
LINE = 256
"""The longest segment text a memo keeps."""
VALUE = 80
"""The longest element value (or walk qualifier) a memo keeps."""
DELIMITER_SETS = 4
"""Delimiter sets whose memos and patterns are kept at once."""

K = TypeVar("K")
V = TypeVar("V")


def remember(memo: dict[K, V], key: K, value: V, entries: int = ENTRIES) -> None:
    """Keep ``value`` under ``key``, starting the memo again when it holds ``entries``."""
    if len(memo) >= entries:
        memo.clear()
    memo[key] = value


def short(values: tuple[str | None, ...]) -> bool:
    """Whether every text of a key is short enough to keep."""
    return all(value is None or len(value) <= VALUE for value in values)
