"""A loop and segment counter for pyx12's map walker, with pyx12's semantics, faster.

pyx12's `NodeCounter` keys its counts by `X12Path` objects whose hash formats the
path anew on every lookup, and on every loop reset it formats and splits every key.
That is about a fifth of the time of checking a claim file. This counter keeps the
same counts under the formatted path strings (formatted once per path object) and
resets with a prefix test equivalent to `X12Path.is_child_path`.
`tests/test_implementation_guide_counter.py` checks both give identical findings.
"""

from __future__ import annotations

from typing import Any

import pyx12.path


class FastNodeCounter:
    """Drop-in for `pyx12.nodeCounter.NodeCounter` as `walk_tree.counter` uses it."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._formatted: dict[int, tuple[Any, str]] = {}

    def _key(self, xpath: str | pyx12.path.X12Path) -> str:
        if isinstance(xpath, str):
            xpath = pyx12.path.X12Path(xpath)
        cached = self._formatted.get(id(xpath))
        if cached is not None and cached[0] is xpath:
            return cached[1]
        text: str = xpath.format()
        # keep the object alive so its id cannot be reused for another path
        self._formatted[id(xpath)] = (xpath, text)
        return text

    def reset_to_node(self, xpath: str | pyx12.path.X12Path) -> None:
        """Delete the counts of every path below ``xpath`` (not ``xpath`` itself)."""
        parent = self._key(xpath)
        root = parent.split("/")
        for key in [k for k in self._counts if _is_child(root, k)]:
            del self._counts[key]

    def increment(self, xpath: str | pyx12.path.X12Path) -> None:
        key = self._key(xpath)
        self._counts[key] = self._counts.get(key, 0) + 1

    def setCount(self, xpath: str | pyx12.path.X12Path, ct: int) -> None:  # pyx12 names these
        self._counts[self._key(xpath)] = ct

    def get_count(self, xpath: str | pyx12.path.X12Path) -> int:
        return self._counts.get(self._key(xpath), 0)

    def getState(self) -> dict[str, int]:  # pyx12 names these
        return dict(self._counts)


def _is_child(root: list[str], key: str) -> bool:
    """`X12Path.is_child_path`: ``key`` has more parts and starts with all of ``root``'s."""
    child = key.split("/")
    return len(child) > len(root) and child[: len(root)] == root
