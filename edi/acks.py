"""Render TA1 and 999 (005010X231A1) acknowledgments from a `FileCheck`.

One response interchange answers each received interchange. A rejected envelope
gets ISA/TA1/IEA only; otherwise the response carries a TA1 (when ISA14 asked for
one) and one functional group per received group with one 999 in it: AK1, then per
transaction set AK2, IK3 (+ CTX naming the claim), IK4, IK5, then AK9.

Pure: the clock and control numbers are passed in.
"""

from __future__ import annotations

import io
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import chain, islice
from typing import Literal, NamedTuple, Protocol, TextIO

from edi.findings import (
    MAX_SEGMENT_ERRORS_PER_SET,
    FileCheck,
    GroupResult,
    InterchangeIdentity,
    InterchangeResult,
    TransactionSetResult,
)
from edi.payer import PAYER_ID
from edi.writer import Element, X12Writer, isa_elements

ACK_999_VERSION = "005010X231A1"
_UNSAFE = re.compile(r"[^A-Za-z0-9 !\"&'()+,./;?=%@\[\]_{}\\|<>#$-]")


class ControlNumbers(Protocol):
    """Allocates outbound interchange and group control numbers, per receiver.

    ``receiver`` is ``qualifier:id`` of the trading partner an interchange goes to;
    a store keeps one sequence per receiver, an in-memory counter may share one.
    """

    def next_interchange(self, receiver: str) -> int: ...

    def next_group(self, receiver: str) -> int: ...


MAX_CONTROL_NUMBER = 999_999_999
"""The largest ISA13 and GS06: nine digits (ISA13 is exactly nine, zero-filled; GS06 at
most nine). A sequence that reaches it starts again at 1 (`next_control_number`): X12
asks only that a number not repeat for the same partners within the window they keep,
far shorter than a billion interchanges."""


def next_control_number(value: int) -> int:
    """The number a control-number sequence hands out after ``value``."""
    return value % MAX_CONTROL_NUMBER + 1


class CountingControlNumbers:
    """In-memory control numbers, one sequence for every receiver (tests, benchmarks)."""

    def __init__(self, interchange: int = 1, group: int = 1) -> None:
        self._interchange = interchange
        self._group = group

    def next_interchange(self, receiver: str) -> int:
        value = self._interchange
        self._interchange = next_control_number(value)
        return value

    def next_group(self, receiver: str) -> int:
        value = self._group
        self._group = next_control_number(value)
        return value


ISA_ID_QUALIFIERS = frozenset({"01", "14", "20", "27", "28", "29", "30", "33", "ZZ"})
"""ISA05/ISA07 values of the 5010 interchange control header (pyx12's control map)."""
UNKNOWN_SENDER = "ZZ:UNKNOWN"
"""Where an answer goes when the received ISA05/ISA06 are not a valid sender: a
garbled header is never copied into our ISA07/ISA08 (the service delivers by the
mailbox the file came from, whatever the header says)."""


def receiver_key(qualifier: str, identifier: str) -> str:
    """``qualifier:id`` of a trading partner, as control-number sequences are named and
    answers addressed; `UNKNOWN_SENDER` unless both are valid as received (ISA05 from
    its code list, ISA06 1-15 printable characters with none of our delimiters)."""
    q, i = qualifier.strip(), identifier.strip()
    if q not in ISA_ID_QUALIFIERS or not i or len(i) > 15 or clean(i, 15) != i \
            or not i.isascii() or not i.isprintable():
        return UNKNOWN_SENDER
    return f"{q}:{i}"


@dataclass(frozen=True)
class Responder:
    """Who answers, when, and with which control numbers."""

    when: datetime
    control: ControlNumbers
    our_qualifier: str = "ZZ"
    our_id: str = PAYER_ID


AckKind = Literal["999", "TA1"]


class AckVerdict(NamedTuple):
    """What a written acknowledgment says as a whole."""

    kind: AckKind
    code: str
    """Summary code: A, E, P or R (the TA104 or the combined AK901 values)."""


@dataclass(frozen=True)
class Acknowledgment:
    """A written acknowledgment held as text (`acknowledge`)."""

    kind: AckKind
    text: str
    code: str
    """Summary code: A, E, P or R (the TA104 or the combined AK901 values)."""


def clean(value: str, max_len: int = 99) -> str:
    """A received value made safe to echo with our delimiters (empty when nothing of it
    can travel: `echoed` gives a fallback for an element that must not be)."""
    return _UNSAFE.sub("", value).strip()[:max_len]


UNECHOED_PATIENT_CONTROL_NUMBER = "0"
"""What the 277CA's TRN02 and the 835's CLP01 carry for a CLM01 none of whose
characters an answer can carry (three blanks, a backtick): the claim is then known by
its claim number (REF*1K, CLP07)."""


def echoed(value: str | None, max_len: int, fallback: str = "UNKNOWN",
           min_len: int = 1) -> str:
    """A received value cleaned for echoing (`clean`); ``fallback`` when too little of
    it is left for a required element."""
    cleaned = clean(value or "", max_len)
    return cleaned if len(cleaned) >= min_len else fallback


def acknowledge(check: FileCheck, responder: Responder) -> Acknowledgment:
    """The whole response to one received file, as text (`write_acknowledgment`)."""
    out = io.StringIO()
    kind, code = write_acknowledgment(check, responder, out)
    return Acknowledgment(kind, out.getvalue(), code)


def write_acknowledgment(check: FileCheck, responder: Responder,
                         out: TextIO) -> AckVerdict:
    """The whole response to one received file, written to ``out`` as it is made (a
    file of 200,000 interchanges is answered with some 37 MB, never held whole).

    Each sender is answered in a response interchange of its own, addressed to it
    (ISA05/ISA06 of its interchanges), in the order the file names the senders: TA1
    segments first (one per received interchange that was rejected or asked for one),
    then a functional group with a 999 for every group of its accepted interchanges.
    The interchanges are read from the check one at a time, by their index in the file
    (a file of 200,000 interchanges keeps most of them packed: `findings.Interchanges`).
    """
    def interchange(index: int) -> InterchangeResult:
        if index < len(check.interchanges):
            return check.interchanges[index]
        assert check.unreadable is not None
        return check.unreadable

    senders: dict[str, array[int]] = {}
    rejected = False
    unreadable = [InterchangeIdentity.of(check.unreadable)] if check.unreadable else []
    for index, ic in enumerate(chain(check.interchanges.identities(), unreadable)):
        senders.setdefault(receiver_key(ic.sender_qualifier, ic.sender_id),
                           array("L")).append(index)
        rejected = rejected or ic.rejected
    if not senders:  # pragma: no cover - the check always yields one or the other
        raise ValueError("nothing to acknowledge")
    writer = X12Writer(out)
    group_codes: list[str] = []
    for receiver, indices in senders.items():
        group_codes += _response_interchange(
            writer, receiver, partial(map, interchange, indices), responder)
    if not group_codes:
        return AckVerdict("TA1", "R" if rejected else "A")
    return AckVerdict("999", _combined(group_codes, rejected))


def _response_interchange(writer: X12Writer, receiver: str,
                          interchanges: Callable[[], Iterator[InterchangeResult]],
                          responder: Responder) -> list[str]:
    """One ISA .. IEA answering one sender's interchanges (each call of ``interchanges``
    gives them again, in file order); returns the AK901 codes."""
    qualifier, _, identifier = receiver.partition(":")
    first = next(interchanges())
    control = responder.control.next_interchange(receiver)
    writer.write("ISA", *isa_elements(
        sender_qualifier=responder.our_qualifier, sender_id=responder.our_id,
        receiver_qualifier=qualifier, receiver_id=identifier,
        control_number=control, when=responder.when,
        usage=first.usage if first.usage in ("P", "T") else "P",
    ))
    for ic in interchanges():
        # An interchange with no group to answer still gets a word back: its TA1.
        if ic.rejected or ic.ack_requested == "1" or not ic.groups:
            writer.write("TA1", *ta1_elements(ic, responder.when))
    group_codes: list[str] = []
    for ic in interchanges():
        if ic.rejected:
            continue
        for group in ic.groups:
            _group(writer, group, ic, responder, receiver)
            group_codes.append(group.ack_code)
    writer.write("IEA", str(len(group_codes)), f"{control:09d}")
    return group_codes


def _combined(codes: list[str], rejected: bool) -> str:
    """The summary code of AK901s ``codes``, any interchange ``rejected`` counting as R."""
    if rejected:
        codes = [*codes, "R"]
    if all(c == "A" for c in codes):
        return "A"
    if all(c in ("A", "E") for c in codes):
        return "E"
    if all(c == "R" for c in codes):
        return "R"
    return "P"


def _application(value: str, fallback: str) -> str:
    """GS02/GS03 are 2-15 characters: echo the received code when it fits, else fall back."""
    cleaned = clean(value, 15)
    return cleaned if len(cleaned) >= 2 else fallback


def _segment_id(value: str) -> str:
    """IK301 is 2-3 letters or digits; a segment ID that is not one is named ZZZ.

    IK302 still gives the exact position of the segment in the transaction set.
    """
    return value if re.fullmatch(r"[A-Z0-9]{2,3}", value) else "ZZZ"


def _control(value: str, min_len: int, max_len: int, numeric: bool = False) -> str:
    """A received control number echoed within the 999's bounds (left zero-filled).

    A numeric one (GS06 in AK102) that is not a number is echoed as 0.
    """
    cleaned = clean(value, max_len)
    if numeric and not cleaned.isdigit():
        cleaned = "0"
    return (cleaned or "0").rjust(min_len, "0")


def _exact_copy(value: str | None) -> str:
    """IK404 is a copy of the bad value: send it only if it can travel unaltered."""
    if not value or len(value) > 99 or clean(value) != value:
        return ""
    return value


def ta1_elements(ic: InterchangeResult, when: datetime) -> list[str]:
    """TA101-TA105: the received ISA13, ISA09 and ISA10 echoed when they are valid
    values of their types; otherwise zeros for the control number and the answer's own
    date and time (an ISA09 of 261399 or an ISA10 of 0977 is six or four digits but no
    date or time, and a TA1 echoing it is invalid: pyx12 rejects it)."""
    number = ic.control_number if re.fullmatch(r"\d{9}", ic.control_number) else "000000000"
    date = ic.date if _is_date(ic.date) else when.strftime("%y%m%d")
    time = ic.time if _TIME.fullmatch(ic.time) else when.strftime("%H%M")
    return [number, date, time, "R" if ic.rejected else "A", ic.note_code]


_TIME = re.compile(r"([01]\d|2[0-3])[0-5]\d")


def _is_date(value: str) -> bool:
    """Whether ``value`` is a calendar date as YYMMDD."""
    if not re.fullmatch(r"\d{6}", value):
        return False
    try:
        datetime.strptime(value, "%y%m%d")
    except ValueError:
        return False
    return True


def _group(writer: X12Writer, group: GroupResult, ic: InterchangeResult,
           responder: Responder, receiver: str) -> None:
    control = responder.control.next_group(receiver)
    when = responder.when
    writer.write("GS", "FA", _application(group.application_receiver, responder.our_id),
                 _application(group.application_sender, _application(ic.sender_id, "UNKNOWN")),
                 when.strftime("%Y%m%d"), when.strftime("%H%M"), str(control), "X",
                 ACK_999_VERSION)
    start = writer.segment_count
    writer.write("ST", "999", "0001", ACK_999_VERSION)
    writer.write("AK1", clean(group.functional_id, 2) or "HC",
                 _control(group.control_number, 1, 9, numeric=True),
                 clean(group.version, 12) or "0")
    for ts in islice(group.transaction_sets, MAX_SETS_PER_GROUP):
        for seg_id, elements in _transaction_set(ts):
            writer.write(seg_id, *elements)
    # AK902 echoes GE01, a number of at most 6 digits; a count that cannot be echoed
    # (the sender's GE01 lied, AK905 5 says so) is replaced by the sets counted
    included = group.included if 0 < group.included <= 999_999 else group.received
    writer.write("AK9", group.ack_code, str(included), str(group.received),
                 str(group.accepted_count), *group.syntax_codes[:5])
    writer.write("SE", str(writer.segment_count - start + 1), "0001")
    writer.write("GE", "1", str(control))


MAX_ELEMENT_ERRORS_PER_SEGMENT = 10
"""IK4 loops under one IK3."""
MAX_SETS_PER_GROUP = 10_000
"""AK2 loops written for one functional group; AK9 still counts every set."""

#: ST01 values a 999 can name in AK201 (code list of the X231A1 map).
ACKNOWLEDGEABLE_SETS = frozenset({"270", "271", "276", "277", "278", "820", "834", "835", "837"})


def _transaction_set(ts: TransactionSetResult) -> Iterator[tuple[str, list[Element]]]:
    """AK2 .. IK5 for one set; a set whose ST01 a 999 cannot name gets none (AK9 counts it)."""
    if ts.set_id not in ACKNOWLEDGEABLE_SETS:
        return
    yield "AK2", [ts.set_id, _control(ts.control_number, 4, 9),
                  clean(ts.implementation_reference, 35)]
    for finding in ts.segments[:MAX_SEGMENT_ERRORS_PER_SET]:
        for index, code in enumerate(finding.codes or ("8",)):
            # IK303 names an LS/LE-bounded loop, which the 837P does not use.
            yield "IK3", [_segment_id(finding.segment_id), str(finding.position), "", code]
            claim = clean(finding.claim_id or "", 35)
            if index == 0 and claim and (finding.loop_id or "")[:2] in ("23", "24"):
                yield "CTX", [["CLM01", claim]]
            if index == 0:
                for element in finding.elements[:MAX_ELEMENT_ERRORS_PER_SEGMENT]:
                    place = [str(element.position), str(element.component or ""),
                             str(element.repeat or "")]
                    bad = _exact_copy(element.bad_value)
                    yield "IK4", [place, element.element_ref or "", element.code, bad]
    codes = ts.syntax_codes or (["5"] if not ts.accepted else [])
    yield "IK5", [ts.ack_code, *codes[:5]]


__all__ = [
    "Acknowledgment",
    "ControlNumbers",
    "CountingControlNumbers",
    "Responder",
    "acknowledge",
    "clean",
    "ta1_elements",
]
