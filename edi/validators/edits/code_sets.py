"""SNIP 5: external code sets (ICD-10-CM by date of service, POS, provider states,
CPT/HCPCS shape)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from edi.claim_status import ClaimFinding, Entity, Location, StatusCategory
from edi.claims import ParsedClaim
from edi.validators.codesets import (
    is_code_shaped,
    is_valid_place_of_service,
    is_valid_state,
    is_well_formed_modifier,
    is_well_formed_procedure,
    normalize_code,
)
from edi.validators.edits.base import Edit, EditContext, claim_service_range, edit, service_dates

A7 = StatusCategory.INVALID
ICD10_QUALIFIERS = {"ABK": "principal", "ABF": "other"}


def _diagnosis_dates(claim: ParsedClaim, received: date) -> list[tuple[date, str]]:
    """Every distinct first date of service on the claim (code sets change on 1 October),
    each with how the finding names it. A claim with no date of service is checked on
    its receipt date: no diagnosis goes unchecked."""
    dates = {start for line in claim.claim.lines
             if (start := service_dates(line, claim)[0]) is not None}
    if not dates:
        start, _end = claim_service_range(claim)
        dates = {start} if start is not None else set()
    if not dates:
        return [(received, "receipt date (the claim has no date of service)")]
    return [(day, "date of service") for day in sorted(dates)]


@edit("SNIP5-ICD10CM", version=4, snip=5,
      title="Every diagnosis is an ICD-10-CM code as the code list writes it (no decimal "
            "point, capitals): billable in the release in force on the date of service or "
            "in another loaded release (adjudication denies that one CO-146), or, on a date "
            "no loaded release covers, shaped like one (adjudication pends it)",
      emits=("A7:254", "A7:255"))
def icd10_code_set(e: Edit, claim: ParsedClaim, ctx: EditContext) -> Iterator[ClaimFinding]:
    dates = _diagnosis_dates(claim, ctx.received)
    code_sets = ctx.code_sets
    for position, diagnosis in enumerate(claim.claim.diagnoses, start=1):
        if diagnosis.qualifier not in ICD10_QUALIFIERS:
            status, where, kind = _diagnosis_named(position)
            yield e.finding(A7, (status,), None, where,
                            f"The {kind} is not qualified as ICD-10-CM (ABK/ABF); ICD-9 and "
                            "other code lists are not accepted.")
            continue
        if diagnosis.code != normalize_code(diagnosis.code):  # TR3: no decimal point
            status, where, kind = _diagnosis_named(position)
            yield e.finding(A7, (status,), None, where,
                            f"The {kind} is not written as the ICD-10-CM code list writes "
                            "it: no decimal point, no blank, capital letters (F411, not "
                            "F41.1).")
            continue
        if code_sets.is_known(diagnosis.code):
            continue  # billable in a release loaded: on another date adjudication's CO-146
        for day, named in dates:
            release = code_sets.is_billable(diagnosis.code, day).release
            if release is not None:  # the release in force, and no other, lacks it
                status, where, kind = _diagnosis_named(position)
                yield e.finding(A7, (status,), None, where,
                                f"The {kind} is not a billable ICD-10-CM code for the "
                                f"{named} {day:%Y-%m-%d} ({release}) nor in any other "
                                "release loaded.", code_set=release)
                break
        else:  # no release loaded is in force on any of the dates: adjudication pends
            if not is_code_shaped(diagnosis.code):
                status, where, kind = _diagnosis_named(position)
                yield e.finding(A7, (status,), None, where,
                                f"The {kind} is not an ICD-10-CM code (a letter, a digit, "
                                "then one to five letters or digits).",
                                code_set=NO_RELEASE_IN_FORCE)


NO_RELEASE_IN_FORCE = "no release loaded is in force on the date of service"
"""What a finding names as its code set when no loaded release decided it."""


def _diagnosis_named(position: int) -> tuple[str, Location, str]:
    """A diagnosis finding's status code, location and words (built only for a finding)."""
    if position == 1:
        return "254", Location("2300", "HI", "HI01-2"), "principal diagnosis"
    return ("255", Location("2300", "HI", f"HI{position:02d}-2"),
            f"diagnosis in position {position}")


@edit("SNIP5-PLACE-OF-SERVICE", version=1, snip=5,
      title="Places of service (CLM05-1, SV105) are CMS place-of-service codes",
      emits=("A7:249",))
def place_of_service(e: Edit, claim: ParsedClaim, _ctx: EditContext) -> Iterator[ClaimFinding]:
    code = claim.claim.place_of_service_code
    if not code or not is_valid_place_of_service(code):
        yield e.finding(A7, ("249",), None, Location("2300", "CLM", "CLM05-1"),
                        "The place of service is not a CMS place-of-service code.")
    for line in claim.claim.lines:
        if line.place_of_service_code and not is_valid_place_of_service(
                line.place_of_service_code):
            yield e.finding(A7, ("249",), None,
                            Location("2400", "SV1", "SV105", line.assigned_number),
                            "The line's place of service is not a CMS place-of-service code.")


@edit("SNIP5-PROVIDER-STATE", version=1, snip=5,
      title="The billing provider's and pay-to address's states (2010AA and 2010AB N402) "
            "are state or province codes (code source 22)", emits=("A7:501:85",))
def provider_state(e: Edit, claim: ParsedClaim, _ctx: EditContext) -> Iterator[ClaimFinding]:
    # the payee's address on the 835 is one of these, where the state must be on the list
    billing = claim.billing_provider
    pay_to = billing.pay_to.address if billing.pay_to is not None else None
    for loop, address, whose in (("2010AA", billing.address, "billing provider's"),
                                 ("2010AB", pay_to, "pay-to address's")):
        state = address.state_code if address is not None else None
        if state and not is_valid_state(state):
            yield e.finding(A7, ("501",), Entity.BILLING, Location(loop, "N4", "N402"),
                            f"The {whose} state is not a US state or Canadian province "
                            "code (code source 22, in capitals).")


@edit("SNIP5-PROCEDURE", version=1, snip=5,
      title="Procedure codes have a CPT or HCPCS shape and modifiers are well formed",
      emits=("A7:454", "A7:453"))
def procedures(e: Edit, claim: ParsedClaim, _ctx: EditContext) -> Iterator[ClaimFinding]:
    for line in claim.claim.lines:
        if line.product_or_service_id_qualifier != "HC" or not is_well_formed_procedure(
                line.procedure_code):
            yield e.finding(A7, ("454",), None,
                            Location("2400", "SV1", "SV101-2", line.assigned_number),
                            "The procedure code is not a well-formed CPT or HCPCS code (HC).")
        for index, modifier in enumerate(line.procedure_modifiers, start=3):
            if modifier and not is_well_formed_modifier(modifier):
                yield e.finding(A7, ("453",), None,
                                Location("2400", "SV1", f"SV101-{index}", line.assigned_number),
                                "A procedure modifier is not two letters or digits.")


@edit("SNIP5-DIAGNOSIS-POINTER", version=1, snip=5,
      title="Diagnosis pointers (SV107) point at diagnoses present in HI", emits=("A7:477",))
def diagnosis_pointers(e: Edit, claim: ParsedClaim, _ctx: EditContext) -> Iterator[ClaimFinding]:
    count = len(claim.claim.diagnoses)
    for line in claim.claim.lines:
        pointers = line.diagnosis_code_pointers
        if not pointers or any(p < 1 or p > count for p in pointers):
            yield e.finding(A7, ("477",), None,
                            Location("2400", "SV1", "SV107", line.assigned_number),
                            f"Each diagnosis pointer must name one of the claim's {count} "
                            "diagnoses (1 to 12).")
