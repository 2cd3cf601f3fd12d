"""Typed 837P claim models (005010X222A1), immutable values built by `edi.parsers`.

Names follow the implementation guide. Money is `Decimal`, dates are `datetime.date`;
codes stay strings so the validators, not the reader, decide what is allowed.

Every loop keeps the segments the models do not type (PER, NTE, PWK, K3, CR1, HCP,
OI and MOA of 2320, the other-payer loops 2330A and 2330C-G, drug 2410, ...) in
``untyped``, in order, each tagged with the loop it came from, so nothing read is
dropped. ``layout``
records the order in which the loop's segments and child loops arrived (see
`edi.parsers.serialize837`); it is empty for a model built by hand, which is then
written in implementation-guide order.

    ParsedClaim                 one claim with everything above it (streaming unit)
    Transaction837              one ST/SE: header + BillingProviderLevel tree
     └── BillingProviderLevel   2000A BillingProvider + its SubscriberLevels
          └── SubscriberLevel   2000B Subscriber + its Claims + PatientLevels
               └── PatientLevel 2000C Patient + its Claims

    Claim                       2300, with OtherSubscriber 2320 (+ 2330B other payer)
     └── ServiceLine            2400, with LineAdjudication 2430 (another payer's line)
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class _Value(BaseModel):
    # Strict: no coercion (money must already be a Decimal, dates a date), which is
    # also what makes building a model per loop cheap. JSON input still validates.
    model_config = ConfigDict(frozen=True, strict=True)


class UntypedSegment(_Value):
    """A segment the models do not type, kept whole: ``elements[0]`` is its ID."""

    loop_id: str
    elements: tuple[str, ...]


class Loop(_Value):
    """A loop model: its untyped segments and the order its parts arrived in."""

    untyped: tuple[UntypedSegment, ...] = ()
    layout: tuple[str, ...] = ()


class Envelope(_Value):
    """Where a transaction set sits: ISA, GS and ST identity (no PHI)."""

    interchange_sender_id_qualifier: str  # ISA05
    interchange_sender_id: str  # ISA06, padding removed
    interchange_receiver_id_qualifier: str  # ISA07
    interchange_receiver_id: str  # ISA08, padding removed
    interchange_control_number: str  # ISA13
    component_element_separator: str = ":"  # ISA16, joins the composites of raw segments
    application_sender_code: str  # GS02
    application_receiver_code: str  # GS03
    group_control_number: str  # GS06
    version_identifier: str  # GS08, e.g. 005010X222A1
    transaction_set_control_number: str  # ST02
    implementation_convention_reference: str | None = None  # ST03


class EntityName(_Value):
    """NM1, the name of a party in any NM1 loop (provider, subscriber, payer, ...)."""

    entity_identifier_code: str  # NM101, e.g. 85 billing provider, IL subscriber
    entity_type_qualifier: str | None = None  # NM102: 1 person, 2 non-person entity
    last_or_organization_name: str | None = None  # NM103
    first_name: str | None = None  # NM104
    middle_name: str | None = None  # NM105
    name_prefix: str | None = None  # NM106
    name_suffix: str | None = None  # NM107
    identification_code_qualifier: str | None = None  # NM108: XX NPI, MI member, PI payer
    identification_code: str | None = None  # NM109

    @property
    def npi(self) -> str | None:
        """NM109 when NM108 says it is a National Provider Identifier (XX)."""
        return self.identification_code if self.identification_code_qualifier == "XX" else None


class Address(_Value):
    """N3 street lines and N4 city, state and postal code."""

    address_line_1: str | None = None  # N301
    address_line_2: str | None = None  # N302
    city_name: str | None = None  # N401
    state_code: str | None = None  # N402
    postal_code: str | None = None  # N403
    country_code: str | None = None  # N404
    country_subdivision_code: str | None = None  # N407


class ProviderTaxonomy(_Value):
    """PRV: provider specialty (PRV01 BI billing, PE performing), taxonomy in PRV03."""

    provider_code: str  # PRV01
    reference_identification_qualifier: str | None = None  # PRV02, PXC
    taxonomy_code: str | None = None  # PRV03


class ReferenceId(_Value):
    """REF: a qualified reference number."""

    qualifier: str  # REF01
    value: str | None = None  # REF02


class Demographics(_Value):
    """DMG with DMG01 = D8."""

    birth_date: date | None = None  # DMG02
    gender_code: str | None = None  # DMG03


class DatePeriod(_Value):
    """DTP: one date (D8) or a range (RD8, ``end`` set) under a date qualifier."""

    qualifier: str  # DTP01, e.g. 472 service date
    start: date
    end: date | None = None

    @property
    def through(self) -> date:
        """The last day covered (the start for a single date)."""
        return self.end if self.end is not None else self.start


class Diagnosis(_Value):
    """One HI composite: code list qualifier (ABK/ABF, or ICD-9 BK/BF) and code."""

    qualifier: str  # C022-1
    code: str  # C022-2


class HierarchicalLevel(_Value):
    """HL: this level's ID, its parent's ID, its level code (20, 22, 23) and child code."""

    id: str  # HL01
    parent_id: str | None = None  # HL02
    level_code: str  # HL03
    child_code: str | None = None  # HL04


class PatientInformation(_Value):
    """PAT: relationship to the subscriber (2000C) or death/weight/pregnancy (2000B)."""

    individual_relationship_code: str | None = None  # PAT01
    death_date: date | None = None  # PAT06 (PAT05 = D8)
    unit_or_basis_for_measurement_code: str | None = None  # PAT07
    patient_weight: Decimal | None = None  # PAT08
    pregnancy_indicator: str | None = None  # PAT09


class Party(Loop):
    """A loop that starts with NM1: submitter 1000A, receiver 1000B, pay-to 2010AB,
    payer 2010BB, referring 2310A, rendering 2310B/2420A (PRV*PE), service facility
    2310C (N3/N4), supervising 2310D/2420D."""

    name: EntityName
    address: Address | None = None
    taxonomy: ProviderTaxonomy | None = None


class BeginningOfHierarchicalTransaction(_Value):
    """BHT."""

    hierarchical_structure_code: str  # BHT01, 0019
    transaction_set_purpose_code: str | None = None  # BHT02: 00 original, 18 reissue
    reference_identification: str | None = None  # BHT03, originator's batch number
    creation_date: date | None = None  # BHT04
    creation_time: str | None = None  # BHT05, HHMM[SS[DD]]
    transaction_type_code: str | None = None  # BHT06: CH chargeable, RP reporting


class TransactionHeader(Loop):
    """BHT with submitter (1000A, NM1*41) and receiver (1000B, NM1*40)."""

    bht: BeginningOfHierarchicalTransaction
    submitter: Party
    receiver: Party


class BillingProvider(Loop):
    """2000A with 2010AA (NM1*85) and the pay-to address 2010AB (NM1*87)."""

    hl: HierarchicalLevel
    specialty: ProviderTaxonomy | None = None  # PRV*BI
    name: EntityName
    address: Address | None = None
    tax_identification: ReferenceId | None = None  # REF*EI (TIN) or REF*SY (SSN)
    pay_to: Party | None = None

    @property
    def npi(self) -> str | None:
        return self.name.npi

    @property
    def tax_id(self) -> str | None:
        """The TIN (or SSN) of 2010AA REF*EI/SY, as sent."""
        return self.tax_identification.value if self.tax_identification else None


class Subscriber(Loop):
    """2000B SBR (and PAT) with 2010BA (NM1*IL) and the payer 2010BB (NM1*PR)."""

    hl: HierarchicalLevel
    payer_responsibility_sequence_number_code: str | None = None  # SBR01: P, S, T, ...
    individual_relationship_code: str | None = None  # SBR02: 18 self
    group_or_policy_number: str | None = None  # SBR03
    group_name: str | None = None  # SBR04
    insurance_type_code: str | None = None  # SBR05
    claim_filing_indicator_code: str | None = None  # SBR09
    patient_information: PatientInformation | None = None  # PAT when subscriber = patient
    name: EntityName
    address: Address | None = None
    demographics: Demographics | None = None
    payer: Party

    @property
    def member_id(self) -> str | None:
        """NM109 of 2010BA (NM108 = MI)."""
        return self.name.identification_code


class Patient(Loop):
    """2000C PAT with 2010CA (NM1*QC): the patient when not the subscriber."""

    hl: HierarchicalLevel
    patient_information: PatientInformation
    name: EntityName
    address: Address | None = None
    demographics: Demographics | None = None


class AdjustmentReason(_Value):
    """One reason of a CAS segment: CAS02/03/04, CAS05/06/07, ... up to CAS17/18/19."""

    reason_code: str  # claim adjustment reason code (CARC)
    amount: Decimal
    quantity: Decimal | None = None


class ClaimAdjustment(_Value):
    """CAS: what another payer adjusted, under one group (CO, PR, OA, PI; CR in 4010
    only), with up to six reasons. 2320 (claim level) and 2430 (line level)."""

    group_code: str  # CAS01
    reasons: tuple[AdjustmentReason, ...]


class OtherSubscriber(Loop):
    """2320 SBR, CAS, AMT*D/A8/EAF (OI and MOA untyped) with the other payer 2330B.

    One loop per other payer the claim names; 2330A (the other subscriber, NM1*IL)
    and 2330C-G stay untyped, tagged with their loop."""

    payer_responsibility_sequence_number_code: str  # SBR01: P, S, T, A-H, U
    individual_relationship_code: str | None = None  # SBR02
    group_or_policy_number: str | None = None  # SBR03
    group_name: str | None = None  # SBR04, other insured group name
    insurance_type_code: str | None = None  # SBR05
    claim_filing_indicator_code: str | None = None  # SBR09
    adjustments: tuple[ClaimAdjustment, ...] = ()  # CAS, claim level
    payer_paid_amount: Decimal | None = None  # AMT*D (0 when the payer paid nothing)
    non_covered_amount: Decimal | None = None  # AMT*A8, total non-covered amount
    remaining_patient_liability: Decimal | None = None  # AMT*EAF
    other_payer: Party | None = None  # 2330B NM1*PR (required by the guide)

    @property
    def other_payer_id(self) -> str | None:
        """NM109 of 2330B: what SVD01 of this payer's 2430 loops repeats."""
        return self.other_payer.name.identification_code if self.other_payer else None

    @property
    def adjudication_date(self) -> date | None:
        """2330B DTP*573 (D8): the day that payer adjudicated the claim (the guide asks
        for it when the payer reported no 2430 lines); None when absent or not a date."""
        if self.other_payer is None:
            return None
        for seg in self.other_payer.untyped:
            e = seg.elements
            if len(e) > 3 and e[:3] == ("DTP", "573", "D8"):
                try:
                    return datetime.strptime(e[3], "%Y%m%d").date()
                except ValueError:
                    return None
        return None


class LineAdjudication(Loop):
    """2430 SVD, CAS, DTP*573, AMT*EAF: how another payer adjudicated this line."""

    other_payer_primary_identifier: str  # SVD01, = NM109 of that payer's 2330B
    service_line_paid_amount: Decimal  # SVD02
    product_or_service_id_qualifier: str  # SVD03-1, HC
    procedure_code: str  # SVD03-2
    procedure_modifiers: tuple[str, ...] = ()  # SVD03-3..6
    description: str | None = None  # SVD03-7
    paid_service_unit_count: Decimal | None = None  # SVD05
    bundled_line_number: str | None = None  # SVD06
    adjustments: tuple[ClaimAdjustment, ...] = ()  # CAS, line level
    adjudication_date: date | None = None  # DTP*573 (D8)
    remaining_patient_liability: Decimal | None = None  # AMT*EAF


class ServiceLine(Loop):
    """2400: LX, SV1, DTP, REF, with the line rendering 2420A and supervising 2420D,
    and the other payers' line adjudication 2430."""

    assigned_number: int  # LX01
    product_or_service_id_qualifier: str  # SV101-1, HC
    procedure_code: str  # SV101-2
    procedure_modifiers: tuple[str, ...] = ()  # SV101-3..6
    description: str | None = None  # SV101-7
    line_item_charge_amount: Decimal  # SV102
    unit_or_basis_for_measurement_code: str | None = None  # SV103: UN units, MJ minutes
    service_unit_count: Decimal | None = None  # SV104
    place_of_service_code: str | None = None  # SV105
    diagnosis_code_pointers: tuple[int, ...] = ()  # SV107-1..4
    emergency_indicator: str | None = None  # SV109
    epsdt_indicator: str | None = None  # SV111
    family_planning_indicator: str | None = None  # SV112
    copay_status_code: str | None = None  # SV115
    service_date: DatePeriod | None = None  # DTP*472
    dates: tuple[DatePeriod, ...] = ()  # the other line DTPs
    line_item_control_number: str | None = None  # REF*6R
    prior_authorization_numbers: tuple[str, ...] = ()  # REF*G1
    rendering: Party | None = None  # 2420A NM1*82
    supervising: Party | None = None  # 2420D NM1*DQ
    adjudications: tuple[LineAdjudication, ...] = ()  # 2430, one per other payer


CORRECTION_FREQUENCIES = frozenset({"7", "8"})
"""CLM05-3 of a correction: 7 replaces, 8 voids the claim REF*F8 names."""


class Claim(Loop):
    """2300 CLM with its dates, references, diagnoses, 2310A-D providers, the other
    payers 2320 and the lines."""

    patient_control_number: str  # CLM01
    total_claim_charge_amount: Decimal  # CLM02
    place_of_service_code: str | None = None  # CLM05-1
    facility_code_qualifier: str | None = None  # CLM05-2, B
    claim_frequency_type_code: str | None = None  # CLM05-3: 1 original, 7 replace, 8 void
    provider_signature_indicator: str | None = None  # CLM06
    assignment_or_plan_participation_code: str | None = None  # CLM07
    benefits_assignment_certification_indicator: str | None = None  # CLM08
    release_of_information_code: str | None = None  # CLM09
    patient_signature_source_code: str | None = None  # CLM10
    related_causes: tuple[str, ...] = ()  # CLM11 components
    special_program_code: str | None = None  # CLM12
    delay_reason_code: str | None = None  # CLM20
    dates: tuple[DatePeriod, ...] = ()
    payer_claim_control_number: str | None = None  # REF*F8, the original claim's ICN
    prior_authorization_number: str | None = None  # REF*G1
    referral_number: str | None = None  # REF*9F
    clearinghouse_claim_number: str | None = None  # REF*D9
    diagnoses: tuple[Diagnosis, ...] = ()  # HI (the diagnosis HI, in order)
    referring: Party | None = None  # 2310A NM1*DN
    primary_care_provider: Party | None = None  # 2310A NM1*P3
    rendering: Party | None = None  # 2310B NM1*82
    service_facility: Party | None = None  # 2310C NM1*77
    supervising: Party | None = None  # 2310D NM1*DQ
    other_subscribers: tuple[OtherSubscriber, ...] = ()  # 2320, one per other payer
    lines: tuple[ServiceLine, ...] = ()

    def date(self, qualifier: str) -> DatePeriod | None:
        """The first claim-level DTP with this qualifier."""
        return next((d for d in self.dates if d.qualifier == qualifier), None)


class ParsedClaim(_Value):
    """One claim with its envelope, header and hierarchy: the streaming unit."""

    envelope: Envelope
    header: TransactionHeader
    billing_provider: BillingProvider
    subscriber: Subscriber
    patient: Patient | None = None
    claim: Claim
    position: int
    """1-based ordinal of the CLM segment within the transaction set (ST = 1)."""

    @property
    def pay_to(self) -> Party | None:
        return self.billing_provider.pay_to

    @property
    def payer(self) -> Party:
        return self.subscriber.payer

    def rendering_npi(self, line: ServiceLine) -> str | None:
        """Who rendered ``line``: 2420A, else 2310B, else the billing provider (2010AA)."""
        rendering = line.rendering or self.claim.rendering
        return (rendering.name.npi if rendering else None) or self.billing_provider.npi

    def rendering_npis(self) -> tuple[str, ...]:
        """Every clinician who rendered a line of the claim, each once, in line order."""
        return tuple(dict.fromkeys(
            npi for line in self.claim.lines if (npi := self.rendering_npi(line))))


class PatientLevel(_Value):
    patient: Patient
    claims: tuple[Claim, ...] = ()


class SubscriberLevel(_Value):
    subscriber: Subscriber
    claims: tuple[Claim, ...] = ()
    patients: tuple[PatientLevel, ...] = ()


class BillingProviderLevel(_Value):
    billing_provider: BillingProvider
    subscribers: tuple[SubscriberLevel, ...] = ()


class Transaction837(_Value):
    """One whole ST/SE transaction set, for round trips and small files."""

    envelope: Envelope
    header: TransactionHeader
    billing_providers: tuple[BillingProviderLevel, ...] = ()
    declared_segment_count: int | None = None
    """SE01 as received; None lets the serializer count."""
