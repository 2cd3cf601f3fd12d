"""Write the 835 health care claim payment/advice (005010X221A1).

One `Remittance` is one payment (one BPR and one TRN) to one payee, and becomes one
interchange with one HP functional group and one 835 transaction set. The segments
follow pyx12's ``835.5010.X221.A1.xml`` map:

    BPR  handling, amount, C, method (ACH with both banks, CHK, NON), effective date
    TRN*1  trace number (EFT trace or check number), 1 + payer TIN
    DTM*405  production date
    1000A  N1*PR payer, N3, N4, REF*2U payer id, PER*CX, PER*BL (required)
    1000B  N1*PE payee with NPI (XX), N3/N4 when known, REF*TJ payee TIN
    2000   LX header number
      2100  CLP, CAS (claim level), NM1*QC patient, NM1*IL insured when not the patient,
            NM1*82 rendering when not the payee, MOA claim remark codes, REF*F8
            original claim, DTM*232/233 service period, DTM*050 received
        2110  SVC (procedure and modifiers as billed, charge, paid, units), DTM*472,
              CAS, REF*6R line item control number when the 837P line had one,
              AMT*B6 allowed, LQ*HE remark codes
    PLB  provider adjustments (up to six per segment, split beyond)

CAS segments are grouped by group code in the order groups first appear, at most six
reason/amount pairs each (a seventh starts another CAS of the same group).

Pure: control numbers and the clock come from the `Responder`; the values come from
the caller, which has already decided what they are. Amounts are written with two
decimals (signed for a reversal); every text value is cleaned of our delimiters.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, TextIO

from edi.acks import UNECHOED_PATIENT_CONTROL_NUMBER, Responder, clean, echoed
from edi.amounts import amount_text, quantity_text
from edi.writer import Element, X12Writer, isa_elements

REMITTANCE_VERSION = "005010X221A1"
MAX_CAS_PAIRS = 6
MAX_PLB_PAIRS = 6

Method = Literal["ACH", "CHK", "NON"]


@dataclass(frozen=True, slots=True)
class CasAdjustment:
    group: str
    """CAS01: CO, OA, PI or PR (the only groups 5010 allows)."""
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ServicePayment:
    """One 2110 loop."""

    procedure_code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    units: Decimal | None
    service_date: date | None
    adjustments: tuple[CasAdjustment, ...] = ()
    allowed: Decimal | None = None
    remarks: tuple[str, ...] = ()
    original_units: Decimal | None = None
    """SVC07: the units billed, when the units paid (SVC05) are fewer."""
    line_item_control_number: str | None = None
    """REF*6R: the line's 2400 REF*6R as the provider sent it (the guide requires it
    back when it was received), so the provider's system matches the line."""


@dataclass(frozen=True, slots=True)
class Person:
    """NM1 of a patient, insured or rendering provider."""

    last_name: str
    first_name: str = ""
    identifier: str = ""
    entity_type: str = "1"
    """NM102: 1 person, 2 organization."""


@dataclass(frozen=True, slots=True)
class ClaimPayment:
    """One 2100 loop: a claim as paid, denied or reversed."""

    patient_control_number: str
    status: str
    """CLP02: 1, 2, 3, 4, 19-23 or 25 (22 a reversal of a previous payment)."""
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    filing_indicator: str
    """CLP06 (claim filing indicator of the 837's SBR09: CI, HM, MC, 16 ...)."""
    payer_claim_control_number: str
    place_of_service: str
    frequency_code: str
    patient: Person
    insured: Person | None = None
    rendering: Person | None = None
    original_claim_number: str | None = None
    """REF*F8: the payer claim control number a correction replaces."""
    period: tuple[date, date] | None = None
    received: date | None = None
    adjustments: tuple[CasAdjustment, ...] = ()
    services: tuple[ServicePayment, ...] = ()
    remarks: tuple[str, ...] = ()
    """Claim-level remark codes (RARCs), MOA03-MOA07."""


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One PLB pair: reason (WO, FB, L6 ...), reference, signed amount (positive takes
    money from the payment, negative adds to it)."""

    reason: str
    reference: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    address: tuple[str, ...] = ()
    city: str = ""
    state: str = ""
    postal_code: str = ""


@dataclass(frozen=True, slots=True)
class BankAccount:
    routing: str
    """ABA routing number (DFI identification, qualifier 01)."""
    account: str
    account_type: str = "DA"
    """DA demand deposit (checking), SG savings."""


@dataclass(frozen=True, slots=True)
class Payer:
    party: Party
    payer_id: str
    tax_id: str
    """Nine digits; TRN03 and BPR10 are ``1`` followed by it."""
    business_contact: tuple[str, str]
    """(name, telephone) for PER*CX."""
    technical_contact: tuple[str, str]
    """(name, telephone) for PER*BL."""
    bank: BankAccount | None = None


@dataclass(frozen=True, slots=True)
class Payee:
    party: Party
    npi: str
    tax_id: str
    bank: BankAccount | None = None


@dataclass(frozen=True, slots=True)
class Remittance:
    """One 835: one payment to one payee."""

    payer: Payer
    payee: Payee
    method: Method
    amount: Decimal
    trace_number: str
    effective: date
    """BPR16: the EFT effective date or the check issue date."""
    produced: date
    """DTM*405."""
    claims: tuple[ClaimPayment, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    fiscal_period_end: date | None = None
    """PLB02 (the last day of the provider's fiscal year)."""
    receiver_qualifier: str = "ZZ"
    receiver_id: str = ""
    """ISA07/ISA08 of the interchange: where the 835 is delivered (the clearinghouse or
    the provider); the payee's NPI when empty."""

    @property
    def handling_code(self) -> str:
        """BPR01: H notification only (no money), C payment with it (ACH), I
        remittance only (the check travels apart)."""
        return {"NON": "H", "ACH": "C", "CHK": "I"}[self.method]


def render_835(remittance: Remittance, responder: Responder) -> str:
    out = io.StringIO()
    write_835(remittance, responder, out)
    return out.getvalue()


def write_835(remittance: Remittance, responder: Responder, out: TextIO) -> None:
    """One interchange (ISA .. IEA) holding the 835 of one payment."""
    if remittance.method == "NON" and remittance.amount != 0:
        raise ValueError("a payment method of NON is for a zero payment only")
    if remittance.method != "NON" and remittance.amount <= 0:
        raise ValueError("a payment that moves money is more than zero")
    writer = X12Writer(out)
    receiver = clean(remittance.receiver_id, 15) or clean(remittance.payee.npi, 15)
    when = responder.when
    interchange = responder.control.next_interchange(f"{remittance.receiver_qualifier}:"
                                                     f"{receiver}")
    group = responder.control.next_group(f"{remittance.receiver_qualifier}:{receiver}")
    writer.write("ISA", *isa_elements(
        sender_qualifier=responder.our_qualifier, sender_id=responder.our_id,
        receiver_qualifier=remittance.receiver_qualifier, receiver_id=receiver,
        control_number=interchange, when=when))
    writer.write("GS", "HP", responder.our_id, receiver, when.strftime("%Y%m%d"),
                 when.strftime("%H%M"), str(group), "X", REMITTANCE_VERSION)
    start = writer.segment_count
    writer.write_all(_transaction(remittance))
    writer.write("SE", str(writer.segment_count - start + 1), "0001")
    writer.write("GE", "1", str(group))
    writer.write("IEA", "1", f"{interchange:09d}")


def _transaction(r: Remittance) -> Iterator[list[Element]]:
    yield ["ST", "835", "0001"]
    yield _bpr(r)
    yield ["TRN", "1", clean(r.trace_number, 50), "1" + clean(r.payer.tax_id, 9)]
    yield ["DTM", "405", r.produced.strftime("%Y%m%d")]
    yield from _party("PR", r.payer.party)
    yield ["REF", "2U", clean(r.payer.payer_id, 50)]
    name, phone = r.payer.business_contact
    yield ["PER", "CX", clean(name, 60), "TE", clean(phone, 256)]
    name, phone = r.payer.technical_contact
    yield ["PER", "BL", clean(name, 60), "TE", clean(phone, 256)]
    # a name none of whose characters can travel would leave N102 empty: the 835 then
    # fails the cycle's check, and so does every cycle after it
    yield ["N1", "PE", echoed(r.payee.party.name, 60), "XX", clean(r.payee.npi, 80)]
    yield from _address(r.payee.party)
    yield ["REF", "TJ", clean(r.payee.tax_id, 50)]
    if r.claims:
        yield ["LX", "1"]
    for claim in r.claims:
        yield from _claim(claim)
    yield from _plb(r)


def _bpr(r: Remittance) -> list[Element]:
    effective = r.effective.strftime("%Y%m%d")
    if r.method == "ACH":
        payer, payee = r.payer.bank, r.payee.bank
        if payer is None or payee is None:
            raise ValueError("an ACH payment needs the payer's and the payee's bank accounts")
        return ["BPR", "C", amount_text(r.amount), "C", "ACH", "CCP",
                "01", clean(payer.routing, 12), clean(payer.account_type, 3),
                clean(payer.account, 35), "1" + clean(r.payer.tax_id, 9), "",
                "01", clean(payee.routing, 12), clean(payee.account_type, 3),
                clean(payee.account, 35), effective]
    return ["BPR", r.handling_code, amount_text(r.amount), "C", r.method,
            "", "", "", "", "", "", "", "", "", "", "", effective]


def _party(code: str, party: Party) -> Iterator[list[Element]]:
    yield ["N1", code, echoed(party.name, 60)]
    yield from _address(party)


def _address(party: Party) -> Iterator[list[Element]]:
    lines = [clean(line, 55) for line in party.address if clean(line, 55)]
    if lines:
        yield ["N3", *lines[:2]]
    city = clean(party.city, 30)
    if city:  # N401 is required: no N4 rather than one without its city
        yield ["N4", city, clean(party.state, 2), clean(party.postal_code, 15)]


def _claim(c: ClaimPayment) -> Iterator[list[Element]]:
    yield ["CLP", echoed(c.patient_control_number, 38, UNECHOED_PATIENT_CONTROL_NUMBER),
           c.status, amount_text(c.charge),
           amount_text(c.paid), amount_text(c.patient_responsibility) if c.patient_responsibility
           else "", clean(c.filing_indicator, 2), clean(c.payer_claim_control_number, 50),
           clean(c.place_of_service, 2), clean(c.frequency_code, 1)]
    yield from _cas(c.adjustments)
    yield _person("QC", c.patient, "MI")
    if c.insured is not None:
        yield _person("IL", c.insured, "MI")
    if c.rendering is not None:
        yield _person("82", c.rendering, "XX")
    if c.remarks:
        yield ["MOA", "", "", *(clean(r, 30) for r in c.remarks[:5])]
    if c.original_claim_number:
        yield ["REF", "F8", clean(c.original_claim_number, 50)]
    if c.period is not None:
        yield ["DTM", "232", c.period[0].strftime("%Y%m%d")]
        yield ["DTM", "233", c.period[1].strftime("%Y%m%d")]
    if c.received is not None:
        yield ["DTM", "050", c.received.strftime("%Y%m%d")]
    for service in c.services:
        yield from _service(service)


def _person(code: str, p: Person, qualifier: str) -> list[Element]:
    identifier = clean(p.identifier, 80)
    return ["NM1", code, p.entity_type, clean(p.last_name, 60), clean(p.first_name, 35),
            "", "", "", qualifier if identifier else "", identifier]


def _service(s: ServicePayment) -> Iterator[list[Element]]:
    procedure = ["HC", clean(s.procedure_code, 48), *(clean(m, 2) for m in s.modifiers[:4])]
    svc: list[Element] = ["SVC", procedure, amount_text(s.charge), amount_text(s.paid), "",
                          quantity_text(s.units) if s.units is not None else ""]
    if s.original_units is not None:
        svc += ["", quantity_text(s.original_units)]
    yield svc
    if s.service_date is not None:
        yield ["DTM", "472", s.service_date.strftime("%Y%m%d")]
    yield from _cas(s.adjustments)
    control = clean(s.line_item_control_number or "", 50)
    if control:  # none when nothing of it can travel, as the 277CA's REF*FJ
        yield ["REF", "6R", control]
    if s.allowed is not None:
        yield ["AMT", "B6", amount_text(s.allowed)]
    for remark in s.remarks:
        yield ["LQ", "HE", clean(remark, 30)]


def _cas(adjustments: Sequence[CasAdjustment]) -> Iterator[list[Element]]:
    groups: dict[str, list[CasAdjustment]] = {}
    for a in adjustments:
        groups.setdefault(a.group, []).append(a)
    for group, items in groups.items():
        for start in range(0, len(items), MAX_CAS_PAIRS):
            elements: list[Element] = ["CAS", group]
            for a in items[start:start + MAX_CAS_PAIRS]:
                elements += [clean(a.reason, 5), amount_text(a.amount),
                             quantity_text(a.quantity) if a.quantity is not None else ""]
            yield elements


def _plb(r: Remittance) -> Iterator[list[Element]]:
    if not r.provider_adjustments:
        return
    period = (r.fiscal_period_end or date(r.produced.year, 12, 31)).strftime("%Y%m%d")
    items = list(r.provider_adjustments)
    for start in range(0, len(items), MAX_PLB_PAIRS):
        elements: list[Element] = ["PLB", clean(r.payee.npi, 50), period]
        for a in items[start:start + MAX_PLB_PAIRS]:
            reference = clean(a.reference, 50)
            elements += [[clean(a.reason, 2), reference] if reference else clean(a.reason, 2),
                         amount_text(a.amount)]
        yield elements

