"""Reference data as CSV text: parse and check it into `ReferenceData`, or write it back.

    parse_reference({"members.csv": text, ...})  -> ReferenceData, or ReferenceDataError
    format_reference(data)                       -> {"members.csv": text, ...}

Pure: the caller reads the files (`workers.reference.load_reference_dir`). One file per
row model (`TABLES`), header row = field names in any order, one row per line. Cells:
empty = None (or the field's default, or an empty tuple); booleans ``true``/``false``;
tuples space-separated; dates ISO ``YYYY-MM-DD``; money and percentages as decimals.

Every problem is collected (bad cells, unknown or missing columns, missing files, rows
in force at the same time for the same key, links to rows that do not exist) and
raised together; nothing is half-loaded. Messages name file, line (header = line 1)
and column, and never quote a cell. docs/reference-data.md describes every column.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from functools import cache
from operator import attrgetter
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import ValidationError

from adjudication.errors import ReferenceDataError, ReferenceProblem
from adjudication.reference import (
    FILING_LIMIT_KINDS,
    Accumulator,
    AddOnCode,
    Authorization,
    CobMethod,
    Copay,
    Coverage,
    Fee,
    FilingLimit,
    LicenseFactor,
    LicenseLevel,
    Member,
    OtherCoverage,
    OutOfNetworkBenefit,
    PastClaim,
    PayeeAccount,
    Plan,
    PriorAuthRequirement,
    ProcedurePair,
    Provider,
    ReferenceData,
    Row,
    ServiceCategory,
    SupervisionPolicy,
    TelehealthPolicy,
    UnitLimit,
)
from edi.amounts import MAX_AMOUNT, amount_fits
from edi.validators.npi import is_valid_npi


@dataclass(frozen=True)
class Table:
    """One CSV file: its name, the `ReferenceData` argument it fills and its row model."""

    file: str
    attribute: str
    model: type[Row]
    required: bool = True


TABLES: tuple[Table, ...] = (
    Table("members.csv", "members", Member),
    Table("coverage.csv", "coverage", Coverage),
    Table("plans.csv", "plans", Plan),
    Table("copays.csv", "copays", Copay),
    Table("service_categories.csv", "service_categories", ServiceCategory),
    Table("prior_auth.csv", "prior_auth", PriorAuthRequirement),
    Table("providers.csv", "providers", Provider),
    Table("fees.csv", "fees", Fee),
    Table("license_factors.csv", "license_factors", LicenseFactor),
    Table("authorizations.csv", "authorizations", Authorization),
    Table("filing_limits.csv", "filing_limits", FilingLimit),
    Table("supervision.csv", "supervision", SupervisionPolicy),
    # Running state that moves to the store: a fresh payer has no history yet.
    Table("past_claims.csv", "past_claims", PastClaim, required=False),
    Table("accumulators.csv", "accumulators", Accumulator, required=False),
    Table("payee_accounts.csv", "payee_accounts", PayeeAccount, required=False),
    # Coding edits: without a file, no edit of that kind (CMS MUE and NCCI data).
    Table("unit_limits.csv", "unit_limits", UnitLimit, required=False),
    Table("add_on_codes.csv", "add_on_codes", AddOnCode, required=False),
    Table("procedure_pairs.csv", "procedure_pairs", ProcedurePair, required=False),
    # Without a row, an out-of-network line of a plan that covers it pends.
    Table("oon_benefits.csv", "oon_benefits", OutOfNetworkBenefit, required=False),
    Table("telehealth.csv", "telehealth", TelehealthPolicy),
    # Coordination of benefits: without a method a secondary line pends; without other
    # coverage rows no primary claim is turned back to another payer.
    Table("cob_methods.csv", "cob_methods", CobMethod, required=False),
    Table("other_coverage.csv", "other_coverage", OtherCoverage, required=False),
)
OPTIONAL_FILES = frozenset(t.file for t in TABLES if not t.required)

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIN = re.compile(r"\d{9}")
_ACCOUNT = re.compile(r"\d{4,17}")
_OMIT = object()


def is_valid_routing_number(routing: str) -> bool:
    """An ABA routing number: nine digits whose weighted sum (3, 7, 1 repeated) is a
    multiple of ten."""
    if not (len(routing) == 9 and routing.isascii() and routing.isdigit()):
        return False
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(routing, weights, strict=True)) % 10 == 0
_EMPTY_TEXT_ALLOWED = frozenset({(SupervisionPolicy, "requires_modifier")})
"""Text columns without a default where an empty cell means "none" rather than missing."""

Located = list[tuple[int, Row]]
"""Rows of one file with the line each came from."""


@dataclass(frozen=True)
class _Column:
    kind: type
    nullable: bool
    has_default: bool


@cache
def _columns(model: type[Row]) -> dict[str, _Column]:
    columns = {}
    for name, info in model.model_fields.items():
        annotation: Any = info.annotation
        args = get_args(annotation)
        nullable = get_origin(annotation) in (Union, UnionType) and NoneType in args
        if nullable:
            annotation = next(a for a in args if a is not NoneType)
        kind = tuple if get_origin(annotation) is tuple else annotation
        columns[name] = _Column(kind, nullable, not info.is_required())
    return columns


def column_order(model: type[Row]) -> list[str]:
    """The columns as `format_reference` writes them: the row's own, then the dates."""
    own = [name for name in model.model_fields if name not in ("effective", "termination")]
    return [*own, "effective", "termination"]


# -- parsing ---------------------------------------------------------------------------
def parse_reference(files: Mapping[str, str]) -> ReferenceData:
    """Every table parsed and checked, or `ReferenceDataError` listing every problem."""
    problems: list[ReferenceProblem] = []
    known = {t.file for t in TABLES}
    for name in sorted(set(files) - known):
        problems.append(ReferenceProblem(name, None, None, "is not a reference file"))
    tables: dict[str, Located] = {}
    for table in TABLES:
        text = files.get(table.file)
        if text is None:
            if table.required:
                problems.append(ReferenceProblem(table.file, None, None, "is missing"))
            tables[table.attribute] = []
            continue
        tables[table.attribute] = _parse_table(table, text, problems)
    if not problems:  # links are only worth checking between files that parsed
        problems.extend(_overlaps(tables))
        problems.extend(_broken_links(tables))
    if problems:
        raise ReferenceDataError(problems)
    arguments: dict[str, Any] = {name: [row for _, row in rows] for name, rows in tables.items()}
    return ReferenceData(**arguments)


def _parse_table(table: Table, text: str, problems: list[ReferenceProblem]) -> Located:
    return list(iter_rows(table, io.StringIO(text.removeprefix("\ufeff"), newline=""),
                          problems))


def iter_rows(table: Table, lines: Iterable[str],
              problems: list[ReferenceProblem]) -> Iterator[tuple[int, Row]]:
    """The rows of one file as they are read, each with its line (header = line 1).

    Streams: a file of a million rows is never held whole. Problems are appended to
    ``problems`` as they are found; a row with a problem is not yielded.
    """
    reader = csv.reader(lines, strict=True)
    line = 0
    header: list[str] | None = None
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(ReferenceProblem(table.file, reader.line_num, None,
                                             f"is not valid CSV ({error})"))
            return
        start, line = line + 1, reader.line_num
        if header is None:
            header = [cell.strip() for cell in cells]
            if header and header[0].startswith("\ufeff"):
                header[0] = header[0][1:]
            if not _header_ok(table, header, problems):
                return
            columns = [(name, _columns(table.model)[name]) for name in header]
        elif not cells:
            continue  # a blank line
        elif len(cells) != len(header):
            problems.append(ReferenceProblem(
                table.file, start, None,
                f"has {len(cells)} cells where the header has {len(header)}"))
        else:
            row = _row(table, start, zip(columns, cells, strict=True), problems)
            if row is not None:
                yield start, row
    if header is None:
        problems.append(ReferenceProblem(table.file, None, None, "is empty (no header row)"))


def _header_ok(table: Table, header: list[str], problems: list[ReferenceProblem]) -> bool:
    """Whether the first line names this file's columns. A cell that is none of them is
    named by its position, never quoted: a file that lost its header row has a member's
    or a clinician's row there."""
    columns = _columns(table.model)
    listed = f"this file's columns are {', '.join(columns)}"
    known = sum(name in columns for name in header)
    if 2 * known <= len([name for name in header if name]):
        problems.append(ReferenceProblem(
            table.file, 1, None,
            f"is not a header row: {known} of its {len(header)} cells name a column "
            f"({listed})"))
        return False
    found: list[ReferenceProblem] = []
    seen: set[str] = set()
    for position, name in enumerate(header, 1):
        if name not in columns:
            found.append(ReferenceProblem(table.file, 1, f"{position} of the header",
                                          f"is not a column of this file ({listed})"))
        elif name in seen:
            found.append(ReferenceProblem(table.file, 1, name, "appears twice"))
        seen.add(name)
    for name, column in columns.items():
        if name not in seen and not column.has_default:
            found.append(ReferenceProblem(table.file, 1, name, "is a required column"))
    problems.extend(found)
    return not found


def _cell(table: Table, name: str, column: _Column, cell: str) -> tuple[object, str | None]:
    """The value to validate for one cell, or a problem (never quoting the cell)."""
    if cell == "":
        if column.has_default:
            return _OMIT, None
        if column.nullable:
            return None, None
        if column.kind is tuple:
            return (), None
        if column.kind is str and (table.model, name) in _EMPTY_TEXT_ALLOWED:
            return "", None
        return None, "is required and empty"
    if column.kind is bool:
        if cell not in ("true", "false"):
            return None, "must be true or false"
        return cell == "true", None
    if column.kind is date and not _ISO_DATE.fullmatch(cell):
        return None, "must be an ISO date (YYYY-MM-DD)"
    if column.kind is tuple:
        return tuple(cell.split()), None
    return cell, None


def _row(table: Table, line: int, cells: Iterable[tuple[tuple[str, _Column], str]],
         problems: list[ReferenceProblem]) -> Row | None:
    values: dict[str, object] = {}
    found: list[ReferenceProblem] = []
    for (name, column), cell in cells:
        if cell and column.kind is str:  # most cells: text kept as it is
            values[name] = cell
            continue
        value, message = _cell(table, name, column, cell)
        if message is not None:
            found.append(ReferenceProblem(table.file, line, name, message))
        elif value is not _OMIT:
            values[name] = value
    if found:
        problems.extend(found)
        return None
    try:
        row = table.model.model_validate(values)
    except ValidationError as error:
        for detail in error.errors(include_url=False, include_input=False,
                                   include_context=False):
            where = str(detail["loc"][0]) if detail["loc"] else None
            problems.append(ReferenceProblem(table.file, line, where, detail["msg"]))
        return None
    bad = [ReferenceProblem(table.file, line, field, message)
           for field, check, message in _checks(table.model) if not check(row)]
    # any number, one no amount or percentage reaches: a fee of 1e999999 made every
    # claim priced with it an engine fault
    bad += [ReferenceProblem(table.file, line, field, _TOO_LARGE) for field, value in row
            if isinstance(value, Decimal) and not amount_fits(abs(value))]
    problems.extend(bad)
    return None if bad else row


# -- checks on one row -----------------------------------------------------------------
_Check = tuple[str, Callable[[Any], bool], str]
_LICENSES = frozenset(level.value for level in LicenseLevel)
_STATE = re.compile(r"[A-Z]{2}")
_NON_NEGATIVE = "must not be negative"
_TOO_LARGE = f"must be a number of at most {MAX_AMOUNT:,} either side of zero"
_CAS = re.compile(r"(CO|PR|OA|PI|CR)-[A-Z0-9]{1,5}:-?\d+(\.\d{1,2})?")


def _state_or_star(value: str) -> bool:
    return value == "*" or bool(_STATE.fullmatch(value))


_COMMON_CHECKS: tuple[_Check, ...] = (
    ("termination", lambda r: r.termination is None or r.termination >= r.effective,
     "is before effective"),
)
_ROW_CHECKS: dict[type[Row], tuple[_Check, ...]] = {
    Member: (("relationship", lambda r: r.relationship in ("self", "spouse", "child", "other"),
              "must be self, spouse, child or other"),
             ("gender", lambda r: r.gender in ("F", "M", "U"), "must be F, M or U")),
    Coverage: (("state", lambda r: bool(_STATE.fullmatch(r.state)),
                "must be a two-letter state code"),),
    Plan: (("deductible", lambda r: r.deductible >= 0, _NON_NEGATIVE),
           ("coinsurance_percent", lambda r: 0 <= r.coinsurance_percent <= 100,
            "must be between 0 and 100"),
           ("out_of_pocket_max", lambda r: r.out_of_pocket_max >= 0, _NON_NEGATIVE)),
    Copay: (("copay", lambda r: r.copay >= 0, _NON_NEGATIVE),),
    Provider: (("npi", lambda r: is_valid_npi(r.npi), "is not a valid NPI"),
               ("entity_type", lambda r: r.entity_type in ("1", "2"), "must be 1 or 2"),
               ("license_level", lambda r: (r.license_level is None) == (r.entity_type == "2"),
                "must be set for a person (entity type 1) and empty for an organisation"),
               ("state", lambda r: bool(_STATE.fullmatch(r.state)),
                "must be a two-letter state code"),
               ("network_status", lambda r: r.network_status in ("in", "out"),
                "must be in or out"),
               ("supervisor_npi", lambda r: r.supervisor_npi != r.npi,
                "names the provider itself")),
    PayeeAccount: (("npi", lambda r: is_valid_npi(r.npi), "is not a valid NPI"),
                   ("tin", lambda r: bool(_TIN.fullmatch(r.tin)), "must be nine digits"),
                   ("routing", lambda r: is_valid_routing_number(r.routing),
                    "is not a valid ABA routing number (nine digits, check digit 3-7-1)"),
                   ("account", lambda r: bool(_ACCOUNT.fullmatch(r.account)),
                    "must be 4 to 17 digits"),
                   ("account_type", lambda r: r.account_type in ("DA", "SG"),
                    "must be DA (checking) or SG (savings)")),
    Fee: (("license_level", lambda r: r.license_level in _LICENSES | {""},
           "must be empty or a license level"),
          ("allowed_per_unit", lambda r: r.allowed_per_unit >= 0, _NON_NEGATIVE)),
    LicenseFactor: (("license_level", lambda r: r.license_level in _LICENSES | {"supervised"},
                     "must be a license level or supervised"),
                    ("percent", lambda r: r.percent >= 0, _NON_NEGATIVE)),
    Authorization: (("end", lambda r: r.end >= r.start, "is before start"),
                    ("procedure_codes", lambda r: bool(r.procedure_codes), "is empty"),
                    ("units", lambda r: r.units > 0, "must be positive")),
    FilingLimit: (("state", lambda r: _state_or_star(r.state), "must be a state code or *"),
                  ("kind", lambda r: r.kind in FILING_LIMIT_KINDS,
                   "must be " + ", ".join(FILING_LIMIT_KINDS[:-1]) + " or "
                   + FILING_LIMIT_KINDS[-1]),
                  ("days", lambda r: r.days > 0, "must be positive")),
    SupervisionPolicy: (("state", lambda r: _state_or_star(r.state),
                         "must be a state code or *"),),
    PastClaim: (("status", lambda r: r.status in ("paid", "denied", "reversed", "voided"),
                 "must be paid, denied, reversed or voided"),
                ("line_number", lambda r: r.line_number >= 1, "must be 1 or more"),
                ("adjustments", lambda r: all(_CAS.fullmatch(a) for a in r.adjustments.split()),
                 "must be GROUP-CARC:amount items separated by spaces")),
    TelehealthPolicy: (
        ("place_of_service", lambda r: r.place_of_service in ("02", "10"), "must be 02 or 10"),
        ("modifier", lambda r: r.modifier in ("", "95", "GT", "93", "FQ"),
         "must be empty or 95, GT, 93, FQ"),
        ("rate", lambda r: r.rate in ("office", "facility"), "must be office or facility"),
        ("rate_percent", lambda r: 0 < r.rate_percent <= 100, "must be 1 to 100"),
        ("source", lambda r: bool(r.source.strip()), "is empty: say where it is from")),
    OutOfNetworkBenefit: (
        ("allowed_percent", lambda r: 0 < r.allowed_percent <= 100, "must be 1 to 100"),
        ("coinsurance_percent", lambda r: 0 <= r.coinsurance_percent <= 100,
         "must be 0 to 100"),
        ("deductible", lambda r: r.deductible >= 0, _NON_NEGATIVE),
        ("out_of_pocket_max", lambda r: r.out_of_pocket_max >= 0, _NON_NEGATIVE),
        ("source", lambda r: bool(r.source.strip()), "is empty: say where it is from")),
    UnitLimit: (("max_units_per_day", lambda r: r.max_units_per_day > 0, "must be positive"),
                ("source", lambda r: bool(r.source.strip()), "is empty: say where it is from")),
    AddOnCode: (("primary_codes", lambda r: bool(r.primary_codes), "is empty"),
                ("source", lambda r: bool(r.source.strip()), "is empty: say where it is from")),
    ProcedurePair: (("column2_code", lambda r: r.column2_code != r.column1_code,
                     "is the column 1 code"),
                    ("source", lambda r: bool(r.source.strip()),
                     "is empty: say where it is from")),
    Accumulator: (("deductible_met", lambda r: r.deductible_met >= 0, _NON_NEGATIVE),
                  ("out_of_pocket_met", lambda r: r.out_of_pocket_met >= 0, _NON_NEGATIVE)),
    CobMethod: (("source", lambda r: bool(r.source.strip()), "is empty: say where it is from"),),
    OtherCoverage: (("other_payer_sequence", lambda r: r.other_payer_sequence in ("P", "S", "T"),
                     "must be P, S or T"),
                    ("other_payer_name", lambda r: bool(r.other_payer_name.strip()),
                     "is empty")),
}


@cache
def _checks(model: type[Row]) -> tuple[_Check, ...]:
    """The checks every row of ``model`` passes after validation."""
    return (*_COMMON_CHECKS, *_ROW_CHECKS.get(model, ()))


# -- checks across rows and files ------------------------------------------------------
_KEYS: dict[str, tuple[str, ...]] = {
    "members": ("member_id",),
    "coverage": ("member_id",),
    "plans": ("plan_id", "benefit_year"),
    "copays": ("plan_id", "benefit_year", "service_category"),
    "service_categories": ("procedure_code",),
    "providers": ("npi",),
    "fees": ("line_of_business", "procedure_code", "modifier", "license_level"),
    "license_factors": ("line_of_business", "license_level"),
    "authorizations": ("auth_number",),
    "filing_limits": ("line_of_business", "state", "kind"),
    "supervision": ("line_of_business", "state"),
    "past_claims": ("icn", "line_number"),
    "accumulators": ("member_id", "plan_id", "benefit_year"),
    "unit_limits": ("procedure_code",),
    "add_on_codes": ("add_on_code",),
    "procedure_pairs": ("column1_code", "column2_code"),
    "oon_benefits": ("plan_id", "benefit_year"),
    "telehealth": ("line_of_business", "place_of_service", "modifier"),
    "cob_methods": ("line_of_business",),
    "other_coverage": ("member_id", "other_payer_name"),
}
"""Columns that identify a row: two rows with the same key may not be in force at once."""


def _file(attribute: str) -> str:
    return next(t.file for t in TABLES if t.attribute == attribute)


def _overlaps(tables: Mapping[str, Located]) -> Iterator[ReferenceProblem]:
    for attribute, key in _KEYS.items():
        identity = attrgetter(*key)
        groups: dict[object, Located] = defaultdict(list)
        for line, row in tables[attribute]:
            groups[identity(row)].append((line, row))
        for rows in groups.values():
            if len(rows) < 2:
                continue
            rows.sort(key=lambda item: (item[1].effective, item[0]))
            last_line, last_end = rows[0][0], rows[0][1].termination
            for line, row in rows[1:]:
                if last_end is None or row.effective <= last_end:
                    yield ReferenceProblem(
                        _file(attribute), line, "effective",
                        f"in force at the same time as line {last_line} "
                        f"for the same {', '.join(key)}")
                if last_end is not None and (row.termination is None
                                             or row.termination > last_end):
                    last_line, last_end = line, row.termination


@dataclass(frozen=True)
class _Link:
    attribute: str
    column: str
    ok: Callable[[Any], bool]
    message: str


def _links(t: Mapping[str, Located]) -> Iterator[_Link]:
    def ids(attribute: str, column: str) -> set[Any]:
        return {getattr(row, column) for _, row in t[attribute]}

    members, npis = ids("members", "member_id"), ids("providers", "npi")
    plan_lob = {row.plan_id: row.line_of_business for _, row in t["plans"]
                if isinstance(row, Plan)}
    plan_years = {(row.plan_id, row.benefit_year) for _, row in t["plans"]
                  if isinstance(row, Plan)}
    categories, codes = (ids("service_categories", "service_category"),
                         ids("service_categories", "procedure_code"))
    selves = {row.subscriber_id for _, row in t["members"]
              if isinstance(row, Member) and row.relationship == "self"}
    no_member = "names no member of members.csv"
    yield _Link("members", "subscriber_id", lambda r: r.subscriber_id in selves,
                "is not the subscriber_id of any member with relationship self")
    yield _Link("coverage", "member_id", lambda r: r.member_id in members, no_member)
    yield _Link("coverage", "plan_id", lambda r: r.plan_id in plan_lob,
                "names no plan of plans.csv")
    yield _Link("coverage", "line_of_business",
                lambda r: plan_lob.get(r.plan_id, r.line_of_business) == r.line_of_business,
                "differs from the plan's line_of_business in plans.csv")
    yield _Link("copays", "plan_id", lambda r: (r.plan_id, r.benefit_year) in plan_years,
                "names no plan of plans.csv for this benefit_year")
    for attribute in ("copays", "prior_auth"):
        yield _Link(attribute, "service_category", lambda r: r.service_category in categories,
                    "is not a category of service_categories.csv")
    yield _Link("prior_auth", "plan_id", lambda r: r.plan_id == "*" or r.plan_id in plan_lob,
                "names no plan of plans.csv (use * for every plan)")
    yield _Link("providers", "supervisor_npi",
                lambda r: r.supervisor_npi is None or r.supervisor_npi in npis,
                "names no provider of providers.csv")
    yield _Link("fees", "procedure_code", lambda r: r.procedure_code in codes,
                "has no row in service_categories.csv")
    yield _Link("authorizations", "member_id", lambda r: r.member_id in members, no_member)
    yield _Link("authorizations", "provider_npi", lambda r: r.provider_npi in npis,
                "names no provider of providers.csv")
    yield _Link("authorizations", "procedure_codes",
                lambda r: set(r.procedure_codes) <= codes,
                "has a code without a row in service_categories.csv")
    yield _Link("past_claims", "member_id", lambda r: r.member_id in members, no_member)
    yield _Link("past_claims", "billing_npi", lambda r: r.billing_npi in npis,
                "names no provider of providers.csv")
    yield _Link("past_claims", "rendering_npi", lambda r: r.rendering_npi in npis,
                "names no provider of providers.csv")
    yield _Link("accumulators", "member_id", lambda r: r.member_id in members, no_member)
    yield _Link("accumulators", "plan_id", lambda r: (r.plan_id, r.benefit_year) in plan_years,
                "names no plan of plans.csv for this benefit_year")
    yield _Link("other_coverage", "member_id", lambda r: r.member_id in members, no_member)


MEMBER_TABLES = frozenset({"members", "coverage", "authorizations", "past_claims",
                           "accumulators", "other_coverage"})
"""Tables that grow with the membership: a store loader streams them (`iter_rows`)."""

MEMBER_LINKS = frozenset({("members", "subscriber_id"), ("coverage", "member_id"),
                          ("authorizations", "member_id"), ("past_claims", "member_id"),
                          ("accumulators", "member_id"), ("other_coverage", "member_id")})
"""Links to members.csv: a store loader checks them with queries, not sets in memory."""

KEYS = _KEYS


def check_tables(tables: Mapping[str, Located]) -> list[ReferenceProblem]:
    """Overlaps and links among the given tables (member tables may be left empty)."""
    full = {t.attribute: tables.get(t.attribute, []) for t in TABLES}
    return [*_overlaps(full), *(p for p in _broken_links(full)
                                if (_attribute(p.file), p.column) not in MEMBER_LINKS)]


def _attribute(file: str) -> str:
    return next(t.attribute for t in TABLES if t.file == file)


def row_links(tables: Mapping[str, Located]) -> Callable[[str, int, Row], list[ReferenceProblem]]:
    """A check of one streamed member-table row against the other (small) tables.

    Links to members.csv itself (`MEMBER_LINKS`) are left to the caller.
    """
    full = {t.attribute: tables.get(t.attribute, []) for t in TABLES}
    by_attribute: dict[str, list[_Link]] = defaultdict(list)
    for link in _links(full):
        if (link.attribute, link.column) not in MEMBER_LINKS:
            by_attribute[link.attribute].append(link)

    def check(attribute: str, line: int, row: Row) -> list[ReferenceProblem]:
        return [ReferenceProblem(_file(attribute), line, link.column, link.message)
                for link in by_attribute.get(attribute, ()) if not link.ok(row)]

    return check


def _broken_links(tables: Mapping[str, Located]) -> Iterator[ReferenceProblem]:
    for link in _links(tables):
        for line, row in tables[link.attribute]:
            if not link.ok(row):
                yield ReferenceProblem(_file(link.attribute), line, link.column, link.message)


# -- writing ---------------------------------------------------------------------------
def format_reference(data: ReferenceData) -> dict[str, str]:
    """Every table as CSV text (`parse_reference` reads it back to equal rows)."""
    return {t.file: format_rows(t.model, getattr(data, t.attribute)) for t in TABLES}


def format_rows(model: type[Row], rows: Iterable[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = column_order(model)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_format_value(getattr(row, name)) for name in columns])
    return out.getvalue()


def _format_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return " ".join(str(item) for item in value)
    if isinstance(value, Decimal | int | str):
        return str(value)
    raise TypeError(f"no CSV form for {type(value).__name__}")

