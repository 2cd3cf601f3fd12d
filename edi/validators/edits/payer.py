"""SNIP 7: payer 87726's own rules (companion-guide edits, DOMAIN.md sections 1-4)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from edi.claim_status import ClaimFinding, Entity, Location, StatusCategory
from edi.claims import ParsedClaim, Party
from edi.validators.codesets import is_dsm5_derived, is_preventive_pediatric
from edi.validators.edits.base import (
    Edit,
    EditContext,
    age_on,
    edit,
    npi_finding,
    patient_birth_date,
    service_dates,
)

A6, A7, A8 = StatusCategory.MISSING, StatusCategory.INVALID, StatusCategory.RELATIONAL
_NINE_DIGITS = re.compile(r"^\d{9}$")


@edit("P87726-PAYER-ID", version=1, snip=7,
      title="The claim is addressed to payer 87726 (2010BB payer and 1000B receiver)",
      emits=("A7:116:PR",))
def payer_id(e: Edit, claim: ParsedClaim, ctx: EditContext) -> Iterator[ClaimFinding]:
    payer = claim.payer.name
    if payer.identification_code_qualifier != "PI" or payer.identification_code != ctx.payer_id:
        yield e.finding(A7, ("116",), Entity.PAYER, Location("2010BB", "NM1", "NM109"),
                        f"The claim names another payer; Optum Behavioral Health's payer ID "
                        f"is {ctx.payer_id}.")
    receiver = claim.header.receiver.name
    if receiver.identification_code != ctx.payer_id:
        yield e.finding(A7, ("116",), Entity.PAYER, Location("1000B", "NM1", "NM109"),
                        f"The transaction is addressed to another receiver; Optum Behavioral "
                        f"Health's receiver ID is {ctx.payer_id}.")


def _preventive_exception(claim: ParsedClaim, ctx: EditContext) -> bool:
    """Every line a preventive pediatric service for a child, and the principal a Z code."""
    principal = claim.claim.diagnoses[0].code.upper() if claim.claim.diagnoses else ""
    birth = patient_birth_date(claim)
    if not principal.startswith("Z") or birth is None or not claim.claim.lines:
        return False
    for line in claim.claim.lines:
        start, _end = service_dates(line, claim)
        if start is None or not is_preventive_pediatric(
                line.procedure_code, age_on(birth, start), ctx.preventive_pediatric):
            return False
    return True


@edit("P87726-DSM5-PRINCIPAL", version=1, snip=7,
      title="The principal diagnosis is DSM-5-derived (preventive pediatric services may "
            "carry a Z code)", emits=("A6:254", "A7:254"))
def dsm5_principal(e: Edit, claim: ParsedClaim, ctx: EditContext) -> Iterator[ClaimFinding]:
    diagnoses = claim.claim.diagnoses
    where = Location("2300", "HI", "HI01-2")
    if not diagnoses:
        yield e.finding(A6, ("254",), None, where,
                        "A DSM-5-derived principal diagnosis (HI ABK) is required.")
        return
    codes = [d.code for d in diagnoses]
    if is_dsm5_derived(codes[0], codes) or _preventive_exception(claim, ctx):
        return
    yield e.finding(A7, ("254",), None, where,
                    "The principal diagnosis is not a DSM-5-derived ICD-10-CM code; Optum "
                    "Behavioral Health requires one (a Z code only for preventive pediatric "
                    "services).")


def _npi_findings(e: Edit, party: Party | None, entity: Entity, loop: str,
                  line: int | None, who: str) -> Iterator[ClaimFinding]:
    if party is None:
        return
    finding = npi_finding(e, party.name.npi, entity, loop, line, who)
    if finding is not None:
        yield finding
    if party.name.entity_type_qualifier != "1":
        yield e.finding(A7, ("562", "21"), entity, Location(loop, "NM1", "NM102", line),
                        f"The {who} must be a person (NM102 = 1) with an individual NPI.")


@edit("P87726-PROVIDER-NPI", version=1, snip=7,
      title="Billing (2010AA) and rendering (2310B, 2420A) NPIs pass the check digit; "
            "rendering clinicians are persons",
      emits=("A6:562:85", "A7:562:85", "A6:562:82", "A7:562:82"))
def provider_npis(e: Edit, claim: ParsedClaim, _ctx: EditContext) -> Iterator[ClaimFinding]:
    billing = claim.billing_provider
    finding = npi_finding(e, billing.npi, Entity.BILLING, "2010AA", None, "billing provider")
    if finding is not None:
        yield finding
    c = claim.claim
    yield from _npi_findings(e, c.rendering, Entity.RENDERING, "2310B", None,
                             "rendering provider")
    for line in c.lines:
        yield from _npi_findings(e, line.rendering, Entity.RENDERING, "2420A",
                                 line.assigned_number, "line's rendering provider")
    if (billing.name.entity_type_qualifier == "2" and c.rendering is None
            and any(line.rendering is None for line in c.lines)):
        yield e.finding(A6, ("562",), Entity.RENDERING, Location("2310B", "NM1", "NM109"),
                        "An organization billing provider must name the rendering clinician "
                        "(2310B or 2420A).")


@edit("P87726-SUPERVISOR-DIFFERS", version=2, snip=7,
      title="The supervising provider is not the rendering provider", emits=("A8:562:DQ",))
def supervisor_differs(e: Edit, claim: ParsedClaim, _ctx: EditContext) -> Iterator[ClaimFinding]:
    """Each line's supervisor (2420D, else 2310D) is not its rendering clinician (2420A,
    else 2310B, else the billing provider when it is a person: DOMAIN.md 2 and 4).
    Version 1 compared 2310D with 2310B only: a claim-level supervisor who rendered a
    line (2420A), or who billed as the individual with no 2310B, was accepted and paid."""
    c = claim.claim
    billing = claim.billing_provider
    claim_rendering = _npi(c.rendering) or (
        billing.npi if billing.name.entity_type_qualifier == "1" else None)
    supervisor = _npi(c.supervising)
    if supervisor and (supervisor == claim_rendering or any(
            line.supervising is None and _npi(line.rendering) == supervisor
            for line in c.lines)):
        yield _same_clinician(e, "2310D", None)
    for line in c.lines:
        own = _npi(line.supervising)
        if own and own == (_npi(line.rendering) or claim_rendering):
            yield _same_clinician(e, "2420D", line.assigned_number)


def _npi(party: Party | None) -> str | None:
    return party.name.npi or None if party is not None else None


def _same_clinician(e: Edit, loop: str, line: int | None) -> ClaimFinding:
    return e.finding(A8, ("562",), Entity.SUPERVISING, Location(loop, "NM1", "NM109", line),
                     "The supervising provider must be a different clinician from the "
                     "rendering provider.")


@edit("P87726-BILLING-TAX-ID", version=1, snip=7,
      title="The billing provider carries a TIN (REF*EI) or SSN (REF*SY) of nine digits",
      emits=("A6:128:85", "A7:128:85"))
def billing_tax_id(e: Edit, claim: ParsedClaim, _ctx: EditContext) -> Iterator[ClaimFinding]:
    reference = claim.billing_provider.tax_identification
    where = Location("2010AA", "REF", "REF02")
    if reference is None or reference.qualifier not in ("EI", "SY") or not reference.value:
        yield e.finding(A6, ("128",), Entity.BILLING, where,
                        "The billing provider's tax ID (REF*EI) or SSN (REF*SY) is required.")
    elif not _NINE_DIGITS.match(reference.value):
        yield e.finding(A7, ("128",), Entity.BILLING, where,
                        "The billing provider's tax ID must be nine digits.")
