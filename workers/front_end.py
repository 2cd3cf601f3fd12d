"""The front end of a received file: each accepted set's claims edited, numbered, answered.

Reads the file once more after the 999 check (streaming), runs the edits on every
claim of every accepted transaction set, gives accepted claims their claim numbers
when the set is complete, and collects the 277CA records and the summary lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import structlog

from adjudication.decision import Decision
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
from workers.adjudicate import Adjudicator, Source, summary_fields
from workers.summary import ClaimSummary
from workers.transaction_sets import SetReading, read_sets

log = structlog.get_logger("claims.front_end")
DecisionSink = Callable[[list[tuple[Decision, Source]]], None]
UNKNOWN_PROVIDER = Provider277("2", "UNKNOWN", None, None, None)


@dataclass
class FrontEndResult:
    claims: list[ClaimSummary] = field(default_factory=list)
    answered: list[TransactionStatus] = field(default_factory=list)
    decided: int = 0
    """How many claims were adjudicated (their decisions went to the sink)."""


@dataclass
class _SetWork:
    statuses: list[ClaimStatus] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    adjudicator: Adjudicator | None = None
    sink: DecisionSink | None = None


def run_front_end(path: Path, check: FileCheck, context: EditContext,
                  numbers: ClaimNumbers, adjudicator: Adjudicator | None = None,
                  sink: DecisionSink | None = None) -> FrontEndResult:
    """Edit, number and (when an adjudicator is given) adjudicate every accepted claim.

    Each transaction set's decisions go to ``sink`` as soon as the set is complete, so
    a large file's decisions are never all held at once.
    """
    result = FrontEndResult()
    work = _SetWork(adjudicator=adjudicator, sink=sink)

    def on_claim(reading: SetReading, claim: ParsedClaim) -> None:
        status = examine(claim, context)
        work.statuses.append(status)
        work.keys.append(fingerprint(claim))
        if adjudicator is not None and not rejects(status):
            adjudicator.decide(claim, context.received,
                               Source(str(path), reading.ordinal, claim.position))

    if adjudicator is not None:
        adjudicator.begin_set()
    with path.open("rb") as stream:
        for reading in read_sets(stream, check.accepted_ordinals(), on_claim):
            _finish_set(reading, work, context.received, numbers, result)
            work.statuses.clear()
            work.keys.clear()
            if adjudicator is not None:
                adjudicator.begin_set()
    return result


def _finish_set(reading: SetReading, work: _SetWork, received: date, numbers: ClaimNumbers,
                result: FrontEndResult) -> None:
    if not reading.accepted:
        result.claims += [ClaimSummary(patient_control_number=pcn, front_end="not_reached",
                                       charge=_money(charge),
                                       transaction_set=reading.control_number)
                          for pcn, charge in reading.clm_segments]
        return
    if reading.parse_error is not None:
        log.warning("transaction_set.unreadable", transaction_set=reading.control_number,
                    position=reading.parse_error.position)
        provider = work.statuses[0].billing_provider if work.statuses else UNKNOWN_PROVIDER
        statuses = [unprocessable(pcn, _amount(charge), provider)
                    for pcn, charge in reading.clm_segments]
        if work.adjudicator is not None:
            work.adjudicator.abandon_set()
    else:
        statuses = number_accepted(work.statuses, work.keys, numbers, received)
    if statuses:
        result.answered.append(transaction_status(
            submitter_name=reading.submitter_name, submitter_id=reading.submitter_id,
            sender_qualifier=reading.sender_qualifier, sender_id=reading.sender_id,
            application_sender=reading.application_sender,
            control_number=reading.control_number, batch_reference=reading.batch_reference,
            received=received, claims=statuses, usage_indicator=reading.usage_indicator))
    decided: dict[str, Decision] = {}
    if work.adjudicator is not None and reading.parse_error is None:
        icns = [s.payer_claim_control_number for s in statuses if not rejects(s)]
        final = work.adjudicator.finish_set([icn for icn in icns if icn is not None])
        result.decided += len(final)
        if work.sink is not None:
            work.sink(final)
        decided = {decision.icn: decision for decision, _source in final}
    for status in statuses:
        decision = decided.get(status.payer_claim_control_number or "")
        result.claims.append(ClaimSummary(
            patient_control_number=status.patient_control_number,
            front_end="rejected" if rejects(status) else "accepted",
            front_end_codes=[f.codes for f in findings_of(status)],
            charge=_money(str(status.total_charge)), transaction_set=reading.control_number,
            payer_claim_control_number=status.payer_claim_control_number,
            reasons=[f"{f.location}: {f.sentence}" for f in findings_of(status)],
            **(summary_fields(decision) if decision is not None else {}),
        ))


def _amount(value: str) -> Decimal:
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError):
        return Decimal(0)
    return amount if amount.is_finite() else Decimal(0)


def _money(value: str) -> str:
    return f"{_amount(value):.2f}"
