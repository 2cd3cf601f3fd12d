"""The compiled implementation guide: plain tables built from pyx12's maps.

`GuideTables` is what the compiler produces and the cache stores (as JSON-able lists),
and what the walker reads (as `Node`, `ElementDef` and `CompositeDef` objects built
once per process). Nothing here imports pyx12 or touches a file.

A node is the root of a map, a loop or a segment, numbered across the control map
and the 837P map. Its fields are the ones pyx12's walker consults:

- ``key``: the loop-and-segment counter slot (pyx12 counts by formatted path, so two
  nodes with the same path share one count), and ``below``: the slots a loop entry
  resets (every path under the loop's path, as `NodeCounter.reset_to_node` does);
- ``eq``: pyx12 compares nodes by (id, parent id), not identity;
- ``scan``: a loop's children in pyx12's scan order (by position, loops before
  segments at one position) as (position, child) pairs;
- ``match``: for a segment, the element pyx12 reads to tell same-id segments apart
  (element index, component index or 0, the qualifier values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROOT, LOOP, SEGMENT = 0, 1, 2
TABLES_FORMAT = 1
"""Bumped whenever the layout below changes, so an old cache is never read."""


@dataclass(slots=True)
class ElementDef:
    """One simple element (or component) of a segment, with what pyx12 checks of it."""

    seq: int
    data_ele: str | None
    name: str | None
    usage: str | None
    data_type: str | None
    min_len: int
    max_len: int
    codes: frozenset[str | None] | None
    """Values accepted (the map's codes plus the external code set); None: no list."""
    regex: str | None
    exact_only: bool
    """pyx12 cannot check this element without raising: always take its own path."""
    parent_composite: int
    """The composite's position when this is a component, else 0."""


@dataclass(slots=True)
class CompositeDef:
    seq: int
    data_ele: str | None
    name: str | None
    usage: str | None
    components: list[ElementDef]


@dataclass(slots=True)
class Node:
    index: int
    kind: int
    id: str
    name: str
    usage: str
    pos: int
    max_repeat: int
    parent: int
    eq: int
    key: int
    below: tuple[int, ...] = ()
    scan: tuple[tuple[int, int], ...] = ()
    first: int = -1
    first_seg: int = -1
    match: tuple[int, int, frozenset[str | None]] | None = None
    elements: list[ElementDef | CompositeDef] = field(default_factory=list)
    syntax: tuple[tuple[Any, ...], ...] = ()
    locator: str = ""
    """Where pyx12's own node is (map name, path of its loop, child index), for the
    exact element check on a segment the fast test does not accept."""
    loop_id: str | None = None
    """The id of the loop the segment is in when it names a guide loop (2300), else None."""


@dataclass(slots=True)
class GuideTables:
    """Both maps' nodes, the counter slots, and where each walk starts."""

    nodes: list[Node]
    keys: list[str]
    paths: dict[str, int]
    """Node index by pyx12 map name + path, for the nodes the envelope steps jump to."""
    fingerprint: str
    charset: str
    icvn: str
