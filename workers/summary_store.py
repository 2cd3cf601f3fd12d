"""`summary.json` entries read back from the store: what a file and its claims became."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edi.amounts import amount_text, from_cents
from edi.findings import FileCheck
from store.models import Claim, DecisionRecord, ReceivedFile, TransactionSet
from workers.decisions import decision_from_record, may_show_a_bypass, summary_fields
from workers.summary import AckCode, ClaimSummary, FileSummary

MAX_PROBLEMS = 200
SEGMENTS_PER_SET = 20


def problems_of(check: FileCheck) -> list[str]:
    """The envelope and implementation-guide sentences of a file, at most 200."""
    problems: list[str] = []
    unreadable = [check.unreadable] if check.unreadable is not None else []
    for ic in chain(check.interchanges.with_something_to_say(), unreadable):
        if len(problems) >= MAX_PROBLEMS:
            break
        problems += ic.sentences
        for group in ic.groups:
            problems += group.sentences
            for ts in group.transaction_sets:
                problems += ts.sentences
                for seg in ts.segments[:SEGMENTS_PER_SET]:
                    problems += list(seg.sentences)
    return problems[:MAX_PROBLEMS]


def claims_of(session: Session, file_id: int) -> Iterator[ClaimSummary]:
    """Every claim of the file in receipt order, with its current decision when decided.

    Streams (the rows a thousand at a time, the parsed claim never read): a file of
    100,000 claims is summarised in flat memory. A decision's trace is read only when
    one of its lines carries a pair-bypass modifier (`_bypass_trace`).
    """
    rows = session.execute(
        select(Claim.patient_control_number, Claim.front_end, Claim.codes,
               Claim.charge_cents, TransactionSet.control_number, Claim.icn, Claim.reasons,
               DecisionRecord.data, DecisionRecord.rules, DecisionRecord.id)
        .join(TransactionSet, TransactionSet.id == Claim.set_id)
        .outerjoin(DecisionRecord, (DecisionRecord.claim_id == Claim.id)
                   & DecisionRecord.current.is_(True))
        .where(Claim.file_id == file_id).order_by(Claim.id)
        .execution_options(yield_per=1000))
    for pcn, front_end, codes, cents, set_control, icn, reasons, data, rules, record in rows:
        yield ClaimSummary(
            patient_control_number=pcn, front_end=front_end, front_end_codes=list(codes),
            charge=amount_text(from_cents(cents)), transaction_set=set_control or "",
            payer_claim_control_number=icn, reasons=list(reasons),
            **(summary_fields(decision_from_record(data, _bypass_trace(session, record, data)),
                              rules) if data is not None else {}),
        )


def _bypass_trace(session: Session, record: int, data: dict[str, Any]) -> bytes | None:
    """The trace of a decision whose lines carry a pair-bypass modifier (only its
    PROCEDURE-PAIR steps tell whether the modifier let a pair through); None for the
    others, whose summary needs no trace."""
    if not may_show_a_bypass(data):
        return None
    return session.scalar(select(DecisionRecord.trace).where(DecisionRecord.id == record))


def file_summary(session: Session, file_id: int, *, path: str, ack_path: str,
                 claim_ack_path: str | None, duplicate: bool,
                 received_at: str | None = None) -> FileSummary:
    row = session.get(ReceivedFile, file_id)
    assert row is not None
    code: AckCode = "R" if duplicate else _ack_code(row.ack_code)
    return FileSummary(
        path=path, sha256=row.sha256,
        status="duplicate" if duplicate else ("processed" if row.outcome == "processed"
                                              else "rejected"),
        ack="TA1" if duplicate or row.ack_kind == "TA1" else "999", ack_code=code,
        ack_path=ack_path, claim_ack_path=None if duplicate else claim_ack_path,
        received_at=received_at or _utc(row.received_at).isoformat(),
        interchanges=list(row.interchange_numbers),
        problems=["This file was already received."] if duplicate else list(row.problems),
        claims=[],
    )


def _utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes: the store writes them in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _ack_code(value: str | None) -> AckCode:
    codes: dict[str, AckCode] = {"A": "A", "E": "E", "P": "P"}
    return codes.get(value or "", "R")
