"""The 2300 claim loop with its 2310x providers, COB loops and 2400 service lines.

NM1 entity codes decide which loop a segment opens: after an SBR (2320) every NM1
of the claim belongs to the other-payer loops 2330A-G (`edi.parsers._cob`), and
after an LX every NM1 belongs to the line (2420A-H). Loops the models do not type
(2310E/F, 2330A, 2330C-G, 2410, 2420B/C/E-H, 2440) are kept as untyped segments
tagged with their loop; 2320 with 2330B, and 2430, are typed.
"""

from __future__ import annotations

from typing import Any

from edi.claims import Claim, Party, ServiceLine
from edi.parsers import _cob as cob
from edi.parsers import _fields as f
from edi.parsers._fields import Bad
from edi.parsers._loops import LoopBuilder, build_party, party_segment, start_party
from edi.tokenizer import Segment

CLAIM_PARTIES = {
    "DN": ("referring", "2310A"), "P3": ("primary_care_provider", "2310A"),
    "82": ("rendering", "2310B"), "77": ("service_facility", "2310C"),
    "DQ": ("supervising", "2310D"),
}
CLAIM_UNTYPED_NM1 = {"PW": "2310E", "45": "2310F"}
LINE_PARTIES = {"82": ("rendering", "2420A"), "DQ": ("supervising", "2420D")}
LINE_UNTYPED_NM1 = {
    "QB": "2420B", "77": "2420C", "DK": "2420E", "DN": "2420F", "P3": "2420F",
    "PW": "2420G", "45": "2420H",
}
LINE_UNTYPED_STARTS = {"LIN": "2410", "LQ": "2440"}
CLAIM_REFS = {"F8": "REF*F8", "G1": "REF*G1", "9F": "REF*9F", "D9": "REF*D9"}
PARTY_TOKENS = frozenset(token for token, _ in CLAIM_PARTIES.values())

CLM = f.Used(1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 20)
SV1 = f.Used(1, 2, 3, 4, 5, 7, 9, 11, 12, 15)
LX = f.Used(1)


def _claim_fields(seg: Segment) -> dict[str, Any]:
    e = CLM.elements(seg)
    if not e[1] or not e[2]:
        raise Bad("CLM01 and CLM02 are required")
    pos = [*f.composite(seg, 5, 3), "", "", ""]
    return dict(
        patient_control_number=e[1], total_claim_charge_amount=f.decimal(e[2], "CLM02"),
        place_of_service_code=pos[0] or None, facility_code_qualifier=pos[1] or None,
        claim_frequency_type_code=pos[2] or None, provider_signature_indicator=e[6] or None,
        assignment_or_plan_participation_code=e[7] or None,
        benefits_assignment_certification_indicator=e[8] or None,
        release_of_information_code=e[9] or None, patient_signature_source_code=e[10] or None,
        related_causes=tuple(f.composite(seg, 11, 5)), special_program_code=e[12] or None,
        delay_reason_code=e[20] or None,
    )


def _service_fields(seg: Segment) -> dict[str, Any]:
    e = SV1.elements(seg)
    if not e[2]:
        raise Bad("SV102 is required")
    procedure = f.composite(seg, 1, 7)
    procedure += [""] * (7 - len(procedure))
    modifiers = procedure[2:6]
    while modifiers and not modifiers[-1]:
        modifiers.pop()
    return dict(
        product_or_service_id_qualifier=procedure[0], procedure_code=procedure[1],
        procedure_modifiers=tuple(modifiers), description=procedure[6] or None,
        line_item_charge_amount=f.decimal(e[2], "SV102"),
        unit_or_basis_for_measurement_code=e[3] or None,
        service_unit_count=f.decimal(e[4], "SV104") if e[4] else None,
        place_of_service_code=e[5] or None,
        diagnosis_code_pointers=tuple(f.integer(p, "SV107") for p in f.composite(seg, 7, 4)),
        emergency_indicator=e[9] or None, epsdt_indicator=e[11] or None,
        family_planning_indicator=e[12] or None, copay_status_code=e[15] or None,
    )


def _party(b: LoopBuilder | None) -> Party | None:
    return None if b is None else build_party(b)


class ClaimBuilder:
    """Collects one claim, from its CLM to the next CLM, HL or SE."""

    __slots__ = ("b", "line", "other")

    def __init__(self, seg: Segment, position: int) -> None:
        self.b = LoopBuilder("2300", position, "CLM")
        self.b.put("CLM", _claim_fields(seg))
        self.line: LoopBuilder | None = None
        self.other: LoopBuilder | None = None
        """The 2320 loop being read (from its SBR until the next SBR or LX)."""

    def add(self, seg: Segment, position: int) -> None:
        sid = seg.elements[0]
        if sid == "LX":
            self.line = LoopBuilder("2400", position, "LX")
            self.line.put("LX", f.integer(LX.elements(seg)[1], "LX01"))
            self.b.append("2400", self.line)
        elif self.line is not None:
            _line_segment(self.line, seg, position)
        elif sid == "SBR":
            self.other = cob.start_other_subscriber(seg, position)
            self.b.append("2320", self.other)
        elif self.other is not None:
            cob.other_subscriber_segment(self.other, seg, position)
        elif sid == "NM1":
            self._provider(seg, position)
        elif self.b.sub in PARTY_TOKENS:
            party_segment(self.b.values[self.b.sub], seg)
        elif self.b.sub != "2300":
            self.b.raw(seg)
        else:
            self._claim_segment(seg)

    def _provider(self, seg: Segment, position: int) -> None:
        b, code = self.b, seg.get(1)
        if code in CLAIM_PARTIES:
            token, loop_id = CLAIM_PARTIES[code]
            if token in b.values:
                raise Bad(f"loop {loop_id} repeats in this claim")
            b.put(token, start_party(loop_id, seg, position))
            b.sub = token
        elif code in CLAIM_UNTYPED_NM1:
            b.sub = CLAIM_UNTYPED_NM1[code]
            b.raw(seg)
        else:
            raise Bad("NM101 is not expected in loop 2300")

    def _claim_segment(self, seg: Segment) -> None:
        b, sid = self.b, seg.elements[0]
        if sid == "DTP":
            b.append("DTP", f.date_model(seg))
        elif sid == "REF" and seg.get(1) in CLAIM_REFS:
            b.put(CLAIM_REFS[seg.get(1)], f.reference_value(seg) or None)
        elif sid == "HI" and f.is_diagnosis_hi(seg):
            b.put("HI", f.diagnoses(seg))
        else:
            b.raw(seg)

    def build(self) -> Claim:
        v = self.b.values
        return Claim(
            **v["CLM"], dates=tuple(v.get("DTP", ())),
            payer_claim_control_number=v.get("REF*F8"),
            prior_authorization_number=v.get("REF*G1"), referral_number=v.get("REF*9F"),
            clearinghouse_claim_number=v.get("REF*D9"), diagnoses=v.get("HI", ()),
            referring=_party(v.get("referring")),
            primary_care_provider=_party(v.get("primary_care_provider")),
            rendering=_party(v.get("rendering")),
            service_facility=_party(v.get("service_facility")),
            supervising=_party(v.get("supervising")),
            other_subscribers=tuple(cob.build_other_subscriber(other)
                                    for other in v.get("2320", ())),
            lines=tuple(_build_line(line) for line in v.get("2400", ())),
            **self.b.loop_fields(),
        )


def _line_segment(lb: LoopBuilder, seg: Segment, position: int) -> None:
    sid = seg.elements[0]
    if lb.sub == "2400" and sid in ("SV1", "DTP", "REF"):
        _line_typed(lb, seg, sid)
    elif sid == "NM1":
        code = seg.get(1)
        if code in LINE_PARTIES:
            token, loop_id = LINE_PARTIES[code]
            if token in lb.values:
                raise Bad(f"loop {loop_id} repeats in this service line")
            lb.put(token, start_party(loop_id, seg, position))
            lb.sub = token
        elif code in LINE_UNTYPED_NM1:
            lb.sub = LINE_UNTYPED_NM1[code]
            lb.raw(seg)
        else:
            raise Bad("NM101 is not expected in loop 2400")
    elif sid == "SVD":
        lb.append("2430", cob.start_line_adjudication(seg, position))
        lb.sub = "2430"
    elif sid in LINE_UNTYPED_STARTS:
        lb.sub = LINE_UNTYPED_STARTS[sid]
        lb.raw(seg)
    elif lb.sub == "2430":
        cob.line_adjudication_segment(lb.values["2430"][-1], seg)
    elif lb.sub in ("rendering", "supervising"):
        party_segment(lb.values[lb.sub], seg)
    else:
        lb.raw(seg)


def _line_typed(lb: LoopBuilder, seg: Segment, sid: str) -> None:
    """SV1, DTP or REF of the line itself (not of one of its subloops)."""
    if sid == "SV1":
        lb.put("SV1", _service_fields(seg))
    elif sid == "DTP":
        period = f.date_model(seg)
        if period.qualifier == "472":
            lb.put("DTP*472", period)
        else:
            lb.append("DTP", period)
    elif seg.get(1) == "6R":
        lb.put("REF*6R", f.reference_value(seg) or None)
    elif seg.get(1) == "G1":
        lb.append("REF*G1", f.reference_value(seg))
    else:
        lb.raw(seg)


def _build_line(lb: LoopBuilder) -> ServiceLine:
    v = lb.values
    return ServiceLine(
        assigned_number=v["LX"], **lb.need("SV1", "the SV1 segment of this service line"),
        service_date=v.get("DTP*472"), dates=tuple(v.get("DTP", ())),
        line_item_control_number=v.get("REF*6R"),
        prior_authorization_numbers=tuple(v.get("REF*G1", ())),
        rendering=_party(v.get("rendering")), supervising=_party(v.get("supervising")),
        adjudications=tuple(cob.build_line_adjudication(a) for a in v.get("2430", ())),
        **lb.loop_fields(),
    )
