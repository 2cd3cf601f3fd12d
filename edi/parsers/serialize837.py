"""Write a `Transaction837` back to segments, ST to SE.

Typed segments are rebuilt from the models' fields; untyped segments are written
as kept. Each loop is written in the order its ``layout`` records (the order the
segments arrived in); a loop without a layout (built by hand) is written in
implementation-guide order, and any value a layout does not mention is written at
the end of its loop. Trailing empty elements and components are dropped, as X12
requires, and SE01 is the declared count when the transaction carries one.

    transaction_elements(tx)  segments with composites as tuples, for `X12Writer`
    transaction_segments(tx)  segments as element strings, composites joined
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from edi.claims import (
    Address,
    BillingProvider,
    Claim,
    ClaimAdjustment,
    DatePeriod,
    Demographics,
    EntityName,
    HierarchicalLevel,
    LineAdjudication,
    Loop,
    OtherSubscriber,
    Party,
    Patient,
    PatientInformation,
    ProviderTaxonomy,
    ServiceLine,
    Subscriber,
    Transaction837,
    TransactionHeader,
    UntypedSegment,
)
from edi.parsers._loops import UNTYPED

__all__ = ["transaction_elements", "transaction_segments"]

Element = str | tuple[str, ...]
Seg = list[Element]
Chunk = list[Seg]
Piece = tuple[str, list[Chunk]]
Value = str | Sequence[str] | None


def transaction_segments(tx: Transaction837) -> list[list[str]]:
    """The transaction set's segments as element strings (``[0]`` is the segment ID)."""
    sep = tx.envelope.component_element_separator
    return [
        [e if isinstance(e, str) else sep.join(e) for e in seg]
        for seg in _Writer(None).transaction(tx)
    ]


def transaction_elements(tx: Transaction837) -> list[list[Element]]:
    """The segments with every composite (untyped ones too) split into a tuple."""
    return _Writer(tx.envelope.component_element_separator).transaction(tx)


def _seg(seg_id: str, *values: Value) -> Seg:
    out: Seg = [seg_id]
    for value in values:
        if value is None or isinstance(value, str):
            out.append(value or "")
            continue
        parts = list(value)
        while parts and not parts[-1]:
            parts.pop()
        out.append(tuple(parts) if len(parts) > 1 else (parts[0] if parts else ""))
    while len(out) > 1 and out[-1] == "":
        out.pop()
    return out


def _d8(day: date | None) -> str | None:
    return None if day is None else f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _one(seg: Seg | None) -> list[Chunk]:
    return [] if seg is None else [[seg]]


def nm1(n: EntityName) -> Seg:
    return _seg(
        "NM1", n.entity_identifier_code, n.entity_type_qualifier, n.last_or_organization_name,
        n.first_name, n.middle_name, n.name_prefix, n.name_suffix,
        n.identification_code_qualifier, n.identification_code,
    )


def hl(h: HierarchicalLevel) -> Seg:
    return _seg("HL", h.id, h.parent_id, h.level_code, h.child_code)


def pat(p: PatientInformation) -> Seg:
    return _seg(
        "PAT", p.individual_relationship_code, None, None, None,
        "D8" if p.death_date else None, _d8(p.death_date),
        p.unit_or_basis_for_measurement_code, _num(p.patient_weight), p.pregnancy_indicator,
    )


def dtp(d: DatePeriod) -> Seg:
    if d.end is None:
        return _seg("DTP", d.qualifier, "D8", _d8(d.start))
    return _seg("DTP", d.qualifier, "RD8", f"{_d8(d.start)}-{_d8(d.end)}")


def _cas(c: ClaimAdjustment) -> Seg:
    values = [v for r in c.reasons for v in (r.reason_code, _num(r.amount), _num(r.quantity))]
    return _seg("CAS", c.group_code, *values)


def _amt(qualifier: str, amount: Decimal | None) -> list[Chunk]:
    return [] if amount is None else [[_seg("AMT", qualifier, _num(amount))]]


def _procedure(qualifier: str, code: str, modifiers: Sequence[str],
               description: str | None) -> tuple[str, ...]:
    """SV101 / SVD03: qualifier, code, up to four modifiers, then the description."""
    parts = list(modifiers)
    if description:
        parts += [""] * (4 - len(parts)) + [description]
    return (qualifier, code, *parts)


def _prv(t: ProviderTaxonomy) -> Seg:
    return _seg("PRV", t.provider_code, t.reference_identification_qualifier, t.taxonomy_code)


def _dmg(d: Demographics) -> Seg:
    return _seg("DMG", "D8", _d8(d.birth_date), d.gender_code)


def _address(a: Address | None, layout: Sequence[str]) -> list[Piece]:
    if a is None:
        return []
    n3 = None
    if a.address_line_1 or a.address_line_2 or "N3" in layout:
        n3 = _seg("N3", a.address_line_1, a.address_line_2)
    place = (a.city_name, a.state_code, a.postal_code, a.country_code)
    n4 = None
    if any(place) or a.country_subdivision_code or "N4" in layout:
        n4 = _seg("N4", *place, None, None, a.country_subdivision_code)
    return [("N3", _one(n3)), ("N4", _one(n4))]


class _Writer:
    """Builds the segment lists; ``split`` splits untyped composites when set."""

    def __init__(self, split: str | None) -> None:
        self.split = split

    def transaction(self, tx: Transaction837) -> list[Seg]:
        env = tx.envelope
        out = [_seg("ST", "837", env.transaction_set_control_number,
                    env.implementation_convention_reference)]
        out += self.header(tx.header)
        for bp_level in tx.billing_providers:
            out += self.billing_provider(bp_level.billing_provider)
            for sub_level in bp_level.subscribers:
                out += self.subscriber(sub_level.subscriber)
                for claim in sub_level.claims:
                    out += self.claim(claim)
                for pat_level in sub_level.patients:
                    out += self.patient(pat_level.patient)
                    for claim in pat_level.claims:
                        out += self.claim(claim)
        count = tx.declared_segment_count
        out.append(_seg("SE", str(count if count is not None else len(out) + 1),
                        env.transaction_set_control_number))
        return out

    def untyped(self, u: UntypedSegment) -> Seg:
        sep = self.split
        values = [e.split(sep) if sep and sep in e else e for e in u.elements[1:]]
        return _seg(u.elements[0], *values)

    def arrange(self, loop: Loop, pieces: list[Piece]) -> Chunk:
        """The loop's segments in layout order (guide order without a layout)."""
        if not loop.layout:
            return [seg for _, chunks in pieces for chunk in chunks for seg in chunk]
        queues: dict[str, deque[Chunk]] = {}
        for token, chunks in pieces:
            if token != UNTYPED:
                queues.setdefault(token, deque()).extend(chunks)
        queues[UNTYPED] = deque([self.untyped(u)] for u in loop.untyped)
        out: Chunk = []
        for token in loop.layout:
            queue = queues.get(token)
            if queue:
                out += queue.popleft()
        for queue in queues.values():
            while queue:
                out += queue.popleft()
        return out

    def untyped_groups(self, loop: Loop, *groups: Iterable[str]) -> list[Piece]:
        """Untyped segments by loop ID, for guide order; the last group takes the rest."""
        sets = [frozenset(g) for g in groups]
        found: list[list[Chunk]] = [[] for _ in sets]
        for u in loop.untyped:
            index = next((i for i, s in enumerate(sets) if u.loop_id in s), len(sets) - 1)
            found[index].append([self.untyped(u)])
        return [(UNTYPED, chunks) for chunks in found]

    def party(self, p: Party | None) -> list[Chunk]:
        if p is None:
            return []
        prv = p.taxonomy
        pieces = [("NM1", [[nm1(p.name)]]), *_address(p.address, p.layout)]
        if prv is not None:
            pieces.append(("PRV", [[_prv(prv)]]))
        return [self.arrange(p, [*pieces, *self.untyped_groups(p, ())])]

    def header(self, h: TransactionHeader) -> Chunk:
        b = h.bht
        bht = _seg("BHT", b.hierarchical_structure_code, b.transaction_set_purpose_code,
                   b.reference_identification, _d8(b.creation_date), b.creation_time,
                   b.transaction_type_code)
        return self.arrange(h, [
            ("BHT", [[bht]]), *self.untyped_groups(h, ()),
            ("submitter", self.party(h.submitter)), ("receiver", self.party(h.receiver)),
        ])

    def billing_provider(self, bp: BillingProvider) -> Chunk:
        prv, ref = bp.specialty, bp.tax_identification
        first, aa, rest = self.untyped_groups(bp, ("2000A",), ("2010AA",), ())
        return self.arrange(bp, [
            ("HL", [[hl(bp.hl)]]),
            ("PRV", _one(None if prv is None else _prv(prv))),
            first, ("NM1", [[nm1(bp.name)]]), *_address(bp.address, bp.layout),
            ("REF", _one(None if ref is None else _seg("REF", ref.qualifier, ref.value))), aa,
            ("2010AB", self.party(bp.pay_to)), rest,
        ])

    def subscriber(self, s: Subscriber) -> Chunk:
        sbr = _seg("SBR", s.payer_responsibility_sequence_number_code,
                   s.individual_relationship_code, s.group_or_policy_number, s.group_name,
                   s.insurance_type_code, None, None, None, s.claim_filing_indicator_code)
        info, dmg = s.patient_information, s.demographics
        first, rest = self.untyped_groups(s, ("2000B",), ())
        return self.arrange(s, [
            ("HL", [[hl(s.hl)]]), ("SBR", _one(sbr if len(sbr) > 1 or "SBR" in s.layout else None)),
            ("PAT", _one(None if info is None else pat(info))),
            first, ("NM1", [[nm1(s.name)]]), *_address(s.address, s.layout),
            ("DMG", _one(None if dmg is None else _dmg(dmg))),
            rest, ("2010BB", self.party(s.payer)),
        ])

    def patient(self, p: Patient) -> Chunk:
        dmg = p.demographics
        first, rest = self.untyped_groups(p, ("2000C",), ())
        return self.arrange(p, [
            ("HL", [[hl(p.hl)]]), ("PAT", [[pat(p.patient_information)]]), first,
            ("NM1", [[nm1(p.name)]]), *_address(p.address, p.layout),
            ("DMG", _one(None if dmg is None else _dmg(dmg))),
            rest,
        ])

    def claim(self, c: Claim) -> Chunk:
        clm = _seg(
            "CLM", c.patient_control_number, _num(c.total_claim_charge_amount), None, None,
            (c.place_of_service_code or "", c.facility_code_qualifier or "",
             c.claim_frequency_type_code or ""),
            c.provider_signature_indicator, c.assignment_or_plan_participation_code,
            c.benefits_assignment_certification_indicator, c.release_of_information_code,
            c.patient_signature_source_code, c.related_causes, c.special_program_code,
            *([None] * 7), c.delay_reason_code,
        )
        refs = [("REF*9F", "9F", c.referral_number), ("REF*G1", "G1", c.prior_authorization_number),
                ("REF*F8", "F8", c.payer_claim_control_number),
                ("REF*D9", "D9", c.clearinghouse_claim_number)]
        own, rest = self.untyped_groups(c, ("2300",), ())
        hi = _seg("HI", *((d.qualifier, d.code) for d in c.diagnoses))
        return self.arrange(c, [
            ("CLM", [[clm]]), ("DTP", [[dtp(d)] for d in c.dates]),
            *((token, _one(_seg("REF", q, v) if v is not None or token in c.layout else None))
              for token, q, v in refs),
            ("HI", _one(hi if c.diagnoses or "HI" in c.layout else None)), own,
            ("referring", self.party(c.referring)),
            ("primary_care_provider", self.party(c.primary_care_provider)),
            ("rendering", self.party(c.rendering)),
            ("service_facility", self.party(c.service_facility)),
            ("supervising", self.party(c.supervising)), rest,
            ("2320", [self.other_subscriber(o) for o in c.other_subscribers]),
            ("2400", [self.line(line) for line in c.lines]),
        ])

    def other_subscriber(self, o: OtherSubscriber) -> Chunk:
        sbr = _seg("SBR", o.payer_responsibility_sequence_number_code,
                   o.individual_relationship_code, o.group_or_policy_number, o.group_name,
                   o.insurance_type_code, None, None, None, o.claim_filing_indicator_code)
        own, subscriber, rest = self.untyped_groups(o, ("2320",), ("2330A",), ())
        return self.arrange(o, [
            ("SBR", [[sbr]]), ("CAS", [[_cas(c)] for c in o.adjustments]),
            ("AMT*D", _amt("D", o.payer_paid_amount)),
            ("AMT*A8", _amt("A8", o.non_covered_amount)),
            ("AMT*EAF", _amt("EAF", o.remaining_patient_liability)), own, subscriber,
            ("2330B", self.party(o.other_payer)), rest,
        ])

    def line(self, s: ServiceLine) -> Chunk:
        sv1 = _seg(
            "SV1", _procedure(s.product_or_service_id_qualifier, s.procedure_code,
                              s.procedure_modifiers, s.description),
            _num(s.line_item_charge_amount), s.unit_or_basis_for_measurement_code,
            _num(s.service_unit_count), s.place_of_service_code, None,
            tuple(str(p) for p in s.diagnosis_code_pointers), None, s.emergency_indicator, None,
            s.epsdt_indicator, s.family_planning_indicator, None, None, s.copay_status_code,
        )
        own, notes, rest = self.untyped_groups(s, ("2400", "2410"), ("2440",), ())
        control = s.line_item_control_number
        return self.arrange(s, [
            ("LX", [[_seg("LX", str(s.assigned_number))]]), ("SV1", [[sv1]]),
            ("DTP*472", _one(None if s.service_date is None else dtp(s.service_date))),
            ("DTP", [[dtp(d)] for d in s.dates]),
            ("REF*G1", [[_seg("REF", "G1", v)] for v in s.prior_authorization_numbers]),
            ("REF*6R", _one(_seg("REF", "6R", control)
                            if control is not None or "REF*6R" in s.layout else None)),
            own, ("rendering", self.party(s.rendering)),
            ("supervising", self.party(s.supervising)), rest,
            ("2430", [self.line_adjudication(a) for a in s.adjudications]), notes,
        ])

    def line_adjudication(self, a: LineAdjudication) -> Chunk:
        svd = _seg("SVD", a.other_payer_primary_identifier, _num(a.service_line_paid_amount),
                   _procedure(a.product_or_service_id_qualifier, a.procedure_code,
                              a.procedure_modifiers, a.description),
                   None, _num(a.paid_service_unit_count), a.bundled_line_number)
        day = a.adjudication_date
        return self.arrange(a, [
            ("SVD", [[svd]]), ("CAS", [[_cas(c)] for c in a.adjustments]),
            ("DTP*573", _one(None if day is None else _seg("DTP", "573", "D8", _d8(day)))),
            ("AMT*EAF", _amt("EAF", a.remaining_patient_liability)),
            *self.untyped_groups(a, ()),
        ])
