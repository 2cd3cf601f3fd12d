"""Front-end outcomes of claims: the findings of the edits and what the 277CA reports.

A `ClaimFinding` is one reason a claim is rejected at the front end (SNIP 3-7 or a
payer 87726 rule): the edit that found it, the 277CA STC codes (category, status,
entity), one location in the 837P a provider can find, and a sentence. Sentences
never quote member data.

`ClaimStatus` is the light record the 277CA writer needs for one claim, so a
transaction set of 20,000 claims is answered without keeping the parsed claims.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from edi.pickled import ByFields, PickledStrEnum


class StatusCategory(PickledStrEnum):
    """277CA STC01-1 claim status category codes (X12 external code list 507)."""

    ACKNOWLEDGED = "A1"
    """received, not yet accepted (used with status 19 at the information-source level)."""
    ACCEPTED = "A2"
    """accepted into the adjudication system."""
    UNPROCESSABLE = "A3"
    """returned as unprocessable claim."""
    MISSING = "A6"
    """rejected for missing information."""
    INVALID = "A7"
    """rejected for invalid information."""
    RELATIONAL = "A8"
    """rejected for relational field in error."""


class Entity(PickledStrEnum):
    """STC01-3 / NM101 entity identifier codes the edits name."""

    BILLING = "85"
    RENDERING = "82"
    SUPERVISING = "DQ"
    REFERRING = "DN"
    SERVICE_LOCATION = "77"
    SUBSCRIBER = "IL"
    PATIENT = "QC"
    PAYER = "PR"
    SUBMITTER = "41"


@dataclass(frozen=True, slots=True)
class Location(ByFields):
    """One place in the 837P: loop, segment, element, and the service line when any."""

    loop: str
    segment: str
    element: str
    """Element reference such as ``CLM02``, ``SV101-2`` or ``NM109``."""
    line: int | None = None
    """LX01 of the service line, for line-level findings."""

    def __str__(self) -> str:
        where = f"loop {self.loop}, {self.element}"
        return f"{where}, service line {self.line}" if self.line is not None else where


@dataclass(frozen=True, slots=True)
class ClaimFinding(ByFields):
    """One rejecting finding of a front-end edit, as the 277CA reports it."""

    edit_id: str
    edit_version: int
    snip_level: int
    category: StatusCategory
    status_codes: tuple[str, ...]
    """STC01-2 first; further codes travel in STC10/STC11 (at most 3 in all)."""
    entity: Entity | None
    location: Location
    sentence: str
    code_set: str | None = None
    """The code-set release that decided, for code-set edits (e.g. ICD-10-CM FY2026)."""

    @property
    def codes(self) -> str:
        """``category:status:entity`` as summary.json reports it (e.g. ``A7:562:85``)."""
        parts = [self.category.value, self.status_codes[0]]
        if self.entity is not None:
            parts.append(self.entity.value)
        return ":".join(parts)


@dataclass(frozen=True, slots=True)
class Provider277(ByFields):
    """The billing provider as the 277CA names it (2100C NM1*85, 2200C REF*TJ)."""

    entity_type: str
    """NM102: 1 person, 2 organisation."""
    last_or_organization_name: str
    first_name: str | None
    npi: str | None
    tax_id: str | None


@dataclass(frozen=True, slots=True)
class LineStatus(ByFields):
    """A service line echoed at 2220D when it carries a line-level finding."""

    line_number: int
    procedure_code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal | None
    service_from: date | None
    service_to: date | None
    line_item_control_number: str | None
    findings: tuple[ClaimFinding, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimStatus(ByFields):
    """What the 277CA says about one claim (2000D-2220D)."""

    patient_control_number: str
    total_charge: Decimal
    service_from: date | None
    service_to: date | None
    patient_last_name: str
    patient_first_name: str | None
    patient_member_id: str | None
    """The subscriber's member ID (2010BA NM109), echoed in 2100D NM109."""
    billing_provider: Provider277
    clearinghouse_trace: str | None = None
    """REF*D9 of the 837, echoed in 2200D REF*D9."""
    findings: tuple[ClaimFinding, ...] = ()
    payer_claim_control_number: str | None = None
    """Set when accepted: REF*1K."""
    lines: tuple[LineStatus, ...] = ()

    @property
    def accepted(self) -> bool:
        return not self.findings and self.payer_claim_control_number is not None


@dataclass(frozen=True, slots=True)
class TransactionStatus:
    """One accepted 837 transaction set, answered by one 277CA."""

    submitter_name: str
    """1000A NM103: the 277CA's information receiver (2100B NM1*41)."""
    submitter_id: str
    """1000A NM109."""
    receiver_sender_qualifier: str
    """ISA05 of the 837 (the 277CA goes back to its sender)."""
    receiver_sender_id: str
    """ISA06 of the 837."""
    application_sender: str
    """GS02 of the 837."""
    transaction_set_control_number: str
    """ST02 of the 837, for the information receiver's trace (2200B TRN02)."""
    batch_reference: str | None
    """BHT03 of the 837."""
    received: date
    claims: list[ClaimStatus] = field(default_factory=list)
    usage_indicator: str = "P"
    """ISA15 of the 837 (``P`` or ``T``): a test file is answered with a test 277CA."""
