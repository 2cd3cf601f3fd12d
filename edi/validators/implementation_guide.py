"""SNIP 1-2: the 837P implementation guide checked by pyx12's maps.

pyx12 is the authority on the guide, but its own entry point (`x12n_document`)
reloads every map per call (~200 ms), reads the delimiters of the first ISA only,
decodes as ASCII (a byte-order mark or any non-ASCII byte raises), stops silently at
an empty segment, and stops the whole file at the first group it has no map for.
This module drives pyx12's map walker and error handler itself:

- segments come from `edi.tokenizer` (each interchange's own delimiters, BOM and
  line breaks tolerated, Latin-1 so no byte raises);
- the control and 837 maps are loaded once per process;
- 005010X222A2 is validated with the A1 map (pyx12 has no A2 map; A2 only corrected
  errata of A1 that do not change the segments this map checks);
- a functional group we do not take (not HC/837P 5010) is rejected in the 999 and
  the rest of the file is still checked;
- if pyx12 raises on a segment, that transaction set is rejected with an IK3 at the
  segment and checking resumes at the next one.

The result is a `FileCheck` tree (`edi.findings`); `edi.acks` renders it.

This is the oracle and the fallback: the engine checks inbound 837P files with
`edi.validators.compiled.check_stream` (the same verdicts from tables compiled out of
these maps, about 17 times faster), which hands any policy naming a map it does not
hold (the outbound 999, 277CA and 835 checks) to this module.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import pyx12.error_handler
import pyx12.errors
import pyx12.map_if
import pyx12.params
import pyx12.segment
import pyx12.x12file
from pyx12.map_if._segment import apply_segment_errors
from pyx12.map_walker import apply_walk_errors, walk_tree

from edi import bounds
from edi.between_interchanges import PADDING, UTF8_BOM, Stray
from edi.errors import X12SyntaxError
from edi.faults import record_fault
from edi.findings import (
    CheckCursor,
    FileCheck,
    GroupResult,
    InterchangeResult,
    SegmentFinding,
    TransactionSetResult,
)
from edi.payer import PAYER_ID
from edi.segment_ids import segment_name
from edi.tokenizer import iter_raw_segments
from edi.validators._counter import FastNodeCounter
from edi.validators._pyx12_results import (
    fill_results,
    interchange_from_isa,
    salvaged_interchange,
    stray_interchange,
)
from edi.validators._pyx12_segment import segment_errors
from edi.validators._pyx12_source import Pyx12Source
from edi.validators._reader_errors import check_ta1, cut_segment, handle_reader_errors

CONTROL_MAP = "x12.control.00501.xml"
#: (GS01, GS08) -> the pyx12 map that checks it, and the version pyx12 must see.
CLAIM_GROUPS: dict[tuple[str, str], tuple[str, str]] = {
    ("HC", "005010X222A1"): ("837.5010.X222.A1.xml", "005010X222A1"),
    ("HC", "005010X222A2"): ("837.5010.X222.A1.xml", "005010X222A1"),
}
#: The groups the engine itself writes, for checking its own output.
OUTBOUND_GROUPS: dict[tuple[str, str], tuple[str, str]] = {
    ("FA", "005010X231A1"): ("999.5010X231.A1.xml", "005010X231A1"),
    ("HN", "005010X214"): ("277.5010.X214.xml", "005010X214"),
    ("HP", "005010X221A1"): ("835.5010.X221.A1.xml", "005010X221A1"),
}
_ST_PATH = "/ISA_LOOP/GS_LOOP/ST_LOOP/SE"
#: GS01 values a 999 can acknowledge (AK101 code list of the X231A1 map).
ACKNOWLEDGEABLE_GROUPS = frozenset({"BE", "FA", "HB", "HC", "HI", "HN", "HP", "HR", "HS", "RA"})
_HEAD = 4096


def silence_pyx12() -> None:
    """pyx12 logs every error with the bad value (PHI): route none of it anywhere."""
    for name in ("pyx12", "pyx12.error_999", "pyx12.error_997"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.CRITICAL + 1)
        logger.propagate = False
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())


@functools.cache
def _params() -> Any:
    return pyx12.params.params()


@functools.cache
def load_map(name: str) -> Any:
    """A pyx12 map, loaded once per process (walk state lives in the walker, not the map)."""
    silence_pyx12()
    return pyx12.map_if.load_map_file(name, _params())


@dataclass(frozen=True)
class EnvelopePolicy:
    """What this gateway accepts at the envelope level."""

    receiver_ids: frozenset[str] | None = frozenset({PAYER_ID})
    """ISA08 values addressed to us; None accepts any (conformance runs)."""
    groups: Mapping[tuple[str, str], tuple[str, str]] = field(
        default_factory=lambda: dict(CLAIM_GROUPS)
    )
    """The functional groups taken, and the pyx12 map each is checked with."""


class _Recorder(pyx12.error_handler.err_handler):  # type: ignore[misc]
    """pyx12's error tree, plus the loop and claim of each segment in error."""

    def __init__(self) -> None:
        super().__init__()
        self.current_claim: str | None = None

    def add_seg(self, map_node: Any, seg_data: Any, seg_count: int, cur_line: int,
                ls_id: str | None) -> None:
        super().add_seg(map_node, seg_data, seg_count, cur_line, ls_id)
        parent = map_node.get_parent() if map_node is not None else None
        loop_id = getattr(parent, "id", None)
        self.cur_seg_node.loop_id = loop_id if loop_id and loop_id[0].isdigit() else None
        self.cur_seg_node.claim_id = self.current_claim


#: The faster counter and the element-check memo; tests switch both off to compare
#: the findings with pyx12's own code paths.
FAST_PATHS = True


def new_walker() -> Any:
    walker = walk_tree()
    if FAST_PATHS:
        walker.counter = FastNodeCounter()
    return walker


@dataclass
class _Walk(CheckCursor):
    """The state of one pass over a file."""

    policy: EnvelopePolicy
    errh: _Recorder = field(default_factory=_Recorder)
    walker: Any = field(default_factory=lambda: new_walker())
    node: Any = None
    cur_map: Any = None
    skip_group: bool = False
    skip_set: bool = False
    st_ordinal: int = 0
    check: FileCheck = field(default_factory=FileCheck)
    links: list[tuple[Any, Any]] = field(default_factory=list)


def check_stream(stream: BinaryIO, policy: EnvelopePolicy | None = None) -> FileCheck:
    """Check every interchange of a binary stream against the implementation guide."""
    silence_pyx12()
    walk = _Walk(policy or EnvelopePolicy())
    head = stream.read(_HEAD)
    raw = iter_raw_segments(_Prefixed(head, stream))  # type: ignore[arg-type]
    try:
        first = next(raw)
    except X12SyntaxError as exc:
        walk.check.unreadable = _unreadable(exc, head)
        return walk.check
    except StopIteration:  # pragma: no cover - the tokenizer raises on empty input
        walk.check.unreadable = _unreadable(X12SyntaxError("the file is empty", code="023"), head)
        return walk.check
    src = Pyx12Source(raw, first)
    walk.node = load_map(CONTROL_MAP).getnodebypath("/ISA_LOOP/ISA")
    for seg in src:
        if isinstance(seg, Stray):
            take_stray(walk, seg)
            continue
        try:
            _step(walk, src, seg)
        except Exception as exc:
            record_fault("envelope-walk", exc)
            _envelope_fault(walk, "the envelope segments could not be followed")
        if src.raw_cut:
            cut_segment(walk, src, seg.get_seg_id(), src.raw_cut)
    finish_walk(walk, src)
    fill_results(walk.links)
    return walk.check


def finish_walk(walk: Any, src: Any) -> None:
    """After the last segment (either path's walk and reader): structure faults, an
    unreadable rest, missing trailers."""
    src.structure_faults = apply_structure_faults(walk.check, src.structure_faults)
    if src.failure is not None and walk.check.interchanges:
        ic = walk.interchange
        if not ic.rejected:
            ic.note_code = src.failure.code
            ic.sentences.append(f"The interchange is incomplete: {src.failure}.")
    else:
        try:
            src.cleanup()
            handle_reader_errors(walk, src.pop_errors())
        except Exception as exc:
            record_fault("envelope-trailers", exc)
            _envelope_fault(walk, "trailer segments are missing")


def apply_structure_faults(check: FileCheck, faults: list[tuple[int, str]],
                           ordinal: int | None = None) -> list[tuple[int, str]]:
    """The reader's structure faults (`Structure`: a segment where the envelope does
    not allow it) on the interchange of their ordinal, its first making it TA1 022;
    only those of interchange ``ordinal`` when given (the compiled check takes an
    interchange's as it finishes it), else all whose interchange was opened (an ordinal
    0 names the last). Returns the faults not taken."""
    rest = []
    for at, fault in faults:
        if at > len(check.interchanges) or (ordinal is not None and at != ordinal):
            rest.append((at, fault))
            continue
        ic = check.interchanges.held(at - 1)
        if not ic.rejected:
            ic.note_code = "022"
            ic.sentences.append(f"The control structure is invalid: {fault}.")
    return rest


def _envelope_fault(walk: _Walk, what: str) -> None:
    """pyx12 could not follow the envelope: reject the current interchange (TA1 022)."""
    if walk.check.interchanges and not walk.interchange.rejected:
        walk.interchange.note_code = "022"
        walk.interchange.sentences.append(f"The control structure is invalid: {what}.")


class _Prefixed:
    """A binary stream whose first bytes were already read into ``head``."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if self._head:
            data, self._head = self._head, b""
            return data
        return self._rest.read(size)


def _unreadable(exc: X12SyntaxError, head: bytes) -> InterchangeResult:
    """A TA1 subject for data with no usable ISA, echoing what can be salvaged of one."""
    text = head.removeprefix(UTF8_BOM).decode("latin-1").lstrip(PADDING)
    return salvaged_interchange(exc, text, "The file cannot be read as an X12 interchange")


def take_stray(walk: CheckCursor, stray: Stray) -> None:
    """Data between two interchanges that starts none (`edi.between_interchanges.Stray`, either
    path's walk): rejected with a TA1 of its own, after the interchange before it, whose
    verdict stands."""
    before = walk.interchange if walk.check.interchanges else None
    walk.check.interchanges.append(stray_interchange(stray, before))


def _step(walk: _Walk, src: Pyx12Source, seg: Any) -> None:
    seg_id = seg.get_seg_id()
    errh = walk.errh
    if seg_id == "ISA":
        _open_interchange(walk, src, seg)
    elif seg_id == "GS":
        _open_group(walk, src, seg)
    elif walk.skip_group:
        _step_unsupported(walk, src, seg_id)
    elif seg_id == "IEA":
        walk.node = load_map(CONTROL_MAP).getnodebypath("/ISA_LOOP/IEA")
        handle_reader_errors(walk, src.pop_errors())
        errh.close_isa_loop(walk.node, seg, src)
    elif walk.skip_set:
        src.pop_errors()
        if seg_id == "SE":
            walk.skip_set = False
            errh.close_st_loop(walk.node, seg, src)
    else:
        try:
            _walk_segment(walk, src, seg, seg_id)
        except Exception as exc:
            record_fault("guide-walk", exc)
            _engine_fault(walk, src, seg_id)


def _open_interchange(walk: _Walk, src: Pyx12Source, seg: Any) -> None:
    control = load_map(CONTROL_MAP)
    walk.node = control.getnodebypath("/ISA_LOOP/ISA")
    walk.walker.forceWalkCounterToLoopStart("/ISA_LOOP", "/ISA_LOOP/ISA")
    walk.skip_group = False
    result = interchange_from_isa(src.raw_elements, walk.policy.receiver_ids)
    walk.check.interchanges.append(result)
    walk.errh.add_isa_loop(seg, src)
    walk.links.append((result, walk.errh.cur_isa_node))
    handle_reader_errors(walk, src.pop_errors())
    apply_segment_errors(walk.node, seg, walk.errh)


def _open_group(walk: _Walk, src: Pyx12Source, seg: Any) -> None:
    elements = src.raw_elements + [""] * 9
    fic, version = elements[1], elements[8]
    result = GroupResult(
        functional_id=fic, control_number=elements[6], version=version,
        application_sender=elements[2], application_receiver=elements[3],
    )
    if not walk.check.interchanges:
        return
    walk.interchange.groups.append(result)
    if fic not in ACKNOWLEDGEABLE_GROUPS and not walk.interchange.rejected:
        # A 999 can only name a group by a known functional identifier (AK101).
        walk.interchange.note_code = "024"
        walk.interchange.sentences.append(
            "A functional group header (GS01) names no known kind of transaction, "
            "so the interchange content is invalid.")
    supported = walk.policy.groups.get((fic, version))
    walk.walker.forceWalkCounterToLoopStart("/ISA_LOOP/GS_LOOP", "/ISA_LOOP/GS_LOOP/GS")
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
    map_name, pyx12_version = supported
    walk.cur_map = load_map(map_name)
    seg.set("GS08", pyx12_version)
    walk.node = walk.cur_map.getnodebypath("/ISA_LOOP/GS_LOOP/GS")
    src.check_837_lx = True
    walk.errh.add_gs_loop(seg, src)
    walk.links.append((result, walk.errh.cur_gs_node))
    handle_reader_errors(walk, src.pop_errors())
    apply_segment_errors(walk.node, seg, walk.errh)


def _step_unsupported(walk: _Walk, src: Pyx12Source, seg_id: str) -> None:
    """Inside a group we do not take: record its transaction sets as not supported."""
    elements = [*src.raw_elements, "", "", "", ""]
    src.pop_errors()
    if seg_id == "ST":
        walk.st_ordinal += 1
        walk.group.transaction_sets.append(TransactionSetResult(
            ordinal=walk.st_ordinal, set_id=elements[1], control_number=elements[2],
            implementation_reference=elements[3], ack_code="R", syntax_codes=["1"],
        ))
    elif seg_id == "GE":
        walk.group.included = _int(elements[1])
        walk.skip_group = False
    elif seg_id == "IEA":
        walk.skip_group = False
        walk.node = load_map(CONTROL_MAP).getnodebypath("/ISA_LOOP/IEA")


def _walk_segment(walk: _Walk, src: Pyx12Source, seg: Any, seg_id: str) -> None:
    errh = walk.errh
    if seg_id == "ST":
        walk.st_ordinal += 1
        walk.skip_set = False
        elements = [*src.raw_elements, "", "", "", ""]
        walk.group.transaction_sets.append(TransactionSetResult(
            ordinal=walk.st_ordinal, set_id=elements[1], control_number=elements[2],
            implementation_reference=elements[3],
        ))
        pyx12_version = walk.policy.groups.get((walk.group.functional_id, elements[3]))
        if pyx12_version is not None and pyx12_version[1] != elements[3]:
            seg.set("ST03", pyx12_version[1])
        errh.current_claim = None
    elif seg_id == "CLM":
        errh.current_claim = src.raw_elements[1] if len(src.raw_elements) > 1 else None
    elif seg_id == "HL":
        errh.current_claim = None
    node, _pop, _push, walk_errors = walk.walker.walk_errors(
        walk.node, seg, src.get_seg_count(), src.get_cur_line(), src.get_ls_id()
    )
    apply_walk_errors(errh, walk_errors)
    if node is None:
        return
    walk.node = node
    if seg_id == "TA1":
        handle_reader_errors(walk, src.pop_errors())
        check_ta1(walk, node, seg)
        return
    if seg_id == "GE":
        handle_reader_errors(walk, src.pop_errors())
        # pyx12's err_gs.close takes int(GE01) unguarded (ValueError on "1X", which
        # rejected the group's last set at its GE); the count is the reader's to check
        # (AK905 5) and the value the element check's, so pyx12 need not see it
        ge01 = src.raw_elements[1] if len(src.raw_elements) > 1 else ""
        errh.close_gs_loop(node, seg if ge01.isascii() and ge01.isdigit() else None, src)
        walk.group.included = _int(src.raw_elements[1] if len(src.raw_elements) > 1 else "")
    elif seg_id == "ST":
        errh.add_st_loop(seg, src)
        walk.links.append((walk.transaction_set, errh.cur_st_node))
        handle_reader_errors(walk, src.pop_errors())
    elif seg_id == "SE":
        handle_reader_errors(walk, src.pop_errors())
        errh.close_st_loop(node, seg, src)
    else:
        errh.add_seg(node, seg, src.get_seg_count(), src.get_cur_line(), src.get_ls_id())
        handle_reader_errors(walk, src.pop_errors())
    _apply_element_checks(node, seg, errh, src)


_ELEMENT_CHECKS: dict[tuple[int, str, str, str | None, str], tuple[Any, ...]] = {}
"""pyx12's element errors by node and segment text, bounded as every input memo is
(`edi.bounds`: `ENTRIES`, a few MB at most, and no segment longer than `LINE`). Before
the length bound it kept every segment that had not repeated, of any length, with
pyx12's errors (which hold a copy of a bad value), so a long run grew by megabytes per
thousand files (a 200,000-character element stayed twice) until 50,000 entries; the
segments that do repeat (addresses, references, payer and provider names) are short."""


def _apply_element_checks(node: Any, seg: Any, errh: Any, src: Pyx12Source) -> None:
    """pyx12's element checks of one segment, remembered for identical segments.

    `segment_if.is_valid_errors` is pure (pyx12 documents it so): the same map node
    and the same segment text always give the same errors. About half the segments
    of a claim file repeat verbatim (payer, receiver, provider addresses, REFs), so
    the result is kept in a bounded memo. The errors are replayed onto the error
    handler exactly as `pyx12.map_if._segment.apply_segment_errors` does.
    """
    remember = FAST_PATHS and len(src.raw_line) <= bounds.LINE
    key = (id(node), src.ele_term or "", src.subele_term or "", src.repetition_term,
           src.raw_line)
    errors = _ELEMENT_CHECKS.get(key) if remember else None
    if errors is None:
        errors = tuple(segment_errors(node, seg))
        if remember:
            bounds.remember(_ELEMENT_CHECKS, key, errors)
    cursor = None
    for error in errors:
        if error.map_node is None:
            errh.seg_error("8", error.err_str, error.err_val)
            continue
        if error.map_node is not cursor:
            errh.add_ele(error.map_node)
            cursor = error.map_node
        errh.ele_error(error.err_cde, error.err_str, error.err_val, error.refdes)


def _engine_fault(walk: _Walk, src: Pyx12Source, seg_id: str) -> None:
    """pyx12 raised: reject the current transaction set at this segment and move on."""
    src.pop_errors()
    if reject_set_at_fault(walk, seg_id, src.get_seg_count()) and walk.cur_map is not None:
        walk.node = walk.cur_map.getnodebypath(_ST_PATH)


def reject_set_at_fault(walk: Any, seg_id: str, position: int) -> bool:
    """The walk (either path's) raised on a segment: reject its transaction set there
    (or, before any set, its group) and skip to the set's end; whether a set was
    rejected (the caller then moves its walk to the set's trailer)."""
    if not walk.check.interchanges or not walk.interchange.groups:
        return False
    group = walk.group
    if not group.transaction_sets:
        group.syntax_codes.append("1")
        walk.skip_group = True
        return False
    ts = walk.transaction_set
    ts.ack_code = "R"
    ts.sentences.append(
        f"The {segment_name(seg_id)} at position {position} could not be "
        "checked against the implementation guide; the transaction set is rejected."
    )
    ts.syntax_codes.append("5")
    ts.add_segment(SegmentFinding(
        segment_id=seg_id or "", position=position, loop_id=None,
        codes=("1" if not seg_id.isalnum() else "8",),
        sentences=("the segment could not be read",),
    ))
    walk.skip_set = True
    return True


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0
