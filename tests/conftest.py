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
