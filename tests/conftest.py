"""Shared test locations, and the ICD-10-CM releases every test runs with."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from workers.service import Service

SHARED = Path(__file__).resolve().parents[2] / "shared"
"""The shared directory beside the clone: public corpus, architecture and domain notes."""


def _fy2027_stand_in() -> Path:
    """A directory holding a stand-in for CMS's FY2027 order file (in force from
    2026-10-01): FY2026's billable codes under FY2027's file name.

    No package ships FY2027, and without it no release decides a date of service from
    2026-10-01, so adjudication pends every line of such a claim (DIAGNOSIS-CODE-SET,
    fail closed). The fixtures are claims of November 2026, decided as a payer that has
    loaded FY2027 decides them; what FY2027 itself changes is tested with an excerpt of
    the real file (`tests/test_codesets.py`). The 13 ``QA`` codes of the packaged FY2026
    list have no place in an order file's layout and are left out."""
    from edi.validators.codesets import is_code_shaped, load_fy2026_release

    folder = Path(tempfile.mkdtemp(prefix="test-code-sets-"))
    atexit.register(shutil.rmtree, folder, True)
    records = (f"{order:05d} {code:<7} 1 {'test stand-in':<60} test stand-in"
               for order, code in enumerate(sorted(filter(is_code_shaped,
                                                          load_fy2026_release().codes)), 1))
    (folder / "icd10cm_order_2027.txt").write_text("\n".join(records) + "\n")
    return folder


os.environ["EDI_CODE_SETS_DIR"] = str(_fy2027_stand_in())  # before any registry is built
FY2027_STAND_IN_NAME = "ICD-10-CM FY2027 effective 2026-10-01 (icd10cm_order_2027.txt)"


@pytest.fixture(scope="session")
def shared() -> Path:
    return SHARED


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each engine (see tests/databases.py)."""
    from tests.databases import database

    with database(request.param, tmp_path / "db") as url:
        yield url


@pytest.fixture
def service_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The running service's settings in the environment, as its commands read them:
    SQLite in ``tmp_path``/db (migrated), the archive, mailboxes and outbound folders
    beside it, no Redis; ``tmp_path``."""
    from store.engine import sqlite_url
    from store.migrate import upgrade

    (tmp_path / "db").mkdir()
    url = sqlite_url(tmp_path / "db")
    upgrade(url)
    monkeypatch.setenv("EDI_DATABASE_URL", url)
    monkeypatch.setenv("EDI_ARCHIVE_DIR", str(tmp_path / "archive"))
    monkeypatch.setenv("EDI_MAILBOXES", str(tmp_path / "mailboxes"))
    monkeypatch.setenv("EDI_OUTBOUND_DIR", str(tmp_path / "outbound"))
    monkeypatch.delenv("EDI_REDIS_URL", raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def loaded_sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding an SQLite store at the current revision with the shipped
    reference data loaded, made once per test process: a test copies it
    (`copy_loaded_store`) in milliseconds, where migrating and loading the 42,000 rows
    took 3-7 s of every such test's set-up (a fifth of the suite's time)."""
    from datetime import UTC, datetime

    from store.engine import Store, sqlite_url
    from store.migrate import upgrade
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY
    from workers.reference_store import load_reference

    directory = tmp_path_factory.mktemp("loaded-store") / "db"
    directory.mkdir()
    upgrade(sqlite_url(directory))
    store = Store(sqlite_url(directory))
    try:
        load_reference(store, SHIPPED_REFERENCE_DIRECTORY, datetime.now(tz=UTC))
    finally:
        store.dispose()  # every connection closed: the file is whole, no journal beside it
    return directory


def copy_loaded_store(template: Path, directory: Path) -> str:
    """``template`` (`loaded_sqlite_store`) copied to ``directory``; its SQLite URL."""
    from store.engine import sqlite_url

    shutil.copytree(template, directory)
    return sqlite_url(directory)


@pytest.fixture
def service(tmp_path: Path, loaded_sqlite_store: Path) -> Iterator[Service]:
    """The running service's parts on SQLite in ``tmp_path`` with the shipped reference
    data loaded (tests/test_service.py and the tests of what it runs)."""
    from store.engine import Store
    from workers.reference_store import StoredReference
    from workers.service import Service

    store = Store(copy_loaded_store(loaded_sqlite_store, tmp_path / "db"))
    yield Service(store, tmp_path / "archive", tmp_path / "outbound", StoredReference(store))
    store.dispose()


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
