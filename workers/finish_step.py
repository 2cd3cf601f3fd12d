"""The finish step: a file's 277CA, one interchange per sender, each set's answer read
back from the store a few hundred claims at a time and written into the archive as it
is rendered, with control numbers reserved beforehand on the file's row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edi.ack277 import SetAnswer, SetTotals, write_277ca_by_sender
from edi.acks import Responder, receiver_key
from edi.claim_status import ClaimStatus, TransactionStatus
from store.codec import from_json
from store.models import Claim, ReceivedFile, TransactionSet
from store.sequences import ReservedControlNumbers, take_control
from workers.archive import archive_text
from workers.steps import StepContext, event, kept_size, small_together

ANSWER_READ = 500
"""Claims' 277CA records fetched at a time while a set's 277CA is written."""


def _answer(session: Session, set_id: int) -> SetAnswer:
    """A set's 277CA as the store keeps it: its header and totals, and its claims' records
    read in the order the totals name their providers, a few hundred at a time."""
    header, totals = session.execute(select(TransactionSet.answer, TransactionSet.totals)
                                     .where(TransactionSet.id == set_id)).one()
    records = session.scalars(
        select(Claim.answer).where(Claim.set_id == set_id, Claim.answer.is_not(None))
        .order_by(Claim.provider_group, Claim.position)
        .execution_options(yield_per=ANSWER_READ))
    return SetAnswer(from_json(TransactionStatus, header), from_json(SetTotals, totals),
                     (from_json(ClaimStatus, record) for record in records))


def _answers(session: Session, sets: list[tuple[int, int | None]]) -> Iterator[SetAnswer]:
    """The 277CAs of ``sets`` (id, claim count) in that order: a set alone (`_answer`),
    or a run of consecutive small ones (`workers.steps.small_together`) read with one statement for
    their headers and totals and one for their claims' records (a file of one-claim sets
    took two statements a set)."""
    for run in small_together(sets, lambda one: kept_size(one[1])):
        if len(run) == 1:
            yield _answer(session, run[0][0])
            continue
        ids = [set_id for set_id, _claims in run]
        heads = {set_id: (header, totals) for set_id, header, totals in session.execute(
            select(TransactionSet.id, TransactionSet.answer, TransactionSet.totals)
            .where(TransactionSet.id.in_(ids)))}
        records: dict[int, list[Any]] = {}
        for set_id, record in session.execute(
                select(Claim.set_id, Claim.answer)
                .where(Claim.set_id.in_(ids), Claim.answer.is_not(None))
                .order_by(Claim.provider_group, Claim.position)):
            records.setdefault(set_id, []).append(record)
        for set_id in ids:
            header, totals = heads[set_id]
            yield SetAnswer(from_json(TransactionStatus, header), from_json(SetTotals, totals),
                            [from_json(ClaimStatus, record) for record in records.get(set_id, ())])


def _senders(session: Session, file_id: int) -> dict[str, list[tuple[int, int | None]]]:
    """The file's answered sets (id, claim count) by sender, in set order, the senders in
    the order the file names them (each sender's key read from its set's answer in the
    database: no answer is decoded here)."""
    senders: dict[str, list[tuple[int, int | None]]] = {}
    for set_id, claims, qualifier, sender_id in session.execute(
            select(TransactionSet.id, TransactionSet.claims,
                   TransactionSet.answer["receiver_sender_qualifier"].as_string(),
                   TransactionSet.answer["receiver_sender_id"].as_string())
            .where(TransactionSet.file_id == file_id, TransactionSet.answer.is_not(None))
            .order_by(TransactionSet.ordinal)):
        senders.setdefault(receiver_key(qualifier or "", sender_id or ""), []).append(
            (set_id, claims))
    return senders


def _reserve_277ca_numbers(ctx: StepContext, file_id: int) -> list[list[int]] | None:
    """The ISA13 and GS06 of each interchange of the file's 277CA (one per sender),
    taken in a short transaction of its own and kept on the file's row: rendering a
    large file's 277CA then holds no sequence row, so other files' 999s do not wait
    for it, and a finish that fails or is killed is done again with the same numbers.
    None when the file is not waiting for its 277CA."""
    with ctx.store.transaction() as s:
        row = s.get(ReceivedFile, file_id, with_for_update=True)
        if row is None or row.status != "adjudicated":
            return None
        if row.claim_ack_control is None:
            row.claim_ack_control = [[take_control(s, "isa13"), take_control(s, "gs06")]
                                     for _sender in _senders(s, file_id)]
        return [list(pair) for pair in row.claim_ack_control]


def finish_file(ctx: StepContext, file_id: int) -> None:
    """The 277CA for every answered set, in set order, one interchange per sender,
    written into the archive as it is rendered (the row names it by sha256), with the
    control numbers `_reserve_277ca_numbers` kept for it."""
    reserved = _reserve_277ca_numbers(ctx, file_id)
    if reserved is None:
        return
    with ctx.store.transaction() as s:
        row = s.get(ReceivedFile, file_id, with_for_update=True)
        assert row is not None
        if row.status != "adjudicated":
            return
        senders = _senders(s, file_id)
        if senders:
            responder = Responder(when=ctx.now, control=ReservedControlNumbers(reserved))
            answers = [(sender, _answers(s, sets)) for sender, sets in senders.items()]
            row.claim_ack_sha256, _written = archive_text(ctx.archive, lambda out: (
                write_277ca_by_sender(answers, responder, out)))
        row.status = "done"
        row.updated_at = ctx.now
        event(s, ctx, "file.done", row.sha256)
