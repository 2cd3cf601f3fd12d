"""Answers into the senders' outbound folders, each delivery recorded as an event.

A file's 999 (or TA1) and 277CA, and every released 835 with its printable advice,
are copied atomically (temporary name, fsync, rename) into the outbound folder of
the sender they answer (`Service.outbound_folder`). A file's delivery sent again
writes only the answers no delivery of it has written (`deliver_file`); an interrupted
one writes the same bytes under the same name. What did not arrive is found from the events:
a file whose last delivery failed, a released 835 with no delivery at all;
`redeliver` (``claims redeliver``) sends those again, and names what the archive lacks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import structlog
from prometheus_client import Histogram
from sqlalchemy import ColumnElement, Exists, exists, func, or_, select
from sqlalchemy.orm import Session

from store.engine import Store
from store.models import (
    Claim,
    EraEnrollment,
    Event,
    Interchange,
    ReceivedFile,
    RemittanceRecord,
    RemittedClaim,
)
from workers.archive import NotInArchive, archive_path, archived
from workers.files import answer_stem, copy_atomically
from workers.kept_answers import KeptAnswer

if TYPE_CHECKING:
    from workers.service import Service

log = structlog.get_logger("claims.delivery")
ANSWER_SECONDS = Histogram(
    "edi_seconds_from_upload_to_answer", "Seconds from an upload to its answer in the "
    "partner's outbound folder", ["answer"],
    buckets=(1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600))


def answered_to(ack: str) -> tuple[str, str]:
    """(ISA07, ISA08) of our answer (its text from the start, at least its first ISA:
    `KeptAnswer.head`): the sender it goes back to."""
    elements = ack.split(ack[3])
    return elements[7].strip(), elements[8].strip()


def deliver_file(svc: Service, file_id: int) -> tuple[str, ...]:
    """The file's 999 (or TA1) and, once written, its 277CA: each answer once. A
    delivery sent again (the file's last step, the reconciler, a retry) writes only what
    no delivery of the file has written; before 2026-12-01 each wrote the 999 again, so
    a sender that takes its answers out of the folder found the same 999 a second time.
    The file's row is locked before its deliveries are looked up: two deliveries at the
    same time (the file's last step and the reconciler) each wrote the 999 before
    2026-12-02 on PostgreSQL, neither seeing the other's.

    Returns the answers it owes that the archive lacks (`missing_answers`), not
    written: the file's delivery is recorded as failed, left to ``claims redeliver``,
    which names them. The others still go, addressed by the first of them (both answers
    go back to the same sender): a 999 lost from the archive held back the 277CA too
    before 2026-12-02, and the delivery raised FileNotFoundError, so claims redeliver
    stopped there with a traceback."""
    with svc.store.transaction() as s:
        row = s.get(ReceivedFile, file_id, with_for_update=True)  # a delivery at once waits
        ack = None if row is None else KeptAnswer.of(row)
        if row is None or ack is None:
            return ()
        earlier = _delivered_answers(s, row.sha256)
        lost = missing_answers(svc.archive, row, earlier)
        owed = {ACK: (ack, row.ack_kind or "999")}  # each answer the file has: its kind
        if row.claim_ack_sha256:
            owed[CLAIM_ACK] = (KeptAnswer(row.claim_ack_sha256, None), "277CA")
        sending = [answer for answer in owed if answer not in earlier and answer not in lost]
        if sending:
            qualifier, sender = answered_to(owed[sending[0]][0].head(svc.archive))
            folder = (svc.partner_folder(s, row.partner_id)
                      or svc.outbound_folder(s, qualifier, sender))
            folder.mkdir(parents=True, exist_ok=True)
            stem = answer_stem(row.name, row.sha256)
            for answer in sending:
                kept, kind = owed[answer]
                kept.copy_to(svc.archive, folder / f"{stem}.{kind.lower()}")
                ANSWER_SECONDS.labels(kind).observe(_since(row.received_at))
            s.add(Event(at=datetime.now(tz=UTC), kind="file.delivered", actor="worker",
                        subject=row.sha256,
                        detail={"to": f"{qualifier}:{sender}", "answers": sending}))
        row.delivered_status = row.status  # "done": the 277CA went too (if there is one)
        if lost:  # after the delivery's event: the file stays one redeliver sends
            _failed(s, row, tuple(lost.values()))
        return tuple(lost.values())


def missing_answers(archive: Path, row: ReceivedFile, earlier: set[str]) -> dict[str, str]:
    """The answers the file is owed (none of ``earlier``'s) whose archived copy is gone:
    each under what a ``file.delivered`` event calls it, named by kind and the file's
    sha256 (``the 999 of file <sha256>``)."""
    owed = ((ACK, row.ack_kind or "999", row.ack_sha256),
            (CLAIM_ACK, "277CA", row.claim_ack_sha256))
    return {answer: f"the {kind} of file {row.sha256}" for answer, kind, sha in owed
            if answer not in earlier and sha is not None
            and not archive_path(archive, sha).is_file()}


def _failed(s: Session, row: ReceivedFile, missing: tuple[str, ...]) -> None:
    """The file's delivery failed for want of archived answers: as a delivery whose
    retries ran out (`workers.service.declare_actors`), left to claims redeliver."""
    row.delivered_status = "failed"
    s.add(Event(at=datetime.now(tz=UTC), kind="delivery.failed", actor="worker",
                subject=row.sha256,
                detail={"reason": NotInArchive.__name__, "missing": len(missing)}))


ACK, CLAIM_ACK = "ack", "277CA"
"""What a ``file.delivered`` event says it wrote (``answers``): the 999 or TA1, the 277CA."""


def _delivered_answers(s: Session, sha256: str) -> set[str]:
    """What the file's deliveries have written: an event from before 2026-12-01 names
    none, and every delivery then wrote the 999 or TA1."""
    details = s.scalars(select(Event.detail).where(Event.kind == "file.delivered",
                                                   Event.subject == sha256))
    return {answer for detail in details for answer in (detail or {}).get("answers", [ACK])}


def deliver_remittances(svc: Service) -> int:
    """Every released 835 not delivered yet (this cycle's, or an earlier cycle's whose
    delivery failed), with its advice: to the mailbox of the partner its payee receives
    its ERAs through (`EraEnrollment`, ``claims partner era``), else to the one sender
    whose files brought its claims: the mailbox a file came from (as its 999 and
    277CA), or for a file that came from none its interchange's sender. An 835 whose
    claims came from several senders, for a payee with no enrollment, is held
    (`remittance.held`, counted as not delivered): each would read the other's
    patients. Returns how many 835s were delivered (`deliver_remittance`: each once,
    though two deliveries run at the same time).

    An 835 the archive lacks is logged by its trace number and passed over; once the
    others are delivered, `NotInArchive` names how many were (the remit actor's retry,
    then its dead letter, and ``claims redeliver`` report them). Before 2026-12-02 the
    first one ended the round, and every 835 released after it waited with it."""
    delivered, lacking = 0, []
    for trace in waiting_remittances(svc.store):
        try:
            delivered += deliver_remittance(svc, trace)
        except NotInArchive:
            log.error("delivery.remittance_not_in_archive", trace=trace)
            lacking.append(trace)
    if lacking:
        raise NotInArchive(f"{len(lacking)} released 835s are not in the archive "
                           f"({delivered} delivered)")
    return delivered


def waiting_remittances(store: Store) -> list[str]:
    """The trace numbers of the released 835s no delivery has written, oldest first."""
    with store.transaction() as s:
        return list(s.scalars(select(RemittanceRecord.trace_number)
                              .where(~_delivered(RemittanceRecord.trace_number.expression))
                              .order_by(RemittanceRecord.id)))


def deliver_remittance(svc: Service, trace: str) -> bool:
    """The 835 ``trace`` and its advice into its mailbox, unless a delivery wrote it
    already: its row is locked first (on SQLite the writer's lock is taken at BEGIN),
    then its delivery looked for, so a second delivery at the same time (two ``remit``
    actors, ``claims redeliver`` during a cycle) waits for the first and finds it done.
    Before 2026-12-02 each took the list of waiting 835s, then wrote each without looking
    again, and both wrote the same 835 and recorded two deliveries: a partner that takes
    its files out of the folder as they come received the ERA twice."""
    with svc.store.transaction() as s:
        row = s.scalar(select(RemittanceRecord).where(RemittanceRecord.trace_number == trace)
                       .with_for_update())
        if row is None or s.scalar(select(Event.id).where(
                Event.kind == "remittance.delivered", Event.subject == trace).limit(1)):
            return False
        destinations = (_enrolled(svc, s, row.payee_npi, row.payee_tin)
                        or _destinations(svc, s, trace))
        if len(destinations) != 1:
            _held(s, trace, len(destinations))
            return False
        ((folder, to),) = destinations.items()
        kept = [(archived(svc.archive, sha), suffix)  # NotInArchive: neither is written
                for sha, suffix in ((row.sha256, "835"), (row.html_sha256, "html"))
                if sha is not None]
        folder.mkdir(parents=True, exist_ok=True)
        for source, suffix in kept:
            copy_atomically(source, folder / f"{row.payee_npi}-{trace}.{suffix}")
        s.add(Event(at=datetime.now(tz=UTC), kind="remittance.delivered",
                    actor="worker", subject=trace, detail={"to": to}))
        return True


def _enrolled(svc: Service, s: Session, npi: str, tin: str) -> dict[Path, str]:
    """The mailbox of the partner the payee receives its ERAs through, if it enrolled."""
    partner = s.scalar(select(EraEnrollment.partner_id).where(
        EraEnrollment.payee_npi == npi, EraEnrollment.payee_tin == tin))
    mailbox = svc.partner_folder(s, partner)
    return {} if mailbox is None else {mailbox: f"era:{mailbox.parent.name}"}


def _destinations(svc: Service, s: Session, trace: str) -> dict[Path, str]:
    """Where the 835 ``trace`` would go, for each file its claims came from: the file's
    mailbox (before 2026-12-01 the sender its ISA06 named, so a partner sending as
    another's ID had its patients' 835s delivered to that other), else its accepted
    interchanges' sender; each folder with how its delivery event names it."""
    sources = s.execute(
        select(ReceivedFile.partner_id, Interchange.sender_qualifier,
               Interchange.sender_id).distinct()
        .join(Claim, Claim.file_id == ReceivedFile.id)
        .join(Interchange, Interchange.file_id == ReceivedFile.id)
        .join(RemittedClaim, RemittedClaim.claim_id == Claim.id)
        .join(RemittanceRecord, RemittanceRecord.id == RemittedClaim.remittance_id)
        .where(RemittanceRecord.trace_number == trace, Interchange.accepted.is_(True)))
    found: dict[Path, str] = {}
    for partner_id, qualifier, sender in sources:
        mailbox = svc.partner_folder(s, partner_id)
        if mailbox is not None:
            found[mailbox] = f"partner:{mailbox.parent.name}"
        else:
            found[svc.outbound_folder(s, qualifier.strip(), sender.strip())] = \
                f"{qualifier.strip()}:{sender.strip()}"
    return found


def _held(s: Session, trace: str, senders: int) -> None:
    """An 835 no single sender may read: recorded once (each later delivery round finds
    it not delivered again)."""
    if s.scalar(select(Event.id).where(Event.kind == "remittance.held",
                                       Event.subject == trace).limit(1)) is None:
        s.add(Event(at=datetime.now(tz=UTC), kind="remittance.held", actor="worker",
                    subject=trace, detail={"senders": senders}))


def _delivered(trace: ColumnElement[str]) -> Exists:
    return exists().where(Event.kind == "remittance.delivered", Event.subject == trace)


def undelivered_files(store: Store) -> list[int]:
    """Files whose last delivery failed (retries used up) and none succeeded since."""
    with store.transaction() as s:
        failed = (select(Event.subject, func.max(Event.id).label("last"))
                  .where(Event.kind == "delivery.failed").group_by(Event.subject).subquery())
        done = (select(Event.subject, func.max(Event.id).label("last"))
                .where(Event.kind == "file.delivered").group_by(Event.subject).subquery())
        return list(s.scalars(
            select(ReceivedFile.id)
            .join(failed, failed.c.subject == ReceivedFile.sha256)
            .outerjoin(done, done.c.subject == ReceivedFile.sha256)
            .where(or_(done.c.last.is_(None), done.c.last < failed.c.last))
            .order_by(ReceivedFile.id)))


def undelivered_remittances(store: Store) -> int:
    with store.transaction() as s:
        return s.scalar(select(func.count()).select_from(RemittanceRecord)
                        .where(~_delivered(RemittanceRecord.trace_number.expression))) or 0


class Redelivery(NamedTuple):
    """What `redeliver` did: the files whose answers all went out again, the 835s
    delivered, and what it could not send because the archive lacks it."""

    files: int
    remittances: int
    missing: tuple[str, ...] = ()
    """``the 999 of file <sha256>``, ``the 835 with trace <trace>``: none delivered."""


def redeliver(svc: Service) -> Redelivery:
    """Deliver again what did not arrive. An answer or 835 the store names but the
    archive lacks is named in ``missing`` and the rest still go; before 2026-12-02 the
    first such one stopped ``claims redeliver`` with a traceback."""
    files, remittances, missing = 0, 0, list[str]()
    for file_id in undelivered_files(svc.store):
        lacking = deliver_file(svc, file_id)
        files += not lacking
        missing += lacking
    for trace in waiting_remittances(svc.store):
        try:
            remittances += deliver_remittance(svc, trace)
        except NotInArchive:
            missing.append(f"the 835 with trace {trace}")
    return Redelivery(files, remittances, tuple(missing))


def _since(moment: datetime) -> float:
    stamp = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(tz=UTC) - stamp).total_seconds())
