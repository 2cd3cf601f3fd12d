"""claims redeliver when the archive lacks what the store names: it says what, sends the
rest, and exits 1 (workers/delivery.py `redeliver`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from typer.testing import CliRunner

from store.engine import Store
from store.models import Event, ReceivedFile, RemittanceRecord
from tests.test_delivery import _released_not_delivered
from workers.archive import archive_path
from workers.cli import app
from workers.reference import SHIPPED_REFERENCE_DIRECTORY
from workers.reference_store import StoredReference, load_reference
from workers.service import Service

runner = CliRunner()


@pytest.fixture
def service(service_env: Path) -> Iterator[Service]:
    """The service the command opens from its settings (SQLite beside the archive)."""
    store = Store(os.environ["EDI_DATABASE_URL"])
    load_reference(store, SHIPPED_REFERENCE_DIRECTORY, datetime.now(tz=UTC))
    yield Service(store, service_env / "archive", service_env / "outbound",
                  StoredReference(store))
    store.dispose()


def _lost(service: Service, sha: str) -> None:
    """A document taken out of the archive (by hand, a restore that missed it)."""
    os.unlink(archive_path(service.archive, sha))


def _answers_not_delivered(service: Service) -> ReceivedFile:
    """The file's answers as if their delivery had failed after every retry."""
    with service.store.transaction() as s:
        s.execute(delete(Event).where(Event.kind == "file.delivered"))
        (row,) = s.scalars(select(ReceivedFile))
        row.delivered_status = "failed"
        s.add(Event(at=datetime.now(tz=UTC), kind="delivery.failed", actor="worker",
                    subject=row.sha256, detail={"reason": "OSError"}))
        s.expunge(row)
    for answer in service.outbound.rglob("*"):
        if answer.is_file():
            answer.unlink()
    return row


def test_redeliver_names_each_answer_and_835_the_archive_lacks_sends_the_rest_and_exits_1(
    service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a file whose 999 left the archive and a released 835 that left it too:
    before 2026-12-02 claims redeliver stopped at the first with a FileNotFoundError
    traceback, and the 835s after it were not sent."""
    waiting = _released_not_delivered(service, tmp_path, monkeypatch)
    row = _answers_not_delivered(service)
    assert row.ack_sha256 is not None
    _lost(service, row.ack_sha256)
    with service.store.transaction() as s:
        first_835 = s.scalar(select(RemittanceRecord.sha256)
                             .where(RemittanceRecord.trace_number == waiting[0]))
    assert first_835 is not None
    _lost(service, first_835)

    result = runner.invoke(app, ["redeliver"])

    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        f"delivered again: the answers of 0 file(s), {len(waiting) - 1} 835(s)",
        f"not in the archive, not delivered: the 999 of file {row.sha256}",
        f"not in the archive, not delivered: the 835 with trace {waiting[0]}",
    ]
    assert len(list(service.outbound.rglob("*.835"))) == len(waiting) - 1
    assert not list(service.outbound.rglob("*.999"))
    again = runner.invoke(app, ["redeliver"])  # still missing: said again, not forgotten
    assert again.exit_code == 1, again.output
    assert again.output.splitlines()[1:] == result.output.splitlines()[1:]


def test_a_999_lost_from_the_archive_does_not_hold_back_the_277ca(
    service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a file whose 999 left the archive while its 277CA is kept: the 277CA goes
    to the sender (addressed by its own ISA08), the 999 is named. Before 2026-12-02 the
    lost 999 held back the 277CA as well."""
    _released_not_delivered(service, tmp_path, monkeypatch)
    row = _answers_not_delivered(service)
    assert row.ack_sha256 is not None and row.claim_ack_sha256 is not None
    _lost(service, row.ack_sha256)

    result = runner.invoke(app, ["redeliver"])

    assert result.exit_code == 1, result.output
    assert f"not in the archive, not delivered: the 999 of file {row.sha256}" in \
        result.output.splitlines()
    assert [p.relative_to(service.outbound).parts[0]
            for p in service.outbound.rglob("*.277ca")] == ["ZZ-CLEARHOUSE01"]
    assert not list(service.outbound.rglob("*.999"))
    again = runner.invoke(app, ["redeliver"])  # the 277CA is not written twice
    assert again.exit_code == 1, again.output
    assert len(list(service.outbound.rglob("*.277ca"))) == 1
