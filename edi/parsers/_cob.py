"""The coordination-of-benefits loops: 2320 other subscriber (with 2330A-G) and 2430.

2320 starts at its SBR and runs to the next SBR, LX or claim end; inside it every
NM1 opens an other-payer loop 2330A-G by its entity code. SBR, CAS and the three
COB amounts (AMT*D paid, AMT*A8 non-covered, AMT*EAF remaining patient liability)
are typed, and so is the other payer 2330B (NM1*PR with N3/N4); OI, MOA, 2330A and
2330C-G stay untyped. 2430 starts at SVD; its CAS, DTP*573 (D8) and AMT*EAF are
typed. A CAS keeps its segment (group and up to six reasons) so it is written back
as it came.
"""

from __future__ import annotations

from decimal import Decimal

from edi.claims import (
    AdjustmentReason,
    ClaimAdjustment,
    LineAdjudication,
    OtherSubscriber,
)
from edi.parsers import _fields as f
from edi.parsers._fields import Bad
from edi.parsers._loops import SBR, LoopBuilder, build_party, party_segment, start_party
from edi.tokenizer import Segment

OTHER_PAYER_NM1 = {
    "IL": "2330A", "PR": "2330B", "DN": "2330C", "P3": "2330C", "82": "2330D",
    "77": "2330E", "DQ": "2330F", "85": "2330G",
}
COB_AMOUNTS = frozenset({"D", "A8", "EAF"})
"""AMT01 qualifiers typed in 2320: payer paid, non-covered, remaining patient liability."""
CAS = f.Used(*range(1, 20))
AMT = f.Used(1, 2)
SVD = f.Used(1, 2, 3, 5, 6)


def claim_adjustment(seg: Segment) -> ClaimAdjustment:
    """CAS01 and its reasons; a reason needs its amount, and reasons have no gaps."""
    e = CAS.elements(seg)
    if not e[1]:
        raise Bad("CAS01 is required")
    reasons: list[AdjustmentReason] = []
    ended = False
    for first in range(2, 20, 3):
        reason, amount, quantity = e[first:first + 3]
        if not (reason or amount or quantity):
            ended = True
            continue
        if ended or not reason or not amount:
            raise Bad(f"CAS{first:02d} and CAS{first + 1:02d} are required together, "
                      "without a gap before them")
        reasons.append(AdjustmentReason(
            reason_code=reason, amount=f.decimal(amount, f"CAS{first + 1:02d}"),
            quantity=f.decimal(quantity, f"CAS{first + 2:02d}") if quantity else None))
    if not reasons:
        raise Bad("CAS02 and CAS03 are required")
    return ClaimAdjustment(group_code=e[1], reasons=tuple(reasons))


def _amount(seg: Segment) -> tuple[str, Decimal]:
    e = AMT.elements(seg)
    if not e[2]:
        raise Bad("AMT02 is required")
    return e[1], f.decimal(e[2], "AMT02")


# -- 2320 / 2330A-G ------------------------------------------------------------------------
def start_other_subscriber(seg: Segment, position: int) -> LoopBuilder:
    b = LoopBuilder("2320", position, "SBR")
    sbr = SBR.elements(seg)
    if not sbr[1]:
        raise Bad("SBR01 is required")
    b.put("SBR", sbr)
    return b


def other_subscriber_segment(b: LoopBuilder, seg: Segment, position: int) -> None:
    """A segment after the 2320 SBR, up to the next SBR or LX."""
    sid = seg.elements[0]
    if sid == "NM1":
        code = seg.get(1)
        if code not in OTHER_PAYER_NM1:
            raise Bad("NM101 is not expected in the other-payer loops 2330A-G")
        b.sub = OTHER_PAYER_NM1[code]
        if code != "PR":
            b.raw(seg)
        elif "2330B" in b.values:
            raise Bad("loop 2330B repeats in this loop 2320")
        else:
            b.put("2330B", start_party("2330B", seg, position))
    elif b.sub == "2330B":
        party_segment(b.values["2330B"], seg)
    elif b.sub != "2320":
        b.raw(seg)
    elif sid == "CAS":
        b.append("CAS", claim_adjustment(seg))
    elif sid == "AMT" and seg.get(1) in COB_AMOUNTS:
        qualifier, amount = _amount(seg)
        b.put(f"AMT*{qualifier}", amount)
    else:
        b.raw(seg)


def build_other_subscriber(b: LoopBuilder) -> OtherSubscriber:
    v = b.values
    sbr: list[str] = v["SBR"]
    payer: LoopBuilder | None = v.get("2330B")
    return OtherSubscriber(
        payer_responsibility_sequence_number_code=sbr[1],
        individual_relationship_code=sbr[2] or None, group_or_policy_number=sbr[3] or None,
        group_name=sbr[4] or None, insurance_type_code=sbr[5] or None,
        claim_filing_indicator_code=sbr[9] or None, adjustments=tuple(v.get("CAS", ())),
        payer_paid_amount=v.get("AMT*D"), non_covered_amount=v.get("AMT*A8"),
        remaining_patient_liability=v.get("AMT*EAF"),
        other_payer=None if payer is None else build_party(payer), **b.loop_fields(),
    )


# -- 2430 ------------------------------------------------------------------------------------
def start_line_adjudication(seg: Segment, position: int) -> LoopBuilder:
    e = SVD.elements(seg)
    if not e[1] or not e[2]:
        raise Bad("SVD01 and SVD02 are required")
    procedure = f.composite(seg, 3, 7)
    if len(procedure) < 2:
        raise Bad("SVD03-1 and SVD03-2 are required")
    procedure += [""] * (7 - len(procedure))
    modifiers = procedure[2:6]
    while modifiers and not modifiers[-1]:
        modifiers.pop()
    b = LoopBuilder("2430", position, "SVD")
    b.put("SVD", dict(
        other_payer_primary_identifier=e[1],
        service_line_paid_amount=f.decimal(e[2], "SVD02"),
        product_or_service_id_qualifier=procedure[0], procedure_code=procedure[1],
        procedure_modifiers=tuple(modifiers), description=procedure[6] or None,
        paid_service_unit_count=f.decimal(e[5], "SVD05") if e[5] else None,
        bundled_line_number=e[6] or None,
    ))
    return b


def line_adjudication_segment(b: LoopBuilder, seg: Segment) -> None:
    """CAS, DTP*573 and AMT*EAF of 2430 typed; anything else kept untyped."""
    sid = seg.elements[0]
    if sid == "CAS":
        b.append("CAS", claim_adjustment(seg))
    elif sid == "DTP" and seg.get(1) == "573" and seg.get(2) == "D8":
        _, day, _ = f.date_period(seg)
        b.put("DTP*573", day)
    elif sid == "AMT" and seg.get(1) == "EAF":
        b.put("AMT*EAF", _amount(seg)[1])
    else:
        b.raw(seg)


def build_line_adjudication(b: LoopBuilder) -> LineAdjudication:
    v = b.values
    return LineAdjudication(
        **v["SVD"], adjustments=tuple(v.get("CAS", ())),
        adjudication_date=v.get("DTP*573"), remaining_patient_liability=v.get("AMT*EAF"),
        **b.loop_fields(),
    )
