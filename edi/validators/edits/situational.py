"""SNIP 4: situational rules between segments (if this, then that)."""

from __future__ import annotations

from collections.abc import Iterator

from edi.claim_status import ClaimFinding, Entity, Location, StatusCategory
from edi.claims import CORRECTION_FREQUENCIES, ParsedClaim, Party
from edi.validators.edits.base import (
    Edit,
    EditContext,
    edit,
    npi_finding,
    patient_birth_date,
    patient_entity,
    service_dates,
)

A6, A7, A8 = StatusCategory.MISSING, StatusCategory.INVALID, StatusCategory.RELATIONAL
FREQUENCIES = {"1": "original", "7": "replacement", "8": "void"}


@edit("SNIP4-FREQUENCY", version=1, snip=4,
      title="CLM05-3 is 1 (original), 7 (replacement) or 8 (void)", emits=("A7:535",))
def frequency_code(e: Edit, claim: ParsedClaim, _ctx: EditContext) -> Iterator[ClaimFinding]:
    code = claim.claim.claim_frequency_type_code
    if code not in FREQUENCIES:
        yield e.finding(A7, ("535",), None, Location("2300", "CLM", "CLM05-3"),
                        "The claim frequency code must be 1 (original), 7 (replacement of a "
                        "prior claim) or 8 (void of a prior claim).")


@edit("SNIP4-ORIGINAL-REFERENCE", version=1, snip=4,
      title="A replacement or void names the original claim in REF*F8; an original does not",
      emits=("A6:464", "A8:464"))
def original_reference(e: Edit, claim: ParsedClaim, _ctx: EditContext) -> Iterator[ClaimFinding]:
    code = claim.claim.claim_frequency_type_code
    original = claim.claim.payer_claim_control_number
    where = Location("2300", "REF", "REF02")
    if code in CORRECTION_FREQUENCIES and not original:
        yield e.finding(A6, ("464",), None, where,
                        f"A {FREQUENCIES[code]} claim (frequency {code}) must give the payer "
                        "claim control number of the original claim in REF*F8.")
    elif code == "1" and original:
        yield e.finding(A8, ("464",), None, where,
                        "An original claim (frequency 1) must not carry a payer claim control "
                        "number in REF*F8; send frequency 7 to replace a claim.")


@edit("SNIP4-SUPERVISING-NPI", version=1, snip=4,
      title="A supervising provider (2310D, 2420D) carries a valid NPI",
      emits=("A6:562:DQ", "A7:562:DQ"))
def supervising_npi(e: Edit, claim: ParsedClaim, _ctx: EditContext) -> Iterator[ClaimFinding]:
    parties: list[tuple[str, int | None, Party | None]] = [("2310D", None, claim.claim.supervising)]
    parties += [("2420D", line.assigned_number, line.supervising) for line in claim.claim.lines
                if line.supervising is not None]
    for loop, line_number, party in parties:
        if party is not None:
            finding = npi_finding(e, party.name.npi, Entity.SUPERVISING, loop, line_number,
                                  "supervising provider")
            if finding is not None:
                yield finding


@edit("SNIP4-SERVICE-DATE", version=2, snip=4,
      title="Dates of service are not after the receipt date nor before the patient's birth, "
            "and a range (RD8) does not end before it starts",
      emits=("A7:187", "A8:187:QC", "A8:187:IL"))
def service_date(e: Edit, claim: ParsedClaim, ctx: EditContext) -> Iterator[ClaimFinding]:
    birth = patient_birth_date(claim)
    entity, _loop = patient_entity(claim)
    for line in claim.claim.lines:
        start, end = service_dates(line, claim)
        if start is None or end is None:
            continue
        if end < start:
            loop = "2400" if line.service_date is not None else "2300"
            yield e.finding(A7, ("187",), None,
                            Location(loop, "DTP", "DTP03", line.assigned_number),
                            "The date of service range ends before it starts.")
        if end > ctx.received:
            yield e.finding(A7, ("187", "510"), None,
                            Location("2400", "DTP", "DTP03", line.assigned_number),
                            "The date of service is after the date the claim was received.")
        if birth is not None and start < birth:
            yield e.finding(A8, ("187", "158"), entity,
                            Location("2400", "DTP", "DTP03", line.assigned_number),
                            "The date of service is before the patient's date of birth.")
