"""The service's commands: partner add/list/remove, intake --once, worker's settings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from store.engine import Store, sqlite_url
from store.migrate import upgrade
from store.models import ReceivedFile
from tests.paths import ACK_FIXTURES
from workers.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "db").mkdir()
    url = sqlite_url(tmp_path / "db")
    upgrade(url)
    monkeypatch.setenv("EDI_DATABASE_URL", url)
    monkeypatch.setenv("EDI_ARCHIVE_DIR", str(tmp_path / "archive"))
    monkeypatch.setenv("EDI_MAILBOXES", str(tmp_path / "mailboxes"))
    monkeypatch.delenv("EDI_REDIS_URL", raising=False)
    return tmp_path


def test_a_partner_is_added_listed_and_its_complete_upload_is_taken_in(env: Path) -> None:
    added = runner.invoke(app, ["partner", "add", "acme-clearing", "--sender-id",
                                "CLEARHOUSE01"])
    assert added.exit_code == 0, added.output
    inbound = env / "mailboxes" / "acme-clearing" / "inbound"
    assert inbound.is_dir() and (env / "mailboxes" / "acme-clearing" / "outbound").is_dir()
    listed = runner.invoke(app, ["partner", "list"])
    assert listed.output.split() == ["acme-clearing", "ZZ:CLEARHOUSE01"]
    shutil.copy(ACK_FIXTURES / "valid-two-claims.837", inbound / "a.837")
    (inbound / "b.837.part").write_text("half an upload")
    taken = runner.invoke(app, ["intake", "--once", "--stable-seconds", "0"])
    assert taken.exit_code == 0, taken.output
    assert sorted(p.name for p in inbound.iterdir()) == ["b.837.part"]
    store = Store(sqlite_url(env / "db"))
    try:
        with store.transaction() as s:
            assert list(s.scalars(select(ReceivedFile.status))) == ["received"]
    finally:
        store.dispose()


@pytest.mark.parametrize(("args", "hint"), [
    (["partner", "add", "Bad Name", "--sender-id", "X"], "a partner name is"),
    (["partner", "add", "ok-name", "--sender-id", "X", "--qualifier", "TOOLONG"],
     "the sender is"),
    (["partner", "remove", "nobody"], "no partner nobody"),
    (["worker"], "set EDI_REDIS_URL"),
])
def test_a_bad_value_is_a_usage_error(env: Path, args: list[str], hint: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert hint in " ".join(result.output.split())
