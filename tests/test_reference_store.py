"""Reference data in the store: loaded once as a version, read per batch, same decisions."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import workers.reference
import workers.reference_store
from adjudication.errors import ReferenceDataError
from store import migrate
from store.engine import Store
from store.models import DecisionRecord, ReferenceRow, ReferenceVersion
from tests.paths import FIXTURES
from workers.cli import app
from workers.reference import SHIPPED_REFERENCE_DIRECTORY, load_reference_dir
from workers.reference_store import StoredReference, load_reference
from workers.summary import RunSummary

runner = CliRunner()
NOW = datetime(2026, 11, 23, tzinfo=UTC)


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "reference"
    shutil.copytree(SHIPPED_REFERENCE_DIRECTORY, target)
    return target


def _edit(path: Path, line: int, column: str, value: str) -> None:
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


def test_a_load_is_one_version_and_loading_it_again_adds_nothing(database_url: str) -> None:
    migrate.upgrade(database_url)
    store = Store(database_url)
    try:
        name, new = load_reference(store, SHIPPED_REFERENCE_DIRECTORY, NOW)
        again, new_again = load_reference(store, SHIPPED_REFERENCE_DIRECTORY, NOW)
        with store.transaction() as s:
            versions = list(s.scalars(select(ReferenceVersion)))
            rows = s.scalar(select(func.count()).select_from(ReferenceRow))
    finally:
        store.dispose()
    assert (new, new_again, again) == (True, False, name)
    assert [(v.name, v.current) for v in versions] == [(name, True)]
    assert versions[0].counts["members"] == 18130
    assert rows == sum(versions[0].counts.values())


def test_a_batch_reads_what_the_csv_directory_answers(database_url: str) -> None:
    migrate.upgrade(database_url)
    store = Store(database_url)
    whole = load_reference_dir(SHIPPED_REFERENCE_DIRECTORY)
    try:
        load_reference(store, SHIPPED_REFERENCE_DIRECTORY, NOW)
        stored = StoredReference(store)
        subscribers = sorted({m.subscriber_id for m in whole.members})[:40]
        originals = sorted({p.icn for p in whole.past_claims})[:5]
        with store.transaction() as s:
            batch = stored.for_claims(s, subscribers, originals)
            later = stored.for_claims(s, subscribers[20:], ())
            sample = stored.for_claims(s, ["OBH000001"], ())
    finally:
        store.dispose()
    wanted = [m for m in whole.members if m.subscriber_id in subscribers]
    assert list(batch.members) == wanted
    # the next batch shares the plans and fees but not the members
    assert list(later.members) == [m for m in wanted if m.subscriber_id in subscribers[20:]]
    for member in wanted:
        found = bool(later.members_with_subscriber(member.subscriber_id))
        assert found == (member.subscriber_id in subscribers[20:])
        assert batch.members_with_subscriber(member.subscriber_id)
        for day in (date(2025, 6, 1), date(2026, 3, 1)):
            assert batch.coverage_for(member.member_id, day) == \
                whole.coverage_for(member.member_id, day)
    ids = {m.member_id for m in wanted}
    assert list(batch.coverage) == [c for c in whole.coverage if c.member_id in ids]
    assert list(batch.authorizations) == [a for a in whole.authorizations if a.member_id in ids]
    for icn in originals:
        assert batch.by_icn(icn) == whole.by_icn(icn)
    assert batch.fees == whole.fees and batch.providers == whole.providers
    # other coverage is a member table, read per batch; COB methods are shared
    assert sample.other_coverage and list(sample.other_coverage) == [
        o for o in whole.other_coverage if o.member_id == "OBH000001-00"]
    assert list(batch.other_coverage) == [o for o in whole.other_coverage if o.member_id in ids]
    assert batch.cob_methods == whole.cob_methods


@pytest.mark.parametrize(("file", "line", "column", "value", "problem"), [
    ("plans.csv", 3, "deductible", "lots", "plans.csv line 3, column deductible"),
    ("members.csv", 5, "birth_date", "1990-02-30", "members.csv line 5, column birth_date"),
    ("coverage.csv", 7, "member_id", "M-NOBODY", "coverage.csv line 7, column member_id: "
                                                  "names no member of members.csv"),
    ("coverage.csv", 9, "plan_id", "NO-PLAN", "coverage.csv line 9, column plan_id"),
    # one digit off: the 3-7-1 check digit no longer holds, so no ACH goes to it
    ("payee_accounts.csv", 3, "routing", "011000139", "payee_accounts.csv line 3, column "
                                                      "routing: is not a valid ABA routing"),
    ("payee_accounts.csv", 2, "account", "12-34", "payee_accounts.csv line 2, column account"),
])
def test_a_bad_directory_loads_nothing_and_names_file_line_and_column(
    database_url: str, tmp_path: Path, file: str, line: int, column: str, value: str,
    problem: str,
) -> None:
    migrate.upgrade(database_url)
    directory = _copy(tmp_path)
    _edit(directory / file, line, column, value)
    store = Store(database_url)
    try:
        with pytest.raises(ReferenceDataError) as raised:
            load_reference(store, directory, NOW)
        with store.transaction() as s:
            assert s.scalar(select(func.count()).select_from(ReferenceRow)) == 0
            assert s.scalar(select(func.count()).select_from(ReferenceVersion)) == 0
    finally:
        store.dispose()
    assert problem in str(raised.value)
    assert value not in str(raised.value)  # the cell is never quoted


def test_two_member_rows_in_force_at_once_are_refused(database_url: str,
                                                      tmp_path: Path) -> None:
    migrate.upgrade(database_url)
    directory = _copy(tmp_path)
    members = directory / "members.csv"
    lines = members.read_text().splitlines()
    members.write_text("\n".join([*lines, lines[1]]) + "\n")  # the first member again
    store = Store(database_url)
    try:
        with pytest.raises(ReferenceDataError) as raised:
            load_reference(store, directory, NOW)
    finally:
        store.dispose()
    assert (f"members.csv line {len(lines) + 1}, column effective: in force at the same "
            "time as line 2 for the same member_id") in str(raised.value)


def test_claims_decided_through_the_store_match_the_csv_directory(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the shipped directory is read (into memory) only when the store has no version
    read = workers.reference.read_reference_dir
    reads: list[Path] = []
    for module in (workers.reference, workers.reference_store):
        monkeypatch.setattr(module, "read_reference_dir",
                            lambda directory: reads.append(directory) or read(directory))
    inbound = tmp_path / "inbound"
    inbound.mkdir()
    files = []
    for source in sorted((FIXTURES / "837p").glob("*.837")):
        shutil.copy(source, inbound / source.name)
        files.append(str(inbound / source.name))
    common = ["--quiet", "--as-of", "2026-11-23", "--received", "2026-11-23"]
    csv_run = runner.invoke(app, ["process", *files, "--out", str(tmp_path / "csv"), *common])
    assert csv_run.exit_code == 0, csv_run.output
    assert reads == [SHIPPED_REFERENCE_DIRECTORY]  # the new store had no version
    migrate.upgrade(database_url)
    loaded = runner.invoke(app, ["reference", "load", str(SHIPPED_REFERENCE_DIRECTORY),
                                 "--db", database_url])
    assert loaded.exit_code == 0, loaded.output
    stored_run = runner.invoke(app, ["process", *files, "--out", str(tmp_path / "db"),
                                     "--db", database_url, *common])
    assert stored_run.exit_code == 0, stored_run.output
    assert reads == [SHIPPED_REFERENCE_DIRECTORY]  # not read again: the store's decided
    by_csv, by_store = (RunSummary.model_validate_json((tmp_path / d / "summary.json")
                                                       .read_text()) for d in ("csv", "db"))
    assert [c.model_dump() for f in by_store.files for c in f.claims] == \
        [c.model_dump() for f in by_csv.files for c in f.claims]
    store = Store(database_url)
    try:
        with store.transaction() as s:
            names = set(s.scalars(select(DecisionRecord.reference_version)))
            current = s.scalar(select(ReferenceVersion.name))
    finally:
        store.dispose()
    assert names == {current}


def test_loading_into_a_database_that_was_not_migrated_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["reference", "load", str(SHIPPED_REFERENCE_DIRECTORY),
                                 "--db", f"sqlite:///{tmp_path / 'empty.db'}"])
    assert result.exit_code == 2
    assert "claims migrate" in result.output
