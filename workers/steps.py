"""The pipeline's steps over the store: each one transaction, each safe to run again.

    receive        the file's bytes archived by sha256, its row inserted (or found)
    acknowledge    envelope + implementation guide -> TA1/999 (archived), interchanges, sets
    answer_sets    per transaction set: edits, claim numbers, the 277CA records
    adjudicate     per batch of accepted claims, in receipt order: one decision each
                   (`workers.adjudication_step`)
    finish         the 277CA text for the whole file (`workers.finish_step`)

A step re-reads its row under a lock, does nothing when the row says it is done,
and otherwise writes all its effects and marks itself done before its one commit.
A crash at any point leaves the whole step or none of it; running the same command
again resumes at the first step not done. CPU work that needs no lock (checking the
file, running the edits) happens before the transaction, never holding it. This
module holds the runs, the first three steps and what the others share (`StepContext`,
`event`, `advance`, `small_together`, `kept_size`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, Literal, TypeVar

import structlog
from sqlalchemy import exists, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from adjudication.engine import (
    DEFAULT_POLICY,
    EnginePolicy,
)
from edi.ack277 import TallyBuilder
from edi.acks import AckVerdict, Responder, write_acknowledgment
from edi.amounts import CENT, MAX_AMOUNT
from edi.faults import FAULTS
from edi.findings import FileCheck, InterchangeIdentity, Interchanges
from edi.front_end import claim_number
from edi.validators.codesets import CodeSetRegistry
from edi.validators.compiled import check_stream
from edi.validators.edits import EditContext
from edi.validators.implementation_guide import EnvelopePolicy
from store.codec import to_json
from store.engine import Store
from store.models import (
    Claim,
    ClaimRenderingNpi,
    DuplicateReceipt,
    Event,
    Interchange,
    ReceivedFile,
    Run,
    TransactionSet,
)
from store.sequences import StoredControlNumbers, take
from workers.archive import archive_path, archive_text
from workers.collector import collect_young, cyclic_gc_held_off, release_free_memory
from workers.decisions import (
    to_cents,
)
from workers.files import stored_name
from workers.front_end import (
    AnsweredClaim,
    SetOutcome,
    SetSizes,
    answered_claims,
    front_pass,
    read_into,
    set_outcomes,
)
from workers.line_of_business import rejected_lines_of_business
from workers.reference_store import ReferenceSource
from workers.set_spool import SetSpool, SpoolDamaged
from workers.summary_store import problems_of

log = structlog.get_logger("claims.steps")
T = TypeVar("T")

Role = Literal["new", "resume", "duplicate"]


@dataclass(frozen=True)
class StepContext:
    store: Store
    archive: Path
    """Where received bytes are kept, content-addressed and read-only."""
    now: datetime
    as_of: date
    policy: EnvelopePolicy
    code_sets: CodeSetRegistry
    reference: ReferenceSource | None
    """Where adjudication reads reference data; None stops after the front end."""
    engine_policy: EnginePolicy = DEFAULT_POLICY
    actor: str = "pipeline"


def event(session: Session, ctx: StepContext, kind: str, subject: str, **detail: object) -> None:
    session.add(Event(at=ctx.now, kind=kind, actor=ctx.actor, subject=subject,
                      detail=dict(detail)))


_ANSWERS_AND_LISTS = (ReceivedFile.ack_text, ReceivedFile.problems,
                      ReceivedFile.interchange_numbers, ReceivedFile.accepted_sets)
"""A file's columns that grow with it (its 999, its lists of sets and interchanges), which
a step waiting on the file never reads: the service's message for each run of sets read
them all, and made a set of every accepted ordinal, once a message."""


def _file_in(ctx: StepContext, file_id: int, status: str) -> ReceivedFile | None:
    """The file's row when it waits for the step that follows ``status``, else None
    (the step is done already), without `_ANSWERS_AND_LISTS` (reading one of them from
    the row returned raises). Read without a lock: the step locks it to write."""
    with ctx.store.transaction() as s:
        row = s.get(ReceivedFile, file_id,
                    options=[defer(column, raiseload=True) for column in _ANSWERS_AND_LISTS])
        assert row is not None
        return row if row.status == status else None


def _key_share(s: Session, file_id: int) -> None:
    """The file's row locked FOR KEY SHARE (rows that refer to it are inserted next),
    without reading its columns (`_ANSWERS_AND_LISTS` among them)."""
    s.execute(select(ReceivedFile.id).where(ReceivedFile.id == file_id)
              .with_for_update(key_share=True))


def advance(ctx: StepContext, file_id: int, done: str, now_at: str) -> bool:
    """Move the file from ``done`` to ``now_at`` (once, under the row lock); whether this
    call moved it."""
    with ctx.store.transaction() as s:
        row = s.get(ReceivedFile, file_id, with_for_update=True)
        assert row is not None
        if row.status != done:
            return False
        row.status = now_at
        row.updated_at = ctx.now
        return True


# runs -----------------------------------------------------------------------------------
def begin_run(ctx: StepContext, key: str) -> int:
    """The unfinished run with this key (a crashed command started again), or a new one."""
    for _attempt in range(3):
        try:
            with ctx.store.transaction() as s:
                run = s.scalar(select(Run).where(Run.run_key == key))
                if run is None:
                    run = Run(run_key=key, started_at=ctx.now, as_of=ctx.as_of)
                    s.add(run)
                    s.flush()
                return run.id
        except IntegrityError:
            continue  # another process started the same run at the same moment
    raise RuntimeError("could not begin the run")  # pragma: no cover


def finish_run(ctx: StepContext, run_id: int) -> None:
    """A finished run gives up its key: the same files sent again are a new run."""
    with ctx.store.transaction() as s:
        run = s.get(Run, run_id, with_for_update=True)
        if run is not None and run.finished_at is None:
            run.finished_at = ctx.now
            run.run_key = f"{run.run_key[:40]}/{run.id}"


# receive --------------------------------------------------------------------------------
def receive(ctx: StepContext, run_id: int, name: str, sha: str, size: int,
            received_at: datetime, receipt_date: date, *,
            delivered: bool = False) -> tuple[int, Role]:
    """The file's row: new, this run's own (resume), or another run's (a duplicate).
    ``delivered``: the service delivers this file's answers (its delivery is pending)."""
    for _attempt in range(3):
        try:
            with ctx.store.transaction() as s:
                row = s.scalar(select(ReceivedFile).where(ReceivedFile.sha256 == sha))
                if row is None:
                    row = ReceivedFile(sha256=sha, run_id=run_id, name=stored_name(name), size=size,
                                       received_at=received_at, receipt_date=receipt_date,
                                       status="received", updated_at=ctx.now,
                                       delivered_status="pending" if delivered else None)
                    s.add(row)
                    s.flush()
                    event(s, ctx, "file.received", sha, size=size)
                    return row.id, "new"
                return row.id, "resume" if row.run_id == run_id else "duplicate"
        except IntegrityError:
            continue  # the same file arrived in another process at the same moment
    raise RuntimeError("could not record the file")  # pragma: no cover


# acknowledge ----------------------------------------------------------------------------
def _dedup_key(ic: InterchangeIdentity) -> str:
    return ic.key[:40]


def acknowledge_file(ctx: StepContext, file_id: int) -> None:
    """Envelope and implementation-guide check, interchanges and sets kept, TA1/999
    written; every set parsed and edited into the spool in the same reading."""
    waiting = _file_in(ctx, file_id, "received")
    if waiting is None:
        return
    sha = waiting.sha256
    faults = FAULTS.copy()
    spool = set_spool(ctx, waiting)
    sizes = SetSizes(spool)
    with archive_path(ctx.archive, sha).open("rb") as raw:
        # one reading: the 999 check, and every set parsed and edited into the spool
        check = front_pass(raw, ctx.policy, edit_context(ctx, waiting), sizes)
    spool.seal()
    release_free_memory()
    for _attempt in range(3):
        try:
            if not _acknowledge(ctx, file_id, sha, check, faults, sizes.of) \
                    and _file_in(ctx, file_id, "acknowledged") is None:
                # another process acknowledged it and its sets are answered already: this
                # pass's spool would never be read or removed
                spool.remove()
            return
        except IntegrityError:
            # another file took one of these sender + ISA13 keys at the same moment:
            # check again (that interchange is now a duplicate, TA1 025)
            continue
    raise RuntimeError("could not record the interchanges")  # pragma: no cover


def _acknowledge(ctx: StepContext, file_id: int, sha: str, check: FileCheck,
                 faults: Counter[str], claims: Callable[[int], int | None]) -> bool:
    """Whether this call recorded the step (not another process meanwhile)."""
    with ctx.store.transaction() as s:
        row = s.get(ReceivedFile, file_id, with_for_update=True)
        assert row is not None
        if row.status != "received":
            return False  # another process did this step meanwhile
        _record_faults(s, ctx, sha, faults)
        _record_interchanges(s, file_id, check.interchanges)
        row.ack_sha256, ack = _archived_answer(ctx, s, check)
        accepted = check.accepted_ordinals()
        _insert_set_rows(s, file_id, check, accepted, claims)
        _record_ack(row, ack, check, accepted)
        row.outcome = "processed" if accepted else "rejected"
        row.status = "acknowledged"
        row.updated_at = ctx.now
        event(s, ctx, "file.acknowledged", sha, ack=ack.kind, code=ack.code)
        return True


ROWS_PER_STATEMENT = 1_000
"""Interchange and set rows the acknowledge step inserts (and interchanges it looks up)
a statement: a row made as an ORM object held about 2 KB until the commit (50,000
one-claim sets took the step from 130 to 237 MB), and PostgreSQL takes at most 65,535
parameters a statement (a file of more interchanges could never be acknowledged when
they were looked up in one)."""


def _record_interchanges(s: Session, file_id: int, interchanges: Interchanges) -> None:
    """A row for each of the file's interchanges, in file order; an accepted one whose
    sender and ISA13 were received before (in an earlier file, or earlier in this one)
    becomes a duplicate (TA1 note 025), and is kept without its key."""
    seen: set[str] = set()
    each = interchanges.identities()
    for start in range(0, len(interchanges), ROWS_PER_STATEMENT):
        chunk = list(islice(each, ROWS_PER_STATEMENT))
        keys = [_dedup_key(ic) for ic in chunk]
        seen.update(s.scalars(select(Interchange.dedup_key).where(
            Interchange.dedup_key.in_(keys))))
        rows = []
        for ordinal, (ic, key) in enumerate(zip(chunk, keys, strict=True), start + 1):
            if key in seen and not ic.rejected:
                held = interchanges.held(ordinal - 1)  # the one the 999 is written from
                held.note_code = "025"
                held.sentences.append("This interchange control number was already received "
                                      "from this sender.")
                ic = InterchangeIdentity.of(held)
            if not ic.rejected:
                seen.add(key)
            rows.append({"file_id": file_id, "ordinal": ordinal,
                         "sender_qualifier": ic.sender_qualifier.strip()[:2],
                         "sender_id": ic.sender_id.strip()[:15],
                         "control_number": ic.control_number[:9], "accepted": not ic.rejected,
                         "note_code": ic.note_code, "dedup_key": None if ic.rejected else key})
        s.execute(insert(Interchange), rows)


def _insert_set_rows(s: Session, file_id: int, check: FileCheck, accepted: frozenset[int],
                     claims: Callable[[int], int | None]) -> None:
    """A pending row for each of the file's transaction sets, in file order, with how
    many claims the pass found in it (``claims`` of its ordinal)."""
    rows: list[dict[str, object]] = []
    for ts in check.each_transaction_set():
        rows.append(_pending_set(file_id, ts.ordinal, ts.ordinal in accepted,
                                 ts.control_number, claims(ts.ordinal)))
        if len(rows) == ROWS_PER_STATEMENT:
            s.execute(insert(TransactionSet), rows)
            rows = []
    if rows:
        s.execute(insert(TransactionSet), rows)


def _record_faults(session: Session, ctx: StepContext, subject: str,
                   before: Counter[str]) -> None:
    """Engine faults the pure core counted during this step, kept as events."""
    _record_counted(session, ctx, subject, FAULTS - before)


def _record_counted(session: Session, ctx: StepContext, subject: str,
                    counted: Counter[str]) -> None:
    for where, count in counted.items():
        event(session, ctx, "engine.fault", subject, where=where, count=count)


def _archived_answer(ctx: StepContext, s: Session, check: FileCheck
                     ) -> tuple[str, AckVerdict]:
    """The file's TA1/999 written into the archive as it is made, with control numbers
    taken in ``s``; its sha256 and verdict."""
    return archive_text(ctx.archive, partial(write_acknowledgment, check, Responder(
        when=ctx.now, control=StoredControlNumbers(s))))


def _record_ack(row: ReceivedFile, ack: AckVerdict, check: FileCheck,
                accepted: frozenset[int]) -> None:
    """The answer's verdict and the file's lists on its row; ``accepted``: the check's
    accepted ordinals, as the caller read them (reading them again walks every
    interchange of the file once more)."""
    row.ack_kind, row.ack_code = ack.kind, ack_code(ack)
    row.problems = problems_of(check)
    row.interchange_numbers = [ic.control_number for ic in check.interchanges.identities()]
    row.accepted_sets = sorted(accepted)


def ack_code(ack: AckVerdict) -> str:
    return ack.code if ack.code in ("A", "E", "P") else "R"


def answer_duplicate(ctx: StepContext, run_id: int, file_id: int, name: str,
                     received_at: datetime) -> None:
    """A file received before: TA1 025 for each interchange, once per run, nothing else."""
    with ctx.store.transaction() as s:
        if s.scalar(select(DuplicateReceipt.id).where(DuplicateReceipt.run_id == run_id,
                                                      DuplicateReceipt.file_id == file_id)):
            return
        row = s.get(ReceivedFile, file_id)
        assert row is not None
        sha = row.sha256
    with archive_path(ctx.archive, sha).open("rb") as raw:
        check = check_stream(raw, ctx.policy)
    for index in range(len(check.interchanges)):
        ic = check.interchanges.held(index)  # the one the TA1 is written from
        ic.note_code = "025"
        ic.sentences.append("This file was already received.")
    try:
        with ctx.store.transaction() as s:
            # the file's row first, as every step does before it takes a control number
            # (store.sequences): the receipt below refers to it, and taking that key lock
            # after the number would deadlock with a run still acknowledging the file
            _key_share(s, file_id)
            ack_sha, ack = _archived_answer(ctx, s, check)
            s.add(DuplicateReceipt(run_id=run_id, file_id=file_id, name=stored_name(name),
                                   received_at=received_at, ack_sha256=ack_sha))
            event(s, ctx, "file.duplicate", sha, ack=ack.kind)
    except IntegrityError:
        return  # another process of this run answered it meanwhile


# the front end ----------------------------------------------------------------------------
class ReservedClaimNumbers:
    """Claim numbers (`edi.front_end.ClaimNumbers`) from a block reserved earlier,
    starting at ``first`` (`_reserve_claim_numbers`). A claim to number where no block
    was reserved is an engine fault."""

    def __init__(self, first: int | None) -> None:
        self._next = first

    def assign(self, fingerprint: str, received: date) -> str:
        if self._next is None:
            raise RuntimeError("no claim numbers were reserved for this set")
        number, self._next = self._next, self._next + 1
        return claim_number(received, number)


def answer_groups(ctx: StepContext, file_id: int) -> list[tuple[int, int]]:
    """The file's transaction sets still waiting for their front end as the service
    sends them, one message each: (first, last ordinal) of a set alone, or of a run of
    small ones answered together (`SMALL_SETS_CLAIMS`, by each set's ``claims``; a set
    whose size is not kept goes alone). Empty once the file has moved past the step."""
    with ctx.store.transaction() as s:
        status = s.scalar(select(ReceivedFile.status).where(ReceivedFile.id == file_id))
        if status != "acknowledged":
            return []
        waiting = s.execute(select(TransactionSet.ordinal, TransactionSet.claims).where(
            TransactionSet.file_id == file_id, TransactionSet.state != "answered")
            .order_by(TransactionSet.ordinal)).all()
    return [(group[0][0], group[-1][0])
            for group in small_together(waiting, lambda found: kept_size(found[1]))]


def sets_waiting(ctx: StepContext, file_id: int) -> bool:
    """Whether any of the file's transaction sets is still waiting for its front end."""
    with ctx.store.transaction() as s:
        return bool(s.scalar(select(exists().where(
            TransactionSet.file_id == file_id, TransactionSet.state != "answered"))))


def answer_set(ctx: StepContext, file_id: int, first: int, last: int | None = None) -> None:
    """The service's per-message step: the file's sets ``first`` to ``last`` (``first``
    alone by default) not answered yet, answered as `answer_sets` answers them (small
    ones together, in one transaction); the file is read up to the end of ``last``, and
    only those sets are parsed."""
    waiting = _file_in(ctx, file_id, "acknowledged")
    if waiting is None:
        return
    within = range(first, (first if last is None else last) + 1)
    todo, accepted = _set_rows(ctx, file_id, answered=False, within=within)
    if todo:
        _answer_in_batches(ctx, waiting, todo.__contains__, accepted, within)


def answer_sets(ctx: StepContext, file_id: int) -> bool:
    """Every transaction set's front end not answered yet, one transaction per set (small
    sets together: `SMALL_SETS_CLAIMS`), then the file's state (sets the envelope check
    never reached are found and kept here); whether this call moved the file on."""
    waiting = _file_in(ctx, file_id, "acknowledged")
    if waiting is None:
        return False
    done, accepted = _set_rows(ctx, file_id, answered=True)
    _answer_in_batches(ctx, waiting, lambda ordinal: ordinal not in done, accepted)
    moved = advance(ctx, file_id, "acknowledged", "answered")
    set_spool(ctx, waiting).remove()  # every set is answered: the spool has served
    return moved


def _answer_in_batches(ctx: StepContext, row: ReceivedFile, wanted: Callable[[int], bool],
                       accepted: frozenset[int], within: range | None = None) -> None:
    """The wanted sets (of those ``within``, when given) answered in file order, each
    alone or small ones together (`small_together`); ``accepted``: the ordinals of the
    sets the 999 accepted, the wanted ones among them."""
    # a set's outcome loaded from the spool, numbered and stored is some hundred thousand
    # objects the cyclic collector would walk again and again (a fifth of the step):
    # held off, and each set's young objects collected once it is answered
    with cyclic_gc_held_off():
        outcomes = _counted(_outcomes(ctx, row, wanted, accepted, within))
        for batch in small_together(outcomes, lambda item: len(item[0].reading.clm_segments)):
            if len(batch) == 1:
                _answer_outcome(ctx, row, *batch[0])
            else:
                _answer_small_sets(ctx, row, batch)
            collect_young()
            release_free_memory()


def edit_context(ctx: StepContext, row: ReceivedFile) -> EditContext:
    return EditContext(received=row.receipt_date, code_sets=ctx.code_sets)


def set_spool(ctx: StepContext, row: ReceivedFile, *, packing: bool = True) -> SetSpool:
    """Where the one pass keeps the file's set outcomes until they are answered: valid
    only for the receipt date and code-set releases the edits ran with."""
    releases = ",".join(release.name for release in ctx.code_sets.releases)
    return SetSpool(ctx.archive / "spool" / row.sha256,
                    f"{row.receipt_date.isoformat()}|{releases}", packing=packing)


def _outcomes(ctx: StepContext, row: ReceivedFile, wanted: Callable[[int], bool],
              accepted: frozenset[int], within: range | None = None
              ) -> Iterator[SetOutcome]:
    """The wanted sets' outcomes (of those ``within``, when given) as the 999 settled
    them (``accepted``, as `_answer_in_batches` takes it): from the spool the one pass
    wrote, and any set it does not hold (none written, one damaged, another host) from
    reading the archived file again."""
    spool = set_spool(ctx, row)
    sets = spool.sets()
    if sets is None:
        yield from _reread(ctx, row, wanted, accepted)
        return
    missing: set[int] = set()
    for ordinal in range(1, sets + 1) if within is None else \
            range(max(1, within.start), min(sets + 1, within.stop)):
        if wanted(ordinal):
            outcome = spool.get(ordinal)
            if outcome is None:
                missing.add(ordinal)
            else:
                yield outcome.settle(accepted)
    if missing:
        yield from _reread(ctx, row, missing.__contains__, accepted)


def _set_rows(ctx: StepContext, file_id: int, *, answered: bool,
              within: range | None = None) -> tuple[frozenset[int], frozenset[int]]:
    """Of the file's set rows (those ``within``, when given), read in one statement: the
    ordinals of those answered (or, with ``answered`` False, of those not answered yet),
    and the ordinals of those the 999 accepted. No list of the rows is kept: a file of
    200,000 one-claim sets has as many."""
    query = select(TransactionSet.ordinal, TransactionSet.accepted,
                   TransactionSet.state == "answered").where(TransactionSet.file_id == file_id)
    if within is not None:
        query = query.where(TransactionSet.ordinal.between(within.start, within.stop - 1))
    in_state: set[int] = set()
    accepted: set[int] = set()
    with ctx.store.transaction() as s:
        for ordinal, is_accepted, is_answered in s.execute(query):
            if bool(is_answered) == answered:
                in_state.add(ordinal)
            if is_accepted:
                accepted.add(ordinal)
    return frozenset(in_state), frozenset(accepted)


def _reread(ctx: StepContext, row: ReceivedFile, wanted: Callable[[int], bool],
            accepted: frozenset[int]) -> Iterator[SetOutcome]:
    """The wanted sets' outcomes from reading the archived file again (only the wanted
    sets the 999 accepted are parsed): each written into the spool claim by claim as it
    is read, then given from there one claim at a time, as the one pass's sets are; a
    set the spool cannot take (a full disk) is held in memory instead. ``accepted``: the
    ordinals of the sets the 999 accepted, the wanted ones among them (`_set_rows`)."""
    spool = set_spool(ctx, row, packing=False)  # each set is read back as soon as it is in
    parsed = frozenset(filter(wanted, accepted))
    left: set[int] = set()
    with archive_path(ctx.archive, row.sha256).open("rb") as stream:
        for reading in read_into(stream, parsed, edit_context(ctx, row), spool, wanted):
            outcome = spool.get(reading.ordinal)
            if outcome is None:
                left.add(reading.ordinal)
            else:
                yield outcome
    if left:
        yield from _in_memory(ctx, row, left.__contains__, accepted)


def _in_memory(ctx: StepContext, row: ReceivedFile, wanted: Callable[[int], bool],
               accepted: frozenset[int]) -> Iterator[SetOutcome]:
    """The wanted sets' outcomes read again from the archived file, each held in memory
    (``accepted`` as `_reread` takes it)."""
    parsed = frozenset(filter(wanted, accepted))
    for outcome in set_outcomes(archive_path(ctx.archive, row.sha256), parsed,
                                edit_context(ctx, row)):
        if wanted(outcome.reading.ordinal):
            yield outcome


def _counted(outcomes: Iterator[SetOutcome]) -> Iterator[tuple[SetOutcome, Counter[str]]]:
    """Each outcome with the engine faults counted while it was taken (a set read again
    from the file is parsed then), kept as events with its answer."""
    before = FAULTS.copy()
    for outcome in outcomes:
        yield outcome, FAULTS - before
        before = FAULTS.copy()


SMALL_SETS_CLAIMS = 100
"""Sets of at most this many claims in all, one after another, are answered in one
transaction (`_answer_small_sets`), and so are up to this many sets without claims; the
service sends them in one message (`answer_groups`). A
set costs two transactions of some statements each (its claim numbers, then its
claims), about 7 ms of CPU on SQLite: a file of 5,000 one-claim sets spent 35 of its
41 s of `claims process --front-end-only` there, against 5 s for one set of 5,000
(11 s with the sets answered together)."""


def small_together(items: Iterable[T], claims_of: Callable[[T], int]) -> Iterator[list[T]]:
    """The sets in order, alone, or consecutive small ones together (`SMALL_SETS_CLAIMS`),
    each set's size its ``claims_of``."""
    batch: list[T] = []
    claims = 0
    for item in items:
        size = claims_of(item)
        if batch and (claims + size > SMALL_SETS_CLAIMS or len(batch) >= SMALL_SETS_CLAIMS):
            yield batch
            batch, claims = [], 0
        batch.append(item)
        claims += size
    if batch:
        yield batch


def kept_size(claims: int | None) -> int:
    """A set's size for `small_together` from the claim count kept on its row: a set
    kept before revision 0012, whose count is not known, goes alone."""
    return SMALL_SETS_CLAIMS + 1 if claims is None else claims


def _answer_outcome(ctx: StepContext, row: ReceivedFile, outcome: SetOutcome,
                    counted: Counter[str]) -> None:
    """A set answered (`_answer_set`). A spooled set whose claims turn out damaged while
    they are read (its answer's transaction rolled back) is forgotten by the spool and
    answered from the archived file read again, held in memory (a disk that damages what
    is written to it is not trusted with the set again)."""
    try:
        _answer_set(ctx, row.id, outcome, row.receipt_date, counted)
    except SpoolDamaged as exc:
        ordinal = outcome.reading.ordinal
        log.warning("set_spool.damaged", transaction_set_ordinal=ordinal, error=str(exc))
        set_spool(ctx, row).forget(ordinal)
        _todo, accepted = _set_rows(ctx, row.id, answered=False,
                                    within=range(ordinal, ordinal + 1))
        for again in _in_memory(ctx, row, lambda found: found == ordinal, accepted):
            _answer_set(ctx, row.id, again, row.receipt_date, counted)


def _answer_small_sets(ctx: StepContext, row: ReceivedFile,
                       batch: list[tuple[SetOutcome, Counter[str]]]) -> None:
    """Consecutive small sets answered in one transaction, as `_answer_set` answers each:
    their rows locked, one block of claim numbers for them all (a short transaction
    still: `SMALL_SETS_CLAIMS`), each set's claims, totals and state. A set whose spooled
    claims turn out damaged rolls the whole batch back; its sets are then answered one
    by one (`_answer_outcome`)."""
    try:
        with ctx.store.transaction() as s:
            rows = _locked_set_rows(s, row.id, [outcome for outcome, _counted in batch])
            _key_share(s, row.id)
            todo = [(outcome, counted, set_row)
                    for (outcome, counted), set_row in zip(batch, rows, strict=True)
                    if set_row.state != "answered"]
            _number_sets(s, [(set_row, outcome) for outcome, _counted, set_row in todo])
            inserts = _ClaimInserts()  # the batch's claims in one statement, in set order
            for outcome, counted, set_row in todo:
                _record_counted(s, ctx, f"{row.id}:{outcome.reading.control_number}", counted)
                _store_answer(s, ctx, set_row, outcome, row.receipt_date, inserts)
            inserts.insert(s)
    except SpoolDamaged:
        for outcome, counted in batch:
            _answer_outcome(ctx, row, outcome, counted)


def _set_row(session: Session, file_id: int, ordinal: int) -> TransactionSet | None:
    """The file's transaction set ``ordinal``, locked for the rest of the transaction."""
    return session.scalar(select(TransactionSet).where(
        TransactionSet.file_id == file_id, TransactionSet.ordinal == ordinal)
        .with_for_update())


def _locked_set_row(session: Session, file_id: int, outcome: SetOutcome) -> TransactionSet:
    """The set's row, locked; made for a set the envelope check never reached (its
    claims are kept too)."""
    set_row = _set_row(session, file_id, outcome.reading.ordinal)
    return set_row if set_row is not None else _new_set_row(session, file_id, outcome)


def _locked_set_rows(session: Session, file_id: int, outcomes: list[SetOutcome]
                     ) -> list[TransactionSet]:
    """`_locked_set_row` for several sets, their rows read in one statement."""
    found = {set_row.ordinal: set_row for set_row in session.scalars(
        select(TransactionSet).where(
            TransactionSet.file_id == file_id,
            TransactionSet.ordinal.in_([outcome.reading.ordinal for outcome in outcomes]))
        .order_by(TransactionSet.ordinal).with_for_update())}
    return [found.get(outcome.reading.ordinal) or _new_set_row(session, file_id, outcome)
            for outcome in outcomes]


def _pending_set(file_id: int, ordinal: int, accepted: bool, control_number: str,
                 claims: int | None) -> dict[str, object]:
    """A transaction set's row before it is answered (ST02 cut to the column's 9)."""
    return {"file_id": file_id, "ordinal": ordinal, "accepted": accepted,
            "state": "pending", "control_number": control_number[:9], "claims": claims}


def _new_set_row(session: Session, file_id: int, outcome: SetOutcome) -> TransactionSet:
    reading = outcome.reading
    set_row = TransactionSet(**_pending_set(file_id, reading.ordinal, False,
                                            reading.control_number, len(reading.clm_segments)))
    session.add(set_row)
    session.flush()
    return set_row


def _number_sets(session: Session, sets: list[tuple[TransactionSet, SetOutcome]]) -> None:
    """One block of claim numbers for the sets that need numbers and have none yet, each
    set's first kept on its row (the caller holds the file's row key-share locked: the
    claims refer to it)."""
    wanting = [(set_row, outcome.to_number()) for set_row, outcome in sets
               if set_row.first_claim_number is None and outcome.to_number()]
    if wanting:
        first = take(session, "claim-number", sum(needed for _row, needed in wanting))
        for set_row, needed in wanting:
            set_row.first_claim_number, first = first, first + needed


def _reserve_claim_numbers(ctx: StepContext, file_id: int, outcome: SetOutcome) -> bool:
    """The set's claim numbers, one block taken in a short transaction of its own and
    its first number kept on the set's row: the set's answer (its claims inserted, about
    a second for 5,000 claims on PostgreSQL) then holds no sequence row, so other sets
    and files are answered meanwhile, and a set whose answer fails or is killed is
    answered again with the same numbers. False when the set is answered already."""
    with ctx.store.transaction() as s:
        set_row = _locked_set_row(s, file_id, outcome)
        if set_row.state == "answered":
            return False
        if set_row.first_claim_number is None and outcome.to_number():
            # the claims refer to the file: its row before the claim numbers (store.sequences)
            _key_share(s, file_id)
            _number_sets(s, [(set_row, outcome)])
        return True


ANSWER_CHUNK = 1_000
"""Claims of a set inserted per statement while it is answered: the set is read from
the spool, numbered and stored a chunk at a time, never held whole."""


def _answer_set(ctx: StepContext, file_id: int, outcome: SetOutcome, received: date,
                counted: Counter[str]) -> None:
    reading = outcome.reading
    if not _reserve_claim_numbers(ctx, file_id, outcome):
        return
    with ctx.store.transaction() as s:
        set_row = _set_row(s, file_id, reading.ordinal)
        assert set_row is not None  # kept by `_reserve_claim_numbers`
        if set_row.state == "answered":
            return
        # the claims refer to the file: its row key-share locked before they are inserted
        _key_share(s, file_id)
        _record_counted(s, ctx, f"{file_id}:{reading.control_number}", counted)
        _store_answer(s, ctx, set_row, outcome, received)


def _store_answer(s: Session, ctx: StepContext, set_row: TransactionSet, outcome: SetOutcome,
                  received: date, together: _ClaimInserts | None = None) -> None:
    """The set's claims (numbered from its block), their 277CA records and the set's
    totals stored, and the set answered, in the caller's transaction: its claims
    inserted a chunk at a time, or put into ``together`` for the caller to insert."""
    reading = outcome.reading
    answered = answered_claims(outcome, ReservedClaimNumbers(set_row.first_claim_number),
                               received)
    counted = TallyBuilder()
    inserts = together if together is not None else _ClaimInserts()
    claims = accepted = 0
    while chunk := list(islice(answered, ANSWER_CHUNK)):
        accepted += _store_claims(s, ctx, set_row, claims, chunk, counted, received, inserts)
        claims += len(chunk)
        if together is None:
            inserts.insert(s)
    totals = counted.totals()
    if totals.total.claims:
        set_row.answer = to_json(outcome.answer([], received))
        set_row.totals = to_json(totals)
    set_row.state = "answered"
    event(s, ctx, "set.answered", f"{set_row.file_id}:{reading.control_number}",
          claims=claims, accepted=accepted)


class _ClaimInserts:
    """Claim rows, and the rendering clinicians each names, waiting for one insert: a
    chunk of a set, or the claims of the small sets answered together."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.npis: list[tuple[str, ...]] = []

    def add(self, rows: list[dict[str, Any]], chunk: Sequence[AnsweredClaim]) -> None:
        self.rows += rows
        self.npis += [one.edited.rendering_npis if one.edited is not None else ()
                      for one in chunk]

    def insert(self, s: Session) -> None:
        if not self.rows:
            return
        # Core insert: no ORM object per claim is kept for the transaction
        ids = s.scalars(insert(Claim).returning(Claim.id, sort_by_parameter_order=True),
                        self.rows).all()
        npis = [{"claim_id": claim_id, "npi": npi}
                for claim_id, names in zip(ids, self.npis, strict=True) for npi in names]
        if npis:
            s.execute(insert(ClaimRenderingNpi), npis)
        self.rows, self.npis = [], []


def _store_claims(s: Session, ctx: StepContext, set_row: TransactionSet, before: int,
                  chunk: Sequence[AnsweredClaim], counted: TallyBuilder,
                  received: date, inserts: _ClaimInserts) -> int:
    """A chunk of a set's answered claims (the set's first ``before`` are) put into
    ``inserts``, each with its 277CA record, counted into the set's totals; how many are
    accepted."""
    lobs = _rejected_lobs(s, ctx, chunk)
    rows = []
    for position, (one, lob) in enumerate(zip(chunk, lobs, strict=True), before + 1):
        summary, status, kept = one.summary, one.status, one.kept
        accepted = summary.front_end == "accepted" and kept is not None
        rows.append({
            "file_id": set_row.file_id, "set_id": set_row.id, "position": position,
            "patient_control_number": summary.patient_control_number[:38],
            "charge_cents": stored_charge_cents(summary.charge), "front_end": summary.front_end,
            "state": "accepted" if accepted else "closed",
            "codes": summary.front_end_codes, "reasons": summary.reasons,
            "icn": summary.payer_claim_control_number,
            "fingerprint": one.edited.fingerprint if accepted and one.edited is not None
            else None,
            "subscriber_id": kept.subscriber_id if kept is not None else None,
            "original_icn": kept.original_icn if kept is not None else None,
            "receipt_date": received, "line_of_business": lob,
            "billing_npi": status.billing_provider.npi if status is not None else None,
            "parsed": kept.json if accepted and kept is not None else None,
            "answer": to_json(status) if status is not None else None,
            "provider_group": counted.add(status) if status is not None else None,
        })
    inserts.add(rows, chunk)
    return sum(1 for row in rows if row["state"] == "accepted")


def _rejected_lobs(s: Session, ctx: StepContext, chunk: Sequence[AnsweredClaim]
                   ) -> list[str | None]:
    """Each rejected claim's line of business, as adjudication would name it (the
    review's rejections queue filters by it); None for the others (a decision names
    an accepted claim's). Only a rejected claim carries a `PatientKey`
    (`EditedClaim.of`)."""
    rejected = [one.summary.front_end == "rejected" for one in chunk]
    if not any(rejected):
        return [None] * len(chunk)
    patients = [one.edited.patient if one.edited is not None else None for one in chunk]
    named = rejected_lines_of_business(s, ctx.reference, patients, ctx.as_of)
    return [lob if r else None for lob, r in zip(named, rejected, strict=True)]


_OVER = MAX_AMOUNT + CENT


def stored_charge_cents(amount: str) -> int:
    """A claim's charge as the store keeps it, in cents; a charge over `MAX_AMOUNT`
    either side of zero (never accepted: A7:178) as the first cent over it, where a
    CLM02 of 17 digits was a traceback (the column holds 18 digits of cents, and the
    queues sum it); the claim's 277CA record keeps its exact text."""
    return to_cents(max(-_OVER, min(Decimal(amount), _OVER)))
