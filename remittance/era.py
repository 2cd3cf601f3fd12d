"""The remittance advice for people: one 835 as a printable HTML page.

Billing staff read and print it beside the 835 their system posts: the payee, the
payment (amount, method, trace number, date), then per claim the patient, the
patient control number and the payer claim control number, the dates, each line
with its charge, allowed and paid amounts, and every adjustment with its group,
code and meaning in words; remark codes likewise; provider-level adjustments last.
Meanings come from `remittance/data/adjustment_codes.json` (its source and date are
printed at the foot of the page). Built with lxml, so every value is escaped; no
JavaScript; a print style sheet fits A4 and Letter.

Pure: the page depends only on the `Remittance`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from lxml import etree
from lxml.builder import E

from edi.remit835 import CasAdjustment, ClaimPayment, Remittance, ServicePayment

METHODS = {"ACH": "electronic funds transfer (ACH, CCD+)", "CHK": "check",
           "NON": "no payment (notification only)"}
_STYLE = """
body { font: 10pt/1.35 Helvetica, Arial, sans-serif; margin: 1.5em; color: #111; }
h1 { font-size: 14pt; margin: 0 0 .3em; } h2 { font-size: 11pt; margin: 1.2em 0 .3em; }
table { border-collapse: collapse; width: 100%; margin: .3em 0; }
th, td { border: 1px solid #999; padding: 2px 5px; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; white-space: nowrap; }
.claim { page-break-inside: avoid; margin-top: 1em; }
.foot { font-size: 8pt; color: #444; margin-top: 2em; }
@page { size: auto; margin: 12mm; }
@media print { body { margin: 0; } }
"""


@cache
def codes() -> dict[str, Any]:
    """The shipped CARC/RARC/group meanings (with their source and date)."""
    text = resources.files("remittance").joinpath("data/adjustment_codes.json").read_text(
        encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def meaning(kind: str, code: str) -> str:
    """A code's meaning in words, or a plain note that the table lacks it."""
    return str(codes()[kind].get(code, f"{kind.upper()} {code}: see the X12 code list."))


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def render_era(remittance: Remittance) -> str:
    r = remittance
    payee, payer = r.payee, r.payer
    page = E.html(
        E.head(E.meta(charset="utf-8"), E.title(f"Remittance advice {r.trace_number}"),
               E.style(_STYLE)),
        E.body(
            E.h1("Remittance advice"),
            E.table(
                _row("Payer", f"{payer.party.name} (payer id {payer.payer_id})"),
                _row("Payee", f"{payee.party.name}, NPI {payee.npi}, TIN {payee.tax_id}"),
                _row("Payment", f"{_money(r.amount)} by {METHODS[r.method]}"),
                _row("Trace number", r.trace_number),
                _row("Payment date", r.effective.isoformat()),
                _row("Produced", r.produced.isoformat()),
                _row("Claims", str(len(r.claims))),
            ),
            *[_claim(c) for c in r.claims],
            *_provider_adjustments(r),
            E.p(f"Code meanings: {codes()['source']} Retrieved {codes()['retrieved']}.",
                {"class": "foot"}),
        ),
    )
    body: bytes = etree.tostring(page, method="html", encoding="utf-8", doctype="<!DOCTYPE html>")
    return body.decode("utf-8") + "\n"


def _row(label: str, value: str) -> Any:
    return E.tr(E.th(label), E.td(value))


def _claim(c: ClaimPayment) -> Any:
    title = ("Reversal of an earlier payment" if c.status == "22" else "Claim")
    patient = ", ".join(p for p in (c.patient.last_name, c.patient.first_name) if p)
    facts = [
        _row("Patient", f"{patient} (member {c.patient.identifier})"),
        _row("Patient control number", c.patient_control_number),
        _row("Payer claim control number", c.payer_claim_control_number),
        _row("Charge / paid / patient responsibility",
             f"{_money(c.charge)} / {_money(c.paid)} / {_money(c.patient_responsibility)}"),
    ]
    if c.original_claim_number:
        facts.append(_row("Corrects claim", c.original_claim_number))
    if c.period is not None:
        facts.append(_row("Dates of service",
                          f"{c.period[0].isoformat()} to {c.period[1].isoformat()}"))
    if c.received is not None:
        facts.append(_row("Received", c.received.isoformat()))
    parts: list[Any] = [E.h2(f"{title} {c.payer_claim_control_number}"), E.table(*facts)]
    if c.services:
        parts.append(E.table(
            E.tr(E.th("Line"), E.th("Date"), E.th("Service"), E.th("Units", {"class": "n"}),
                 E.th("Charge", {"class": "n"}), E.th("Allowed", {"class": "n"}),
                 E.th("Paid", {"class": "n"}), E.th("Adjustments")),
            *[_line(n, s) for n, s in enumerate(c.services, start=1)]))
    if c.adjustments:
        parts.append(E.p("Claim adjustments: ", _adjustments(c.adjustments)))
    if c.remarks:
        parts.append(E.p("Remarks: ", _remarks(c.remarks)))
    return E.div({"class": "claim"}, *parts)


def _line(number: int, s: ServicePayment) -> Any:
    service = " ".join([s.procedure_code, *s.modifiers])
    reference = s.line_item_control_number
    return E.tr(
        E.td(str(number), *([E.br(), f"your ref {reference}"] if reference else [])),
        E.td(s.service_date.isoformat() if s.service_date else ""),
        E.td(service), E.td(format(s.units.normalize(), "f") if s.units is not None else "",
                            {"class": "n"}),
        E.td(_money(s.charge), {"class": "n"}), E.td(_money(s.allowed), {"class": "n"}),
        E.td(_money(s.paid), {"class": "n"}),
        E.td(_adjustments(s.adjustments), *([E.br(), _remarks(s.remarks)] if s.remarks else [])))


def _adjustments(items: tuple[CasAdjustment, ...]) -> Any:
    return E.ul(*[E.li(f"{a.group}-{a.reason} {_money(a.amount)}: "
                       f"{meaning('carc', a.reason)} ({meaning('groups', a.group)})")
                  for a in items])


def _remarks(items: tuple[str, ...]) -> Any:
    return E.ul(*[E.li(f"{code}: {meaning('rarc', code)}") for code in items])


def _provider_adjustments(r: Remittance) -> list[Any]:
    if not r.provider_adjustments:
        return []
    words = {"WO": "overpayment recovered", "FB": "forward balance",
             "L6": "interest", "72": "authorized return"}
    return [E.h2("Provider-level adjustments"), E.table(
        E.tr(E.th("Reason"), E.th("Reference"), E.th("Amount", {"class": "n"})),
        *[E.tr(E.td(f"{a.reason}: {words.get(a.reason, 'adjustment')}"), E.td(a.reference),
               E.td(_money(a.amount), {"class": "n"})) for a in r.provider_adjustments])]
