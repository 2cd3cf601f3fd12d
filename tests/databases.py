"""The test suite's databases: SQLite files, and PostgreSQL schemas on the machine's server.

PostgreSQL is the production engine, so every store test runs on both. A test gets
an empty schema of its own in the ``test`` database (``EDI_TEST_POSTGRES_URL``
overrides the server); without a server the PostgreSQL half is skipped on a laptop,
and fails when ``CI`` is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from store.engine import Store, sqlite_url
from store.scratch import SERVER, scratch_schema

POSTGRES = SERVER
ENGINES = ["sqlite", "postgresql"]


def postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def require_postgres() -> None:
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and is not reachable at {POSTGRES}")
        pytest.skip("no PostgreSQL server here")


def require_redis(url: str) -> None:
    """The machine's Redis at ``url``, or a skip on a laptop (a failure under CI)."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception:
        if os.environ.get("CI"):
            raise
        pytest.skip("no Redis at " + url)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL whose connections use a fresh, empty schema, dropped afterwards."""
    require_postgres()
    with scratch_schema(POSTGRES) as url:
        yield url


@contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    """An empty database of ``kind`` (``sqlite`` in ``directory``, or ``postgresql``)."""
    if kind == "sqlite":
        directory.mkdir(parents=True, exist_ok=True)
        yield sqlite_url(directory)
    else:
        with postgres_schema() as url:
            yield url


def run_store(out: Path) -> Store:
    """The store a ``claims process --out OUT`` run used: ``EDI_DATABASE_URL`` when the
    suite runs on PostgreSQL (see ``engine_under_test`` in conftest), else OUT's SQLite."""
    return Store(os.environ.get("EDI_DATABASE_URL") or sqlite_url(out))


def outbound_isa13(store: Store, *archives: Path) -> list[str]:
    """Every ISA13 of every acknowledgment the store holds: the 999/TA1 texts in their
    rows, the 277CAs in the archive (under one of ``archives``) by their sha256."""
    from sqlalchemy import select

    from store.models import ReceivedFile
    from workers.steps import archive_path

    texts: list[str] = []
    with store.transaction() as s:
        for ack_text, claim_ack_sha in s.execute(select(ReceivedFile.ack_text,
                                                        ReceivedFile.claim_ack_sha256)):
            if ack_text:
                texts.append(ack_text)
            if claim_ack_sha:
                (kept,) = [archive_path(a, claim_ack_sha) for a in archives
                           if archive_path(a, claim_ack_sha).exists()]
                texts.append(kept.read_text(encoding="utf-8"))
    numbers = []
    for document in texts:
        separator, terminator = document[3], document[105]
        numbers += [segment.split(separator)[13] for segment in
                    (s.strip() for s in document.split(terminator))
                    if segment.startswith("ISA" + separator)]
    return numbers
