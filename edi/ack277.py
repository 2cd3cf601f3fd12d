"""Render the 277CA claim acknowledgment (005010X214) for accepted 837P transaction sets.

One interchange, one HN functional group, and one 277 per `TransactionStatus` (one
per 837 transaction set the 999 accepted). The hierarchy follows pyx12's
``277.5010.X214.xml`` map:

    2000A HL*20 payer (NM1*PR), 2200A TRN*1 + DTP*050 received + DTP*009 processed
      2000B HL*21 submitter (NM1*41), 2200B TRN*2 BHT03 + STC + QTY/AMT totals
        2000C HL*19 billing provider (NM1*85), 2200C TRN*1 + STC + REF*TJ + QTY/AMT
          2000D HL*PT patient (NM1*QC), 2200D TRN*2 CLM01 + STC + REF + DTP*472
            2220D SVC per service line that carries a finding + STC + REF*FJ + DTP*472

Status (STC) written, every combination valid for the map:

- 2200B and 2200C (STC required there): ``A1:19:PR`` (receipt acknowledged by the
  payer) with WQ when any claim of the level was accepted, U when none was; STC04
  the level's total charge; no STC02 at 2200C (not used there in X214).
- accepted claim: ``A1:19:PR`` dated the receipt, then ``A2:20`` dated the
  processing, both WQ with the claim charge; REF*1K the payer claim control number.
- rejected claim: one STC per finding, ``category:status[:entity]``, U, the claim
  charge, further status codes of the finding in STC10/STC11, its sentence in STC12;
  a service line named by a finding is echoed in 2220D with one STC (U) for the line.

Counts and amounts are reported only when not zero (a missing QTY/AMT means none),
so accepted + rejected always equals the claims and charges of the level; amounts
have two decimals.

Pure: the clock and the control numbers come from the `Responder`; every value taken
from the 837 is cleaned of our delimiters before it is echoed.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from itertools import chain
from typing import TextIO

from edi.acks import UNECHOED_PATIENT_CONTROL_NUMBER, Responder, clean, receiver_key
from edi.acks import echoed as _text
from edi.amounts import R_LARGEST, amount_text, cents, quantity_text
from edi.claim_status import (
    ClaimFinding,
    ClaimStatus,
    LineStatus,
    Provider277,
    StatusCategory,
    TransactionStatus,
)
from edi.payer import PAYER_NAME
from edi.writer import Element, X12Writer, isa_elements

ACK_277CA_VERSION = "005010X214"
ZERO = Decimal("0.00")
#: STC composites per STC segment: STC01, STC10 and STC11.
MAX_STATUS_CODES = 3
#: Entities STC01-03 may name but STC10-03/STC11-03 may not: the X214 map takes those
#: from pyx12's external ``entity_id`` list, which lacks the payer and the submitter.
FIRST_COMPOSITE_ONLY = frozenset({"PR", "41"})

Segment = tuple[str, list[Element]]


def render_277ca(statuses: Sequence[TransactionStatus], responder: Responder) -> str:
    """The 277CA answering the accepted transaction sets of one 837 file.

    Each sender (ISA05/ISA06 of the 837) gets an interchange of its own, in the order
    the file names them. Raises `ValueError` when there is nothing to acknowledge: no
    transaction set, or one with no claims (the guide requires at least one billing
    provider and patient level).
    """
    if not statuses:
        raise ValueError("a 277CA answers at least one transaction set")
    senders: dict[str, list[TransactionStatus]] = {}
    for status in statuses:
        senders.setdefault(sender_key(status), []).append(status)
    return render_277ca_by_sender(senders.items(), responder)


def sender_key(status: TransactionStatus) -> str:
    """The sender a transaction set's 277CA goes back to (``qualifier:id``)."""
    return receiver_key(status.receiver_sender_qualifier, status.receiver_sender_id)


def render_277ca_by_sender(senders: Iterable[tuple[str, Iterable[Answered]]],
                           responder: Responder) -> str:
    """The 277CA from each sender's transaction sets, one interchange per sender."""
    out = io.StringIO()
    write_277ca_by_sender(senders, responder, out)
    return out.getvalue()


def write_277ca_by_sender(senders: Iterable[tuple[str, Iterable[Answered]]],
                          responder: Responder, out: TextIO) -> None:
    """`render_277ca_by_sender` written to a text stream as it goes.

    Each set is taken from its iterable only while it is written, and a `SetAnswer`'s
    claims one at a time, so a caller that reads them lazily and writes to a file holds
    no set whole (a `TransactionStatus` holds its own).
    """
    writer = X12Writer(out)
    written = 0
    for receiver, statuses in senders:
        answers = (s if isinstance(s, SetAnswer) else SetAnswer.of(s) for s in statuses)
        written += _interchange(writer, receiver, answers, responder)
    if not written:
        raise ValueError("a 277CA answers at least one transaction set")


def _interchange(writer: X12Writer, receiver: str, answers: Iterator[SetAnswer],
                 responder: Responder) -> int:
    """One sender's interchange; returns how many transaction sets it answers."""
    opening = next(answers, None)
    if opening is None:
        return 0
    first = opening.header
    qualifier, _, identifier = receiver.partition(":")
    when = responder.when
    interchange = responder.control.next_interchange(receiver)
    group = responder.control.next_group(receiver)
    writer.write("ISA", *isa_elements(
        sender_qualifier=responder.our_qualifier, sender_id=responder.our_id,
        receiver_qualifier=qualifier, receiver_id=identifier,
        control_number=interchange, when=when,
        usage=first.usage_indicator if first.usage_indicator in ("P", "T") else "P",
    ))
    writer.write("GS", "HN", responder.our_id, _application(first.application_sender),
                 when.strftime("%Y%m%d"), when.strftime("%H%M"), str(group), "X",
                 ACK_277CA_VERSION)
    count = 0
    for ordinal, answer in enumerate(chain([opening], answers), start=1):
        if not answer.totals.total.claims:
            raise ValueError("a 277CA transaction set acknowledges at least one claim")
        st02 = f"{ordinal:04d}"
        start = writer.segment_count
        writer.write("ST", "277", st02, ACK_277CA_VERSION)
        reference = f"{interchange:09d}{ordinal:04d}"
        for seg_id, elements in _transaction_set(answer, reference, responder):
            writer.write(seg_id, *elements)
        writer.write("SE", str(writer.segment_count - start + 1), st02)
        count = ordinal
    writer.write("GE", str(count), str(group))
    writer.write("IEA", "1", f"{interchange:09d}")
    return count


def _application(value: str) -> str:
    """GS03 is 2-15 characters: the 837's GS02 when it fits, else a placeholder."""
    cleaned = clean(value, 15)
    return cleaned if len(cleaned) >= 2 else "UNKNOWN"


@lru_cache(maxsize=1024)  # a 277CA repeats a few dates on every claim
def _d8(day: date) -> str:
    return day.strftime("%Y%m%d")


def total_text(amount: Decimal) -> str:
    """A level's total charge (2200B and 2200C STC04, AMT02): `amount_text`, held at
    `R_LARGEST` when the claims' charges add up past what the element carries. Only
    claims rejected for a charge over `edi.amounts.MAX_AMOUNT` can add up so far (each
    echoed exactly at 2200D, as its 837 sent it); a 277CA whose totals overran would be
    refused by the partner's translator, and with it every rejection it carries."""
    return amount_text(min(amount, R_LARGEST))


@dataclass(frozen=True)
class Tally:
    """Accepted and rejected claims and charges of one level (2000B or 2000C)."""

    accepted: int = 0
    rejected: int = 0
    accepted_amount: Decimal = ZERO
    rejected_amount: Decimal = ZERO

    @property
    def claims(self) -> int:
        return self.accepted + self.rejected

    @property
    def total(self) -> Decimal:
        return self.accepted_amount + self.rejected_amount

    @property
    def action(self) -> str:
        """STC03: WQ (accept) when any claim of the level was accepted, else U (reject)."""
        return "WQ" if self.accepted else "U"

    def segments(self, accepted_qualifier: str, rejected_qualifier: str) -> Iterator[Segment]:
        """QTY and AMT for the non-zero sides (the guide sends them only when there are any)."""
        if self.accepted:
            yield "QTY", [accepted_qualifier, str(self.accepted)]
        if self.rejected:
            yield "QTY", [rejected_qualifier, str(self.rejected)]
        if self.accepted:
            yield "AMT", ["YU", total_text(self.accepted_amount)]
        if self.rejected:
            yield "AMT", ["YY", total_text(self.rejected_amount)]


@dataclass(frozen=True)
class ProviderTally:
    """One billing provider's level (2000C) and its totals."""

    provider: Provider277
    tally: Tally


@dataclass(frozen=True)
class SetTotals:
    """What a transaction set's 277CA states before its claims: the set's totals (2000B)
    and each billing provider's (2000C), the providers in order of first appearance."""

    total: Tally
    providers: tuple[ProviderTally, ...]


class TallyBuilder:
    """`SetTotals` counted claim by claim, so a set's totals are known without holding its
    claims (the store keeps each claim's record on its own row)."""

    def __init__(self) -> None:
        self._groups: dict[Provider277, int] = {}
        # per group, accepted then rejected: how many claims, and their charges in cents
        self._counts: list[list[int]] = []
        self._amounts: list[list[Decimal]] = []

    def add(self, claim: ClaimStatus) -> int:
        """Count the claim; the index of its billing provider's group (in `SetTotals`)."""
        group = self._groups.setdefault(claim.billing_provider, len(self._groups))
        if group == len(self._counts):
            self._counts.append([0, 0])
            self._amounts.append([ZERO, ZERO])
        side = 0 if is_accepted(claim) else 1
        self._counts[group][side] += 1
        self._amounts[group][side] += cents(claim.total_charge)
        return group

    def totals(self) -> SetTotals:
        providers = tuple(
            ProviderTally(provider, Tally(counts[0], counts[1], amounts[0], amounts[1]))
            for provider, counts, amounts in zip(self._groups, self._counts, self._amounts,
                                                 strict=True))
        return SetTotals(Tally(sum(p.tally.accepted for p in providers),
                               sum(p.tally.rejected for p in providers),
                               sum((p.tally.accepted_amount for p in providers), ZERO),
                               sum((p.tally.rejected_amount for p in providers), ZERO)),
                         providers)


@dataclass(frozen=True)
class SetAnswer:
    """One transaction set's 277CA: its header (`TransactionStatus`, whose ``claims`` are
    not read), its totals, and its claims grouped by billing provider in the order of
    ``totals.providers`` (in file order within a group). The claims are taken one at a
    time while they are written, so a set read from the store claim by claim is never
    held whole."""

    header: TransactionStatus
    totals: SetTotals
    claims: Iterable[ClaimStatus]

    @classmethod
    def of(cls, status: TransactionStatus) -> SetAnswer:
        """The answer of a set held in memory."""
        counted = TallyBuilder()
        groups: list[list[ClaimStatus]] = []
        for claim in status.claims:
            group = counted.add(claim)
            if group == len(groups):
                groups.append([])
            groups[group].append(claim)
        return cls(status, counted.totals(), chain.from_iterable(groups))


Answered = TransactionStatus | SetAnswer
"""A transaction set to answer: held in memory, or its claims read as they are written."""


@dataclass(frozen=True)
class _Dates:
    """STC02 dates: receipt for A1:19 (acknowledged receipt), processing for the rest."""

    received: date
    processed: date


def findings_of(claim: ClaimStatus) -> tuple[ClaimFinding, ...]:
    """The claim's findings, then those of its lines that the claim does not list already."""
    found = list(claim.findings)
    for line in claim.lines:
        found += [f for f in line.findings if f not in found]
    return tuple(found)


def is_accepted(claim: ClaimStatus) -> bool:
    """Accepted: no finding on the claim or any of its lines, and a payer claim number."""
    return claim.accepted and not findings_of(claim)


def _transaction_set(answer: SetAnswer, reference: str,
                     responder: Responder) -> Iterator[Segment]:
    """BHT through the last 2000D of one 277CA (ST and SE are written by the caller)."""
    status, totals = answer.header, answer.totals
    when = responder.when
    processed = when.date()
    yield "BHT", ["0085", "08", reference, _d8(processed), when.strftime("%H%M"), "TH"]
    yield "HL", ["1", "", "20", "1"]
    yield "NM1", ["PR", "2", PAYER_NAME, "", "", "", "", "PI", responder.our_id]
    yield "TRN", ["1", reference]
    yield "DTP", ["050", "D8", _d8(status.received)]
    yield "DTP", ["009", "D8", _d8(processed)]
    yield "HL", ["2", "1", "21", "1"]
    yield "NM1", ["41", "2", _text(status.submitter_name, 60), "", "", "", "", "46",
                  _text(status.submitter_id, 80, min_len=2)]
    batch = status.batch_reference or status.transaction_set_control_number
    yield "TRN", ["2", _text(batch, 50, fallback="0")]
    yield "STC", [["A1", "19", "PR"], _d8(status.received), totals.total.action,
                  total_text(totals.total.total)]
    yield from totals.total.segments("90", "AA")
    dates = _Dates(received=status.received, processed=processed)
    claims = iter(answer.claims)
    next_id = 3
    for ordinal, group in enumerate(totals.providers, start=1):
        provider_id = next_id
        yield from _provider(group, provider_id, f"{reference}-{ordinal}")
        for offset in range(1, group.tally.claims + 1):
            claim = next(claims, None)
            if claim is None or claim.billing_provider != group.provider:
                raise ValueError("a 277CA's claims do not follow its billing providers' totals")
            yield "HL", [str(provider_id + offset), str(provider_id), "PT"]
            yield from _claim(claim, dates)
        next_id = provider_id + group.tally.claims + 1
    if next(claims, None) is not None:
        raise ValueError("a 277CA's claims outnumber its totals")


def _provider(group: ProviderTally, hl_id: int, trace: str) -> Iterator[Segment]:
    """2000C-2200C: the billing provider, its receipt status and its totals."""
    provider, tally = group.provider, group.tally
    yield "HL", [str(hl_id), "2", "19", "1"]
    person = provider.entity_type == "1"
    if provider.npi and clean(provider.npi, 80):
        qualifier, identifier = "XX", _text(provider.npi, 80, min_len=2)
    elif provider.tax_id and clean(provider.tax_id, 80):
        qualifier, identifier = "FI", _text(provider.tax_id, 80, min_len=2)
    else:
        qualifier, identifier = "SV", "UNKNOWN"
    first = _text(provider.first_name, 35, fallback="") if person else ""
    yield "NM1", ["85", "1" if person else "2",
                  _text(provider.last_or_organization_name, 60), first, "", "", "",
                  qualifier, identifier]
    yield "TRN", ["1", trace]
    # 2200C STC02 is not used in X214: the composite, action and charge only.
    yield "STC", [["A1", "19", "PR"], "", tally.action, total_text(tally.total)]
    tax_id = clean(provider.tax_id or "", 50)
    if tax_id:
        yield "REF", ["TJ", tax_id]
    yield from tally.segments("QA", "QC")


def _claim(claim: ClaimStatus, dates: _Dates) -> Iterator[Segment]:
    """2100D-2220D of one claim (its HL is written by the caller)."""
    yield "NM1", ["QC", "1", _text(claim.patient_last_name, 60),
                  _text(claim.patient_first_name, 35, fallback=""), "", "", "", "MI",
                  _text(claim.patient_member_id, 80, min_len=2)]
    yield "TRN", ["2", _text(claim.patient_control_number, 50,
                             fallback=UNECHOED_PATIENT_CONTROL_NUMBER)]
    charge = amount_text(claim.total_charge)
    findings = findings_of(claim)
    if is_accepted(claim):
        yield "STC", [["A1", "19", "PR"], _d8(dates.received), "WQ", charge]
        yield "STC", [["A2", "20"], _d8(dates.processed), "WQ", charge]
        yield "REF", ["1K", _text(claim.payer_claim_control_number, 50, fallback="0")]
    elif not findings:
        # Not accepted yet nothing found: say only that it cannot be processed.
        yield "STC", [[StatusCategory.UNPROCESSABLE.value, "0"], _d8(dates.processed), "U",
                      charge]
    for finding in findings:
        codes = _composites([finding])
        yield "STC", [codes[0], _d8(dates.processed), "U", charge, "", "", "", "", "",
                      *codes[1:], *([""] * (3 - len(codes))), _message(finding)]
    trace = clean(claim.clearinghouse_trace or "", 50)
    if trace:
        yield "REF", ["D9", trace]
    yield "DTP", ["472", *_service_dates(claim.service_from, claim.service_to, claim.lines,
                                         dates.received)]
    for line in claim.lines:
        line_findings = _line_findings(line, findings)
        if line_findings:
            yield from _service_line(line, line_findings, dates.processed)


def _composites(findings: Sequence[ClaimFinding]) -> list[list[str]]:
    """STC01/STC10/STC11 composites for the status codes of the findings (at most 3).

    Each composite repeats its finding's entity, except in STC10-03/STC11-03 for an
    entity the guide's code list there does not have (`FIRST_COMPOSITE_ONLY`).
    """
    composites: list[list[str]] = []
    for finding in findings:
        entity = finding.entity.value if finding.entity is not None else ""
        for code in finding.status_codes:
            composite = [finding.category.value, _text(code, 30, fallback="0"), entity]
            if composites and entity in FIRST_COMPOSITE_ONLY:
                composite[2] = ""
            if composite not in composites:
                composites.append(composite)
    return composites[:MAX_STATUS_CODES] or [[StatusCategory.UNPROCESSABLE.value, "0"]]


def _message(finding: ClaimFinding) -> str:
    """STC12: the finding's sentence and where in the 837P to look (never member data)."""
    return clean(f"{finding.sentence} ({finding.location})", 264)


def _service_dates(start: date | None, end: date | None, lines: Sequence[LineStatus],
                   fallback: date) -> list[str]:
    """DTP*472 format and period: the claim's dates, else its lines', else the receipt date."""
    days = [d for d in (start, end) if d is not None]
    if not days:
        days = [d for line in lines for d in (line.service_from, line.service_to) if d]
    low, high = (min(days), max(days)) if days else (fallback, fallback)
    if low == high:
        return ["D8", _d8(low)]
    return ["RD8", f"{_d8(low)}-{_d8(high)}"]


def _line_findings(line: LineStatus, claim_findings: Sequence[ClaimFinding]
                   ) -> list[ClaimFinding]:
    """The line's own findings and the claim's findings located on this line."""
    found = list(line.findings)
    found += [f for f in claim_findings
              if f.location.line == line.line_number and f not in found]
    return found


def _service_line(line: LineStatus, findings: Sequence[ClaimFinding],
                  processed: date) -> Iterator[Segment]:
    """2220D: the service line echoed with its rejection (one STC, STC03 U only)."""
    modifiers = [m for m in (clean(m, 2) for m in line.modifiers) if len(m) == 2][:4]
    units = quantity_text(line.units) if line.units is not None else ""
    yield "SVC", [["HC", _text(line.procedure_code, 48), *modifiers], amount_text(line.charge),
                  "", "", "", "", units]
    codes = _composites(findings)
    yield "STC", [codes[0], _d8(processed), "U", "", "", "", "", "", "", *codes[1:]]
    control = clean(line.line_item_control_number or "", 50)
    if control:
        yield "REF", ["FJ", control]
    if line.service_from is not None:
        yield "DTP", ["472", *_service_dates(line.service_from, line.service_to, (),
                                             line.service_from)]


__all__ = ["ACK_277CA_VERSION", "Answered", "ProviderTally", "SetAnswer", "SetTotals", "Tally",
           "TallyBuilder", "findings_of", "is_accepted", "render_277ca", "render_277ca_by_sender",
           "sender_key", "write_277ca_by_sender"]
