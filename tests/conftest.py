"""Shared test locations."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
"""The shared directory beside the clone: public corpus, architecture and domain notes."""


@pytest.fixture(scope="session")
def shared() -> Path:
    return SHARED
