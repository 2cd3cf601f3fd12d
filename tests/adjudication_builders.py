"""Small factories for adjudication tests: reference rows, ReferenceData and 837P claims.

Every factory has defaults describing one ordinary case, so a test names only what
its rule looks at:

    world = World()                       # a commercial TX member, an in-network LCSW,
    ref = world.reference(fees=[...])     # fees, plan and filing limits; swap any table
    claim = build_claim(lines=[line(charge="150.00")])
    decision = decide(claim, ref)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from adjudication.decision import Decision
from adjudication.engine import adjudicate
from adjudication.policy import DEFAULT_POLICY, EnginePolicy
from adjudication.reference import (
    Accumulator,
    Authorization,
    CobMethod,
    CobMethodType,
    Copay,
    Coverage,
    Fee,
    FilingLimit,
    LicenseFactor,
    LicenseLevel,
    LineOfBusiness,
    Member,
    OtherCoverage,
    PastClaim,
    Plan,
    PriorAuthRequirement,
    Provider,
    ReferenceData,
    ServiceCategory,
    SupervisionPolicy,
)
from adjudication.state import AdjudicationState
from edi import remit835
from edi.acks import CountingControlNumbers, Responder
from edi.claims import (
    Address,
    AdjustmentReason,
    BeginningOfHierarchicalTransaction,
    BillingProvider,
    Claim,
    ClaimAdjustment,
    DatePeriod,
    Demographics,
    Diagnosis,
    EntityName,
    Envelope,
    HierarchicalLevel,
    LineAdjudication,
    OtherSubscriber,
    ParsedClaim,
    Party,
    Patient,
    PatientInformation,
    ReferenceId,
    ServiceLine,
    Subscriber,
    TransactionHeader,
)
from edi.validators.codesets import CodeSetRegistry, default_registry
from remittance.payer import DEFAULT_PAYER

COMMERCIAL = LineOfBusiness.COMMERCIAL
MEDICAID = LineOfBusiness.MEDICAID
MEDICARE_ADVANTAGE = LineOfBusiness.MEDICARE_ADVANTAGE

DOS = date(2026, 3, 2)
"""The default date of service."""
RECEIVED = date(2026, 3, 20)
"""The default receipt date (18 days after the service)."""
START = date(2020, 1, 1)
"""When every default reference row takes effect."""

SUBSCRIBER_ID = "SUB100"
MEMBER_ID = "M100"
BIRTH = date(1985, 4, 12)
BILLING_NPI = "1000000001"
BILLING_TIN = "123456789"
CLINICIAN_NPI = "1000000002"
SUPERVISOR_NPI = "1000000003"
PLAN_ID = "PLAN-C"


def money(value: str | int | Decimal) -> Decimal:
    return Decimal(str(value))


# -- reference rows ------------------------------------------------------------------------
def member(member_id: str = MEMBER_ID, *, subscriber_id: str = SUBSCRIBER_ID,
           relationship: str = "self", first: str = "ANA", last: str = "RIVERA",
           birth: date = BIRTH, effective: date = START) -> Member:
    return Member(effective=effective, member_id=member_id, subscriber_id=subscriber_id,
                  relationship=relationship, last_name=last, first_name=first,
                  birth_date=birth, gender="F")


def coverage(member_id: str = MEMBER_ID, *, plan_id: str = PLAN_ID,
             lob: LineOfBusiness = COMMERCIAL, state: str = "TX", effective: date = START,
             termination: date | None = None) -> Coverage:
    return Coverage(effective=effective, termination=termination, member_id=member_id,
                    plan_id=plan_id, line_of_business=lob, state=state)


def plan(plan_id: str = PLAN_ID, *, year: int = DOS.year, lob: LineOfBusiness = COMMERCIAL,
         deductible: str = "0", coinsurance: str = "0", oop_max: str = "5000",
         oon: bool = False, family_deductible: str | None = None,
         family_oop_max: str | None = None) -> Plan:
    return Plan(effective=START, plan_id=plan_id, benefit_year=year, line_of_business=lob,
                name=f"{plan_id} {year}", deductible=money(deductible),
                coinsurance_percent=money(coinsurance), out_of_pocket_max=money(oop_max),
                out_of_network_covered=oon,
                family_deductible=money(family_deductible) if family_deductible else None,
                family_out_of_pocket_max=money(family_oop_max) if family_oop_max else None)


def copay(category: str, amount: str, *, plan_id: str = PLAN_ID, year: int = DOS.year) -> Copay:
    return Copay(effective=START, plan_id=plan_id, benefit_year=year, service_category=category,
                 copay=money(amount))


def category(code: str, name: str) -> ServiceCategory:
    return ServiceCategory(effective=START, procedure_code=code, service_category=name)


def requires_auth(category_name: str, plan_id: str = "*") -> PriorAuthRequirement:
    return PriorAuthRequirement(effective=START, plan_id=plan_id, service_category=category_name)


def provider(npi: str = CLINICIAN_NPI, *, license: LicenseLevel | None = LicenseLevel.LCSW,
             network: str = "in", medicaid_enrolled: bool = True, state: str = "TX",
             entity_type: str = "1") -> Provider:
    return Provider(effective=START, npi=npi, tin="123456789", name=f"PROVIDER {npi}",
                    entity_type=entity_type, license_level=license, state=state,
                    network_status=network, medicaid_enrolled=medicaid_enrolled)


def fee(code: str = "90837", amount: str = "100.00", *, lob: LineOfBusiness = COMMERCIAL,
        modifier: str = "", license: str = "") -> Fee:
    return Fee(effective=START, line_of_business=lob, procedure_code=code, modifier=modifier,
               license_level=license, allowed_per_unit=money(amount))


def license_factor(level: str, percent: str, *, lob: LineOfBusiness = COMMERCIAL
                   ) -> LicenseFactor:
    return LicenseFactor(effective=START, line_of_business=lob, license_level=level,
                         percent=money(percent))


def every_license_factor(lob: LineOfBusiness | None = None, **percents: str
                    ) -> tuple[LicenseFactor, ...]:
    """A row for every license level and ``supervised``, in ``lob`` (else every line of
    business): 100 % unless ``percents`` names the level (``LCSW="90"``)."""
    levels = [str(level) for level in LicenseLevel] + ["supervised"]
    assert set(percents) <= set(levels), percents
    return tuple(license_factor(level, percents.get(level, "100"), lob=one)
                 for one in ([lob] if lob else list(LineOfBusiness)) for level in levels)


def filing_limit(lob: LineOfBusiness, kind: str, days: int, state: str = "*") -> FilingLimit:
    return FilingLimit(effective=START, line_of_business=lob, state=state, kind=kind, days=days)


def supervision(lob: LineOfBusiness, state: str = "*", *, allowed: bool = True,
                supervisor: bool = False, modifier: str = "",
                medicaid: bool = False) -> SupervisionPolicy:
    return SupervisionPolicy(effective=START, line_of_business=lob, state=state,
                             allowed=allowed, requires_supervisor=supervisor,
                             requires_modifier=modifier, requires_medicaid_enrollment=medicaid)


def authorization(number: str = "PA1", *, codes: tuple[str, ...] = ("96130",),
                  npi: str = CLINICIAN_NPI, units: str = "4", start: date = date(2026, 3, 1),
                  end: date = date(2026, 5, 31), member_id: str = MEMBER_ID) -> Authorization:
    return Authorization(effective=START, auth_number=number, member_id=member_id,
                         provider_npi=npi, procedure_codes=codes, start=start, end=end,
                         units=money(units))


def past_claim(icn: str = "OBH-ORIG", *, line_number: int = 1, code: str = "90837",
               charge: str = "200.00", paid: str = "100.00", pr: str = "0.00",
               status: str = "paid", service_date: date = DOS, remitted: date | None = DOS,
               modifiers: tuple[str, ...] = (), rendering_npi: str = CLINICIAN_NPI,
               lob: LineOfBusiness = COMMERCIAL, adjustments: str = "",
               units: str = "1", member_id: str = MEMBER_ID) -> PastClaim:
    return PastClaim(effective=service_date, icn=icn, patient_control_number=f"PCN-{icn}",
                     member_id=member_id, billing_npi=BILLING_NPI, rendering_npi=rendering_npi,
                     line_number=line_number, service_date=service_date, procedure_code=code,
                     modifiers=modifiers, charge=money(charge), units=money(units),
                     status=status, paid=money(paid), patient_responsibility=money(pr),
                     remittance_date=remitted, line_of_business=lob, adjustments=adjustments)


def accumulator(deductible_met: str, oop_met: str, *, plan_id: str = PLAN_ID,
                year: int = DOS.year, member_id: str = MEMBER_ID) -> Accumulator:
    return Accumulator(effective=START, member_id=member_id, plan_id=plan_id,
                       benefit_year=year, deductible_met=money(deductible_met),
                       out_of_pocket_met=money(oop_met))


def cob_method(lob: LineOfBusiness = COMMERCIAL,
               method: CobMethodType = CobMethodType.STANDARD) -> CobMethod:
    return CobMethod(effective=START, line_of_business=lob, method=method,
                     source="test row", verified=False)


def other_coverage(sequence: str = "P", *, name: str = "EMPLOYER GROUP PLAN",
                   member_id: str = MEMBER_ID, effective: date = START) -> OtherCoverage:
    return OtherCoverage(effective=effective, member_id=member_id, other_payer_name=name,
                         other_payer_sequence=sequence)


@dataclass(frozen=True)
class World:
    """Default tables: a commercial TX member, an in-network LCSW, 90837 at 100.00, every
    license level at 100 %."""

    members: Sequence[Member] = (member(),)
    coverage: Sequence[Coverage] = (coverage(),)
    plans: Sequence[Plan] = (plan(),)
    providers: Sequence[Provider] = (
        provider(), provider(BILLING_NPI, license=None, entity_type="2"),
        provider(SUPERVISOR_NPI, license=LicenseLevel.PHD))
    fees: Sequence[Fee] = (fee(), fee("90834", "80.00"), fee("96130", "150.00"))
    license_factors: Sequence[LicenseFactor] = every_license_factor()
    filing_limits: Sequence[FilingLimit] = ()
    supervision: Sequence[SupervisionPolicy] = ()
    cob_methods: Sequence[CobMethod] = (
        cob_method(COMMERCIAL), cob_method(MEDICARE_ADVANTAGE),
        cob_method(MEDICAID, CobMethodType.PAYER_OF_LAST_RESORT))
    extra: Mapping[str, Sequence[object]] = field(default_factory=dict)

    def reference(self, **tables: Sequence[object]) -> ReferenceData:
        """ReferenceData from the defaults, any table replaced by keyword."""
        merged: dict[str, Sequence[object]] = {
            "members": self.members, "coverage": self.coverage, "plans": self.plans,
            "providers": self.providers, "fees": self.fees,
            "license_factors": self.license_factors, "filing_limits": self.filing_limits,
            "supervision": self.supervision, "cob_methods": self.cob_methods,
            **self.extra, **tables,
        }
        return ReferenceData(**merged)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> World:
        return replace(self, **changes)  # type: ignore[arg-type]


# -- claims ------------------------------------------------------------------------------
def person(code: str, npi: str, last: str = "CLINICIAN", first: str | None = "PAT") -> Party:
    return Party(name=EntityName(entity_identifier_code=code, entity_type_qualifier="1",
                                 last_or_organization_name=last, first_name=first,
                                 identification_code_qualifier="XX", identification_code=npi))


def cas(group: str, *reasons: tuple[str, str]) -> ClaimAdjustment:
    """One CAS segment: ``cas("PR", ("2", "20.00"))``."""
    return ClaimAdjustment(group_code=group, reasons=tuple(
        AdjustmentReason(reason_code=code, amount=money(amount)) for code, amount in reasons))


def other_payer(sequence: str = "P", paid: str | None = "70.00", *,
                payer_id: str = "OTHERPLAN1", name: str = "OTHER HEALTH PLAN",
                adjustments: Sequence[ClaimAdjustment] = ()) -> OtherSubscriber:
    """A 2320 loop with its 2330B payer; ``paid`` is AMT*D (None: no AMT*D)."""
    return OtherSubscriber(
        payer_responsibility_sequence_number_code=sequence, individual_relationship_code="18",
        claim_filing_indicator_code="CI", adjustments=tuple(adjustments),
        payer_paid_amount=None if paid is None else money(paid),
        other_payer=Party(name=EntityName(
            entity_identifier_code="PR", entity_type_qualifier="2",
            last_or_organization_name=name, identification_code_qualifier="PI",
            identification_code=payer_id)))


def paid_by(payer_id: str, paid: str, code: str = "90837", *,
            adjustments: Sequence[ClaimAdjustment] = ()) -> LineAdjudication:
    """A 2430 loop: what the payer ``payer_id`` paid for the line (SVD02)."""
    return LineAdjudication(
        other_payer_primary_identifier=payer_id, service_line_paid_amount=money(paid),
        product_or_service_id_qualifier="HC", procedure_code=code,
        paid_service_unit_count=Decimal(1), adjustments=tuple(adjustments),
        adjudication_date=DOS + timedelta(days=7))


def line(number: int = 1, code: str = "90837", charge: str = "200.00", *, units: str = "1",
         dos: date = DOS, through: date | None = None, modifiers: tuple[str, ...] = (),
         rendering_npi: str | None = None, supervising_npi: str | None = None,
         auth: tuple[str, ...] = (), control: str | None = None,
         adjudications: Sequence[LineAdjudication] = (),
         pointers: tuple[int, ...] = (1,)) -> ServiceLine:
    return ServiceLine(
        assigned_number=number, product_or_service_id_qualifier="HC", procedure_code=code,
        procedure_modifiers=modifiers, line_item_charge_amount=money(charge),
        unit_or_basis_for_measurement_code="UN", service_unit_count=money(units),
        place_of_service_code="11", diagnosis_code_pointers=pointers,
        service_date=DatePeriod(qualifier="472", start=dos, end=through),
        prior_authorization_numbers=auth,
        rendering=person("82", rendering_npi) if rendering_npi else None,
        supervising=person("DQ", supervising_npi, "SUPERVISOR") if supervising_npi else None,
        adjudications=tuple(adjudications), line_item_control_number=control,
    )


def build_claim(lines: Sequence[ServiceLine] = (), *, pcn: str = "PCN-1",
                frequency: str = "1", original_icn: str | None = None,
                subscriber_id: str = SUBSCRIBER_ID, birth: date | None = BIRTH,
                first: str = "ANA", patient_birth: date | None = None,
                patient_first: str = "LUIS", billing_npi: str = BILLING_NPI,
                rendering_npi: str | None = CLINICIAN_NPI,
                supervising_npi: str | None = None, filing_indicator: str = "CI",
                sequence: str = "P", other_payers: Sequence[OtherSubscriber] = (),
                diagnoses: Sequence[str] = ()) -> ParsedClaim:
    """A claim with one 90837 line unless ``lines`` are given; ``patient_birth`` adds a
    2000C patient loop (a dependent); ``sequence`` is 2000B SBR01 (we are primary,
    secondary or tertiary) and ``other_payers`` the 2320 loops."""
    lines = tuple(lines) or (line(),)
    patient = None
    if patient_birth is not None:
        patient = Patient(
            hl=HierarchicalLevel(id="3", parent_id="2", level_code="23", child_code="0"),
            patient_information=PatientInformation(individual_relationship_code="19"),
            name=EntityName(entity_identifier_code="QC", entity_type_qualifier="1",
                            last_or_organization_name="RIVERA", first_name=patient_first),
            demographics=Demographics(birth_date=patient_birth, gender_code="M"))
    return ParsedClaim(
        envelope=_ENVELOPE, header=_HEADER,
        billing_provider=BillingProvider(
            hl=HierarchicalLevel(id="1", level_code="20", child_code="1"),
            name=EntityName(entity_identifier_code="85", entity_type_qualifier="2",
                            last_or_organization_name="RIVERSIDE COUNSELING",
                            identification_code_qualifier="XX", identification_code=billing_npi),
            address=Address(address_line_1="12 RIVER RD", city_name="AUSTIN", state_code="TX",
                            postal_code="78701"),
            tax_identification=ReferenceId(qualifier="EI", value=BILLING_TIN)),
        subscriber=Subscriber(
            hl=HierarchicalLevel(id="2", parent_id="1", level_code="22",
                                 child_code="1" if patient else "0"),
            payer_responsibility_sequence_number_code=sequence,
            individual_relationship_code=None if patient else "18",
            claim_filing_indicator_code=filing_indicator,
            name=EntityName(entity_identifier_code="IL", entity_type_qualifier="1",
                            last_or_organization_name="RIVERA", first_name=first,
                            identification_code_qualifier="MI", identification_code=subscriber_id),
            demographics=Demographics(birth_date=birth, gender_code="F") if birth else None,
            payer=Party(name=EntityName(entity_identifier_code="PR", entity_type_qualifier="2",
                                        last_or_organization_name="OPTUM",
                                        identification_code_qualifier="PI",
                                        identification_code="87726"))),
        patient=patient,
        claim=Claim(
            patient_control_number=pcn,
            total_claim_charge_amount=sum((x.line_item_charge_amount for x in lines),
                                          Decimal(0)),
            place_of_service_code="11", facility_code_qualifier="B",
            claim_frequency_type_code=frequency, payer_claim_control_number=original_icn,
            rendering=person("82", rendering_npi) if rendering_npi else None,
            supervising=person("DQ", supervising_npi, "SUPERVISOR") if supervising_npi else None,
            other_subscribers=tuple(other_payers), lines=lines,
            diagnoses=tuple(Diagnosis(qualifier="ABK" if n == 0 else "ABF", code=code)
                            for n, code in enumerate(diagnoses))),
        position=1,
    )


_ENVELOPE = Envelope(
    interchange_sender_id_qualifier="ZZ", interchange_sender_id="CLEARINGHOUSE",
    interchange_receiver_id_qualifier="ZZ", interchange_receiver_id="87726",
    interchange_control_number="000000001", application_sender_code="CLEARINGHOUSE",
    application_receiver_code="87726", group_control_number="1",
    version_identifier="005010X222A1", transaction_set_control_number="0001")
_HEADER = TransactionHeader(
    bht=BeginningOfHierarchicalTransaction(hierarchical_structure_code="0019"),
    submitter=Party(name=EntityName(entity_identifier_code="41")),
    receiver=Party(name=EntityName(entity_identifier_code="40")))


# -- running the engine ------------------------------------------------------------------
def decide(claim: ParsedClaim, reference: ReferenceData, *, icn: str = "OBH-1",
           received: date = RECEIVED, as_of: date | None = None,
           state: AdjudicationState | None = None, policy: EnginePolicy = DEFAULT_POLICY,
           overrides: Mapping[int, Decimal] | None = None,
           code_sets: CodeSetRegistry | None = None) -> Decision:
    return adjudicate(claim, icn=icn, reference=reference,
                      code_sets=code_sets or default_registry(), as_of=as_of or received,
                      received=received, state=state or AdjudicationState(), policy=policy,
                      overrides=overrides)


def days_after(day: date, days: int) -> date:
    return day + timedelta(days=days)


def codes(decision: Decision, number: int = 1) -> list[str]:
    """The line's adjustments as ``CO-45`` style codes, in order."""
    found = next(x for x in decision.lines if x.line_number == number)
    return [a.code for a in found.adjustments]


def rules_fired(decision: Decision) -> list[str]:
    return [step.rule_id for step in decision.trace]


# -- the 835 ---------------------------------------------------------------------------
def practice_835(payment: remit835.ClaimPayment, method: str, amount: str) -> str:
    """The 835 paying one claim to a practice (trace T1, effective 2026-04-01, produced
    2026-03-30), as a cycle would write it."""
    return remit835.render_835(
        remit835.Remittance(DEFAULT_PAYER, remit835.Payee(remit835.Party("PRACTICE"),
                                                          "1000000001", "123456789"),
                            method, Decimal(amount), "T1", date(2026, 4, 1),
                            date(2026, 3, 30), (payment,), ()),
        Responder(when=datetime(2026, 3, 30, 9, tzinfo=UTC), control=CountingControlNumbers()))
