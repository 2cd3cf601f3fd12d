"""The service's commands: partner add/list/remove, intake --once, worker's settings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from store.engine import Store, sqlite_url
from store.models import ReceivedFile
from tests.paths import ACK_FIXTURES
from workers.cli import app

runner = CliRunner()


def test_a_partner_is_added_listed_and_its_complete_upload_is_taken_in(service_env: Path) -> None:
    added = runner.invoke(app, ["partner", "add", "acme-clearing", "--sender-id",
                                "CLEARHOUSE01"])
    assert added.exit_code == 0, added.output
    inbound = service_env / "mailboxes" / "acme-clearing" / "inbound"
    assert inbound.is_dir() and (service_env / "mailboxes" / "acme-clearing" / "outbound").is_dir()
    listed = runner.invoke(app, ["partner", "list"])
    assert listed.output.split() == ["acme-clearing", "ZZ:CLEARHOUSE01"]
    shutil.copy(ACK_FIXTURES / "valid-two-claims.837", inbound / "a.837")
    (inbound / "b.837.part").write_text("half an upload")
    taken = runner.invoke(app, ["intake", "--once", "--stable-seconds", "0"])
    assert taken.exit_code == 0, taken.output
    assert sorted(p.name for p in inbound.iterdir()) == ["b.837.part"]
    store = Store(sqlite_url(service_env / "db"))
    try:
        with store.transaction() as s:
            assert list(s.scalars(select(ReceivedFile.status))) == ["received"]
    finally:
        store.dispose()


@pytest.mark.parametrize(("args", "hint"), [
    (["partner", "add", "Bad Name", "--sender-id", "X"], "a partner name is"),
    (["partner", "add", "ok-name", "--sender-id", "X", "--qualifier", "TOOLONG"],
     "the sender is"),
    (["partner", "add", "ok-name", "--sender-id", "   "], "the sender is"),
    (["partner", "add", "ok-name", "--sender-id", "X", "--qualifier", "éé"], "the sender is"),
    (["partner", "add", "ok-name", "--sender-id", "X", "--qualifier", "zz"], "the sender is"),
    (["partner", "remove", "nobody"], "no partner nobody"),
    (["partner", "remove", "bad\udcff"], "no partner by that name"),  # was a traceback
    (["worker"], "set EDI_REDIS_URL"),
    # unbounded waits were an OverflowError, or an intake that never took an upload
    (["intake", "--once", "--interval", "inf"], "--interval"),
    (["intake", "--once", "--stable-seconds", "inf"], "--stable-seconds"),
    (["worker", "--reconcile-after", "inf"], "--reconcile-after"),
])
def test_a_bad_value_is_a_usage_error(service_env: Path, args: list[str], hint: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert hint in " ".join(result.output.split())


@pytest.mark.parametrize("args", [["partner", "list"], ["redeliver"], ["intake", "--once"],
                                  ["demo", "--out", "{tmp}/demo"]])
def test_a_code_sets_directory_that_does_not_load_is_a_usage_error(
        service_env: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    # found by an audit: a NotADirectoryError traceback from each of these
    monkeypatch.setenv("EDI_CODE_SETS_DIR", str(service_env / "nowhere"))
    result = runner.invoke(app, [a.format(tmp=service_env) for a in args])
    assert result.exit_code == 2, result.output
    assert "EDI_CODE_SETS_DIR" in result.output and "Traceback" not in result.output


def test_a_sender_another_partner_sends_as_is_refused_before_any_mailbox_is_made(
        service_env: Path) -> None:
    # found by an audit: an IntegrityError traceback, and the second mailbox made anyway
    assert runner.invoke(app, ["partner", "add", "alpha", "--sender-id", "SENDER1"]
                         ).exit_code == 0
    for sent_as in ("SENDER1", "SENDER1 ", " SENDER1"):
        again = runner.invoke(app, ["partner", "add", "beta", "--sender-id", sent_as])
        assert again.exit_code == 2, again.output
        assert "partner alpha sends as ZZ SENDER1 already" in " ".join(again.output.split())
        assert not (service_env / "mailboxes" / "beta").exists()
    listed = runner.invoke(app, ["partner", "list"])
    assert listed.output.split() == ["alpha", "ZZ:SENDER1"]


def test_redeliver_sends_what_did_not_arrive_and_says_how_much(service_env: Path) -> None:
    from store.models import Event, ReceivedFile
    from workers.service import open_service, receive_into_service

    svc = open_service()
    try:
        upload = service_env / "a.837"
        shutil.copy(ACK_FIXTURES / "valid-two-claims.837", upload)
        file_id, _ = receive_into_service(svc, upload)
        from workers import steps

        steps.acknowledge_file(svc.context(), file_id)
        with svc.store.transaction() as s:  # its 999's delivery failed after every retry
            sha = s.get(ReceivedFile, file_id).sha256  # type: ignore[union-attr]
            s.add(Event(at=svc.context().now, kind="delivery.failed", actor="worker",
                        subject=sha, detail={"reason": "OSError"}))
    finally:
        svc.store.dispose()
    result = runner.invoke(app, ["redeliver"])
    assert result.exit_code == 0, result.output
    assert "the answers of 1 file(s), 0 835(s)" in " ".join(result.output.split())
    assert len(list((service_env / "outbound").glob("ZZ-CLEARHOUSE01/*.999"))) == 1
    again = runner.invoke(app, ["redeliver"])
    assert "the answers of 0 file(s), 0 835(s)" in " ".join(again.output.split())


def test_a_bad_business_time_zone_for_the_worker_is_a_usage_error(
    service_env: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EDI_BUSINESS_TIMEZONE", "Mars/Olympus_Mons")
    monkeypatch.setenv("EDI_REDIS_URL", "redis://127.0.0.1:6379/11")
    result = runner.invoke(app, ["worker"])
    assert result.exit_code == 2
    assert "EDI_BUSINESS_TIMEZONE" in " ".join(result.output.split())


def test_a_partner_with_files_is_removed_and_its_files_kept(service_env: Path) -> None:
    added = runner.invoke(app, ["partner", "add", "acme", "--sender-id", "CLEARHOUSE01"])
    assert added.exit_code == 0, added.output
    inbound = service_env / "mailboxes" / "acme" / "inbound"
    shutil.copy(ACK_FIXTURES / "valid-two-claims.837", inbound / "a.837")
    assert runner.invoke(app, ["intake", "--once", "--stable-seconds", "0"]).exit_code == 0
    removed = runner.invoke(app, ["partner", "remove", "acme"])
    assert removed.exit_code == 0, removed.output
    store = Store(sqlite_url(service_env / "db"))
    try:
        with store.transaction() as s:
            assert list(s.scalars(select(ReceivedFile.partner_id))) == [None]
    finally:
        store.dispose()
