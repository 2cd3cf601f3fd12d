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


def kept_text(archive: Path, sha256: str | None, text: str | None) -> str | None:
    """An answer a row names (`workers.kept_answers.KeptAnswer`) read whole, or None."""
    from workers.kept_answers import KeptAnswer

    path = KeptAnswer(sha256, text).path(archive)
    return path.read_text(encoding="utf-8") if path is not None else text


def ack_text(store: Store, archive: Path, file_id: int) -> str | None:
    """The file's TA1/999 as the engine keeps it, read whole (None before it is made)."""
    from store.models import ReceivedFile

    with store.transaction() as s:
        row = s.get(ReceivedFile, file_id)
        assert row is not None
        return kept_text(archive, row.ack_sha256, row.ack_text)


def outbound_isa13(store: Store, *archives: Path) -> list[str]:
    """Every ISA13 of every acknowledgment the store holds (999/TA1s and 277CAs), read
    from the archive (under one of ``archives``) by their sha256."""
    from sqlalchemy import select

    from store.models import ReceivedFile
    from workers.archive import archive_path

    def kept(sha: str | None, text: str | None = None) -> str | None:
        held = [a for a in archives if sha is not None and archive_path(a, sha).exists()]
        return kept_text(held[0] if held else archives[0], sha, text)

    texts: list[str] = []
    with store.transaction() as s:
        for ack_sha, legacy, claim_ack_sha in s.execute(select(
                ReceivedFile.ack_sha256, ReceivedFile.ack_text, ReceivedFile.claim_ack_sha256)):
            texts += filter(None, (kept(ack_sha, legacy), kept(claim_ack_sha)))
    numbers = []
    for document in texts:
        separator, terminator = document[3], document[105]
        numbers += [segment.split(separator)[13] for segment in
                    (s.strip() for s in document.split(terminator))
                    if segment.startswith("ISA" + separator)]
    return numbers
