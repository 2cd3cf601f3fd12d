"""A decided claim as the 835 reports it (2100/2110), and the reversal of one remitted.

`claim_payment` turns a `Decision` and the claim it decided into a `ClaimPayment`:
CLP from the decision (CLP02 the status code the engine chose from the claim's payer
sequence, 2000B SBR01: 1 primary, 2 secondary, 3 tertiary; DOMAIN.md 8.2),
NM1*QC the patient, NM1*IL the insured when the patient is a dependent, NM1*82 the
rendering clinician when not the billing provider, REF*F8 the original of a
replacement, DTM*232/233 the first and last dates of service, DTM*050 the receipt
date, MOA the claim's remark codes, and one SVC per line echoing the procedure and
modifiers as billed, with its remark codes in LQ*HE.

`reversal_of` negates a claim exactly as it was remitted (CLP02 22, same CLP01 and
CLP07, every amount and CAS negated), so a reversal always mirrors what the provider
posted, whatever the engine would decide today.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from adjudication.decision import Decision, LineDecision
from adjudication.reference import LineOfBusiness, PastClaim
from edi.claims import EntityName, ParsedClaim
from edi.remit835 import CasAdjustment, ClaimPayment, Party, Payee, Person, ServicePayment

REVERSAL_STATUS = "22"

#: CLP06 values the 835 allows (pyx12's X221A1 map): the 837's SBR09 list without
#: 11, BL, CI and FI.
CLAIM_FILING_CODES_835 = frozenset({
    "12", "13", "14", "15", "16", "17", "AM", "CH", "DS", "HM", "LM", "MA", "MB", "MC",
    "OF", "TV", "VA", "WC", "ZZ"})
#: A commercial plan's CLP06 from its product, named in the plan id (COM-PPO-500).
_COMMERCIAL_PRODUCTS = (("PPO", "12"), ("POS", "13"), ("EPO", "14"), ("HMO", "HM"))


def filing_indicator(sbr09: str | None, lob: LineOfBusiness | None, plan_id: str | None
                     ) -> str:
    """CLP06: the claim's SBR09 when the 835 has that code, else the line of business:
    Medicaid MC, Medicare Advantage 16 (HMO Medicare risk), a commercial plan by its
    product (PPO 12, POS 13, EPO 14, HMO HM, else 15 indemnity); ZZ (mutually defined)
    when the member was never identified."""
    if sbr09 in CLAIM_FILING_CODES_835:
        return sbr09
    if lob is LineOfBusiness.MEDICAID:
        return "MC"
    if lob is LineOfBusiness.MEDICARE_ADVANTAGE:
        return "16"
    if lob is LineOfBusiness.COMMERCIAL:
        product = (plan_id or "").upper()
        return next((code for token, code in _COMMERCIAL_PRODUCTS if token in product), "15")
    return "ZZ"


def payee_of(claim: ParsedClaim) -> Payee:
    """Who is paid: the billing provider (2010AA NPI and REF*EI/SY tax id), at its
    pay-to address (2010AB) when it gave one. Bank details are added by the cycle."""
    billing = claim.billing_provider
    place = (billing.pay_to.address if billing.pay_to is not None
             and billing.pay_to.address is not None else billing.address)
    party = Party(
        name=billing.name.last_or_organization_name or "",
        address=tuple(line for line in (place.address_line_1, place.address_line_2) if line)
        if place else (),
        city=place.city_name or "" if place else "", state=place.state_code or ""
        if place else "", postal_code=place.postal_code or "" if place else "")
    return Payee(party=party, npi=billing.npi or "", tax_id=billing.tax_id or "")


def _person(name: EntityName, identifier: str | None) -> Person:
    return Person(last_name=name.last_or_organization_name or "",
                  first_name=name.first_name or "", identifier=identifier or "",
                  entity_type=name.entity_type_qualifier or "1")


def claim_payment(decision: Decision, claim: ParsedClaim) -> ClaimPayment:
    """The 2100 loop of a decided claim (not a reversal: see `reversal_of`)."""
    c = claim.claim
    subscriber = claim.subscriber
    member_id = decision.member_id or subscriber.member_id
    if claim.patient is not None:  # a dependent: the insured is the subscriber
        patient = _person(claim.patient.name, member_id)
        insured: Person | None = _person(subscriber.name, subscriber.member_id)
    else:
        patient, insured = _person(subscriber.name, member_id), None
    billing_npi = claim.billing_provider.npi
    rendering = None
    if c.rendering is not None and c.rendering.name.npi not in (None, billing_npi):
        rendering = _person(c.rendering.name, c.rendering.name.npi)
    dates = [line.service_date for line in decision.lines]
    original = (decision.reversal.original_icn
                if decision.reversal is not None and decision.frequency_code == "7" else None)
    # a decided claim's lines are its 2400 loops in order (a void has none of its own)
    controls = ([line.line_item_control_number for line in c.lines]
                if len(c.lines) == len(decision.lines) else [None] * len(decision.lines))
    return ClaimPayment(
        patient_control_number=decision.patient_control_number,
        status=decision.claim_status_code, charge=decision.charge, paid=decision.paid,
        patient_responsibility=decision.patient_responsibility,
        filing_indicator=filing_indicator(subscriber.claim_filing_indicator_code,
                                          decision.line_of_business, decision.plan_id),
        payer_claim_control_number=decision.icn,
        place_of_service=c.place_of_service_code or "",
        frequency_code=decision.frequency_code, patient=patient, insured=insured,
        rendering=rendering, original_claim_number=original,
        period=(min(dates), max(dates)) if dates else None, received=decision.received,
        adjustments=tuple(CasAdjustment(str(a.group), a.carc, a.amount)
                          for a in decision.claim_adjustments),
        services=tuple(_service(line, control)
                       for line, control in zip(decision.lines, controls, strict=True)),
        remarks=decision.rarcs,
    )


def _service(line: LineDecision, control: str | None) -> ServicePayment:
    """A line as remitted, with the line item control number the provider gave it
    (``control``, REF*6R); a line split by a partial authorization pays SVC05 units of
    the SVC07 billed, its CO-198 carrying the units denied (CAS04)."""
    denied_units = line.units - line.paid_units if line.units_paid is not None else None
    return ServicePayment(
        procedure_code=line.procedure_code, modifiers=line.modifiers, charge=line.charge,
        paid=line.paid, units=line.paid_units, service_date=line.service_date,
        adjustments=tuple(CasAdjustment(str(a.group), a.carc, a.amount,
                                        denied_units if a.carc == "198" else None)
                          for a in line.adjustments),
        allowed=line.allowed if line.status == "paid" else None, remarks=line.rarcs,
        original_units=line.units if line.units_paid is not None else None,
        line_item_control_number=control)


def reversal_of(remitted: ClaimPayment) -> ClaimPayment:
    """The CLP02 22 reversal of a claim as it was remitted: every amount negated."""
    return replace(
        remitted, status=REVERSAL_STATUS, charge=-remitted.charge, paid=-remitted.paid,
        patient_responsibility=-remitted.patient_responsibility, original_claim_number=None,
        adjustments=tuple(_negated(a) for a in remitted.adjustments),
        services=tuple(replace(s, charge=-s.charge, paid=-s.paid,
                               allowed=-s.allowed if s.allowed is not None else None,
                               adjustments=tuple(_negated(a) for a in s.adjustments))
                       for s in remitted.services))


def _negated(a: CasAdjustment) -> CasAdjustment:
    return replace(a, amount=-a.amount)


def _says_what_was_remitted(line: PastClaim) -> bool:
    """A history line remitted and not since reversed, whose adjustments account for its
    charge (charge less every CAS is what was paid) and for its patient responsibility
    (the PR adjustments, as CLP05 must be: DOMAIN.md 8.4)."""
    cas = line.cas()
    return (line.remittance_date is not None and line.status in ("paid", "denied")
            and line.charge - sum((a for _g, _c, a in cas), Decimal(0)) == line.paid
            and sum((a for g, _c, a in cas if g == "PR"), Decimal(0))
            == line.patient_responsibility)


def original_from_history(lines: Sequence[PastClaim], like: ClaimPayment) -> ClaimPayment | None:
    """The CLP an original remitted before this engine kept its 835s (reference past
    claims), for its reversal; None when the history cannot say exactly what was
    remitted: a line not remitted, already reversed or voided, or whose adjustments
    do not account for its charge and its patient responsibility. The patient, insured
    and place of service are the correction's (the same patient's claim)."""
    if not lines or not all(map(_says_what_was_remitted, lines)):
        return None
    ordered = sorted(lines, key=lambda line: line.line_number)
    first = ordered[0]
    services = tuple(ServicePayment(
        procedure_code=line.procedure_code, modifiers=line.modifiers, charge=line.charge,
        paid=line.paid, units=line.units, service_date=line.service_date,
        adjustments=tuple(CasAdjustment(g, c, a) for g, c, a in line.cas()),
        allowed=None, remarks=()) for line in ordered)
    dates = [line.service_date for line in ordered]
    return replace(
        like, patient_control_number=first.patient_control_number, status="1",
        charge=sum((line.charge for line in ordered), Decimal(0)),
        paid=sum((line.paid for line in ordered), Decimal(0)),
        patient_responsibility=sum((line.patient_responsibility for line in ordered),
                                   Decimal(0)),
        filing_indicator=filing_indicator(None, first.line_of_business, None)
        if like.filing_indicator in ("", "ZZ") else like.filing_indicator,
        payer_claim_control_number=first.icn, frequency_code="1",
        original_claim_number=None, period=(min(dates), max(dates)), received=first.effective,
        adjustments=(), services=services, remarks=())
