"""pyx12's error tree (`pyx12.error_handler.err_handler`), kept only as far as the 999 reads it.

The nodes carry the attributes `edi.validators._pyx12_results.fill_results` reads, so
the same code turns both trees into findings. pyx12's quirks are kept on purpose,
because they decide what the 999 says: a segment error while the cursor is on an
ISA, GS or ST node is dropped (pyx12 calls their two-argument ``add_error`` with
three arguments and swallows the TypeError); one with no transaction set open is
dropped too; an element error with no set open raises, as pyx12's does.
A segment's node is made only when an error is filed against it, and a set keeps
the first `segment_findings_kept` (the 999 names no more): errors filed on a later
segment go to a node no set holds.
"""

from __future__ import annotations

from typing import Any

from edi.findings import segment_findings_kept


class HandlerFault(Exception):
    """Where pyx12's error handler would raise."""


class EleNode:
    __slots__ = ("ele_pos", "ele_ref_num", "errors", "name", "repeat_pos", "subele_pos")

    def __init__(self, position: int, component: int | None, ref: str | None,
                 name: str | None) -> None:
        self.ele_pos = position
        self.subele_pos = component
        self.repeat_pos = None
        self.ele_ref_num = ref
        self.name = name
        self.errors: list[tuple[str, str, str | None]] = []


class SegNode:
    __slots__ = ("claim_id", "elements", "errors", "loop_id", "seg_count", "seg_id")

    def __init__(self, seg_id: str | None, seg_count: int, loop_id: str | None,
                 claim_id: str | None) -> None:
        self.seg_id = seg_id
        self.seg_count = seg_count
        self.loop_id = loop_id
        self.claim_id = claim_id
        self.errors: list[tuple[str, str, str | None]] = []
        self.elements: list[EleNode] = []


class LoopNode:
    """An ISA, GS or ST node: its own errors, its element errors, its children."""

    __slots__ = ("children", "elements", "errors", "kind")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.errors: list[tuple[str, str]] = []
        self.elements: list[EleNode] = []
        self.children: list[Any] = []


class ErrorTree:
    """The cursor logic of pyx12's `err_handler`."""

    def __init__(self) -> None:
        self.isa: LoopNode | None = None
        self.gs: LoopNode | None = None
        self.st: LoopNode | None = None
        self.cursor: SegNode | LoopNode | None = None
        self.pending: tuple[str | None, int, str | None, str | None] | None = None
        self.cursor_added = False
        self.element: EleNode | None = None
        self.element_added = False
        self.current_claim: str | None = None
        self.kept = 0
        """Segment nodes the file's sets hold."""
        self.keep = segment_findings_kept(0)
        """Segment nodes the open set may hold."""

    def add_isa(self) -> LoopNode:
        self.isa = LoopNode("ISA")
        self._on_loop(self.isa)
        return self.isa

    def add_gs(self) -> LoopNode:
        if self.isa is None:
            raise HandlerFault("no interchange")
        self.gs = LoopNode("GS")  # not made the interchange's child: no one reads it there
        self._on_loop(self.gs)
        return self.gs

    def add_st(self) -> LoopNode:
        if self.gs is None:
            raise HandlerFault("no group")
        # nor is the set the group's: the check drops it once the set is filled
        self.st = LoopNode("ST")
        self.keep = segment_findings_kept(self.kept)
        self._on_loop(self.st)
        return self.st

    def close(self, node: LoopNode | None) -> None:
        if node is None:
            raise HandlerFault("nothing to close")
        self._on_loop(node)

    def _on_loop(self, node: LoopNode) -> None:
        self.cursor = node
        self.pending = None
        self.cursor_added = True

    def add_seg(self, seg_id: str | None, seg_count: int, loop_id: str | None) -> None:
        """A new cursor segment; it joins the set only if an error is filed on it.

        Setting ``pending`` alone is the whole of it (the walk's short path does that):
        a pending segment is the cursor, not yet added."""
        self.pending = (seg_id, seg_count, loop_id, self.current_claim)

    def _materialise(self) -> SegNode | LoopNode | None:
        if self.pending is not None:
            seg_id, seg_count, loop_id, claim = self.pending
            self.cursor = SegNode(seg_id, seg_count, loop_id, claim)
            self.cursor_added = False
            self.pending = None
        return self.cursor

    def _add_cursor(self) -> None:
        cursor = self._materialise()
        if not self.cursor_added:
            if self.st is None:
                raise HandlerFault("no transaction set")
            if len(self.st.children) < self.keep:
                self.st.children.append(cursor)
                self.kept += 1
            self.cursor_added = True

    def seg_error(self, code: str, value: str | None = None) -> None:
        try:
            self._add_cursor()
        except HandlerFault:
            return
        cursor = self.cursor
        if isinstance(cursor, SegNode):
            cursor.errors.append((code, "", value))

    def add_ele(self, position: int, component: int | None, ref: str | None,
                name: str | None) -> None:
        if self._materialise() is None:
            raise HandlerFault("no segment")
        self.element = EleNode(position, component, ref, name)
        self.element_added = False

    def ele_error(self, code: str, value: str | None) -> None:
        self._add_cursor()
        cursor = self.cursor
        if not self.element_added and cursor is not None:
            if self.element is None:
                raise HandlerFault("no element")
            cursor.elements.append(self.element)
            self.element_added = True
        if self.element is None:
            raise HandlerFault("no element")
        self.element.errors.append((code, "", value))

    @property
    def cur_isa_node(self) -> LoopNode | None:
        return self.isa

    @property
    def cur_gs_node(self) -> LoopNode | None:
        return self.gs

    @property
    def cur_st_node(self) -> LoopNode | None:
        return self.st

    def handle_errors(self, errors: list[tuple[str, str, str, str | None, int | None]]) -> None:
        self.handle(errors)

    def handle(self, errors: list[tuple[str, str, str, str | None, int | None]]) -> None:
        """`err_handler.handle_errors`: the reader's errors onto the open nodes."""
        for kind, code, _text, value, _line in errors:
            if kind in ("isa", "gs", "st"):
                node = {"isa": self.isa, "gs": self.gs, "st": self.st}[kind]
                if node is None:
                    raise HandlerFault("no envelope node")
                node.errors.append((code, ""))
            elif kind == "seg":
                self.seg_error(code, value)
