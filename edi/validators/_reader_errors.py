"""What pyx12's reader reports outside its own error tree, put on our results.

Three kinds: the reader's envelope errors (counts, control numbers, missing trailers),
which pyx12's error handler can only file under its latest node of a kind; the element
errors of a TA1, which stands outside any transaction set where that tree has no place
for them; and the segments `edi.tokenizer` cut short (`MAX_SEGMENT_LENGTH`,
`MAX_ELEMENTS`), which pyx12 never sees whole. `edi.validators.implementation_guide`
calls these during its walk, with its walk state.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from edi.codes import ELEMENT_SYNTAX, GROUP_SYNTAX, INTERCHANGE_NOTE, VALID_IK502
from edi.findings import ElementFinding, InterchangeResult, SegmentFinding
from edi.segment_ids import element_name, segment_name
from edi.tokenizer import MAX_ELEMENTS, MAX_SEGMENT_LENGTH, Cut
from edi.validators._pyx12_segment import segment_errors

if TYPE_CHECKING:
    from edi.validators._pyx12_source import Pyx12Source
    from edi.validators.implementation_guide import _Walk


def handle_reader_errors(walk: _Walk, errors: list[tuple[str, str, str, Any, int | None]]) -> None:
    """pyx12's reader errors (counts, control numbers, missing trailers) onto the result
    they are about.

    pyx12's error handler files an ISA, GS or ST error under its *latest* node of that
    kind, which is absent or stale for a group this gateway does not take, a transaction
    set the walker could not open, or loops left open behind a broken envelope; its
    ``gs_error``/``st_error`` then raised AttributeError on None (error_handler.py:254,
    :267) or blamed an earlier group or set. Such an error is put straight on our
    result instead, with its X12 code.
    """
    errh = walk.errh
    for error in errors:
        kind, code = error[0], error[1]
        if kind == "seg":
            errh.handle_errors([error])
        elif kind == "isa" and walk.check.interchanges:
            if _linked(walk, walk.interchange, errh.cur_isa_node):
                errh.handle_errors([error])
            elif not walk.interchange.rejected:
                _reject_interchange(walk.interchange, code)
        elif kind == "gs" and walk.check.interchanges and walk.interchange.groups:
            if _linked(walk, walk.group, errh.cur_gs_node):
                errh.handle_errors([error])
            else:
                code = "19" if code == "6" else code
                if code in GROUP_SYNTAX and code not in walk.group.syntax_codes:
                    walk.group.syntax_codes.append(code)
        elif kind == "st" and walk.check.interchanges and walk.interchange.groups \
                and walk.group.transaction_sets:
            ts = walk.transaction_set
            if _linked(walk, ts, errh.cur_st_node):
                errh.handle_errors([error])
            elif code in VALID_IK502:
                ts.ack_code = "R"
                if code not in ts.syntax_codes:
                    ts.syntax_codes.append(code)


def check_ta1(walk: _Walk, node: Any, seg: Any) -> None:
    """A TA1 inside an interchange (a partner's, or one of ours being checked): an
    invalid element makes the interchange content invalid (TA1 024).

    Fed to pyx12's error handler, such an error raised AttributeError (error_handler.py
    :211, no transaction set to hang it on) and the fault was only counted, so a TA1 of
    ours echoing an ISA09 of 261399 passed the outbound check of a 999.
    """
    errors = segment_errors(node, seg)
    if not errors or not walk.check.interchanges or walk.interchange.rejected:
        return
    refs = sorted({e.refdes for e in errors
                   if isinstance(e.refdes, str) and re.fullmatch(r"TA1\d\d", e.refdes)})
    where = f" ({', '.join(refs)})" if refs else ""
    walk.interchange.note_code = "024"
    walk.interchange.sentences.append(
        f"A TA1 segment in the interchange has invalid elements{where}; the interchange "
        "content is invalid.")


def _linked(walk: _Walk, result: Any, node: Any) -> bool:
    """Whether pyx12's ``node`` is the one recorded for our ``result``."""
    if node is None:
        return False
    for linked in reversed(walk.links):  # (result, node, ...)
        if linked[0] is result:
            return linked[1] is node
    return False


def _reject_interchange(ic: InterchangeResult, code: str) -> None:
    ic.note_code = code if code in INTERCHANGE_NOTE and code != "000" else "022"
    ic.sentences.append(INTERCHANGE_NOTE[ic.note_code].capitalize() + ".")


def cut_segment(walk: _Walk, src: Pyx12Source, seg_id: str, cut: Cut) -> None:
    """A segment the tokenizer cut short (`MAX_SEGMENT_LENGTH`, `MAX_ELEMENTS`).

    In a transaction set: the set is rejected with an IK3 at the segment (IK304 8) and
    an IK4 at the element where the cut fell (IK403 5, too long), or at the first
    element the guide does not define for the segment (IK403 3, too many data elements).
    An envelope segment (GS, GE, IEA) that long makes the interchange content invalid
    (TA1 024). A group we do not take is rejected whole already.
    """
    if not walk.check.interchanges:
        return
    ic = walk.interchange
    if seg_id in ("GS", "GE", "IEA") or not ic.groups or not walk.group.transaction_sets:
        if not ic.rejected:
            ic.note_code = "024"
            ic.sentences.append(
                f"The {segment_name(seg_id)} that is segment {src.get_cur_line()} of the "
                f"file is longer than {MAX_SEGMENT_LENGTH:,} characters or has more "
                f"than {MAX_ELEMENTS} data elements, more than this gateway reads.")
        return
    if walk.skip_group:
        return
    ts = walk.transaction_set
    position = src.get_seg_count()
    if cut == "elements":
        # the first element the map does not define, or the last one read
        defined = walk.node.get_child_count() if getattr(walk.node, "id", None) == seg_id \
            and walk.node.is_segment() else MAX_ELEMENTS
        element, code = min(defined + 1, MAX_ELEMENTS), "3"
        what = (f"has more than {MAX_ELEMENTS} data elements (X12 numbers them with two "
                f"digits); those after element {MAX_ELEMENTS} were not read")
    else:
        element, code = min(len(src.raw_elements) - 1, MAX_ELEMENTS), "5"
        what = (f"is longer than {MAX_SEGMENT_LENGTH:,} characters, more than this gateway "
                f"reads; it was read up to element {element:02d}")
    ts.ack_code = "R"
    if "5" not in ts.syntax_codes:
        ts.syntax_codes.append("5")
    ts.add_segment(SegmentFinding(
        segment_id=seg_id, position=position, loop_id=None, codes=("8",),
        sentences=(f"{_capital(segment_name(seg_id))} at position {position} {what}",),
        elements=(ElementFinding(
            position=max(element, 1), component=None, repeat=None, element_ref=None,
            code=code, sentence=f"{element_name(seg_id, max(element, 1))} "
                                f"{ELEMENT_SYNTAX[code]}"),),
    ))


def _capital(text: str) -> str:
    return text[0].upper() + text[1:]
