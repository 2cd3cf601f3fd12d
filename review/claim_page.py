"""One claim for the claim page: header, parties, lines, decision in words, trace, history.

A person without the PHI permission gets the same page with every name, member id,
birth date, address, diagnosis and patient control number left out: fields are
blanked by what they are, trace inputs by their name, and any text that still
carries one of this claim's PHI values has it masked.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adjudication.decision import Decision, TraceStep
from edi.claims import EntityName, ParsedClaim, Party
from review.codes import front_end_words, relationship_words
from store.models import (
    Claim,
    DecisionRecord,
    PendRelease,
    ReceivedFile,
    RemittanceRecord,
    RemittedClaim,
)
from workers.decisions import decision_from_record

MASK = "•••"
PHI_INPUTS = frozenset({"subscriber_id", "member_id", "birth_date", "patient_loop",
                        "patient_name", "name"})
FREQUENCY = {"1": "original", "7": "replacement of a prior claim",
             "8": "void of a prior claim"}


@dataclass(frozen=True)
class Code:
    code: str
    meaning: str


@dataclass(frozen=True)
class PartyView:
    role: str
    name: str
    npi: str | None = None
    detail: str = ""


@dataclass
class ClaimPage:
    claim_id: int
    icn: str | None
    patient_control_number: str
    charge_cents: int
    received: date
    front_end: str
    file_id: int
    file_name: str
    phi: bool
    original_icn: str | None = None
    frequency: str = ""
    place_of_service: str = ""
    front_end_codes: list[Code] = field(default_factory=list)
    front_end_reasons: list[str] = field(default_factory=list)
    parties: list[PartyView] = field(default_factory=list)
    diagnoses: list[Code] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    decision: Decision | None = None
    decided_at: datetime | None = None
    trace: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    releases: list[dict[str, Any]] = field(default_factory=list)
    replacements: list[tuple[int, str | None]] = field(default_factory=list)
    """The replacements and voids of this claim that took effect (reversed it)."""
    corrections_not_in_effect: list[tuple[int, str | None, str]] = field(
        default_factory=list)
    """Corrections naming this claim that did not reverse it: (id, claim number, what
    became of it in words: denied, pended, rejected at the front end)."""
    original_claim_id: int | None = None
    remittances: list[dict[str, Any]] = field(default_factory=list)


def front_end_code(code: str) -> Code:
    """``A7:562:85`` in words (`review.codes.front_end_words`)."""
    return Code(code, front_end_words(code))


def _name(name: EntityName) -> str:
    return " ".join(p for p in (name.first_name, name.middle_name,
                                name.last_or_organization_name) if p)


def _diagnosis(code: str) -> str:
    try:
        cm: Any = importlib.import_module("simple_icd_10_cm")  # ships no type hints
        dotted = code if "." in code or len(code) <= 3 else f"{code[:3]}.{code[3:]}"
        return str(cm.get_description(dotted)) if cm.is_valid_item(dotted) else ""
    except Exception:  # a code the package does not know: shown without words
        return ""


class Redactor:
    """Masks a claim's PHI values in text for a person who may not see them."""

    def __init__(self, values: list[str], active: bool) -> None:
        self.active = active
        self.values = sorted({v for v in values if v and len(v) >= 3}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        if not self.active:
            return text
        for value in self.values:
            text = text.replace(value, MASK)
        return text


def _phi_values(parsed: ParsedClaim | None, decision: Decision | None,
                claim: Claim) -> list[str]:
    values = [claim.patient_control_number, claim.subscriber_id or ""]
    if decision is not None:
        values.append(decision.member_id or "")
    if parsed is not None:
        people = [parsed.subscriber.name, parsed.subscriber.demographics]
        if parsed.patient is not None:
            people += [parsed.patient.name, parsed.patient.demographics]
        for item in people:
            if isinstance(item, EntityName):
                values += [item.last_or_organization_name or "", item.first_name or "",
                           item.identification_code or ""]
            elif item is not None and item.birth_date is not None:
                values.append(item.birth_date.isoformat())
    return values


def claim_page(s: Session, claim_id: int, *, phi: bool) -> ClaimPage | None:
    claim = s.get(Claim, claim_id)
    if claim is None:
        return None
    received = s.get(ReceivedFile, claim.file_id)
    assert received is not None
    parsed = ParsedClaim.model_validate_json(claim.parsed) if claim.parsed else None
    record = None
    if claim.icn is not None:
        record = s.scalar(select(DecisionRecord).where(
            DecisionRecord.icn == claim.icn, DecisionRecord.current.is_(True)))
    decision = decision_from_record(record.data, record.trace) if record else None
    hide = Redactor(_phi_values(parsed, decision, claim), active=not phi)
    page = ClaimPage(
        claim_id=claim.id, icn=claim.icn,
        patient_control_number=claim.patient_control_number if phi else MASK,
        charge_cents=claim.charge_cents, received=claim.receipt_date,
        front_end=claim.front_end, file_id=received.id,
        file_name=received.name.replace("\\", "/").rsplit("/", 1)[-1], phi=phi,
        original_icn=claim.original_icn,
        front_end_codes=[front_end_code(c) for c in claim.codes],
        front_end_reasons=[hide(r) for r in claim.reasons],
        decision=decision, decided_at=record.decided_at if record else None)
    if parsed is not None:
        _from_parsed(page, parsed, hide)
    if decision is not None:
        page.trace = [_step(step, hide) for step in decision.trace]
    _history(s, page, claim)
    return page


def _from_parsed(page: ClaimPage, parsed: ParsedClaim, hide: Redactor) -> None:
    c = parsed.claim
    page.frequency = FREQUENCY.get(c.claim_frequency_type_code or "1",
                                   c.claim_frequency_type_code or "")
    page.place_of_service = c.place_of_service_code or ""
    bp = parsed.billing_provider
    tax = bp.tax_id or ""
    page.parties.append(PartyView("Billing provider (payee)", _name(bp.name),
                                  bp.name.identification_code, f"TIN {tax}" if tax else ""))
    for role, party in (("Rendering", c.rendering), ("Supervising", c.supervising),
                        ("Referring", c.referring), ("Service facility", c.service_facility)):
        if isinstance(party, Party):
            page.parties.append(PartyView(role, _name(party.name),
                                          party.name.identification_code))
    if page.phi:
        sub = parsed.subscriber
        born = sub.demographics.birth_date if sub.demographics else None
        page.parties.insert(0, PartyView(
            "Subscriber", _name(sub.name), None,
            f"member id {sub.name.identification_code or ''}"
            + (f", born {born.isoformat()}" if born else "")))
        if parsed.patient is not None:
            pat = parsed.patient
            born = pat.demographics.birth_date if pat.demographics else None
            page.parties.insert(1, PartyView(
                "Patient", _name(pat.name), None,
                "relationship " + _relationship(
                    pat.patient_information.individual_relationship_code)
                + (f", born {born.isoformat()}" if born else "")))
        page.diagnoses = [Code(d.code, _diagnosis(d.code)) for d in c.diagnoses]
    decided = {line.line_number: line for line in page.decision.lines} \
        if page.decision else {}
    for line in c.lines:
        start = line.service_date.start if line.service_date else None
        page.lines.append({
            "number": line.assigned_number,
            "procedure": line.procedure_code, "modifiers": list(line.procedure_modifiers),
            "date": start.isoformat() if start else "",
            "units": line.service_unit_count, "charge": line.line_item_charge_amount,
            "place": line.place_of_service_code or c.place_of_service_code or "",
            "rendering": (line.rendering.name.identification_code if line.rendering
                          else None),
            "decided": decided.get(line.assigned_number)})


def _relationship(code: str | None) -> str:
    return f"{code} ({relationship_words(code)})" if code else ""


def _step(step: TraceStep, hide: Redactor) -> dict[str, Any]:
    inputs = [(name, MASK if hide.active and name in PHI_INPUTS else hide(value))
              for name, value in step.shown]
    return {"rule": step.rule_id, "version": step.version, "line": step.line_number,
            "inputs": inputs, "conclusion": hide(step.conclusion)}


def _corrections(s: Session, page: ClaimPage, icn: str) -> None:
    """The claims naming this one as their original (REF*F8), split by whether they
    took effect. Adjudication marks a replacement or void that reversed its original
    with the decision's ``reversal`` naming it; a correction denied (CO-16 M47: the
    original does not stand, or CO-29), still pended or rejected at the front end
    reversed nothing, so the original stands as decided and is not "superseded"."""
    rows = s.execute(
        select(Claim.id, Claim.icn, Claim.front_end, DecisionRecord.status,
               DecisionRecord.data)
        .outerjoin(DecisionRecord, (DecisionRecord.claim_id == Claim.id)
                   & DecisionRecord.current.is_(True))
        .where(Claim.original_icn == icn).order_by(Claim.id))
    for claim_id, correction, front_end, status, data in rows:
        reversal = (data or {}).get("reversal") or {}
        if reversal.get("original_icn") == icn:
            page.replacements.append((claim_id, correction))
        else:
            page.corrections_not_in_effect.append((claim_id, correction,
                                                   _not_in_effect(status, front_end)))


def _not_in_effect(status: str | None, front_end: str) -> str:
    """Why a correction did not (yet) reverse its original, in words."""
    if status == "denied":
        return "was received and denied: it did not take effect"
    if status == "pended":
        return "was received and is pended: it has not taken effect"
    if status is None:
        return ("was rejected at the front end: it did not take effect"
                if front_end == "rejected" else "has not been decided yet")
    return f"was decided ({status.replace('_', ' ')}) without reversing this claim"


def _history(s: Session, page: ClaimPage, claim: Claim) -> None:
    if claim.icn is None:
        return
    for v in s.scalars(select(DecisionRecord).where(DecisionRecord.icn == claim.icn)
                       .order_by(DecisionRecord.version)):
        page.versions.append({"version": v.version, "status": v.status,
                              "paid_cents": v.paid_cents, "current": v.current,
                              "at": v.decided_at, "reference": v.reference_version})
    for r in s.scalars(select(PendRelease).where(PendRelease.icn == claim.icn)
                       .order_by(PendRelease.id)):
        page.releases.append({"reviewer": r.reviewer, "note": r.note, "at": r.released_at,
                              "overrides": r.overrides, "to_version": r.to_version})
    _corrections(s, page, claim.icn)
    if claim.original_icn:
        page.original_claim_id = s.scalar(select(Claim.id).where(
            Claim.icn == claim.original_icn))
    rows = s.execute(
        select(RemittedClaim.role, RemittedClaim.icn, RemittedClaim.reverses_icn,
               RemittedClaim.paid_cents, RemittanceRecord.id, RemittanceRecord.trace_number,
               RemittanceRecord.cycle_id, RemittanceRecord.effective)
        .join(RemittanceRecord, RemittanceRecord.id == RemittedClaim.remittance_id)
        .where((RemittedClaim.icn == claim.icn) | (RemittedClaim.reverses_icn == claim.icn))
        .order_by(RemittedClaim.id))
    for role, icn, reverses, paid, rid, trace, cycle, effective in rows:
        what = ("paid in" if role == "claim" and icn == claim.icn else
                f"reversed by {icn} in" if reverses == claim.icn else
                f"reversal of {reverses} in")
        page.remittances.append({"what": what, "paid_cents": paid, "remittance_id": rid,
                                 "trace": trace, "cycle_id": cycle, "effective": effective})
