"""Shared test locations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
"""The shared directory beside the clone: public corpus, architecture and domain notes."""


@pytest.fixture(scope="session")
def shared() -> Path:
    return SHARED


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each engine (see tests/databases.py)."""
    from tests.databases import database

    with database(request.param, tmp_path / "db") as url:
        yield url


@pytest.fixture(autouse=True)
def engine_under_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """With ``EDI_TEST_DATABASE=postgresql`` every ``claims`` command of a test runs on a
    fresh PostgreSQL schema (through ``EDI_DATABASE_URL``) instead of SQLite in --out:
    ``make test`` runs the pipeline suites this way too."""
    import os

    if os.environ.get("EDI_TEST_DATABASE") != "postgresql":
        yield
        return
    from store.migrate import upgrade
    from tests.databases import postgres_schema

    with postgres_schema() as url:
        upgrade(url)
        patch = pytest.MonkeyPatch()
        patch.setenv("EDI_DATABASE_URL", url)
        try:
            yield
        finally:
            patch.undo()
