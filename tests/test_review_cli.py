"""`claims user add` and `claims review`'s store handling: users from the command line."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from store.engine import Store, sqlite_url
from store.models import AuditEntry, ReviewUser
from workers.cli import app

runner = CliRunner()


def test_a_user_is_added_with_an_argon2_hash_from_stdin_and_audited(tmp_path: Path) -> None:
    added = runner.invoke(app, ["user", "add", "dana", "--role", "Analyst", "--password-stdin",
                                "--release-limit", "2500", "--out", str(tmp_path)],
                          input="a long enough password\n")
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["user", "list", "--out", str(tmp_path)])
    assert listed.output.split() == ["dana", "analyst"]
    store = Store(sqlite_url(tmp_path))
    try:
        with store.transaction() as s:
            user = s.scalar(select(ReviewUser))
            audit = s.scalar(select(AuditEntry))
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert "a long enough password" not in user.password_hash
        assert user.release_limit_cents == 250000
        assert audit is not None and (audit.action, audit.subject) == ("user.add", "dana")
    finally:
        store.dispose()


def test_a_bad_role_a_short_password_or_a_taken_name_is_a_usage_error(tmp_path: Path) -> None:
    def add(name: str, role: str, password: str) -> int:
        return runner.invoke(app, ["user", "add", name, "--role", role, "--password-stdin",
                                   "--out", str(tmp_path)], input=password + "\n").exit_code

    assert add("sam", "root", "a long enough password") == 2
    assert add("sam", "viewer", "short") == 2
    assert add("sam", "viewer", "a long enough password") == 0
    assert add("sam", "admin", "a long enough password") == 2
    assert add("bad name!", "viewer", "a long enough password") == 2
    locked = runner.invoke(app, ["user", "lock", "sam", "--out", str(tmp_path)])
    assert locked.exit_code == 0 and "locked" in locked.output
    assert runner.invoke(app, ["user", "lock", "nobody", "--out", str(tmp_path)]).exit_code == 2
