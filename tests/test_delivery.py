"""Deliveries at the same time on both engines (workers/delivery.py): each answer and
each released 835 is written into its mailbox once, and its delivery recorded once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

import workers.delivery
import workers.kept_answers
from store.engine import Store
from store.migrate import upgrade
from store.models import Event, RemittanceRecord
from tests.test_service import TWO_CLAIMS, _run, _upload
from workers.archive import NotInArchive, archive_path
from workers.delivery import (
    deliver_file,
    deliver_remittance,
    deliver_remittances,
    waiting_remittances,
)
from workers.reference import SHIPPED_REFERENCE_DIRECTORY
from workers.reference_store import StoredReference, load_reference
from workers.service import Service, declare_actors, make_broker, receive_into_service


@pytest.fixture
def any_service(database_url: str, tmp_path: Path) -> Iterator[Service]:
    upgrade(database_url)
    store = Store(database_url)
    load_reference(store, SHIPPED_REFERENCE_DIRECTORY, datetime.now(tz=UTC))
    yield Service(store, tmp_path / "archive", tmp_path / "outbound", StoredReference(store))
    store.dispose()


def _events(service: Service, kind: str) -> list[str]:
    with service.store.transaction() as s:
        return list(s.scalars(select(Event.subject).where(Event.kind == kind)
                              .order_by(Event.id)))


def _released_not_delivered(service: Service, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch, upload: Path = TWO_CLAIMS
                            ) -> list[str]:
    """TWO_CLAIMS (or ``upload``) processed and decided, its 835s released while their
    mailbox was gone; every 835 released and not delivered."""
    broker = make_broker(None)
    actors = declare_actors(broker, lambda: service)
    file_id, _ = receive_into_service(service, _upload(tmp_path, upload))
    actors.process_file.send(file_id)
    _run(broker)
    real_copy = workers.delivery.copy_atomically

    def no_835(source: Path, target: Path) -> None:
        if target.suffix in (".835", ".html"):
            raise OSError("the share is gone")
        real_copy(source, target)

    with monkeypatch.context() as patch:
        patch.setattr(workers.delivery, "copy_atomically", no_835)
        with pytest.raises(OSError):
            actors.remit.fn(datetime.now(tz=UTC).date().isoformat())
    waiting = waiting_remittances(service.store)
    assert waiting, "the cycle released no 835"
    return waiting


def _started_at_the_first_copy(other: threading.Thread, monkeypatch: pytest.MonkeyPatch,
                               suffix: str | None = None) -> list[bool]:
    """Starts ``other`` (a second delivery) as this delivery copies its first file (of
    ``suffix``: an 835, a 999 or a 277CA) into a mailbox, and gives it 1.5 s; the list
    returned then holds whether ``other`` was still waiting after them."""
    real_copy = workers.delivery.copy_atomically
    blocked: list[bool] = []

    def copy_while_another_delivers(source: Path, target: Path) -> None:
        if (suffix is None or target.suffix == suffix) and not blocked:
            blocked.append(False)  # the other's own copies go straight through
            other.start()
            other.join(timeout=1.5)
            blocked[0] = other.is_alive()
        real_copy(source, target)

    for module in (workers.delivery, workers.kept_answers):  # 835s; a file's answers
        monkeypatch.setattr(module, "copy_atomically", copy_while_another_delivers)
    return blocked


def _835s(service: Service) -> list[Path]:
    return sorted(service.outbound.rglob("*.835"))


def test_a_delivery_working_from_an_older_list_of_waiting_835s_writes_none_again(
    any_service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two deliveries each took the list of waiting 835s; the first delivered them all.
    Before 2026-12-02 the second wrote each again and recorded a second delivery."""
    stale = _released_not_delivered(any_service, tmp_path, monkeypatch)
    assert deliver_remittances(any_service) == len(stale)
    written = {p: p.stat().st_mtime_ns for p in _835s(any_service)}
    assert len(written) == len(stale)
    for p in written:
        p.unlink()  # the partner took them: a second writing would show
    assert [deliver_remittance(any_service, trace) for trace in stale] == [False] * len(stale)
    assert _835s(any_service) == []
    assert sorted(_events(any_service, "remittance.delivered")) == sorted(stale)


def test_two_deliveries_of_the_same_835s_at_the_same_time_write_each_once(
    any_service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second delivery starts while the first is writing the first 835: it waits
    for the first to finish, then finds every 835 delivered. On PostgreSQL it went on
    before 2026-12-02, and both wrote the 835 and recorded its delivery."""
    waiting = _released_not_delivered(any_service, tmp_path, monkeypatch)
    second: list[int] = []
    other = threading.Thread(target=lambda: second.append(deliver_remittances(any_service)))
    blocked = _started_at_the_first_copy(other, monkeypatch, suffix=".835")
    assert deliver_remittances(any_service) == len(waiting)
    other.join(timeout=60)
    assert blocked == [True], "the second delivery did not wait for the first"
    assert second == [0]
    assert sorted(_events(any_service, "remittance.delivered")) == sorted(waiting)
    assert len(_835s(any_service)) == len(waiting)


def test_two_deliveries_of_a_file_s_answers_at_the_same_time_write_the_999_once(
    any_service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The file's last step and the reconciler deliver its answers at once: the second
    waits, then finds the 999 and the 277CA written. On PostgreSQL both wrote the 999
    before 2026-12-02."""
    broker = make_broker(None)
    actors = declare_actors(broker, lambda: any_service)
    file_id, _ = receive_into_service(any_service, _upload(tmp_path, TWO_CLAIMS))
    actors.process_file.send(file_id)
    _run(broker)
    with any_service.store.transaction() as s:  # as if the file's delivery was lost
        for found in s.scalars(select(Event).where(Event.kind == "file.delivered")):
            s.delete(found)
    for answer in any_service.outbound.rglob("*"):
        if answer.is_file():
            answer.unlink()
    other = threading.Thread(target=deliver_file, args=(any_service, file_id))
    blocked = _started_at_the_first_copy(other, monkeypatch)
    deliver_file(any_service, file_id)
    other.join(timeout=60)
    assert blocked == [True], "the second delivery did not wait for the first"
    with any_service.store.transaction() as s:
        deliveries = s.scalar(select(func.count()).select_from(Event)
                              .where(Event.kind == "file.delivered"))
    assert deliveries == 1
    assert sorted(p.suffix for p in any_service.outbound.rglob("*") if p.is_file()) == \
        [".277ca", ".999"]


def test_an_835_missing_from_the_archive_holds_back_none_released_after_it(
    any_service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first waiting 835's archived copy is gone: the others are delivered, then the
    round fails naming how many are missing (the actor retries, claims redeliver names
    them). Before 2026-12-02 the first one ended the round and the others waited."""
    _released_not_delivered(any_service, tmp_path, monkeypatch)
    again = tmp_path / "again.837"  # the same claims in another interchange: a 2nd cycle
    again.write_bytes(TWO_CLAIMS.read_bytes().replace(b"000000101", b"000000102"))
    waiting = _released_not_delivered(any_service, tmp_path, monkeypatch, again)
    assert len(waiting) == 2
    with any_service.store.transaction() as s:
        sha = s.scalar(select(RemittanceRecord.sha256)
                       .where(RemittanceRecord.trace_number == waiting[0]))
    assert sha is not None
    archive_path(any_service.archive, sha).unlink()
    with pytest.raises(NotInArchive, match=f"1 released 835s are not in the archive "
                                           f"\\({len(waiting) - 1} delivered\\)"):
        deliver_remittances(any_service)
    assert sorted(_events(any_service, "remittance.delivered")) == sorted(waiting[1:])
    assert len(_835s(any_service)) == len(waiting) - 1
