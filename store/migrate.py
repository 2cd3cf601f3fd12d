"""Alembic, driven from code: ``claims migrate`` and the embedded default's auto-upgrade."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from store.engine import Store, make_engine, normalise_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(config(url), revision)


def revisions() -> list[str]:
    """Every revision, the first one first (the history is one line)."""
    script = ScriptDirectory.from_config(config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def downgrade_targets(url: str) -> list[str]:
    """The revisions ``url``'s database may go down to: ``base`` and each revision below
    its own, never its own or one above it, nor Alembic's relative and symbolic names
    (``-1``, ``head``, ``0012@-1``), which downgraded to the database's own revision or
    to one a person did not name."""
    engine = make_engine(url)
    try:
        now = current(engine)
    finally:
        engine.dispose()
    known = revisions()
    return ["base", *known[:known.index(now)]] if now in known else ["base"]


def head() -> str:
    found = ScriptDirectory.from_config(config("sqlite://")).get_current_head()
    assert found is not None
    return found


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(url: str) -> bool:
    engine = make_engine(url)
    try:
        return current(engine) == head()
    finally:
        engine.dispose()


class StoreNotMigrated(Exception):
    """A database named by --db / EDI_DATABASE_URL is not at the current schema."""


def open_store(url: str, *, migrate: bool) -> Store:
    """The store at ``url``: migrated first when ``migrate`` (the embedded SQLite default
    migrates itself); otherwise it must already be at the current schema."""
    if migrate:
        upgrade(url)
    elif not is_current(url):
        raise StoreNotMigrated("the database is not at the current schema: run "
                               "'claims migrate --db URL' first")
    return Store(url)
