"""Two ``claims process`` runs at the same time on one database lose and double nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from edi.front_end import claim_number
from store import migrate
from store.engine import Store
from store.models import Claim, DecisionRecord, ReceivedFile, TransactionSet
from store.sequences import take
from tests.databases import ack_text, outbound_isa13, postgres_schema
from tests.paths import ACK_FIXTURES
from workers import adjudication_step, finish_step, steps
from workers.archive import archive_path
from workers.service import Service, receive_into_service

CLAIMS_BIN = Path(sys.executable).parent / "claims"
DEMO_SMALL = Path(__file__).resolve().parents[1] / "fixtures" / "837p" / "demo-small.837"


def _generate(path: Path, seed: int, claims: int = 300) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(CLAIMS_BIN), "generate", str(path), "--claims", str(claims),
                    "--seed", str(seed), "--per-transaction", "100"], check=True,
                   capture_output=True)
    return path


def _start(source: Path, out: Path, url: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(CLAIMS_BIN), "process", str(source), "--out", str(out),
                             "--quiet", "--as-of", "2026-11-23", "--received", "2026-01-12",
                             "--db", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finish(*runs: subprocess.Popen[str]) -> None:
    for run in runs:
        _out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err[-2000:]


def _statuses(out: Path) -> list[str]:
    return [f["status"] for f in json.loads((out / "summary.json").read_text())["files"]]


def _decisions_per_accepted_claim(url: str, *archives: Path
                                  ) -> tuple[int, Counter[int], list[str]]:
    store = Store(url)
    try:
        with store.transaction() as s:
            accepted = s.scalar(select(func.count()).select_from(Claim)
                                .where(Claim.front_end == "accepted")) or 0
            per_claim = Counter(s.scalars(select(DecisionRecord.claim_id)))
        isa13 = outbound_isa13(store, *archives)
    finally:
        store.dispose()
    return accepted, per_claim, isa13


def test_two_runs_of_different_files_at_once(database_url: str, tmp_path: Path) -> None:
    migrate.upgrade(database_url)
    first = _generate(tmp_path / "in" / "a.837", seed=11)
    second = _generate(tmp_path / "in" / "b.837", seed=12)
    _finish(_start(first, tmp_path / "out-a", database_url),
            _start(second, tmp_path / "out-b", database_url))
    assert _statuses(tmp_path / "out-a") == ["processed"]
    assert _statuses(tmp_path / "out-b") == ["processed"]
    accepted, per_claim, isa13 = _decisions_per_accepted_claim(
        database_url, tmp_path / "out-a" / "archive", tmp_path / "out-b" / "archive")
    assert accepted > 400  # some generated claims fail a front-end edit on purpose
    assert len(per_claim) == accepted and set(per_claim.values()) == {1}
    assert len(isa13) == len(set(isa13)) == 4


@pytest.mark.parametrize("repeat", range(2))
def test_two_runs_of_the_same_file_at_once_process_it_once(
    database_url: str, tmp_path: Path, repeat: int,
) -> None:
    migrate.upgrade(database_url)
    source = _generate(tmp_path / "in" / "same.837", seed=13 + repeat)
    _finish(_start(source, tmp_path / "out-a", database_url),
            _start(source, tmp_path / "out-b", database_url))
    statuses = sorted(_statuses(tmp_path / "out-a") + _statuses(tmp_path / "out-b"))
    assert statuses == ["duplicate", "processed"]
    accepted, per_claim, _isa13 = _decisions_per_accepted_claim(
        database_url, tmp_path / "out-a" / "archive", tmp_path / "out-b" / "archive")
    assert accepted > 200 and len(per_claim) == accepted and set(per_claim.values()) == {1}


def test_batches_of_one_file_take_turns_on_postgresql(tmp_path: Path) -> None:
    """A batch holds its file's advisory lock: a second chain of the same file (the
    reconciler's copy) waits for the first to commit, then reads its decisions."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from workers.reference import SHIPPED_REFERENCE_DIRECTORY
    from workers.reference_store import StoredReference, load_reference

    with postgres_schema() as url:
        migrate.upgrade(url)
        store, holder = Store(url), Store(url)
        try:
            load_reference(store, SHIPPED_REFERENCE_DIRECTORY, datetime.now(tz=UTC))
            service = Service(store, tmp_path / "archive", tmp_path / "outbound",
                              StoredReference(store))
            upload = tmp_path / "two.837"
            shutil.copy(ACK_FIXTURES / "valid-two-claims.837", upload)
            file_id, _ = receive_into_service(service, upload)
            ctx = service.context()
            steps.acknowledge_file(ctx, file_id)
            steps.answer_sets(ctx, file_id)

            def decided() -> int:
                with store.transaction() as s:
                    return s.scalar(select(func.count()).select_from(DecisionRecord)) or 0

            with holder.transaction() as s:  # another batch of this file, not committed
                s.execute(text("SELECT pg_advisory_xact_lock(:space, :file)"),
                          {"space": adjudication_step.ADJUDICATION_LOCK_SPACE, "file": file_id})
                batch = threading.Thread(target=adjudication_step.adjudicate_batch,
                                         args=(ctx, file_id))
                batch.start()
                batch.join(1.5)
                assert batch.is_alive() and decided() == 0
            batch.join(30)
            assert not batch.is_alive() and decided() == 2
        finally:
            holder.dispose()
            store.dispose()


def test_a_duplicate_answered_while_the_file_is_acknowledged_waits_for_it(
    tmp_path: Path,
) -> None:
    """The second run of one file answers it as a duplicate while the first still
    acknowledges it (holding the file's row, about to take an ISA13). The duplicate's
    answer locks the file's row before it takes its own ISA13; taking the number first
    and the row after deadlocked the two (PostgreSQL names one the victim)."""
    import time
    from datetime import UTC, datetime

    from sqlalchemy import text

    from store.models import DuplicateReceipt

    with postgres_schema() as url:
        migrate.upgrade(url)
        store, holder = Store(url), Store(url)
        try:
            service = Service(store, tmp_path / "archive", tmp_path / "outbound", None)
            upload = tmp_path / "two.837"
            shutil.copy(ACK_FIXTURES / "valid-two-claims.837", upload)
            file_id, _ = receive_into_service(service, upload)
            ctx = service.context()
            second_run = steps.begin_run(ctx, "the second run")
            failures: list[BaseException] = []

            def answer() -> None:
                try:
                    steps.answer_duplicate(ctx, second_run, file_id, "two.837",
                                           datetime.now(tz=UTC))
                except BaseException as failure:  # reported by the assertion below
                    failures.append(failure)

            def waiting_on_a_lock(s: Session) -> bool:
                """Whether a backend waits for a lock this one (``s``) holds."""
                return bool(s.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))")))

            with holder.transaction() as s:  # the first run acknowledging the file
                s.get(ReceivedFile, file_id, with_for_update=True)
                duplicate = threading.Thread(target=answer)
                duplicate.start()
                deadline = time.monotonic() + 60
                while not waiting_on_a_lock(s):
                    assert duplicate.is_alive() and time.monotonic() < deadline, failures
                    time.sleep(0.05)
                first_number = take(s, "isa13")  # deadlocked here when the bug was in
            duplicate.join(60)
            assert not duplicate.is_alive() and failures == []
            with store.transaction() as s:
                receipt = s.scalar(select(DuplicateReceipt))
                assert receipt is not None and receipt.file_id == file_id
                assert take(s, "isa13") == first_number + 2  # the duplicate's came after
        finally:
            holder.dispose()
            store.dispose()


@contextmanager
def _migrated(url: str) -> Iterator[Store]:
    """A store at ``url``, migrated to the head revision, disposed of afterwards."""
    migrate.upgrade(url)
    store = Store(url)
    try:
        yield store
    finally:
        store.dispose()


def _service(store: Store, tmp_path: Path) -> Service:
    """A service on ``store`` with its archive under ``tmp_path`` and no reference data
    (front end only: adjudication decides nothing)."""
    (tmp_path / "archive").mkdir()
    return Service(store, tmp_path / "archive", tmp_path / "outbound", None)


def _acknowledged(service: Service, source: Path, name: str, received: date | None = None
                  ) -> int:
    """A file received and acknowledged (its 999 written, its sets spooled)."""
    upload = service.archive.parent / name
    shutil.copy(source, upload)
    file_id, _ = receive_into_service(service, upload, received)
    steps.acknowledge_file(service.context(), file_id)
    return file_id


def _adjudicated(service: Service, source: Path, name: str) -> int:
    """A file taken through every step before its 277CA."""
    file_id = _acknowledged(service, source, name)
    steps.answer_sets(service.context(), file_id)
    adjudication_step.adjudicate_file(service.context(), file_id)
    return file_id


@contextmanager
def _held_open(monkeypatch: pytest.MonkeyPatch, module: ModuleType, kind: str, subject: str,
               step: Callable[..., object], *args: object) -> Iterator[threading.Thread]:
    """``step(*args)`` running in a thread, held when it records its ``kind`` event (through
    ``module``'s `event`) for a subject starting with ``subject``: its work is written,
    its transaction still open. Let go and joined when the block ends."""
    reached, go_on = threading.Event(), threading.Event()
    record = module.event

    def held(s: Session, ctx: Any, event_kind: str, event_subject: str, **detail: Any) -> None:
        if event_kind == kind and event_subject.startswith(subject):
            reached.set()
            assert go_on.wait(120), "the test never let the step go on"
        record(s, ctx, event_kind, event_subject, **detail)

    monkeypatch.setattr(module, "event", held)
    running = threading.Thread(target=step, args=args)
    running.start()
    try:
        assert reached.wait(60), f"the step never recorded {kind}"
        yield running
    finally:
        go_on.set()
        running.join(60)


def _done_within(step: Callable[..., object], *args: object) -> bool:
    """Whether ``step(*args)``, run in a thread, ends within 30 seconds."""
    running = threading.Thread(target=step, args=args)
    running.start()
    running.join(30)
    return not running.is_alive()


def _277ca_control(store: Store, archive: Path, file_id: int) -> tuple[int, int]:
    """The ISA13 and GS06 of a done file's 277CA, read from the archived text."""
    with store.transaction() as s:
        row = s.get(ReceivedFile, file_id)
        assert row is not None and row.status == "done" and row.claim_ack_sha256
        sha = row.claim_ack_sha256
    segments = [seg.split("*") for seg in archive_path(archive, sha).read_text().split("~")]
    isa = next(seg for seg in segments if seg[0].strip() == "ISA")
    gs = next(seg for seg in segments if seg[0].strip() == "GS")
    return int(isa[13]), int(gs[6])


def test_a_file_is_acknowledged_while_another_files_277ca_is_rendered_on_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large file's 277CA takes seconds to render. Its ISA13 and GS06 are reserved in
    a short transaction before, so a file arriving meanwhile gets its 999 at once; when
    the 277CA took its numbers in the transaction that renders it, the 999 waited for
    that transaction's commit on the sequences' rows."""
    with postgres_schema() as url, _migrated(url) as store:
        service = _service(store, tmp_path)
        first = _adjudicated(service, ACK_FIXTURES / "valid-two-claims.837", "first.837")
        with _held_open(monkeypatch, finish_step, "file.done", "", finish_step.finish_file,
                        service.context(), first) as finish:
            second, _ = receive_into_service(service, DEMO_SMALL)
            # the first file's 277CA is written, its transaction still open; the second
            # file has its 999 all the same
            assert _done_within(steps.acknowledge_file, service.context(), second)
            assert finish.is_alive()
        acks = [ack_text(store, tmp_path / "archive", file_id) for file_id in (first, second)]
        assert None not in acks
        isa13, _gs06 = _277ca_control(store, tmp_path / "archive", first)
        numbers = [int(str(text).split("*")[13]) for text in acks] + [isa13]
        assert len(set(numbers)) == 3  # the 999s and the 277CA: each number once


def test_a_finish_that_fails_is_done_again_with_the_numbers_it_reserved(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The 277CA's numbers are kept on the file's row when they are reserved: a finish
    that fails (or is killed) while rendering is done again with the same ISA13 and
    GS06, not new ones, as the crash tests require of a resumed run."""
    with _migrated(database_url) as store:
        service = _service(store, tmp_path)
        file_id = _adjudicated(service, ACK_FIXTURES / "valid-two-claims.837", "two.837")

        def broken(*args: Any) -> None:
            raise OSError("the disk is full")

        monkeypatch.setattr(finish_step, "write_277ca_by_sender", broken)
        with pytest.raises(OSError):
            finish_step.finish_file(service.context(), file_id)
        with store.transaction() as s:
            row = s.get(ReceivedFile, file_id)
            assert row is not None and row.status == "adjudicated"
            reserved = row.claim_ack_control
        assert reserved is not None and len(reserved) == 1  # one sender, one interchange
        monkeypatch.undo()
        finish_step.finish_file(service.context(), file_id)
        assert list(_277ca_control(store, tmp_path / "archive", file_id)) == reserved[0]
        with store.transaction() as s:  # nothing more was taken for it
            assert take(s, "isa13") == reserved[0][0] + 1
            assert take(s, "gs06") == reserved[0][1] + 1


def _first_claim_numbers(store: Store, file_id: int) -> list[int | None]:
    with store.transaction() as s:
        return list(s.scalars(select(TransactionSet.first_claim_number)
                              .where(TransactionSet.file_id == file_id)
                              .order_by(TransactionSet.ordinal)))


def test_a_files_sets_are_answered_while_another_files_set_is_stored_on_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A set's answer inserts its claims (about a second for 5,000 on PostgreSQL). Its
    claim numbers are reserved in a short transaction before, so another file's sets
    are numbered and stored meanwhile; when the block was taken in the set's own
    transaction, every other set waited for its commit on the sequence's row."""
    with postgres_schema() as url, _migrated(url) as store:
        service = _service(store, tmp_path)
        first = _acknowledged(service, ACK_FIXTURES / "valid-two-claims.837", "one.837")
        second = _acknowledged(service, DEMO_SMALL, "two.837", date(2025, 11, 20))
        with _held_open(monkeypatch, steps, "set.answered", f"{first}:", steps.answer_sets,
                        service.context(), first) as answering:
            # the first file's claims are inserted, its set's transaction still open; the
            # second file's sets are answered all the same
            assert _done_within(steps.answer_sets, service.context(), second)
            assert answering.is_alive()
        ones, twos = _first_claim_numbers(store, first), _first_claim_numbers(store, second)
        # both numbered claims (or the test would prove nothing), from separate blocks
        assert None not in ones + twos
        assert len(set(ones + twos)) == len(ones + twos)


def test_a_set_whose_answer_fails_is_answered_again_with_the_numbers_it_reserved(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The block's first number is kept on the set's row when it is reserved: a set
    whose answer fails (or is killed) is answered again with the same claim numbers."""
    with _migrated(database_url) as store:
        service = _service(store, tmp_path)
        file_id = _acknowledged(service, ACK_FIXTURES / "valid-two-claims.837", "two.837")

        def broken(*args: Any) -> None:
            raise OSError("the database went away")

        monkeypatch.setattr(steps, "_rejected_lobs", broken)
        with pytest.raises(OSError):
            steps.answer_sets(service.context(), file_id)
        [first] = _first_claim_numbers(store, file_id)
        assert first is not None
        monkeypatch.undo()
        steps.answer_sets(service.context(), file_id)
        assert _first_claim_numbers(store, file_id) == [first]
        with store.transaction() as s:
            rows = list(s.execute(select(Claim.icn, Claim.receipt_date)
                                  .where(Claim.front_end == "accepted").order_by(Claim.id)))
            assert len(rows) == 2  # the two claims, numbered from the kept block
            assert [icn for icn, _ in rows] == [
                claim_number(received, first + n) for n, (_, received) in enumerate(rows)]
            assert take(s, "claim-number") == first + 2  # nothing more was taken
