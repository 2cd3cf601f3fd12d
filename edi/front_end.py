"""The front end of one transaction set: edits, claim numbers, and the 277CA records.

Pure: claim numbers come from a `ClaimNumbers` port (in memory here; the store keeps
them later), the receipt date and the code sets are passed in.

Claim numbers (ICN, returned in REF*1K and later in 835 CLP07) are assigned only to
claims the front end accepts, and only once the whole transaction set has been read,
so a set the reader cannot finish never leaves numbers behind. The allocator is
idempotent on a claim fingerprint (sender, interchange, group and set control
numbers, CLM01, the claim's position and its content): the same accepted claim
processed twice (a redelivered message, a re-run) gets the same number. A claim
deliberately sent again in a new interchange is a new claim; adjudication decides
whether it duplicates one already paid.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

from edi.ack277 import findings_of
from edi.claim_status import (
    ClaimFinding,
    ClaimStatus,
    LineStatus,
    Location,
    Provider277,
    StatusCategory,
    TransactionStatus,
)
from edi.claims import ParsedClaim
from edi.validators.edits import EditContext, run_edits
from edi.validators.edits.base import claim_service_range, service_dates


class ClaimNumbers(Protocol):
    """Allocates payer claim control numbers (ICNs)."""

    def assign(self, fingerprint: str, received: date) -> str: ...


def claim_number(received: date, number: int) -> str:
    """The payer claim control number (ICN) ``number`` of a claim received that day:
    ``OBH`` + YY + day of year + the number in seven digits."""
    return f"{_day_prefix(received)}{number:07d}"


@lru_cache(maxsize=8)
def _day_prefix(received: date) -> str:
    """``OBH`` + YY + day of year, the same for every claim of a day (worked out for each
    claim, it took about 6 % of the time the sets' answers take)."""
    return f"OBH{received:%y}{received.timetuple().tm_yday:03d}"


class InMemoryClaimNumbers:
    """ICNs (`claim_number`) from a sequence, idempotent per fingerprint."""

    def __init__(self, start: int = 1) -> None:
        self._next = start
        self._assigned: dict[str, str] = {}

    def assign(self, fingerprint: str, received: date) -> str:
        number = self._assigned.get(fingerprint)
        if number is None:
            number = claim_number(received, self._next)
            self._next += 1
            self._assigned[fingerprint] = number
        return number


def fingerprint(claim: ParsedClaim) -> str:
    """A stable key for one claim as received (no PHI leaves: it is a hash)."""
    env = claim.envelope
    c = claim.claim
    parts = [
        env.interchange_sender_id_qualifier, env.interchange_sender_id,
        env.interchange_control_number, env.group_control_number,
        env.transaction_set_control_number, str(claim.position), c.patient_control_number,
        str(c.total_claim_charge_amount), c.claim_frequency_type_code or "",
        *(f"{line.procedure_code}:{line.line_item_charge_amount}" for line in c.lines),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def examine(claim: ParsedClaim, context: EditContext) -> ClaimStatus:
    """Run the edits on a claim and keep what the 277CA needs (no number yet)."""
    findings = run_edits(claim, context)
    return _status(claim, findings)


def _status(claim: ParsedClaim, findings: tuple[ClaimFinding, ...]) -> ClaimStatus:
    c = claim.claim
    billing = claim.billing_provider
    tax = billing.tax_identification
    patient_name = claim.patient.name if claim.patient is not None else claim.subscriber.name
    start, end = claim_service_range(claim)
    by_line: dict[int, list[ClaimFinding]] = {}
    for finding in findings:
        if finding.location.line is not None:
            by_line.setdefault(finding.location.line, []).append(finding)
    lines = tuple(
        LineStatus(
            line_number=line.assigned_number, procedure_code=line.procedure_code,
            modifiers=line.procedure_modifiers, charge=line.line_item_charge_amount,
            units=line.service_unit_count, service_from=start_end[0], service_to=start_end[1],
            line_item_control_number=line.line_item_control_number,
            findings=tuple(by_line[line.assigned_number]),
        )
        for line in c.lines if line.assigned_number in by_line
        for start_end in (service_dates(line, claim),)
    )
    claim_level = tuple(f for f in findings if f.location.line is None)
    return ClaimStatus(
        patient_control_number=c.patient_control_number,
        total_charge=c.total_claim_charge_amount, service_from=start, service_to=end,
        patient_last_name=patient_name.last_or_organization_name or "",
        patient_first_name=patient_name.first_name,
        patient_member_id=claim.subscriber.member_id,
        billing_provider=Provider277(
            entity_type=billing.name.entity_type_qualifier or "2",
            last_or_organization_name=billing.name.last_or_organization_name or "",
            first_name=billing.name.first_name, npi=billing.npi,
            tax_id=tax.value if tax is not None else None,
        ),
        clearinghouse_trace=c.clearinghouse_claim_number,
        findings=claim_level, lines=lines,
    )


def rejects(status: ClaimStatus) -> bool:
    """A finding on the claim or any line rejects it (the 277CA reads them the same way)."""
    return bool(findings_of(status))


def numbered(status: ClaimStatus, fingerprint: str, numbers: ClaimNumbers,
             received: date) -> ClaimStatus:
    """The claim's record with its claim number when no finding rejects it (the claims of
    a set are numbered in file order once the set is complete); as it is otherwise."""
    if rejects(status):
        return status
    return replace(status, payer_claim_control_number=numbers.assign(fingerprint, received))


UNREADABLE_STATUS_CODES = ("21", "0")
"""A3 status codes of a claim in a set the reader could not follow (21 needs a partner)."""


def unprocessable(pcn: str, charge: Decimal, provider: Provider277) -> ClaimStatus:
    """A claim of a set the reader could not follow: returned as unprocessable.

    Status 21 (missing or invalid information) must travel with a second status code
    naming what; the reader could not get far enough to name an element, so the second
    is 0, "cannot provide further status electronically" (X12 code source 508; the
    choice is ours, see adjudication/README.md), and STC12 says where to look."""
    finding = ClaimFinding(
        edit_id="READER", edit_version=2, snip_level=2, category=StatusCategory.UNPROCESSABLE,
        status_codes=UNREADABLE_STATUS_CODES, entity=None,
        location=Location("2300", "CLM", "CLM01"),
        sentence="The claim could not be read; correct the transaction set and resubmit.",
    )
    return ClaimStatus(
        patient_control_number=pcn, total_charge=charge, service_from=None, service_to=None,
        patient_last_name="UNKNOWN", patient_first_name=None, patient_member_id=None,
        billing_provider=provider, findings=(finding,),
    )


def transaction_status(
    *, submitter_name: str, submitter_id: str, sender_qualifier: str, sender_id: str,
    application_sender: str, control_number: str, batch_reference: str | None,
    received: date, claims: list[ClaimStatus], usage_indicator: str = "P",
) -> TransactionStatus:
    """The 277CA header of one 837 transaction set."""
    return TransactionStatus(
        submitter_name=submitter_name or "UNKNOWN", submitter_id=submitter_id or sender_id,
        receiver_sender_qualifier=sender_qualifier, receiver_sender_id=sender_id,
        application_sender=application_sender, transaction_set_control_number=control_number,
        batch_reference=batch_reference, received=received, claims=claims,
        usage_indicator=usage_indicator,
    )
