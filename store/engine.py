"""Engines and transactions: SQLite embedded (WAL, BEGIN IMMEDIATE), PostgreSQL in production.

Every step of the pipeline runs inside `transaction`: it reads what it needs, writes
its effects and marks itself done before the one commit, so a crash leaves the whole
step or none of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

SQLITE_FILE = "claims.db"


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{(directory / SQLITE_FILE).resolve()}"


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str) -> Engine:
    """JSON columns go through orjson (several times faster than the json module). A
    database error's text leaves out the statement's values (``hide_parameters``): they
    are claims' PHI, and the text reaches logs."""
    url = normalise_url(url)
    json = {"json_serializer": _json_text, "json_deserializer": orjson.loads,
            "hide_parameters": True}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60}, **json)
        _sqlite_writers_take_the_lock_first(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **json)


def _sqlite_writers_take_the_lock_first(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # a writer takes the database lock at BEGIN, so two steps never interleave
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgresql(bind: Engine | Connection) -> bool:
    """The one test for the production engine (an engine, or a session's bind)."""
    return bind.dialect.name == "postgresql"


class Store:
    """An engine and its sessions."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One step: everything in it commits together, or nothing does."""
        with self._sessions() as session, session.begin():
            yield session

    @property
    def postgresql(self) -> bool:
        return is_postgresql(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
