"""Reference data in the store: loaded from the CSV directory, read per batch of claims.

    claims reference load DIR     -> one transaction, one `ReferenceVersion`

The CSV directory stays the exchange format, and the load keeps the CSV reader's
located, PHI-free problems (file, line, column; never a cell). The tables that grow
with the membership (members, coverage, authorizations, past claims, accumulators,
other coverage)
are streamed into the database row by row and checked with queries; the small ones
(plans, fees, providers, policies) are read whole and checked as the CSV loader does.

Adjudication then reads a batch's members and their rows through indexed queries
(`StoredReference.for_claims`), so a million members cost disk, not memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from adjudication.errors import ReferenceDataError, ReferenceProblem
from adjudication.reference import Member, ReferenceData, Row
from adjudication.reference_csv import (
    KEYS,
    MEMBER_TABLES,
    TABLES,
    Located,
    Table,
    check_tables,
    iter_rows,
    row_links,
)
from store.engine import Store, is_postgresql
from store.models import ReferenceRow, ReferenceVersion
from workers.bounded import bounded_lines, csv_files
from workers.reference import read_reference_dir, reference_version

CHUNK = 5000
_LOOKUPS: dict[str, tuple[str, str | None]] = {
    "members": ("subscriber_id", "member_id"),
    "coverage": ("member_id", None),
    "authorizations": ("member_id", "auth_number"),
    "past_claims": ("member_id", "icn"),
    "accumulators": ("member_id", None),
    "other_coverage": ("member_id", None),
}
"""How the engine asks for each member table: (lookup, lookup2) columns."""
FAR = date(9999, 12, 31)


class ReferenceSource(Protocol):
    """Where adjudication gets the reference data a batch of claims needs."""

    @property
    def version(self) -> str:
        """The reference version every decision names."""

    def for_claims(self, session: Session, subscriber_ids: Iterable[str],
                   original_icns: Iterable[str]) -> ReferenceData: ...


@dataclass(frozen=True)
class InMemoryReference:
    """A whole `ReferenceData` (a CSV directory read into memory: tests, small sets)."""

    data: ReferenceData
    version: str

    def for_claims(self, session: Session, subscriber_ids: Iterable[str],
                   original_icns: Iterable[str]) -> ReferenceData:
        return self.data


class LazyReference:
    """A CSV directory read into memory when first asked (`InMemoryReference`): the
    fallback `claims process` needs only when the store has no reference version loaded
    (the shipped directory takes about 77 MB as models, and a second or two to read)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._read: InMemoryReference | None = None

    def _reference(self) -> InMemoryReference:
        if self._read is None:
            self._read = InMemoryReference(*read_reference_dir(self._directory))
        return self._read

    @property
    def version(self) -> str:
        return self._reference().version

    def for_claims(self, session: Session, subscriber_ids: Iterable[str],
                   original_icns: Iterable[str]) -> ReferenceData:
        return self._reference().for_claims(session, subscriber_ids, original_icns)


class StoredReference:
    """A stored reference version: the small tables once, member rows per batch."""

    def __init__(self, store: Store, name: str | None = None) -> None:
        with store.transaction() as s:
            query = select(ReferenceVersion)
            query = (query.where(ReferenceVersion.name == name) if name is not None
                     else query.where(ReferenceVersion.current.is_(True)))
            version = s.scalar(query)
            if version is None:
                raise LookupError("no reference data is loaded in the store")
            self.version, self._id = version.name, version.id
            small: dict[str, Any] = {}
            for table in TABLES:
                if table.attribute in MEMBER_TABLES:
                    continue
                rows = s.scalars(select(ReferenceRow.data).where(
                    ReferenceRow.version_id == self._id, ReferenceRow.kind == table.attribute)
                    .order_by(ReferenceRow.id))
                small[table.attribute] = [table.model.model_validate(d) for d in rows]
            self._shared = ReferenceData(**small)
            """Plans, fees, providers and policies, read and indexed once."""

    def _rows(self, session: Session, table: Table, column: Any,
              keys: Iterable[str]) -> list[Row]:
        wanted = sorted(set(keys))
        if not wanted:
            return []
        rows = session.scalars(select(ReferenceRow.data).where(
            ReferenceRow.version_id == self._id, ReferenceRow.kind == table.attribute,
            column.in_(wanted)).order_by(ReferenceRow.id))
        return [table.model.model_validate(d) for d in rows]

    def for_claims(self, session: Session, subscriber_ids: Iterable[str],
                   original_icns: Iterable[str]) -> ReferenceData:
        """Everything the engine may ask about these claims' members and originals."""
        tables = {t.attribute: t for t in TABLES}
        members = self._rows(session, tables["members"], ReferenceRow.lookup, subscriber_ids)
        ids = [m.member_id for m in members if isinstance(m, Member)]
        past = self._rows(session, tables["past_claims"], ReferenceRow.lookup, ids)
        seen = {(getattr(p, "icn", ""), getattr(p, "line_number", 0)) for p in past}
        past += [p for p in self._rows(session, tables["past_claims"], ReferenceRow.lookup2,
                                       original_icns)
                 if (getattr(p, "icn", ""), getattr(p, "line_number", 0)) not in seen]
        member_rows: dict[str, Any] = {
            "members": members, "past_claims": past,
            **{name: self._rows(session, tables[name], ReferenceRow.lookup, ids)
               for name in ("coverage", "authorizations", "accumulators", "other_coverage")},
        }
        return self._shared.with_member_rows(**member_rows)


# -- loading -----------------------------------------------------------------------------
def load_reference(store: Store, directory: Path, now: datetime) -> tuple[str, bool]:
    """Load a CSV directory as the current reference version; (version, newly loaded).

    Loading the same content again only makes that version current again. Problems
    raise `ReferenceDataError` and leave the store as it was.
    """
    name = reference_version(directory)
    with store.transaction() as s:
        existing = s.scalar(select(ReferenceVersion).where(ReferenceVersion.name == name))
        if existing is not None:
            _make_current(s, existing.id)
            return name, False
    problems: list[ReferenceProblem] = []
    if not directory.is_dir():
        raise ReferenceDataError([ReferenceProblem(str(directory), None, None,
                                                   "is not a directory")])
    files = csv_files(directory, problems)
    known = {t.file for t in TABLES}
    problems += [ReferenceProblem(n, None, None, "is not a reference file")
                 for n in sorted(set(files) - known)]
    for table in TABLES:
        if table.file not in files and table.required:
            problems.append(ReferenceProblem(table.file, None, None, "is missing"))
    small: dict[str, Located] = {}
    for table in TABLES:
        if table.attribute not in MEMBER_TABLES and table.file in files:
            with _open(files[table.file], problems) as lines:
                small[table.attribute] = list(iter_rows(table, lines, problems))
    if not problems:
        problems += check_tables(small)
    if problems:
        raise ReferenceDataError(problems)
    check_row = row_links(small)
    with store.transaction() as s:
        version = ReferenceVersion(name=name, loaded_at=now, current=False)
        s.add(version)
        s.flush()
        counts: dict[str, int] = {}
        for table in TABLES:
            if table.attribute in small:
                counts[table.attribute] = _insert(s, version.id, table, small[table.attribute])
            elif table.file in files:
                with _open(files[table.file], problems) as lines:
                    counts[table.attribute] = _stream(s, version.id, table,
                                                      iter_rows(table, lines, problems),
                                                      check_row, problems)
        if not problems:
            problems += _member_checks(s, version.id)
        if problems:
            raise ReferenceDataError(problems)  # the transaction rolls back: nothing loaded
        version.counts = counts
        s.flush()
        _make_current(s, version.id)
    return name, True


class _open:
    """A CSV file as lines (UTF-8, a byte-order mark allowed); an unreadable one is a
    problem, not an exception."""

    def __init__(self, path: Path, problems: list[ReferenceProblem]) -> None:
        self._path = path
        self._problems = problems
        self._file: Any = None

    def __enter__(self) -> Iterable[str]:
        try:
            self._file = self._path.open(encoding="utf-8-sig", newline="")
        except OSError as error:
            self._problems.append(ReferenceProblem(self._path.name, None, None,
                                                   f"cannot be read ({error.strerror})"))
            return iter(())
        return _decoded(bounded_lines(self._file, self._path.name, self._problems),
                        self._path.name, self._problems)

    def __exit__(self, *_exc: object) -> None:
        if self._file is not None:
            self._file.close()


def _decoded(lines: Iterable[str], name: str,
             problems: list[ReferenceProblem]) -> Iterable[str]:
    try:
        yield from lines
    except UnicodeDecodeError:
        problems.append(ReferenceProblem(name, None, None, "is not UTF-8 text"))


def _make_current(session: Session, version_id: int) -> None:
    session.execute(update(ReferenceVersion).values(current=ReferenceVersion.id == version_id))


def _values(version_id: int, table: Table, line: int, row: Row) -> dict[str, Any]:
    columns = KEYS.get(table.attribute) or tuple(
        name for name in type(row).model_fields if name not in ("effective", "termination"))
    key = "|".join(str(getattr(row, k)) for k in columns)
    lookup, lookup2 = _LOOKUPS.get(table.attribute, (None, None))
    return {
        "version_id": version_id, "kind": table.attribute,
        "lookup": str(getattr(row, lookup))[:120] if lookup else key[:120],
        "lookup2": str(getattr(row, lookup2))[:120] if lookup2 else None,
        "natural_key": key[:200], "effective": row.effective, "termination": row.termination,
        "tag": getattr(row, "relationship", None), "line": line,
        "data": row.model_dump(mode="json"),
    }


def _insert(session: Session, version_id: int, table: Table, rows: Located) -> int:
    for start in range(0, len(rows), CHUNK):
        _write(session, [_values(version_id, table, line, row)
                         for line, row in rows[start:start + CHUNK]])
    return len(rows)


def _write(session: Session, rows: list[dict[str, Any]]) -> None:
    """One chunk of rows (`_values`) in the load's transaction: on PostgreSQL by COPY of
    the columns `_values` fills (one stream; an executemany sends a statement per row,
    about half of a load's time), elsewhere by a bulk insert."""
    if not rows:
        return
    driver = (session.connection().connection.driver_connection
              if is_postgresql(session.get_bind()) else None)
    if driver is None:
        session.execute(insert(ReferenceRow), rows)
        return
    from psycopg.types.json import Json

    columns = tuple(rows[0])
    with driver.cursor() as cursor, \
            cursor.copy(f"COPY reference_rows ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([Json(row[c]) if c == "data" else row[c] for c in columns])


def _stream(session: Session, version_id: int, table: Table,
            rows: Iterable[tuple[int, Row]], check_row: Any,
            problems: list[ReferenceProblem]) -> int:
    count = 0
    buffer: list[dict[str, Any]] = []
    for line, row in rows:
        problems += check_row(table.attribute, line, row)
        buffer.append(_values(version_id, table, line, row))
        count += 1
        if len(buffer) >= CHUNK:
            _write(session, buffer)
            buffer = []
    if buffer:
        _write(session, buffer)
    return count


_OVERLAPS = text("""
SELECT line, previous FROM (
  SELECT line, effective,
         LAG(line) OVER w AS previous,
         MAX(COALESCE(termination, :far)) OVER (
           PARTITION BY natural_key ORDER BY effective, line
           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
  FROM reference_rows WHERE version_id = :version AND kind = :kind
  WINDOW w AS (PARTITION BY natural_key ORDER BY effective, line)
) ordered
WHERE previous IS NOT NULL AND effective <= reach
ORDER BY line
""")
_NO_MEMBER = text("""
SELECT r.kind, r.line FROM reference_rows r
WHERE r.version_id = :version AND r.kind IN ('coverage', 'authorizations', 'past_claims',
                                             'accumulators', 'other_coverage')
  AND NOT EXISTS (SELECT 1 FROM reference_rows m WHERE m.version_id = :version
                  AND m.kind = 'members' AND m.lookup2 = r.lookup)
ORDER BY r.kind, r.line
""")
_NO_SUBSCRIBER = text("""
SELECT r.line FROM reference_rows r
WHERE r.version_id = :version AND r.kind = 'members'
  AND NOT EXISTS (SELECT 1 FROM reference_rows m WHERE m.version_id = :version
                  AND m.kind = 'members' AND m.lookup = r.lookup AND m.tag = 'self')
ORDER BY r.line
""")


def _member_checks(session: Session, version_id: int) -> list[ReferenceProblem]:
    """The checks that need every member row: overlaps, and links to members.csv."""
    files = {t.attribute: t.file for t in TABLES}
    problems = []
    if is_postgresql(session.get_bind()):
        # the planner needs statistics for the rows just written to use the indexes
        session.execute(text("ANALYZE reference_rows"))
    for kind in sorted(MEMBER_TABLES):
        for line, previous in session.execute(_OVERLAPS, {"version": version_id,
                                                          "kind": kind, "far": FAR}):
            problems.append(ReferenceProblem(
                files[kind], line, "effective",
                f"in force at the same time as line {previous} for the same "
                f"{', '.join(KEYS[kind])}"))
    for kind, line in session.execute(_NO_MEMBER, {"version": version_id}):
        problems.append(ReferenceProblem(files[kind], line, "member_id",
                                         "names no member of members.csv"))
    for (line,) in session.execute(_NO_SUBSCRIBER, {"version": version_id}):
        problems.append(ReferenceProblem(
            files["members"], line, "subscriber_id",
            "is not the subscriber_id of any member with relationship self"))
    return problems


def counts_of(store: Store) -> Mapping[str, Any]:
    with store.transaction() as s:
        version = s.scalar(select(ReferenceVersion).where(ReferenceVersion.current.is_(True)))
        return {} if version is None else {"version": version.name, **version.counts}
