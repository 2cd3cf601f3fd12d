"""Run the engine over received files: the I/O edge around the pure `edi` core.

Each file goes through the store's steps (`workers.steps`), each one transaction:
received (bytes archived by sha256), acknowledged (TA1/999), answered (edits, claim
numbers, 277CA records per transaction set), adjudicated (per batch of claims, in
receipt order), done (the 277CA). The acknowledgments and ``summary.json`` are then
written into the output directory from what the store holds, so a run killed at any
point and started again writes the same files. Nothing here raises on bad input: a
file that cannot be read at all is answered with a TA1 and recorded as rejected.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NamedTuple
from zoneinfo import ZoneInfo

import orjson
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from edi.validators.codesets import CodeSetRegistry, default_registry
from edi.validators.implementation_guide import EnvelopePolicy
from store.engine import Store, sqlite_url
from store.migrate import open_store
from store.models import DuplicateReceipt, Event, ReceivedFile
from workers import adjudication_step, finish_step, steps
from workers.archive import archive_copy, archive_path
from workers.files import answer_stem, atomic_text, copy_atomically
from workers.kept_answers import KeptAnswer
from workers.receipt import (
    DEFAULT_BUSINESS_TIMEZONE,
    arrival_instant,
    business_zone,
    receipt_date,
)
from workers.reference_store import ReferenceSource, StoredReference
from workers.steps import StepContext
from workers.summary import ClaimSummary, FileSummary, RemittanceSummary, RunSummary
from workers.summary_store import claims_of, file_summary

if TYPE_CHECKING:
    from workers.remit import CycleOutcome

log = structlog.get_logger("claims.pipeline")
Progress = Callable[[int], None]
ARCHIVE = "archive"


@dataclass(frozen=True)
class RunOptions:
    out_dir: Path
    as_of: date
    now: datetime
    policy: EnvelopePolicy = field(default_factory=EnvelopePolicy)
    received: date | None = None
    """The receipt date of every file (replays); None takes each file's drop time."""
    business_zone: ZoneInfo = field(
        default_factory=lambda: business_zone(DEFAULT_BUSINESS_TIMEZONE))
    """Whose calendar a drop time is dated on: the receipt date (`workers.receipt`)."""
    code_sets: CodeSetRegistry = field(default_factory=default_registry)
    reference: ReferenceSource | None = None
    """Reference data to adjudicate with; None stops after the front end."""
    stored_reference_first: bool = False
    """Adjudicate with the store's current reference version when it has one (the
    ``reference`` given is the fallback)."""
    database_url: str | None = None
    """None: SQLite in the output directory (migrated on first use)."""
    keep_claims: bool = True
    """Return every claim in the `RunSummary`; ``summary.json`` always has them,
    streamed from the store. False keeps a large run in flat memory."""
    on_claim: Callable[[int, str, ClaimSummary], None] | None = None
    """Called with each claim's file (its place in the run, from 0), path and summary
    as ``summary.json`` is written (a report that keeps only counts: `report.RunTally`)."""
    archive: Path | None = None
    """Where received bytes are kept; None: ``archive/`` beside the SQLite database."""
    remit: bool = True
    """Run a payment cycle after adjudication (``--no-remit`` skips it)."""


def _open_store(options: RunOptions) -> Store:
    """The run's store: SQLite in the output directory unless a URL is given."""
    options.out_dir.mkdir(parents=True, exist_ok=True)
    if options.database_url is None:
        return open_store(sqlite_url(options.out_dir), migrate=True)
    return open_store(options.database_url, migrate=False)


class _CountingReader:
    """A binary stream that reports how many bytes were read."""

    def __init__(self, stream: BinaryIO, progress: Progress | None) -> None:
        self._stream = stream
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if self._progress is not None and data:
            self._progress(len(data))
        return data


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def process_files(
    paths: list[Path],
    options: RunOptions,
    progress_for: Callable[[Path], Progress | None] | None = None,
) -> RunSummary:
    """Process files in receipt order and write ``summary.json``; returns the summary."""
    store = _open_store(options)
    try:
        archive = options.archive or options.out_dir / ARCHIVE
        reference = options.reference
        if options.stored_reference_first:
            # nothing loaded with 'claims reference load': the fallback decides
            with contextlib.suppress(LookupError):
                reference = StoredReference(store)
        ctx = StepContext(store=store, archive=archive, now=options.now, as_of=options.as_of,
                          policy=options.policy, code_sets=options.code_sets,
                          reference=reference)
        # receipt order: accumulators and duplicates follow the order files arrived in
        ordered = sorted(paths, key=lambda p: p.stat().st_mtime)
        received = []
        for path in ordered:
            progress = progress_for(path) if progress_for else None
            with path.open("rb") as raw:
                sha, size, _kept = archive_copy(_CountingReader(raw, progress), archive)
            received.append((path, sha, size))
        run_id = steps.begin_run(ctx, _run_key(options.out_dir, [sha for _, sha, _ in received]))
        entries, seen = [], set()
        for path, sha, size in received:  # the same bytes again in this run: a duplicate
            entries.append(_process_file(ctx, options, run_id, path, sha, size,
                                         again=sha in seen))
            seen.add(sha)
        summary = RunSummary(as_of=options.as_of.isoformat(), files=[e for e, _ in entries])
        if options.remit and reference is not None:
            remitted = remit_into(
                store, archive, options.out_dir, as_of=options.as_of, now=options.now,
                reference=reference,
                record=CycleRecord(f"run {run_id}", "claims process"))
            summary.remittances = remitted.remittances
            summary.remittance_problems = remitted.problems
        _write_summary(ctx.store, options.out_dir / "summary.json", summary,
                       [file_id for _, file_id in entries], options.on_claim)
        if options.keep_claims:
            with store.transaction() as s:
                for entry, file_id in entries:
                    if file_id is not None:
                        entry.claims = list(claims_of(s, file_id))
        steps.finish_run(ctx, run_id)
        return summary
    finally:
        store.dispose()


def _run_key(out_dir: Path, shas: list[str]) -> str:
    parts = [str(out_dir.resolve()), *shas]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _write_summary(store: Store, path: Path, summary: RunSummary,
                   file_ids: list[int | None],
                   on_claim: Callable[[int, str, ClaimSummary], None] | None) -> None:
    """``summary.json``, each file's claims streamed from the store as they are written
    (and given to ``on_claim``)."""
    with atomic_text(path) as out, store.transaction() as s:
        out.write('{\n  "as_of": ' + _json(summary.as_of) + ',\n  "files": [')
        for index, (entry, file_id) in enumerate(zip(summary.files, file_ids, strict=True)):
            head = entry.model_dump(mode="json", exclude={"claims"})
            text = _json(head).rstrip("}").rstrip()
            out.write(("," if index else "") + "\n" + _indent(text, 4) + ',\n      "claims": [')
            claims = claims_of(s, file_id) if file_id is not None else iter(())
            for number, claim in enumerate(claims):
                out.write(("," if number else "") + "\n"
                          + _indent(_json(claim.model_dump(mode="json")), 8))
                if on_claim is not None:
                    on_claim(index, entry.path, claim)
            out.write("\n      ]\n    }")
        out.write("\n  ],\n")
        tail = summary.model_dump(mode="json", include={"remittances", "remittance_problems"})
        out.write(_json(tail)[1:-1].strip("\n") + "\n}\n")


@dataclass(frozen=True)
class CycleRecord:
    """Where a command records the payment cycle it released (a ``run.remitted`` event
    under ``subject``, in the cycle's transaction), so that the same command started
    again after a crash copies that cycle's 835s instead of running another.
    ``copied``: the cycle whose 835s the command's output already holds (that one is
    not copied again: the next cycle runs)."""

    subject: str
    actor: str
    copied: int | None = None


class Remitted(NamedTuple):
    """What `remit_into` did: its 835s as summary.json lists them, the cycle's problems,
    and the cycle (None: nothing released)."""

    remittances: list[RemittanceSummary]
    problems: list[str]
    cycle_id: int | None


def remit_into(store: Store, archive: Path, out_dir: Path, *, as_of: date, now: datetime,
               reference: ReferenceSource | None, record: CycleRecord | None = None
               ) -> Remitted:
    """Run a payment cycle and copy its 835s (and their HTML advices) into ``out_dir``
    as ``<payee NPI>-<trace>.835``; what summary.json says about it.

    ``record``: the command (a ``claims process`` run, ``claims remit`` into
    ``out_dir``) whose release is recorded; the same command started again after a
    crash copies that cycle's 835s instead of running another: before 2026-12-02 a
    command killed after its cycle was released and before its 835s were copied ran
    an empty cycle when started again, and its 835s never reached ``out_dir``."""
    from remittance.era import render_era
    from workers.remit import released_cycle, run_cycle

    cycle = None
    if record is not None:
        with store.transaction() as s:
            recorded = s.scalar(
                select(Event.detail).where(Event.kind == RUN_REMITTED,
                                           Event.subject == record.subject)
                .order_by(Event.id.desc()).limit(1))
            if recorded is not None and recorded["cycle"] != record.copied:
                cycle = released_cycle(s, recorded["cycle"])

    def audit(s: Session, outcome: CycleOutcome) -> None:
        if record is not None and outcome.outcome == "released":
            s.add(Event(at=now, kind=RUN_REMITTED, actor=record.actor,
                        subject=record.subject, detail={"cycle": outcome.cycle_id}))

    if cycle is None:
        cycle = run_cycle(store, archive, as_of=as_of, now=now, reference=reference,
                          render_html=render_era, audit=audit)
    listed = []
    for r in cycle.remittances:
        path = html = None
        if r.sha256 is not None:
            path = out_dir / f"{r.payee_npi}-{r.trace}.835"
            copy_atomically(archive_path(archive, r.sha256), path)
        if r.html_sha256 is not None:
            html = out_dir / f"{r.payee_npi}-{r.trace}.html"
            copy_atomically(archive_path(archive, r.html_sha256), html)
        listed.append(RemittanceSummary(
            path=str(path) if path else None, html_path=str(html) if html else None,
            payee_npi=r.payee_npi, payee_tin=r.payee_tin, payment=r.payment,
            method=r.method,  # type: ignore[arg-type]
            trace=r.trace, claims=r.claims, balanced=r.balanced))
    log.info("cycle.done", cycle=cycle.cycle_id, outcome=cycle.outcome,
             remittances=len(listed), held=len(cycle.held))
    return Remitted(listed, cycle.problems,
                    cycle.cycle_id if cycle.outcome == "released" else None)


RUN_REMITTED = "run.remitted"
"""The event that names the payment cycle a ``claims process`` run released."""


def _json(value: object) -> str:
    """``value`` as JSON indented by two spaces (orjson: the json module's indenting
    encoder is pure Python, a tenth of a second per 10,000 claims of summary.json)."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line for line in text.splitlines())


def _process_file(ctx: StepContext, options: RunOptions, run_id: int, path: Path, sha: str,
                  size: int, *, again: bool = False) -> tuple[FileSummary, int | None]:
    """The file's steps; its summary entry (claims left out) and its row id. ``again``:
    an earlier input of this run had the same bytes (this one is its duplicate: the
    run's receipt of those bytes is the first input's, which resumes after a crash)."""
    received_at = arrival_instant(path.stat().st_mtime)
    received_on = options.received or receipt_date(received_at, options.business_zone)
    file_id, role = steps.receive(ctx, run_id, str(path), sha, size, received_at, received_on)
    if role == "duplicate" or again:
        steps.answer_duplicate(ctx, run_id, file_id, str(path), received_at)
        return _duplicate_summary(ctx, options, run_id, file_id, path, received_at), None
    steps.acknowledge_file(ctx, file_id)
    steps.answer_sets(ctx, file_id)
    adjudication_step.adjudicate_file(ctx, file_id)
    finish_step.finish_file(ctx, file_id)
    with ctx.store.transaction() as s:
        row = s.get(ReceivedFile, file_id)
        ack = None if row is None else KeptAnswer.of(row)
        assert row is not None and ack is not None
        ack_path = options.out_dir / answer_name(path, sha, (row.ack_kind or "999").lower())
        ack.copy_to(ctx.archive, ack_path)
        claim_ack_path = None
        if row.claim_ack_sha256:
            claim_ack_path = options.out_dir / answer_name(path, sha, "277ca")
            copy_atomically(archive_path(ctx.archive, row.claim_ack_sha256),
                             claim_ack_path)
        entry = file_summary(s, file_id, path=str(path), ack_path=str(ack_path),
                             claim_ack_path=str(claim_ack_path) if claim_ack_path else None,
                             duplicate=False)
    log.info("file.processed", sha256=sha, status=entry.status, ack=entry.ack,
             ack_code=entry.ack_code, interchanges=entry.interchanges)
    return entry, file_id


def _duplicate_summary(ctx: StepContext, options: RunOptions, run_id: int, file_id: int,
                       path: Path, received_at: datetime) -> FileSummary:
    with ctx.store.transaction() as s:
        receipt = s.execute(select(DuplicateReceipt.ack_sha256, DuplicateReceipt.ack_text).where(
            DuplicateReceipt.run_id == run_id, DuplicateReceipt.file_id == file_id)).one()
        ack = KeptAnswer.of(receipt)
        assert ack is not None
        # beside the first's answers, never over them (its .ta1 when no group was answered)
        ack_path = options.out_dir / f"{answer_stem(path.name, sha_of(s, file_id))}-duplicate.ta1"
        ack.copy_to(ctx.archive, ack_path)
        entry = file_summary(s, file_id, path=str(path), ack_path=str(ack_path),
                             claim_ack_path=None, duplicate=True,
                             received_at=received_at.isoformat())
    log.info("file.processed", sha256=entry.sha256, status="duplicate", ack="TA1")
    return entry


def answer_name(path: Path, sha: str, kind: str) -> str:
    """``<stem>-<first 12 of sha256>.<kind>`` (`workers.files.answer_stem`): the same
    bytes twice are a duplicate, answered ``<stem>-<hash>-duplicate.ta1`` beside the
    first's answers."""
    return f"{answer_stem(path.name, sha)}.{kind}"


def sha_of(session: Session, file_id: int) -> str:
    row = session.get(ReceivedFile, file_id)
    assert row is not None
    return row.sha256
