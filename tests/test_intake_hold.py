"""Intake takes an upload out of ``inbound/`` by one rename into a holding name before it
reads it (workers/intake.py): a next upload under the same name is never removed, and
a crash at any point leaves the upload to be taken once, as itself."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import func, select

import workers.intake
from store.models import DuplicateReceipt, ReceivedFile
from tests.paths import ACK_FIXTURES
from workers import steps
from workers.intake import Completeness, scan_once
from workers.service import Service, declare_actors, make_broker

TWO_CLAIMS = ACK_FIXTURES / "valid-two-claims.837"


def _uploaded(tmp_path: Path) -> tuple[Path, Path]:
    """TWO_CLAIMS uploaded by partner acme as claims.837: the mailboxes, its inbound/."""
    mailboxes = tmp_path / "mailboxes"
    inbound = mailboxes / "acme" / "inbound"
    inbound.mkdir(parents=True)
    shutil.copy(TWO_CLAIMS, inbound / "claims.837")
    return mailboxes, inbound


def _scan(service: Service, mailboxes: Path) -> list[int]:
    """One scan by a fresh intake process (no memory of earlier scans)."""
    actors = declare_actors(make_broker(None), lambda: service)
    return scan_once(service, actors, mailboxes, Completeness(stable_seconds=0))


def _rows(service: Service) -> list[tuple[str, str]]:
    with service.store.transaction() as s:
        return sorted(s.execute(select(ReceivedFile.name, ReceivedFile.sha256)).tuples())


def _held(mailboxes: Path) -> list[Path]:
    return [p for p in (mailboxes / workers.intake.HOLD).rglob("*") if not p.is_dir()]


def test_a_next_upload_renamed_over_the_name_as_the_first_is_removed_is_kept(
    service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by an audit: intake checked that the name still named the file it read,
    then unlinked the name, two system calls; a sender whose next batch was renamed over
    the name in the instant between had it deleted unread."""
    inbound = tmp_path / "mailboxes" / "acme" / "inbound"
    inbound.mkdir(parents=True)
    target = inbound / "claims.837"
    first = TWO_CLAIMS.read_bytes()
    second = first.replace(b"CLM*", b"CLM*B")  # other claims, the same shape
    target.write_bytes(first)
    unlink = Path.unlink
    arrived: list[Path] = []

    def next_batch_arrives_first(self: Path, missing_ok: bool = False) -> None:
        if self.name == "claims.837" and not arrived:
            part = inbound / "claims.837.part"
            part.write_bytes(second)
            part.replace(target)
            arrived.append(target)
        unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", next_batch_arrives_first)
    assert len(_scan(service, tmp_path / "mailboxes")) == 1
    monkeypatch.undo()
    assert arrived  # the next batch did arrive while the first was removed
    # Then the second upload is still there, and the next scan takes it
    assert target.read_bytes() == second
    assert len(_scan(service, tmp_path / "mailboxes")) == 1
    assert os.listdir(inbound) == [] and _held(tmp_path / "mailboxes") == []
    assert {sha for _, sha in _rows(service)} == {
        hashlib.sha256(first).hexdigest(), hashlib.sha256(second).hexdigest()}


def test_a_crash_after_the_upload_is_held_takes_it_at_the_next_scan_as_it_arrived(
    service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    mailboxes, inbound = _uploaded(tmp_path)
    arrival = (inbound / "claims.837").stat().st_ctime
    time.sleep(0.2)  # the holding rename changes the inode change time: 0.2 s later

    def killed(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt  # the process dies: nothing after this runs

    monkeypatch.setattr(workers.intake, "receive_into_service", killed)
    with pytest.raises(KeyboardInterrupt):
        _scan(service, mailboxes)
    monkeypatch.undo()
    # Then the upload is out of the partner's inbound, held, and not recorded
    assert os.listdir(inbound) == [] and len(_held(mailboxes)) == 1
    assert _rows(service) == []
    # and the next intake takes it, under its name and its arrival in inbound/
    assert len(_scan(service, mailboxes)) == 1
    assert _held(mailboxes) == [] and list((mailboxes / workers.intake.HOLD).rglob("*")) == [
        mailboxes / workers.intake.HOLD / "acme"]
    assert [name for name, _ in _rows(service)] == ["claims.837"]
    with service.store.transaction() as s:
        received = s.scalar(select(ReceivedFile.received_at))
    assert received is not None
    assert abs(received.replace(tzinfo=UTC).timestamp() - arrival) < 0.01


def test_a_crash_after_the_record_takes_the_held_upload_again_as_the_same_receipt(
    service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    mailboxes, inbound = _uploaded(tmp_path)
    unlink = Path.unlink

    def killed_before_the_removal(self: Path, missing_ok: bool = False) -> None:
        if self.name == "claims.837":
            raise KeyboardInterrupt
        unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", killed_before_the_removal)
    with pytest.raises(KeyboardInterrupt):
        _scan(service, mailboxes)
    monkeypatch.undo()
    assert len(_held(mailboxes)) == 1 and len(_rows(service)) == 1
    # Then the next intake takes it as the same receipt: no duplicate, no TA1
    assert len(_scan(service, mailboxes)) == 1
    assert _held(mailboxes) == [] and os.listdir(inbound) == []
    assert len(_rows(service)) == 1
    with service.store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(DuplicateReceipt)) == 0
    assert not service.outbound.exists()


def test_an_upload_held_while_the_database_is_away_is_taken_when_it_is_back(
    service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    mailboxes, _inbound = _uploaded(tmp_path)
    recorded = steps.receive

    def away(*args: object, **kwargs: object) -> object:
        raise ConnectionError("the database is away")

    monkeypatch.setattr(steps, "receive", away)
    actors = declare_actors(make_broker(None), lambda: service)
    completeness = Completeness(stable_seconds=0)
    assert scan_once(service, actors, mailboxes, completeness) == []
    assert scan_once(service, actors, mailboxes, completeness) == []
    assert len(_held(mailboxes)) == 1
    monkeypatch.setattr(steps, "receive", recorded)
    assert len(scan_once(service, actors, mailboxes, completeness)) == 1
    assert _held(mailboxes) == [] and [n for n, _ in _rows(service)] == ["claims.837"]
