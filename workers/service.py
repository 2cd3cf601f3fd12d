"""The running service: dramatiq actors over the store's one-transaction steps.

    intake -> process_file(file_id) [envelope, 999] -> answer_set(file_id, first, last)
    [front end of one transaction set, or of a run of small ones, a message each] ->
    adjudicate(file_id) [one batch, then itself again] -> deliver(file_id);
    remit(as_of) runs a cycle.

Messages carry the file row's id (and sets' ordinals), never claim contents. Each
actor re-reads the file's state and runs the step it is at; every step does its work
once under a row lock and commits it with the state it moves to, so a message
delivered twice (dramatiq delivers at least once) or re-sent by the reconciler does
nothing twice. A large file is split: its transaction sets' front ends are separate
messages that several workers take at once (the last one to finish moves the file
on), and its adjudication is one message per batch of claims, each sending the next
after it commits. So no message runs long and a killed worker loses one set or one
batch at most (each commits whole or not at all).

**Receipt order.** Duplicates and accumulators depend on deciding a member's claims
in the order they were received. A file is adjudicated only once every file received
before it (a lower file row id) has been adjudicated, rejected or dead-lettered: an
earlier file still in its front end makes the later one wait (the message is sent
again after a short delay). Within a file, batches run one after another in claim
order. So every decision is made in receipt order, whichever worker takes which
message; front ends (the slow part) still run in parallel.

**Failures.** An exception retries with dramatiq's exponential backoff; when the
retries are used up the file is dead-lettered: its status becomes ``dead`` with the
exception's type as the reason (never its message, which could quote input), shown
by ``claims status``, and the files after it no longer wait for it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from stat import S_ISREG
from typing import Annotated, Any, BinaryIO, NamedTuple
from zoneinfo import ZoneInfo

import dramatiq
from dramatiq.brokers.stub import StubBroker
from pydantic import AfterValidator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from edi.validators.codesets import CodeSetRegistry, code_set_registry, default_registry
from edi.validators.implementation_guide import EnvelopePolicy
from store.engine import Store
from store.models import DuplicateReceipt, Event, ReceivedFile, TradingPartner
from workers import adjudication_step, finish_step, steps
from workers.archive import archive_copy
from workers.delivery import answered_to, deliver_file, deliver_remittances
from workers.files import Utf8CodeSetsDirectory, Utf8Path, answer_stem, utf8_setting
from workers.kept_answers import KeptAnswer
from workers.receipt import (
    DEFAULT_BUSINESS_TIMEZONE,
    BusinessTimezone,
    ReceiptClock,
    business_zone,
    receipt_date,
    upload_instant,
)
from workers.reference_store import ReferenceSource, StoredReference

WAITING_FOR_EARLIER_FILES_MS = 2_000
MAX_RETRIES = 5
#: Statuses a file is in while its steps are not finished (the reconciler's work).
UNFINISHED = ("received", "acknowledged", "answered", "adjudicated")
#: A done file's delivery statuses that still owe the sender an answer: nothing
#: delivered yet, or only what went before the file was done (its 999, not its 277CA).
#: ``failed`` is left to ``claims redeliver``.
DELIVERY_OWED = ("pending", *UNFINISHED)


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EDI_", extra="ignore")

    redis_url: Annotated[str | None, AfterValidator(utf8_setting)] = None
    """``redis://host:6379/0``; None: dramatiq's in-process broker (demo, tests)."""
    database_url: str | None = None
    """Checked as the command line reaches it (``workers.cli._reachable``)."""
    archive_dir: Utf8Path = Path("data/archive")
    outbound_dir: Utf8Path = Path("data/outbound")
    """Answers for senders with no mailbox, one folder per sender (``<qualifier>-<id>``)."""
    mailboxes: Utf8Path = Path("data/mailboxes")
    """The partners' SFTP mailboxes (``<name>/inbound``, ``<name>/outbound``)."""
    code_sets_dir: Utf8CodeSetsDirectory = None
    """CMS ICD-10-CM order files to load besides the shipped FY2025 and FY2026
    (``icd10cm_order_<FY>.txt``); None: the shipped releases only."""
    business_timezone: BusinessTimezone = DEFAULT_BUSINESS_TIMEZONE
    """IANA zone whose calendar gives a file's receipt date (`workers.receipt`)."""
    receipt_clock: ReceiptClock = "arrival"
    """``arrival``: an upload arrived when it last changed on this machine, a time its
    sender cannot set; ``file``: at its modification time, which an SFTP client can set
    (only to replay files whose drop times are known; `workers.receipt.upload_instant`)."""


@dataclass
class Service:
    """What every actor needs: the store, where bytes live, reference data."""

    store: Store
    archive: Path
    outbound: Path
    """Answers for senders with no mailbox: ``<outbound>/<qualifier>-<id>/``."""
    reference: ReferenceSource | None
    mailboxes: Path | None = None
    """Partners' mailboxes (``<mailboxes>/<name>/outbound/``), see `workers.intake`."""
    code_sets: CodeSetRegistry = field(default_factory=default_registry)
    """The ICD-10-CM releases diagnoses are checked against (``EDI_CODE_SETS_DIR``)."""
    business_zone: ZoneInfo = field(
        default_factory=lambda: business_zone(DEFAULT_BUSINESS_TIMEZONE))
    """Whose calendar a file's arrival instant is dated on (its receipt date)."""
    receipt_clock: ReceiptClock = "arrival"
    """Which of an upload's times is its arrival (`workers.receipt.upload_instant`)."""

    def outbound_folder(self, session: Session, qualifier: str, sender_id: str) -> Path:
        """Where a sender's answers go: its mailbox's ``outbound/`` when it is a known
        trading partner, otherwise a folder named after it under ``outbound``."""
        if self.mailboxes is not None:
            name = session.scalar(select(TradingPartner.name).where(
                TradingPartner.sender_qualifier == qualifier,
                TradingPartner.sender_id == sender_id))
            if name is not None:
                return self.mailboxes / name / "outbound"
        return self.outbound / f"{qualifier or 'ZZ'}-{sender_id or 'UNKNOWN'}".replace(
            os.sep, "_")

    def partner_folder(self, session: Session, partner_id: int | None) -> Path | None:
        """The ``outbound/`` of the mailbox a file came from (None: not from a mailbox)."""
        if partner_id is None or self.mailboxes is None:
            return None
        name = session.scalar(select(TradingPartner.name).where(
            TradingPartner.id == partner_id))
        return self.mailboxes / name / "outbound" if name is not None else None

    def context(self, now: datetime | None = None) -> steps.StepContext:
        """A step's context at ``now`` (UTC): its as-of date, the day reference data,
        plans and payment cycles are read for, is on the business calendar, as a
        file's receipt date is."""
        moment = now or datetime.now(tz=UTC)
        return steps.StepContext(store=self.store, archive=self.archive, now=moment,
                                 as_of=receipt_date(moment, self.business_zone),
                                 policy=EnvelopePolicy(),
                                 code_sets=self.code_sets, reference=self.reference,
                                 actor="worker")


def make_broker(url: str | None) -> dramatiq.Broker:
    """Redis when a URL is given, otherwise dramatiq's in-process stub broker; dramatiq's
    default middleware (retries with backoff, time and age limits, callbacks) without
    its Prometheus exporter, which needs the worker's own boot."""
    from dramatiq.middleware import default_middleware
    from dramatiq.middleware.prometheus import Prometheus

    middleware = [m() for m in default_middleware if m is not Prometheus]
    if url is None:
        return StubBroker(middleware=middleware)  # type: ignore[no-untyped-call]
    from dramatiq.brokers.redis import RedisBroker

    return RedisBroker(url=url, middleware=middleware)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Actors:
    process_file: dramatiq.Actor[..., Any]
    answer_set: dramatiq.Actor[..., Any]
    adjudicate: dramatiq.Actor[..., Any]
    deliver: dramatiq.Actor[..., Any]
    dead_letter: dramatiq.Actor[..., Any]
    remit: dramatiq.Actor[..., Any]


def declare_actors(broker: dramatiq.Broker, service: Callable[[], Service], *,
                   max_retries: int = MAX_RETRIES, min_backoff_ms: int = 500) -> Actors:
    """The service's actors on ``broker``; ``service`` gives each process its store."""

    def dead_letter(message: dict[str, Any], retry: dict[str, Any]) -> None:
        file_id = (message.get("args") or [None])[0]
        reason = _exception_type(message)
        ctx = service().context()
        if message.get("actor_name") == "remit":
            # the cycle is one transaction: released whole or not at all; an 835 released
            # and not delivered is found by claims status and sent by claims redeliver
            with ctx.store.transaction() as s:
                s.add(Event(at=ctx.now, kind="remit.failed", actor="worker",
                            subject=str(file_id), detail={"reason": reason}))
            return
        if not isinstance(file_id, int):
            return
        with ctx.store.transaction() as s:
            row = s.get(ReceivedFile, file_id, with_for_update=True)
            if row is not None and message.get("actor_name") == "deliver":
                # the file is decided; only its answers did not reach the folder
                # (claims redeliver sends them; the reconciler leaves them alone)
                row.delivered_status = "failed"
                s.add(Event(at=ctx.now, kind="delivery.failed", actor="worker",
                            subject=row.sha256, detail={"reason": reason}))
            elif row is not None and row.status in UNFINISHED:
                # the step it died in is kept ("was"): `revive` sends it again from there
                s.add(Event(at=ctx.now, kind="file.dead", actor="worker", subject=row.sha256,
                            detail={"reason": reason, "actor": message.get("actor_name"),
                                    "was": row.status}))
                row.status, row.updated_at = "dead", ctx.now
                # no step reads its set spool now (a file sent again reads its sets from
                # the archived file): the spool would only hold disk
                steps.set_spool(ctx, row).remove()

    dead = dramatiq.actor(dead_letter, broker=broker, actor_name="dead_letter", max_retries=0)
    options = {"broker": broker, "max_retries": max_retries, "min_backoff": min_backoff_ms,
               "max_backoff": 60_000, "on_retry_exhausted": "dead_letter"}

    def deliver_answers(file_id: int) -> None:
        deliver_file(service(), file_id)

    deliver = dramatiq.actor(deliver_answers, actor_name="deliver", **options)

    def adjudicate_file(file_id: int) -> None:
        svc = service()
        ctx = svc.context()
        if _earlier_files_unfinished(ctx.store, file_id):
            adjudicate.send_with_options(args=(file_id,), delay=WAITING_FOR_EARLIER_FILES_MS)
            return
        if ctx.reference is not None and adjudication_step.adjudicate_batch(ctx, file_id):
            adjudicate.send(file_id)  # the next batch, after this one committed
            return
        adjudication_step.adjudicate_file(ctx, file_id)  # nothing left: the file moves on
        finish_step.finish_file(ctx, file_id)
        deliver.send(file_id)

    adjudicate = dramatiq.actor(adjudicate_file, actor_name="adjudicate", **options)

    def front_end_done(ctx: steps.StepContext, file_id: int) -> None:
        """After the last set: the sweep that finds sets the envelope check never
        reached and moves the file on; whoever moves it sends adjudication."""
        if not steps.sets_waiting(ctx, file_id) and steps.answer_sets(ctx, file_id):
            adjudicate.send(file_id)

    def answer_one_set(file_id: int, first: int, last: int | None = None) -> None:
        """Sets ``first`` to ``last`` of the file (``first`` alone: a message sent before
        small sets were sent together)."""
        ctx = service().context()
        steps.answer_set(ctx, file_id, first, last)
        front_end_done(ctx, file_id)

    answer_set = dramatiq.actor(answer_one_set, actor_name="answer_set", **options)

    def process(file_id: int) -> None:
        ctx = service().context()
        steps.acknowledge_file(ctx, file_id)
        deliver.send(file_id)  # the 999 (or TA1) goes out now, not after adjudication
        # several workers share one file's front end: a set a message, or a run of small
        # ones (a message, and its transactions, cost more than answering a small set)
        waiting = steps.answer_groups(ctx, file_id)
        for first, last in waiting:
            answer_set.send(file_id, first, last)
        if not waiting:
            front_end_done(ctx, file_id)

    process_file = dramatiq.actor(process, actor_name="process_file", **options)

    def payment_cycle(as_of: str) -> None:
        _remit(service(), date.fromisoformat(as_of))

    remit = dramatiq.actor(payment_cycle, actor_name="remit", broker=broker,
                           max_retries=min(max_retries, 3), min_backoff=2 * min_backoff_ms,
                           on_retry_exhausted="dead_letter")
    return Actors(process_file, answer_set, adjudicate, deliver, dead, remit)


def _remit(svc: Service, as_of: date) -> None:
    """A payment cycle, then every released 835 not delivered yet (a retry after a
    failed delivery runs an empty cycle and delivers the earlier one's)."""
    from remittance.era import render_era
    from workers.remit import run_cycle

    run_cycle(svc.store, svc.archive, as_of=as_of, now=datetime.now(tz=UTC),
              reference=svc.reference, render_html=render_era)
    deliver_remittances(svc)


def _exception_type(message: dict[str, Any]) -> str:
    """The last exception's type from the traceback dramatiq kept with the message; only
    the type (a Python identifier), never its text, which could quote input."""
    traceback = str((message.get("options") or {}).get("traceback") or "").strip()
    last = traceback.splitlines()[-1] if traceback else ""
    name = last.split(":", 1)[0].rsplit(".", 1)[-1]
    return name if name.isidentifier() else "retries exhausted"


def _earlier_files_unfinished(store: Store, file_id: int) -> bool:
    """A file received before this one is not adjudicated yet (see Receipt order)."""
    with store.transaction() as s:
        earlier = exists().where(ReceivedFile.id < file_id,
                                 ReceivedFile.status.in_(UNFINISHED[:3]))
        return bool(s.scalar(select(earlier)))


def reconcile(store: Store, actors: Actors, *, older_than: float,
              now: datetime | None = None) -> list[int]:
    """Send again the step of every file left unfinished for ``older_than`` seconds,
    and the delivery of every done file whose answers did not all reach the sender
    (a message lost with Redis, a worker killed mid-step); returns the file ids."""
    moment = now or datetime.now(tz=UTC)
    with store.transaction() as s:
        rows = list(s.execute(select(ReceivedFile.id, ReceivedFile.status,
                                     ReceivedFile.updated_at)
                              .where(ReceivedFile.status.in_(UNFINISHED))))
        undelivered = list(s.execute(
            select(ReceivedFile.id, ReceivedFile.status, ReceivedFile.updated_at)
            .where(ReceivedFile.status == "done",
                   ReceivedFile.delivered_status.in_(DELIVERY_OWED))))
    sent = []
    for file_id, status, updated_at in rows + undelivered:
        stamp = updated_at if updated_at.tzinfo else updated_at.replace(tzinfo=UTC)
        if (moment - stamp).total_seconds() < older_than:
            continue
        if status == "done":
            actors.deliver.send(file_id)
        elif status in ("received", "acknowledged"):
            actors.process_file.send(file_id)
        else:
            actors.adjudicate.send(file_id)
        sent.append(file_id)
    return sent


class Revived(NamedTuple):
    revived: list[int]
    """File ids put back into the step they died in."""
    not_revived: list[str]
    """Sentences for the dead files that could not be (no step recorded)."""


def revive(store: Store, person: str, now: datetime,
           sha256s: Sequence[str] = ()) -> Revived:
    """Put dead-lettered files (``sha256s``, or every dead file) back into the step they
    died in, for the reconciler (`reconcile`, in ``claims worker``) to send it again:
    once what killed them is fixed (a full disk, the database away longer than the
    retries), within its ``--reconcile-after``. Each file in its own transaction, with
    a ``file.revived`` event naming ``person``. A file whose step was not recorded (dead
    before 2026-12-01) is left dead and named. The steps finish what they had not:
    nothing decided is decided again, and the sender gets the answers it has not had."""
    with store.transaction() as s:
        query = select(ReceivedFile.id, ReceivedFile.sha256).where(ReceivedFile.status == "dead")
        if sha256s:
            query = query.where(ReceivedFile.sha256.in_(list(sha256s)))
        dead = list(s.execute(query.order_by(ReceivedFile.id)))
    done = Revived([], [])
    for file_id, sha in dead:
        with store.transaction() as s:
            row = s.get(ReceivedFile, file_id, with_for_update=True)
            if row is None or row.status != "dead":
                continue  # revived meanwhile
            died = s.scalar(select(Event.detail).where(
                Event.kind == "file.dead", Event.subject == sha).order_by(Event.id.desc())
                .limit(1))
            was = (died or {}).get("was")
            if was not in UNFINISHED:
                done.not_revived.append(
                    f"file {sha[:12]}: the step it died in was not recorded; it stays dead")
                continue
            # the reconciler sends its step once it has waited --reconcile-after
            row.status, row.updated_at = was, now
            s.add(Event(at=now, kind="file.revived", actor=person, subject=sha,
                        detail={"step": was}))
            done.revived.append(file_id)
    return done


def receive_into_service(svc: Service, path: Path, received: date | None = None,
                         taken: Callable[[os.stat_result], object] | None = None,
                         partner: str | None = None, upload: Path | None = None,
                         arrived: float | None = None) -> tuple[int, bool]:
    """Record a complete upload (sha256 first, bytes to the archive); (file row id, is a
    duplicate). The caller sends ``process_file`` for a new file; a byte-identical file
    received before is answered at once with its TA1 (note 025) in the outbound folder
    and nothing from it is decided. The same upload taken again after a crash (same
    path, same modification time) resumes rather than counting as a duplicate.
    ``partner`` names the mailbox the upload came from: its answers go back there,
    whatever the file's own header says (a garbled ISA06 is no address). ``upload`` is
    the path the partner uploaded to when intake has moved the file to a holding name,
    ``path``, to read it: the receipt's key and the file's name are the upload's, and
    ``arrived`` its inode change time there (the move changed it)."""

    ctx = svc.context()
    where = path if upload is None else upload
    with open_upload(path) as raw:
        sha, size, _kept = archive_copy(raw, svc.archive)
        # the file read, not whatever the path names by now: a sender may already have
        # put its next upload there under the same name (``taken`` is given this, so it
        # removes only the upload it read)
        stat = os.fstat(raw.fileno())
    # one upload (path, modification time, bytes) is one receipt; the key is a hash of
    # it (run keys are 64 characters and a mailbox path has no bound)
    key = hashlib.sha256(b"\0".join((  # the path's own bytes (any, UTF-8 or not)
        os.fsencode(where), str(stat.st_mtime_ns).encode(), sha.encode()))).hexdigest()[:56]
    run = steps.begin_run(ctx, f"upload:{key}")
    received_at = upload_instant(stat, svc.receipt_clock, arrived)
    file_id, role = steps.receive(ctx, run, where.name, sha, size, received_at,
                                  received or receipt_date(received_at, svc.business_zone),
                                  delivered=True)
    partner_id = _record_partner(svc, file_id, partner)
    if role != "duplicate":
        _taken(ctx, run, taken, stat)
        return file_id, False
    steps.answer_duplicate(ctx, run, file_id, where.name, received_at)
    with svc.store.transaction() as s:
        receipt = s.execute(select(
            DuplicateReceipt.id, DuplicateReceipt.ack_sha256, DuplicateReceipt.ack_text).where(
            DuplicateReceipt.run_id == run, DuplicateReceipt.file_id == file_id)).first()
    ta1 = None if receipt is None else KeptAnswer.of(receipt)
    if receipt is not None and ta1 is not None:
        with svc.store.transaction() as s:
            folder = (svc.partner_folder(s, partner_id)
                      or svc.outbound_folder(s, *answered_to(ta1.head(svc.archive))))
        folder.mkdir(parents=True, exist_ok=True)
        # each upload's own TA1: named by its receipt, so a later duplicate of the same
        # bytes (the same name again, or another with the same stem) never replaces an
        # earlier one's answer still waiting in the mailbox; the same upload taken again
        # after a crash writes the same name
        name = f"{answer_stem(where.name, sha)}-{receipt.id}-duplicate.ta1"
        ta1.copy_to(svc.archive, folder / name)
    _taken(ctx, run, taken, stat)
    return file_id, True


def _record_partner(svc: Service, file_id: int, partner: str | None) -> int | None:
    """The id of the mailbox's trading partner, kept on the file's row (first upload of
    these bytes wins: a duplicate keeps the original's)."""
    if partner is None:
        return None
    with svc.store.transaction() as s:
        partner_id = s.scalar(select(TradingPartner.id).where(TradingPartner.name == partner))
        row = s.get(ReceivedFile, file_id, with_for_update=True)
        if row is not None and row.partner_id is None and partner_id is not None:
            row.partner_id = partner_id
        return partner_id


class NotAnUpload(Exception):
    """What a mailbox path names when it is opened is no upload: a link, a FIFO, a
    device, or a file with other names (hard links)."""


def open_upload(path: Path) -> BinaryIO:
    """The upload at ``path``, opened without following a link and checked on the open
    file: a regular file with no other name. Intake looks at a path, then opens it; a
    partner swapping in a link between the two (a symlink resolves outside its chroot
    for the engine) had the engine, as root, copy any file of the machine into the
    archive: /etc/shadow, another partner's upload. `NotAnUpload` otherwise."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        opened = os.fstat(fd)
        if not S_ISREG(opened.st_mode) or opened.st_nlink != 1:
            raise NotAnUpload("the upload is no regular file of one name")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _taken(ctx: steps.StepContext, run: int,
           taken: Callable[[os.stat_result], object] | None, held: os.stat_result) -> None:
    """The upload is in the store: ``taken`` removes it (``held``: the file read) from the
    mailbox, then the receipt's run gives up its key (an upload still there after a
    crash is the same receipt; a later upload of the same bytes is a duplicate)."""
    if taken is not None:
        taken(held)
    steps.finish_run(ctx, run)


def open_service(settings: ServiceSettings | None = None) -> Service:
    """A worker process's service: the store from the settings, its reference data."""
    from store.engine import sqlite_url
    from store.migrate import open_store

    config = settings or ServiceSettings()
    url = config.database_url or sqlite_url(config.archive_dir.parent)
    store = open_store(url, migrate=config.database_url is None)
    try:
        reference: ReferenceSource | None = StoredReference(store)
    except LookupError:
        reference = None
    return Service(store, config.archive_dir, config.outbound_dir, reference,
                   mailboxes=config.mailboxes,
                   code_sets=code_set_registry(config.code_sets_dir),
                   business_zone=business_zone(config.business_timezone),
                   receipt_clock=config.receipt_clock)
