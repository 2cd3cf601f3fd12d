"""The steps of one pass over a file, as `edi.validators.implementation_guide` takes them.

Interchange, group, unsupported group, transaction set, trailers and engine faults
follow pyx12's path one for one, with the walk, the reader bookkeeping, the error tree
and the element checks replaced by their compiled counterparts. `check.check_stream`
drives them (and takes the usual body segment on a shorter path of its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyx12.segment

from edi.faults import record_fault
from edi.findings import (
    CheckCursor,
    FileCheck,
    GroupResult,
    InterchangeResult,
    TransactionSetResult,
)
from edi.tokenizer import RawSegment
from edi.validators import implementation_guide as ig
from edi.validators._pyx12_results import fill_results, fill_set, interchange_from_isa
from edi.validators._reader_errors import check_ta1, cut_segment, handle_reader_errors
from edi.validators.compiled.cache import process_tables
from edi.validators.compiled.compiler import CLAIM_MAP, CONTROL_MAP, forced_resets
from edi.validators.compiled.elements import ElementChecker, _pyx12_node
from edi.validators.compiled.errtree import ErrorTree, LoopNode
from edi.validators.compiled.source import CompiledSource, Seg
from edi.validators.compiled.tables import SEGMENT, GuideTables, Node
from edi.validators.compiled.walker import Outcome, Values, Walker

FIRST = ((1, 0),)
"""The match position of most segment ids: the first element."""
FIRST_COMPONENT = ((1, 1),)
"""... of SV1, HI and the like: the first component of the first element."""
THIRD = ((3, 0),)
"""... of HL: the third element (its level code)."""
Link = tuple[Any, LoopNode, int]
"""A result, the error-tree node its verdict is filled from, and the index of its
interchange in the file."""
QuietPlan = tuple[tuple[int, ...], int, int, list[int], int, tuple[int, ...], int, str | None]
"""What `check` needs to replay a remembered walk that raises no error."""


class Guide:
    """The compiled tables with what the walk derives from them, built once per process."""

    def __init__(self, tables: GuideTables, transaction_map: str = CLAIM_MAP) -> None:
        self.tables = tables
        self.nodes = tables.nodes
        paths = tables.paths
        self.isa = paths[f"{CONTROL_MAP}|/ISA_LOOP/ISA"]
        self.iea = paths[f"{CONTROL_MAP}|/ISA_LOOP/IEA"]
        self.gs = paths[f"{transaction_map}|/ISA_LOOP/GS_LOOP/GS"]
        self.se = paths[f"{transaction_map}|/ISA_LOOP/GS_LOOP/ST_LOOP/SE"]
        keys = {key: i for i, key in enumerate(tables.keys)}
        resets = forced_resets(tables)
        self.force_isa = (resets["/ISA_LOOP"], keys["/ISA_LOOP"], keys["/ISA_LOOP/ISA"])
        self.force_gs = (resets["/ISA_LOOP/GS_LOOP"], keys["/ISA_LOOP/GS_LOOP"],
                         keys["/ISA_LOOP/GS_LOOP/GS"])
        positions: dict[str, set[tuple[int, int]]] = {}
        for node in self.nodes:
            if node.match is not None:
                positions.setdefault(node.id, set()).add((node.match[0], node.match[1]))
        shared: dict[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]] = {
            FIRST: FIRST, FIRST_COMPONENT: FIRST_COMPONENT, THIRD: THIRD}
        self.match_positions = {k: shared.get(tuple(sorted(v)), tuple(sorted(v)))
                                for k, v in positions.items()}
        self.checker = ElementChecker(tables)
        self.outcomes: dict[tuple[int, tuple[str | None, ...]], Outcome] = {}
        self.quiet: dict[tuple[int, tuple[str | None, ...]], QuietPlan] = {}


_GUIDES: dict[str, Guide] = {}


def guide(transaction_map: str = CLAIM_MAP) -> Guide:
    """This process's compiled guide for one transaction map (tables from the cache,
    memos shared by all files)."""
    found = _GUIDES.get(transaction_map)
    if found is None:
        found = _GUIDES[transaction_map] = Guide(process_tables(transaction_map),
                                                 transaction_map)
    return found


@dataclass
class Walk(CheckCursor):
    """The state of one pass over a file (`implementation_guide._Walk`'s counterpart)."""

    policy: ig.EnvelopePolicy
    guide: Guide
    walker: Walker
    errh: ErrorTree = field(default_factory=ErrorTree)
    node: int = -1
    in_claim_map: bool = False
    skip_group: bool = False
    skip_set: bool = False
    st_ordinal: int = 0
    check: FileCheck = field(default_factory=FileCheck)
    links: list[Link] = field(default_factory=list)
    """The results whose error nodes may still take an error, each with its node and
    its interchange's index (`fill_closed`)."""
    open_set: tuple[Link, GroupResult] | None = None
    """The open set's link, and its group (`settle_open_set`)."""
    kept: int = 0
    """Segment findings the settled sets kept (`_pyx12_results.fill_set`)."""


def general(walk: Walk, src: CompiledSource, raw: RawSegment) -> None:
    """One segment the long way: the reader's bookkeeping, then `step`; a segment the
    tokenizer cut short is then reported as `implementation_guide` reports it; data
    between interchanges that starts none, as an interchange of its own."""
    if raw.stray is not None:
        src.structure.stray()
        ig.take_stray(walk, raw.stray)
        return
    seg = src.general(raw)
    if seg is None:
        return
    try:
        step(walk, src, seg)
    except Exception as exc:
        record_fault("envelope-walk", exc)
        ig._envelope_fault(walk, "the envelope segments could not be followed")  # type: ignore[arg-type]
    if raw.cut:
        # the walk's view reads as pyx12's walk state does (duck-typed)
        cut_segment(_WalkView(walk), src, seg.seg_id or "", raw.cut)  # type: ignore[arg-type]


class _NodeView:
    """What `_reader_errors.cut_segment` reads of pyx12's current node."""

    def __init__(self, node: Node) -> None:
        self.id = node.id
        self._node = node

    def is_segment(self) -> bool:
        return self._node.kind == SEGMENT

    def get_child_count(self) -> int:
        return len(self._node.elements)


class _WalkView:
    """A `Walk` as `_reader_errors.cut_segment` reads pyx12's walk state."""

    def __init__(self, walk: Walk) -> None:
        self._walk = walk
        self.node = _NodeView(walk.guide.nodes[walk.node]) if walk.node >= 0 else None
        self.check = walk.check
        self.skip_group = walk.skip_group

    @property
    def interchange(self) -> InterchangeResult:
        return self._walk.interchange

    @property
    def group(self) -> GroupResult:
        return self._walk.group

    @property
    def transaction_set(self) -> TransactionSetResult:
        return self._walk.transaction_set


def finish(walk: Walk, src: CompiledSource) -> None:
    """After the last segment: `implementation_guide.finish_walk`, as pyx12's path."""
    ig.finish_walk(walk, src)


def step(walk: Walk, src: CompiledSource, seg: Seg) -> None:
    seg_id = seg.seg_id
    if seg.segment is None and not walk.skip_group and not walk.skip_set:
        try:
            walk_segment(walk, src, seg, seg_id)
        except Exception as exc:
            record_fault("guide-walk", exc)
            engine_fault(walk, src, seg_id or "")
    elif seg_id == "ISA":
        _open_interchange(walk, src, seg)
    elif seg_id == "GS":
        _open_group(walk, src, seg)
    elif walk.skip_group:
        _step_unsupported(walk, src, seg_id)
    elif seg_id == "IEA":
        walk.node = walk.guide.iea
        handle_errors(walk, src.pop_errors())
        walk.errh.close(walk.errh.isa)
    elif walk.skip_set:
        src.pop_errors()
        if seg_id == "SE":
            walk.skip_set = False
            walk.errh.close(walk.errh.st)
    else:
        try:
            walk_segment(walk, src, seg, seg_id)
        except Exception as exc:
            record_fault("guide-walk", exc)
            engine_fault(walk, src, seg_id or "")


def handle_errors(walk: Walk, errors: list[tuple[str, str, str, str | None, int | None]]
                   ) -> None:
    """The reader's errors onto the tree, routed as `implementation_guide` routes them."""
    if not errors:
        return
    handle_reader_errors(walk, errors)  # type: ignore[arg-type]


def _force(walk: Walk, force: tuple[tuple[int, ...], int, int]) -> None:
    below, loop_key, seg_key = force
    walk.walker.reset(below)
    walk.walker.counts[loop_key] += 1
    walk.walker.counts[seg_key] += 1


def _open_interchange(walk: Walk, src: CompiledSource, seg: Seg) -> None:
    g = walk.guide
    walk.node = g.isa
    _force(walk, g.force_isa)
    walk.skip_group = False
    result = interchange_from_isa(src.raw_elements, walk.policy.receiver_ids)
    walk.check.interchanges.append(result)
    walk.links.append((result, walk.errh.add_isa(), len(walk.check.interchanges) - 1))
    fill_closed(walk, src)
    handle_errors(walk, src.pop_errors())
    element_checks(walk, src, g.isa, seg.elements, seg.line)


def _open_group(walk: Walk, src: CompiledSource, seg: Seg) -> None:
    elements = src.raw_elements + [""] * 9
    fic, version = elements[1], elements[8]
    result = GroupResult(
        functional_id=fic, control_number=elements[6], version=version,
        application_sender=elements[2], application_receiver=elements[3],
    )
    if not walk.check.interchanges:
        return
    walk.interchange.groups.append(result)
    if fic not in ig.ACKNOWLEDGEABLE_GROUPS and not walk.interchange.rejected:
        walk.interchange.note_code = "024"
        walk.interchange.sentences.append(
            "A functional group header (GS01) names no known kind of transaction, "
            "so the interchange content is invalid.")
    supported = walk.policy.groups.get((fic, version))
    _force(walk, walk.guide.force_gs)
    if supported is None:
        walk.skip_group = True
        result.syntax_codes.append("1" if fic != "HC" else "2")
        result.sentences.append(
            "The functional group declares a kind (GS01) or version (GS08) this "
            "gateway does not take; it takes 005010X222A1 professional claims (837P)."
        )
        src.pop_errors()
        return
    walk.skip_group = False
    walk.in_claim_map = True
    values = _set_element(seg.elements, 8, supported[1])
    walk.node = walk.guide.gs
    src.check_837_lx = True
    walk.links.append((result, walk.errh.add_gs(), len(walk.check.interchanges) - 1))
    fill_closed(walk, src)
    handle_errors(walk, src.pop_errors())
    element_checks(walk, src, walk.guide.gs, values, "GS*" + "*".join(values))


def _set_element(elements: list[str], position: int, value: str) -> list[str]:
    """`Segment.set`: the elements with one replaced, padded with empty ones if short."""
    out = list(elements)
    while len(out) < position:
        out.append("")
    out[position - 1] = value
    return out


def _step_unsupported(walk: Walk, src: CompiledSource, seg_id: str | None) -> None:
    elements = [*src.raw_elements, "", "", "", ""]
    src.pop_errors()
    if seg_id == "ST":
        walk.st_ordinal += 1
        walk.group.transaction_sets.append(TransactionSetResult(
            ordinal=walk.st_ordinal, set_id=elements[1], control_number=elements[2],
            implementation_reference=elements[3], ack_code="R", syntax_codes=["1"],
        ))
    elif seg_id == "GE":
        walk.group.included = ig._int(elements[1])
        walk.skip_group = False
    elif seg_id == "IEA":
        walk.skip_group = False
        walk.node = walk.guide.iea


def walk_segment(walk: Walk, src: CompiledSource, seg: Seg, seg_id: str | None) -> None:
    errh = walk.errh
    g = walk.guide
    elements = seg.elements
    line = seg.line
    if seg_id == "ST":
        walk.st_ordinal += 1
        walk.skip_set = False
        padded = [*src.raw_elements, "", "", "", ""]
        walk.group.transaction_sets.append(TransactionSetResult(
            ordinal=walk.st_ordinal, set_id=padded[1], control_number=padded[2],
            implementation_reference=padded[3],
        ))
        pyx12_version = walk.policy.groups.get((walk.group.functional_id, padded[3]))
        if pyx12_version is not None and pyx12_version[1] != padded[3]:
            elements = _set_element(elements, 3, pyx12_version[1])
            line = "ST*" + "*".join(elements)
        errh.current_claim = None
    elif seg_id == "CLM":
        errh.current_claim = src.raw_elements[1] if len(src.raw_elements) > 1 else None
    elif seg_id == "HL":
        errh.current_claim = None
    component = src.subele_term if seg_id != "ISA" else src.ele_term
    positions = g.match_positions.get(seg_id or "")
    signature: tuple[str | None, ...]
    if positions is None:
        signature = (seg_id,)
    elif positions == FIRST:
        signature = (seg_id, elements[0].rstrip(component) if elements else None)
    else:
        values = Values(elements, component)
        signature = (seg_id, *[values.get(e, s) for e, s in positions])
    seg_count = src.seg_count
    node, walk_errors = walk.walker.walk(walk.node, signature, elements, component, seg_id,
                                         seg_count)
    for code, map_node, err_seg_id, count in walk_errors:
        if map_node >= 0:
            errh.add_seg(err_seg_id, count, g.nodes[map_node].loop_id)
        errh.seg_error(code)
    if node < 0:
        return
    walk.node = node
    if seg_id == "TA1":
        handle_errors(walk, src.pop_errors())
        check_ta1(walk, _pyx12_node(g.nodes[node].locator), pyx12.segment.Segment(  # type: ignore[arg-type]
            line, src.seg_term, src.ele_term, src.subele_term))
        return
    if seg_id == "GE":
        handle_errors(walk, src.pop_errors())
        _close_group(walk)
        walk.group.included = ig._int(src.raw_elements[1] if len(src.raw_elements) > 1 else "")
    elif seg_id == "ST":
        settle_open_set(walk)
        link = (walk.transaction_set, errh.add_st(), len(walk.check.interchanges) - 1)
        walk.links.append(link)
        walk.open_set = (link, walk.group)
        fill_closed(walk, src)
        handle_errors(walk, src.pop_errors())
    elif seg_id == "SE":
        handle_errors(walk, src.pop_errors())
        errh.close(errh.st)
    else:
        errh.add_seg(seg_id, seg_count, g.nodes[node].loop_id)
        if src.err_list:
            handle_errors(walk, src.pop_errors())
    element_checks(walk, src, node, elements, line)


def settle_open_set(walk: Walk) -> None:
    """The open set's verdict, filled from its error node as the next set opens: an
    error is filed on the set the error tree holds open (`ErrorTree.st`), which only
    the next set's ``add_st`` replaces, so none can reach this one afterwards. Its link
    and node are dropped and its group keeps it compact when clean
    (`findings.SetResults`), so that what the check holds for a set it has passed does
    not grow with the file's sets. The last set is filled with the other links."""
    if walk.open_set is None:
        return
    link, group = walk.open_set
    walk.open_set = None
    links = walk.links
    for at in range(len(links) - 1, -1, -1):  # the links after it are interchanges' and groups'
        if links[at] is link:
            del links[at]
            break
    result, node, _index = link
    walk.kept = fill_set(result, node, walk.kept)
    group.transaction_sets.settle(result)


def fill_closed(walk: Walk, src: CompiledSource) -> None:
    """The verdicts of the interchanges and groups no error can reach any more, filled
    as the next interchange, group or set opens, and the interchanges that are final
    then packed (`findings.Interchanges.pack`), so that what the check holds for an
    interchange it has passed does not grow with the file's interchanges.

    An error is filed on the node the error tree holds open for its kind (``isa``,
    ``gs``, ``st``) or on its cursor, and only a new interchange, group or set replaces
    those: a node that is none of them takes no more errors, as the set's does once the
    next set opens (`settle_open_set`). An interchange is final when its own and its
    groups' verdicts are filled, its last set is settled and it is not the last one
    (the walk still changes the last). Its structure faults (`Structure`) are all known
    by then, since the reader counted the next ISA first; they go on it before its
    verdict is filled, in the order `implementation_guide.finish_walk` takes them at the
    end, which takes the rest."""
    errh = walk.errh
    kept: list[Link] = []
    for link in walk.links:
        result, node, index = link
        if node is errh.isa or node is errh.gs or node is errh.st or node is errh.cursor \
                or isinstance(result, TransactionSetResult):
            kept.append(link)
            continue
        if isinstance(result, InterchangeResult):
            src.structure_faults = ig.apply_structure_faults(
                walk.check, src.structure_faults, index + 1)
        fill_results([(result, node)])
    walk.links = kept
    final = len(walk.check.interchanges) - 1
    if kept:  # in file order: the first is of the first interchange still open
        final = min(final, kept[0][2])
    walk.check.interchanges.pack(final)


def _close_group(walk: Walk) -> None:
    """`err_gs.close`; a GE01 that is not a number is the reader's count check (AK905
    5) and the element check's, never a fault (`implementation_guide` hands pyx12 no
    segment then)."""
    errh = walk.errh
    if errh.gs is None:
        raise LookupError("no group open")
    errh.close(errh.gs)


def element_checks(walk: Walk, src: CompiledSource, node: int, elements: list[str],
                    line: str) -> None:
    delimiters = (src.seg_term, src.ele_term, src.subele_term, src.repetition_term)
    errors = walk.guide.checker.check(walk.guide.nodes[node], elements, line, delimiters)
    if not errors:
        return
    errh = walk.errh
    cursor = None
    for error in errors:
        if error[0] == "seg":
            errh.seg_error("8", error[2])
            continue
        _kind, token, position, sub, ref, name, code, value = error
        if token != cursor:
            errh.add_ele(position, sub, ref, name)
            cursor = token
        errh.ele_error(code, value)


def engine_fault(walk: Walk, src: CompiledSource, seg_id: str) -> None:
    """The walk raised: `implementation_guide.reject_set_at_fault`, then on to the SE."""
    src.pop_errors()
    if ig.reject_set_at_fault(walk, seg_id, src.get_seg_count()) and walk.in_claim_map:
        walk.node = walk.guide.se
