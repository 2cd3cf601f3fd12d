"""Turn pyx12's error tree into `edi.findings` results, and check ISA values.

pyx12 records codes and messages that quote bad values; only the codes, positions
and element names are carried over into sentences, the value goes to ``bad_value``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from edi.acks import UNKNOWN_SENDER, receiver_key
from edi.between_interchanges import Stray
from edi.codes import (
    ELEMENT_SYNTAX,
    INTERCHANGE_NOTE,
    SEGMENT_SYNTAX,
    VALID_IK304,
    VALID_IK403,
    VALID_IK502,
)
from edi.errors import X12SyntaxError
from edi.findings import (
    ElementFinding,
    GroupResult,
    InterchangeResult,
    SegmentFinding,
    TransactionSetResult,
    segment_findings_kept,
)
from edi.isa import isa_element_note_code
from edi.segment_ids import element_name, segment_name

_COUNTER_ELEMENT = {
    # pyx12 codes for counting errors -> (element position, element reference, name)
    "HL1": (1, "628", "Hierarchical ID Number"),
    "HL2": (2, "734", "Hierarchical Parent ID Number"),
    "LX": (1, "554", "Assigned Number"),
}
_DATE = re.compile(r"^\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")
_TIME = re.compile(r"^([01]\d|2[0-3])[0-5]\d$")


def interchange_from_isa(
    elements: list[str], receiver_ids: frozenset[str] | None
) -> InterchangeResult:
    """The identity of an interchange and the first envelope fault we find in its ISA."""
    e = elements + [""] * (17 - len(elements))
    result = InterchangeResult(
        control_number=e[13], date=e[9], time=e[10],
        sender_qualifier=e[5], sender_id=e[6].rstrip(),
        receiver_qualifier=e[7], receiver_id=e[8].rstrip(),
        usage=e[15], ack_requested=e[14],
    )
    checks = (
        (e[12] == "00501", 12, "the interchange version (ISA12) must be 00501"),
        (e[13].isdigit(), 13, "the interchange control number (ISA13) must be nine digits"),
        (bool(_DATE.match(e[9])), 9, "the interchange date (ISA09) is not a valid YYMMDD date"),
        (bool(_TIME.match(e[10])), 10, "the interchange time (ISA10) is not a valid HHMM time"),
        (e[14] in ("0", "1"), 14, "the acknowledgment requested flag (ISA14) must be 0 or 1"),
        (e[15] in ("P", "T", "I"), 15, "the usage indicator (ISA15) must be P, T or I"),
    )
    for ok, position, sentence in checks:
        if not ok:
            return _reject(result, isa_element_note_code(position), sentence)
    if receiver_ids is not None and e[8].strip() not in receiver_ids:
        return _reject(result, "008",
                       "the interchange is addressed to another receiver (ISA08), not payer 87726")
    return result


def salvaged_interchange(exc: X12SyntaxError, text: str, what: str) -> InterchangeResult:
    """A TA1 subject for data that starts no usable ISA (``text``, from where an ISA
    would start), echoing what can be salvaged of one; ``what`` says what cannot be read."""
    result = _salvaged_header(text)
    result.note_code = exc.code
    result.sentences.append(f"{what}: {exc}.")
    return result


def _salvaged_header(text: str) -> InterchangeResult:
    """What can be read of an ISA at the start of ``text`` (blanks before it skipped):
    its ISA13, ISA09, ISA10, sender, receiver and ISA15, no more."""
    text = text.lstrip()
    parts = text[:200].split(text[3]) if text.startswith("ISA") and len(text) > 3 else []
    parts += [""] * (17 - len(parts))
    return InterchangeResult(
        control_number=parts[13], date=parts[9], time=parts[10],
        sender_qualifier=parts[5].strip()[:2], sender_id=parts[6].strip()[:15],
        receiver_qualifier=parts[7].strip()[:2], receiver_id=parts[8].strip()[:15],
        usage=parts[15][:1] or "P", ack_requested="0",
    )


STRAY_CONTROL_NUMBER = "000000000"
"""The ISA13 a TA1 answering data between interchanges that is no ISA echoes."""


def stray_interchange(stray: Stray, before: InterchangeResult | None) -> InterchangeResult:
    """The TA1 subject for data before or between interchanges that starts none
    (`edi.between_interchanges.Stray`): an ISA that cannot be read, echoed as far as it
    can be; other data as `STRAY_CONTROL_NUMBER`. Each is answered to the sender of the
    interchange ``before`` it, or before the file's first interchange to that one's
    (``stray.following``): the same file came from it; unless a bad ISA names a valid
    sender of its own."""
    leading = bool(stray.following)
    if leading:
        before = _salvaged_header(stray.following)
    if stray.isa:
        result = salvaged_interchange(stray.error, stray.isa, (
            "An interchange before the file's first readable one cannot be read" if leading
            else "An interchange after the first cannot be read"))
        if before is not None and receiver_key(
                result.sender_qualifier, result.sender_id) == UNKNOWN_SENDER:
            result.sender_qualifier, result.sender_id = before.sender_qualifier, before.sender_id
        return result
    result = InterchangeResult(
        control_number=STRAY_CONTROL_NUMBER, date="", time="",
        sender_qualifier=before.sender_qualifier if before else "",
        sender_id=before.sender_id if before else "",
        receiver_qualifier=before.receiver_qualifier if before else "",
        receiver_id=before.receiver_id if before else "",
        usage=before.usage if before else "P", ack_requested="0",
    )
    result.note_code = stray.error.code
    where = "before the file's first interchange" if leading else "between interchanges"
    result.sentences.append(f"Data {where} cannot be read: {stray.error}.")
    return result


def _reject(result: InterchangeResult, code: str, sentence: str) -> InterchangeResult:
    result.note_code = code
    result.sentences.append(sentence[0].upper() + sentence[1:] + ".")
    return result


def fill_results(links: list[tuple[Any, Any]], kept: int = 0) -> None:
    """Copy pyx12's verdicts onto our result objects, node by node, each set keeping
    the segment findings `segment_findings_kept` allows it after the sets before it
    (the compiled check's error tree has kept no more than that already): ``kept``
    when sets before these were filled already (`fill_set`)."""
    for result, node in links:
        if isinstance(result, InterchangeResult):
            _fill_interchange(result, node)
        elif isinstance(result, GroupResult):
            _fill_group(result, node)
        elif isinstance(result, TransactionSetResult):
            kept = fill_set(result, node, kept)


def fill_set(result: TransactionSetResult, node: Any, kept: int) -> int:
    """`fill_results` for one set, once no error can reach its node any more, when the
    sets before it kept ``kept`` segment findings; how many the sets have kept with it."""
    keep = segment_findings_kept(kept)
    _fill_transaction_set(result, node, keep)
    return kept + min(len(node.children), keep)


def _fill_interchange(result: InterchangeResult, node: Any) -> None:
    if result.rejected:
        return
    codes = [code for code, _text in node.errors]
    for element in node.elements:
        if element.errors:
            codes.append(isa_element_note_code(element.ele_pos) if element.ele_pos <= 16 else "022")
    codes = [c for c in codes if c in INTERCHANGE_NOTE and c != "000"]
    if codes:
        result.note_code = sorted(codes)[0]
        result.sentences.append(INTERCHANGE_NOTE[result.note_code].capitalize() + ".")


def _fill_group(result: GroupResult, node: Any) -> None:
    codes = ["19" if code == "6" else code for code, _text in node.errors]
    for element in node.elements:
        if element.errors:
            codes.append({6: "6", 8: "2"}.get(element.ele_pos, "1"))
    for code in codes:
        if code not in result.syntax_codes:
            result.syntax_codes.append(code)


def _fill_transaction_set(result: TransactionSetResult, node: Any, keep: int) -> None:
    codes = list(result.syntax_codes)
    codes += [code for code, _text in node.errors]
    for element in node.elements:
        if element.errors:
            codes.append({1: "6", 2: "7"}.get(element.ele_pos, "I6"))
    segments = [_segment_finding(child) for child in node.children[:keep]]
    if segments:
        codes.append("5")
    result.segments = merged(result.segments, segments)[:keep]
    result.syntax_codes = sorted({c for c in codes if c in VALID_IK502})
    if result.syntax_codes or result.segments:
        result.ack_code = "R"


def merged(own: list[SegmentFinding], found: list[SegmentFinding]) -> list[SegmentFinding]:
    """The engine's own findings (a segment cut short, a walk that raised) joined to
    pyx12's finding about the same segment, so a segment gets one IK3 with the codes
    and IK4s of both; pyx12's own findings are kept as they are; all in segment order,
    as the 999 lists them. Both lists come in segment order, so their first
    `segment_findings_kept` give this list's first as many.

    Each own finding joins the first of pyx12's at its position, found by one look-up:
    a set can carry a finding on every segment, and a scan of pyx12's list per own
    finding was quadratic in them."""
    rest = list(found)
    first: dict[int, int] = {}
    for i, f in enumerate(rest):
        first.setdefault(f.position, i)
    alone = []
    for finding in own:
        at = first.get(finding.position)
        if at is None:
            alone.append(finding)
            continue
        other = rest[at]
        known = {(e.position, e.code) for e in other.elements}
        rest[at] = replace(
            finding,
            codes=finding.codes + tuple(c for c in other.codes if c not in finding.codes),
            sentences=finding.sentences + other.sentences,
            elements=tuple(e for e in finding.elements if (e.position, e.code) not in known)
            + other.elements,
            loop_id=finding.loop_id or other.loop_id,
            claim_id=finding.claim_id or other.claim_id,
        )
    return sorted([*alone, *rest], key=lambda f: f.position)


def _segment_finding(node: Any) -> SegmentFinding:
    seg_id = node.seg_id or ""
    codes: list[str] = []
    elements = [_element_finding(seg_id, ele, err) for ele in node.elements for err in ele.errors]
    for code, _text, _value in node.errors:
        if code in _COUNTER_ELEMENT:
            position, ref, name = _COUNTER_ELEMENT[code]
            elements.append(ElementFinding(
                position=position, component=None, repeat=None, element_ref=ref, code="I12",
                sentence=f"{element_name(seg_id, position)} ({name}) is out of sequence",
            ))
            code = "8"
        elif code not in VALID_IK304:
            code = "8"
        if code not in codes:
            codes.append(code)
    elements = [e for e in elements if e.code in VALID_IK403]
    if elements and "8" not in codes:
        codes.append("8")
    where = f" in loop {node.loop_id}" if getattr(node, "loop_id", None) else ""
    sentences = tuple(
        f"{_capital(segment_name(seg_id))} at position {node.seg_count}{where}: "
        f"{SEGMENT_SYNTAX[c]}" for c in codes
    ) + tuple(e.sentence for e in elements)
    return SegmentFinding(
        segment_id=seg_id, position=node.seg_count, loop_id=getattr(node, "loop_id", None),
        codes=tuple(codes), sentences=sentences, elements=tuple(elements),
        claim_id=getattr(node, "claim_id", None),
    )


def _element_finding(seg_id: str, ele: Any, err: tuple[str, str, str | None]) -> ElementFinding:
    code, _text, bad_value = err
    ref = element_name(seg_id, ele.ele_pos, ele.subele_pos)
    reason = ELEMENT_SYNTAX.get(code, "is in error")
    return ElementFinding(
        position=ele.ele_pos, component=ele.subele_pos, repeat=ele.repeat_pos,
        element_ref=ele.ele_ref_num, code=code,
        sentence=f"{ref} ({ele.name}) {reason}", bad_value=bad_value or None,
    )


def _capital(text: str) -> str:
    return text[0].upper() + text[1:]
