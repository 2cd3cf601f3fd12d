"""Compile pyx12's control map and one transaction map (the 837P's, which the front end
checks every file with; the 835's, which every payment cycle checks its own 835s with),
with pyx12's data elements and code sets, into tables.

pyx12 itself parses the XML (its loader, data-element and external-code readers), so
every value in the tables is the one pyx12's own walker and checks would read: node
usage, position, repeat counts, counter paths, the qualifier element `is_match` uses,
element types and lengths, code lists (the map's own plus the external code set the
map names, pre-merged), regexes and syntax rules. The result is plain data
(`to_plain`/`from_plain` for the cache). No file is written here.
"""

from __future__ import annotations

import hashlib
from importlib.resources import files
from typing import Any

import pyx12
import pyx12.map_if
import pyx12.params
import pyx12.path

from edi.validators.compiled.tables import (
    LOOP,
    ROOT,
    SEGMENT,
    TABLES_FORMAT,
    CompositeDef,
    ElementDef,
    GuideTables,
    Node,
)

CONTROL_MAP = "x12.control.00501.xml"
CLAIM_MAP = "837.5010.X222.A1.xml"
REMIT_MAP = "835.5010.X221.A1.xml"
COMPILED_MAPS = frozenset({CLAIM_MAP, REMIT_MAP})
"""The transaction maps the tables are compiled for; any other goes to pyx12's path."""
_SHARED_FILES = ("dataele.xml", "codes.xml")


def source_files(transaction_map: str = CLAIM_MAP) -> tuple[str, ...]:
    """The pyx12 files one guide's tables are made from; their SHA-256 keys the cache."""
    return (CONTROL_MAP, transaction_map, *_SHARED_FILES)


_FORCED_PATHS = ("/ISA_LOOP", "/ISA_LOOP/ISA", "/ISA_LOOP/GS_LOOP", "/ISA_LOOP/GS_LOOP/GS")


def fingerprint(transaction_map: str = CLAIM_MAP) -> str:
    """pyx12's version, the table format and the SHA-256 of every source file."""
    digest = hashlib.sha256(f"{pyx12.__version__}|{TABLES_FORMAT}".encode())
    for name in source_files(transaction_map):
        digest.update(name.encode())
        digest.update(files("pyx12").joinpath("map", name).read_bytes())
    return f"{pyx12.__version__}-{digest.hexdigest()[:32]}"


def compile_guide(transaction_map: str = CLAIM_MAP) -> GuideTables:
    """Build the tables of one transaction map from pyx12's maps (about a second)."""
    if transaction_map not in COMPILED_MAPS:
        raise ValueError(f"no tables are compiled for {transaction_map}")
    params = pyx12.params.params()
    builder = _Builder(params)
    for name in (CONTROL_MAP, transaction_map):
        builder.add_map(name, pyx12.map_if.load_map_file(name, params))
    builder.finish()
    charset = params.get("charset") or "B"
    transaction = pyx12.map_if.load_map_file(transaction_map, params)
    return GuideTables(nodes=builder.nodes, keys=builder.keys, paths=builder.paths,
                       fingerprint=fingerprint(transaction_map), charset=charset,
                       icvn=transaction.icvn or "00401")


class _Builder:
    def __init__(self, params: Any) -> None:
        self.params = params
        self.nodes: list[Node] = []
        self.keys: list[str] = []
        self._key_index: dict[str, int] = {}
        self._eq_index: dict[tuple[str, str], int] = {}
        self.paths: dict[str, int] = {}
        self._loops: list[Node] = []
        for path in _FORCED_PATHS:
            self._key(path)

    def _key(self, path: str) -> int:
        text = pyx12.path.X12Path(path).format()
        if text not in self._key_index:
            self._key_index[text] = len(self.keys)
            self.keys.append(text)
        return self._key_index[text]

    def _eq(self, node: Any) -> int:
        parent_id = node.parent.id if node.parent is not None else None
        pair = (node.id or "", parent_id or "")
        return self._eq_index.setdefault(pair, len(self._eq_index))

    def add_map(self, map_name: str, root: Any) -> None:
        index = self._add_node(map_name, root, -1, "")
        self.paths[f"{map_name}|/"] = index

    def _children(self, node: Any) -> list[tuple[int, Any]]:
        return [(pos, child) for pos in sorted(node.pos_map) for child in node.pos_map[pos]]

    def _add_node(self, map_name: str, node: Any, parent: int, locator: str) -> int:
        index = len(self.nodes)
        is_root = node.is_map_root()
        kind = ROOT if is_root else LOOP if node.is_loop() else SEGMENT
        max_repeat = 0 if is_root else node.get_max_repeat()
        path = node.get_path()
        compiled = Node(
            index=index, kind=kind, id=node.id or "", name=node.name or "",
            usage=node.usage or "", pos=0 if is_root else node.pos, max_repeat=max_repeat,
            parent=parent, eq=-1 if is_root else self._eq(node),
            key=-1 if is_root else self._key(path), locator=f"{map_name}|{locator}",
        )
        self.nodes.append(compiled)
        if not is_root:
            self.paths[f"{map_name}|{path}"] = index
            parent_node = node.get_parent()
            loop_id = getattr(parent_node, "id", None)
            compiled.loop_id = loop_id if loop_id and loop_id[0].isdigit() else None
        if kind == SEGMENT:
            self._segment(compiled, node)
            return index
        scan = []
        for number, (pos, child) in enumerate(self._children(node)):
            child_locator = f"{locator}/{number}" if locator else str(number)
            scan.append((pos, self._add_node(map_name, child, index, child_locator)))
        compiled.scan = tuple(scan)
        if scan:
            compiled.first = scan[0][1]
            first = self.nodes[compiled.first]
            compiled.first_seg = compiled.first if first.kind == SEGMENT else -1
        if kind == LOOP:
            self._loops.append(compiled)
        return index

    def _segment(self, compiled: Node, node: Any) -> None:
        key = node._resolve_unique_key_field(node.id, with_qual=False)
        if key is not None:
            child, ele_idx, subele_idx = key
            compiled.match = (ele_idx, subele_idx or 0, frozenset(child._valid_codes_set))
        compiled.syntax = tuple(tuple(rule) for rule in node.syntax)
        for child in node.children:
            if child.is_composite():
                compiled.elements.append(CompositeDef(
                    seq=child.seq, data_ele=child.data_ele, name=child.name,
                    usage=child.usage,
                    components=[self._element(sub, child.seq) for sub in child.children],
                ))
            else:
                compiled.elements.append(self._element(child, 0))

    def _element(self, node: Any, composite: int) -> ElementDef:
        exact_only = False
        try:
            data_type, min_len, max_len = node.data_type, node.min_len, node.max_len
        except Exception:  # pyx12 raises on this element: leave every check to it
            data_type, min_len, max_len, exact_only = None, 0, 0, True
        codes: frozenset[str | None] | None = None
        if node.valid_codes or node.external_codes is not None:
            merged: set[str | None] = set(node.valid_codes)
            external = node.external_codes
            ext = node.root.ext_codes
            if external is not None and external in ext.exclude_list:
                merged = set()
                codes = None
            elif external is not None and external not in ext.codes:
                exact_only = True
            elif external is not None:
                merged |= set(ext.codes[external]["codes"])
            if external is None or external not in ext.exclude_list:
                codes = frozenset(merged)
        return ElementDef(
            seq=node.seq, data_ele=node.data_ele, name=node.name, usage=node.usage,
            data_type=data_type, min_len=min_len, max_len=max_len, codes=codes,
            regex=node.res or None, exact_only=exact_only, parent_composite=composite,
        )

    def finish(self) -> None:
        """The counter slots each loop entry resets (`X12Path.is_child_path` on paths)."""
        split_keys = [key.split("/") for key in self.keys]
        for compiled in self._loops:
            compiled.below = _below(self.keys[compiled.key].split("/"), split_keys)


def _below(root: list[str], split_keys: list[list[str]]) -> tuple[int, ...]:
    depth = len(root)
    return tuple(i for i, parts in enumerate(split_keys)
                 if len(parts) > depth and parts[:depth] == root)


def forced_resets(tables: GuideTables) -> dict[str, tuple[int, ...]]:
    """The slots `forceWalkCounterToLoopStart` resets for the two envelope loops."""
    split_keys = [key.split("/") for key in tables.keys]
    return {path: _below(path.split("/"), split_keys) for path in _FORCED_PATHS[::2]}


def to_plain(tables: GuideTables) -> dict[str, Any]:
    """The tables as JSON-able data (for the cache)."""
    return {
        "format": TABLES_FORMAT, "fingerprint": tables.fingerprint,
        "charset": tables.charset, "icvn": tables.icvn, "keys": tables.keys,
        "paths": tables.paths, "nodes": [_node_plain(n) for n in tables.nodes],
    }


def _codes_plain(codes: frozenset[str | None] | None) -> list[str | None] | None:
    if codes is None:
        return None
    return sorted(codes, key=lambda c: (c is None, c or ""))


def _element_plain(e: ElementDef) -> list[Any]:
    return ["E", e.seq, e.data_ele, e.name, e.usage, e.data_type, e.min_len, e.max_len,
            _codes_plain(e.codes), e.regex, e.exact_only, e.parent_composite]


def _node_plain(n: Node) -> list[Any]:
    elements: list[Any] = []
    for e in n.elements:
        if isinstance(e, CompositeDef):
            elements.append(["C", e.seq, e.data_ele, e.name, e.usage,
                             [_element_plain(c) for c in e.components]])
        else:
            elements.append(_element_plain(e))
    match = None if n.match is None else [n.match[0], n.match[1], _codes_plain(n.match[2])]
    return [n.index, n.kind, n.id, n.name, n.usage, n.pos, n.max_repeat, n.parent, n.eq, n.key,
            list(n.below), [list(s) for s in n.scan], n.first, n.first_seg, match, elements,
            [list(s) for s in n.syntax], n.locator, n.loop_id]


def _element_from(row: list[Any]) -> ElementDef:
    codes = None if row[8] is None else frozenset(row[8])
    return ElementDef(seq=row[1], data_ele=row[2], name=row[3], usage=row[4], data_type=row[5],
                      min_len=row[6], max_len=row[7], codes=codes, regex=row[9],
                      exact_only=row[10], parent_composite=row[11])


def from_plain(data: dict[str, Any]) -> GuideTables:
    """Tables back from `to_plain`'s data; raises ValueError on a layout it does not know."""
    if data.get("format") != TABLES_FORMAT:
        raise ValueError("compiled guide tables of another format")
    nodes = []
    for row in data["nodes"]:
        elements: list[ElementDef | CompositeDef] = []
        for e in row[15]:
            if e[0] == "C":
                elements.append(CompositeDef(seq=e[1], data_ele=e[2], name=e[3], usage=e[4],
                                             components=[_element_from(c) for c in e[5]]))
            else:
                elements.append(_element_from(e))
        match = None if row[14] is None else (row[14][0], row[14][1], frozenset(row[14][2]))
        nodes.append(Node(
            index=row[0], kind=row[1], id=row[2], name=row[3], usage=row[4], pos=row[5],
            max_repeat=row[6], parent=row[7], eq=row[8], key=row[9], below=tuple(row[10]),
            scan=tuple((p, c) for p, c in row[11]), first=row[12], first_seg=row[13],
            match=match, elements=elements, syntax=tuple(tuple(s) for s in row[16]),
            locator=row[17], loop_id=row[18],
        ))
    return GuideTables(nodes=nodes, keys=list(data["keys"]), paths=dict(data["paths"]),
                       fingerprint=data["fingerprint"], charset=data["charset"],
                       icvn=data["icvn"])
