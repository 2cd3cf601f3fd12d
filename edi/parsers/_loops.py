"""Loop builders: collect one loop's segments, then build its immutable model once.

A builder records each typed value under a layout token, keeps every other segment
as an `UntypedSegment` (token ``*``), and remembers the order of both so the
serializer can write the loop back as it came. A single-valued token seen twice is
refused: two TINs or two subscriber names in one loop cannot be told apart.
"""

from __future__ import annotations

from typing import Any

from edi.claims import (
    Address,
    BeginningOfHierarchicalTransaction,
    BillingProvider,
    Party,
    Patient,
    Subscriber,
    TransactionHeader,
    UntypedSegment,
)
from edi.parsers import _fields as f
from edi.parsers._fields import Bad
from edi.tokenizer import Segment

UNTYPED = "*"
BHT = f.Used(*range(1, 7))
SBR = f.Used(1, 2, 3, 4, 5, 9)


class LoopBuilder:
    """Typed values by token, untyped segments, and the order they arrived in."""

    __slots__ = ("layout", "loop_id", "position", "start_id", "sub", "untyped", "values")

    def __init__(self, loop_id: str, position: int, start_id: str = "HL") -> None:
        self.loop_id = loop_id
        self.position = position
        self.start_id = start_id
        """Position and ID of the loop's first segment, where a missing part is reported."""
        self.sub = loop_id
        """The (sub)loop that the next untyped segment belongs to."""
        self.values: dict[str, Any] = {}
        self.layout: list[str] = []
        self.untyped: list[UntypedSegment] = []

    def put(self, token: str, value: Any) -> None:
        if token in self.values:
            raise Bad(f"segment {token} appears twice in loop {self.sub}")
        self.values[token] = value
        self.layout.append(token)

    def append(self, token: str, value: Any) -> None:
        self.values.setdefault(token, []).append(value)
        self.layout.append(token)

    def raw(self, seg: Segment, loop_id: str | None = None) -> None:
        self.untyped.append(
            UntypedSegment(loop_id=loop_id or self.sub, elements=tuple(seg.elements))
        )
        self.layout.append(UNTYPED)

    def need(self, token: str, what: str) -> Any:
        """The value under ``token``, or a refusal pointing at the loop's first segment."""
        if token not in self.values:
            raise Bad(f"{what} is missing", position=self.position, segment_id=self.start_id)
        return self.values[token]

    def loop_fields(self) -> dict[str, Any]:
        return {"untyped": tuple(self.untyped), "layout": tuple(self.layout)}


def address(b: LoopBuilder) -> Address | None:
    street: f.Street | None = b.values.get("N3")
    place: f.Place | None = b.values.get("N4")
    if street is None and place is None:
        return None
    line_1, line_2 = street or (None, None)
    city, state, postal, country, subdivision = place or (None, None, None, None, None)
    return Address(
        address_line_1=line_1, address_line_2=line_2, city_name=city, state_code=state,
        postal_code=postal, country_code=country, country_subdivision_code=subdivision,
    )


def add_address(b: LoopBuilder, seg: Segment) -> bool:
    """Take N3 or N4 into ``b``; False for any other segment."""
    sid = seg.elements[0]
    if sid == "N3":
        b.put("N3", f.street(seg))
    elif sid == "N4":
        b.put("N4", f.place(seg))
    else:
        return False
    return True


# Which party loops type an address, and which PRV01 they type.
PARTY_KINDS: dict[str, tuple[bool, str | None]] = {
    "1000A": (False, None), "1000B": (False, None), "2010AB": (True, None),
    "2010BB": (True, None), "2310A": (False, None), "2310B": (False, "PE"),
    "2310C": (True, None), "2310D": (False, None), "2330B": (True, None),
    "2420A": (False, "PE"), "2420D": (False, None),
}


def start_party(loop_id: str, seg: Segment, position: int) -> LoopBuilder:
    b = LoopBuilder(loop_id, position, "NM1")
    b.put("NM1", f.entity_name(seg))
    return b


def party_segment(b: LoopBuilder, seg: Segment) -> None:
    with_address, prv_code = PARTY_KINDS[b.loop_id]
    if with_address and add_address(b, seg):
        return
    if prv_code and seg.elements[0] == "PRV" and seg.get(1) == prv_code:
        b.put("PRV", f.taxonomy(seg))
    else:
        b.raw(seg)


def build_party(b: LoopBuilder) -> Party:
    return Party(
        name=b.values["NM1"], address=address(b), taxonomy=b.values.get("PRV"),
        **b.loop_fields(),
    )


def header_segment(b: LoopBuilder, seg: Segment, position: int) -> None:
    """A segment between ST and the first HL."""
    child: LoopBuilder | None = b.values.get(b.sub)
    sid = seg.elements[0]
    if sid == "NM1":
        code = seg.get(1)
        if code not in ("41", "40"):
            raise Bad("NM101 is not a submitter (41) or receiver (40) code")
        b.sub = "submitter" if code == "41" else "receiver"
        if b.sub in b.values:
            raise Bad(f"loop {'1000A' if code == '41' else '1000B'} repeats")
        b.put(b.sub, start_party("1000A" if code == "41" else "1000B", seg, position))
    elif child is not None:
        party_segment(child, seg)
    elif sid == "BHT":
        e = BHT.elements(seg)
        b.put("BHT", BeginningOfHierarchicalTransaction(
            hierarchical_structure_code=e[1], transaction_set_purpose_code=e[2] or None,
            reference_identification=e[3] or None,
            creation_date=f.ccyymmdd(e[4], "BHT04") if e[4] else None,
            creation_time=e[5] or None, transaction_type_code=e[6] or None,
        ))
    else:
        b.raw(seg, "HEADER")


def build_header(b: LoopBuilder) -> TransactionHeader:
    def need_party(token: str, what: str) -> Party:
        if token not in b.values:
            raise Bad(f"{what} is missing")
        return build_party(b.values[token])

    if "BHT" not in b.values:
        raise Bad("the BHT segment is missing")
    return TransactionHeader(
        bht=b.values["BHT"],
        submitter=need_party("submitter", "loop 1000A (NM1*41)"),
        receiver=need_party("receiver", "loop 1000B (NM1*40)"),
        **b.loop_fields(),
    )


def _sub_party(b: LoopBuilder, seg: Segment, position: int, loop_id: str) -> None:
    if loop_id in b.values:
        raise Bad(f"loop {loop_id} repeats")
    b.sub = loop_id
    b.put(loop_id, start_party(loop_id, seg, position))


def billing_provider_segment(b: LoopBuilder, seg: Segment, position: int) -> None:
    """A segment of 2000A, 2010AA, 2010AB or 2010AC."""
    sid, sub = seg.elements[0], b.sub
    if sid == "NM1":
        code = seg.get(1)
        if code == "85":
            if "NM1" in b.values:
                raise Bad("loop 2010AA repeats")
            b.sub = "2010AA"
            b.put("NM1", f.entity_name(seg))
        elif code == "87":
            _sub_party(b, seg, position, "2010AB")
        elif code == "PE":
            b.sub = "2010AC"
            b.raw(seg)
        else:
            raise Bad("NM101 is not a billing provider, pay-to or pay-to plan code")
    elif sub == "2010AB":
        party_segment(b.values[sub], seg)
    elif sub == "2000A" and sid == "PRV" and seg.get(1) == "BI":
        b.put("PRV", f.taxonomy(seg))
    elif sub == "2010AA" and add_address(b, seg):
        pass
    elif sub == "2010AA" and sid == "REF" and seg.get(1) in ("EI", "SY"):
        b.put("REF", f.reference(seg))
    else:
        b.raw(seg)


def build_billing_provider(b: LoopBuilder) -> BillingProvider:
    pay_to: LoopBuilder | None = b.values.get("2010AB")
    return BillingProvider(
        hl=b.values["HL"], specialty=b.values.get("PRV"),
        name=b.need("NM1", "loop 2010AA (NM1*85)"), address=address(b),
        tax_identification=b.values.get("REF"),
        pay_to=None if pay_to is None else build_party(pay_to), **b.loop_fields(),
    )


def person_segment(b: LoopBuilder, seg: Segment, position: int) -> None:
    """A segment of 2000B/2010BA/2010BB or of 2000C/2010CA."""
    sid, sub = seg.elements[0], b.sub
    is_subscriber = b.loop_id == "2000B"
    if sid == "NM1":
        code = seg.get(1)
        if code == ("IL" if is_subscriber else "QC"):
            if "NM1" in b.values:
                raise Bad(f"loop {'2010BA' if is_subscriber else '2010CA'} repeats")
            b.sub = "2010BA" if is_subscriber else "2010CA"
            b.put("NM1", f.entity_name(seg))
        elif code == "PR" and is_subscriber:
            _sub_party(b, seg, position, "2010BB")
        else:
            raise Bad("NM101 is not expected at this hierarchical level")
    elif sub == "2010BB":
        party_segment(b.values[sub], seg)
    elif sub == b.loop_id and sid == "SBR" and is_subscriber:
        b.put("SBR", SBR.elements(seg))
    elif sub == b.loop_id and sid == "PAT":
        b.put("PAT", f.patient_information(seg))
    elif sub in ("2010BA", "2010CA") and add_address(b, seg):
        pass
    elif sub in ("2010BA", "2010CA") and sid == "DMG":
        b.put("DMG", f.demographics(seg))
    else:
        b.raw(seg)


def build_subscriber(b: LoopBuilder) -> Subscriber:
    sbr: list[str] = b.values.get("SBR", SBR.pad)
    payer: LoopBuilder = b.need("2010BB", "loop 2010BB (NM1*PR)")

    def sbr_field(position: int) -> str | None:
        return sbr[position] or None

    return Subscriber(
        hl=b.values["HL"],
        payer_responsibility_sequence_number_code=sbr_field(1),
        individual_relationship_code=sbr_field(2), group_or_policy_number=sbr_field(3),
        group_name=sbr_field(4), insurance_type_code=sbr_field(5),
        claim_filing_indicator_code=sbr_field(9),
        patient_information=b.values.get("PAT"),
        name=b.need("NM1", "loop 2010BA (NM1*IL)"), address=address(b),
        demographics=b.values.get("DMG"), payer=build_party(payer), **b.loop_fields(),
    )


def build_patient(b: LoopBuilder) -> Patient:
    return Patient(
        hl=b.values["HL"], patient_information=b.need("PAT", "the PAT segment of 2000C"),
        name=b.need("NM1", "loop 2010CA (NM1*QC)"), address=address(b),
        demographics=b.values.get("DMG"), **b.loop_fields(),
    )
