"""The front end of a received file, one transaction set at a time.

`set_outcomes` reads the file once after the 999 check (streaming) and yields, per
transaction set, what the front end found: every claim edited (`ClaimStatus`, no
number yet), its fingerprint and, for claims no edit rejects, the parsed claim that
adjudication will read. Numbering and keeping the outcome is the caller's step (the
store's one transaction per set; `run_front_end` in memory for tests and benchmarks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import structlog

from edi.ack277 import findings_of
from edi.claim_status import ClaimStatus, Provider277, TransactionStatus
from edi.claims import ParsedClaim
from edi.findings import FileCheck
from edi.front_end import (
    ClaimNumbers,
    examine,
    fingerprint,
    number_accepted,
    rejects,
    transaction_status,
    unprocessable,
)
from edi.validators.edits import EditContext
from workers.summary import ClaimSummary
from workers.transaction_sets import SetReading, read_sets

log = structlog.get_logger("claims.front_end")
UNKNOWN_PROVIDER = Provider277("2", "UNKNOWN", None, None, None)


@dataclass(frozen=True, slots=True)
class KeptClaim:
    """An accepted claim as the store keeps it: JSON, and the keys adjudication reads by.

    A set of 5,000 claims is held this way (a few KB each), never as parsed objects."""

    json: str
    subscriber_id: str | None
    original_icn: str | None

    @classmethod
    def of(cls, claim: ParsedClaim) -> KeptClaim:
        return cls(claim.model_dump_json(), claim.subscriber.member_id,
                   claim.claim.payer_claim_control_number)

    def parsed(self) -> ParsedClaim:
        return ParsedClaim.model_validate_json(self.json)


@dataclass
class SetOutcome:
    """One transaction set as the front end found it, before any claim is numbered."""

    reading: SetReading
    statuses: list[ClaimStatus] = field(default_factory=list)
    fingerprints: list[str] = field(default_factory=list)
    claims: list[KeptClaim | None] = field(default_factory=list)
    """Each claim the edits accept, as kept (None for a rejected one)."""
    rendering_npis: list[tuple[str, ...]] = field(default_factory=list)
    """Each claim's rendering clinicians (`ParsedClaim.rendering_npis`), rejected too."""

    @property
    def readable(self) -> bool:
        return self.reading.accepted and self.reading.parse_error is None

    def unprocessable_statuses(self) -> list[ClaimStatus]:
        """A set the reader could not finish: every claim is returned unprocessable."""
        provider = self.statuses[0].billing_provider if self.statuses else UNKNOWN_PROVIDER
        return [unprocessable(pcn, amount(charge), provider)
                for pcn, charge in self.reading.clm_segments]

    def answer(self, statuses: list[ClaimStatus], received: date) -> TransactionStatus:
        r = self.reading
        return transaction_status(
            submitter_name=r.submitter_name, submitter_id=r.submitter_id,
            sender_qualifier=r.sender_qualifier, sender_id=r.sender_id,
            application_sender=r.application_sender, control_number=r.control_number,
            batch_reference=r.batch_reference, received=received, claims=statuses,
            usage_indicator=r.usage_indicator)


def set_outcomes(path: Path, accepted: frozenset[int], context: EditContext,
                 skip: frozenset[int] = frozenset()) -> Iterator[SetOutcome]:
    """The front end's findings per transaction set; sets in ``skip`` are not parsed."""
    current: list[SetOutcome] = []

    def on_claim(reading: SetReading, claim: ParsedClaim) -> None:
        if not current or current[-1].reading is not reading:
            current[:] = [SetOutcome(reading)]
        outcome = current[0]
        status = examine(claim, context)
        outcome.statuses.append(status)
        outcome.fingerprints.append(fingerprint(claim))
        outcome.claims.append(None if rejects(status) else KeptClaim.of(claim))
        outcome.rendering_npis.append(claim.rendering_npis())

    with path.open("rb") as stream:
        for reading in read_sets(stream, accepted - skip, on_claim):
            outcome = current[0] if current and current[0].reading is reading \
                else SetOutcome(reading)
            current.clear()
            if reading.accepted and reading.parse_error is not None:
                log.warning("transaction_set.unreadable", transaction_set=reading.control_number,
                            position=reading.parse_error.position)
            yield outcome


def claim_summaries(outcome: SetOutcome, statuses: list[ClaimStatus]) -> list[ClaimSummary]:
    """The summary lines of a set's claims (not reached when the 999 rejected the set)."""
    reading = outcome.reading
    if not reading.accepted:
        return [ClaimSummary(patient_control_number=pcn, front_end="not_reached",
                             charge=money_text(charge), transaction_set=reading.control_number)
                for pcn, charge in reading.clm_segments]
    return [ClaimSummary(
        patient_control_number=s.patient_control_number,
        front_end="rejected" if rejects(s) else "accepted",
        front_end_codes=[f.codes for f in findings_of(s)],
        charge=money_text(str(s.total_charge)), transaction_set=reading.control_number,
        payer_claim_control_number=s.payer_claim_control_number,
        reasons=[f"{f.location}: {f.sentence}" for f in findings_of(s)],
    ) for s in statuses]


@dataclass
class FrontEndResult:
    claims: list[ClaimSummary] = field(default_factory=list)
    answered: list[TransactionStatus] = field(default_factory=list)
    accepted: list[tuple[str, ParsedClaim]] = field(default_factory=list)
    """(claim number, parsed claim) of every accepted claim, in receipt order."""


def run_front_end(path: Path, check: FileCheck, context: EditContext, numbers: ClaimNumbers,
                  on_set: Callable[[SetOutcome], None] | None = None) -> FrontEndResult:
    """The whole front end in memory (tests, benchmarks): numbered, answered, summarised."""
    result = FrontEndResult()
    for outcome in set_outcomes(path, check.accepted_ordinals(), context):
        if on_set is not None:
            on_set(outcome)
        statuses = number_set(outcome, numbers, context.received)
        if statuses:
            result.answered.append(outcome.answer(statuses, context.received))
        result.claims += claim_summaries(outcome, statuses)
        if outcome.readable:
            result.accepted += [(s.payer_claim_control_number or "", c.parsed())
                                for s, c in zip(statuses, outcome.claims, strict=True)
                                if c is not None]
    return result


def number_set(outcome: SetOutcome, numbers: ClaimNumbers, received: date) -> list[ClaimStatus]:
    """The set's 277CA records: numbered when readable, all unprocessable when not."""
    if not outcome.reading.accepted:
        return []
    if outcome.reading.parse_error is not None:
        return outcome.unprocessable_statuses()
    return number_accepted(outcome.statuses, outcome.fingerprints, numbers, received)


def amount(value: str) -> Decimal:
    try:
        parsed = Decimal(value)
    except (InvalidOperation, ValueError):
        return Decimal(0)
    return parsed if parsed.is_finite() else Decimal(0)


def money_text(value: str) -> str:
    return f"{amount(value):.2f}"
