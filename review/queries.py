"""Files, work queues and search: filtered, sorted and paginated in SQL.

The queues are three views of the claims table: front-end rejections (the 277CA
rejected them), denials and pends (the current decision's status). Filters are
exact matches or ranges on columns (status, billing NPI, line of business: the
decision's, or a rejected claim's as named when it was answered; receipt date,
charge), the codes as text (a rejection's 277CA codes, a decision's ``codes`` and
``rule_ids`` columns); counts and charge totals come from the same filtered query.
Store revisions 0006 and 0008 added the columns and indexes these read (``make
bench`` times and checks every page at 100,000 claims).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from sqlalchemy import Select, Text, cast, func, select, true
from sqlalchemy.orm import Session

from adjudication.reference import LineOfBusiness
from edi.amounts import MAX_AMOUNT, amount_fits
from store.models import (
    Claim,
    ClaimRenderingNpi,
    DecisionRecord,
    DuplicateReceipt,
    Interchange,
    ReceivedFile,
    TradingPartner,
)
from workers.decisions import codes_of
from workers.line_of_business import UNKNOWN

QueueKind = Literal["rejections", "denials", "pends"]
QUEUES: dict[str, str] = {"rejections": "Front-end rejections", "denials": "Denials",
                          "pends": "Pends"}
SORTS = ("received", "charge", "claim")
STATUSES = {"denials": "denied", "pends": "pended"}


class FilterError(ValueError):
    """A filter value a person can fix (a date or an amount that does not read)."""


MAX_FILTER_TEXT = 80
"""The longest text a queue filter takes (a partner, payee, line of business or code)."""


@dataclass(frozen=True)
class QueueFilter:
    """What a queue page asks for; every field optional."""

    partner: str = ""
    """The sender's ISA06."""
    payee: str = ""
    """The billing provider's NPI."""
    line_of_business: str = ""
    code: str = ""
    """A 277CA code (``A7:562``), a CARC (``29``) or a deciding rule (``PRICING``)."""
    received_from: date | None = None
    received_to: date | None = None
    min_charge: Decimal | None = None
    max_charge: Decimal | None = None
    sort: str = "received"
    descending: bool = False
    page: int = 1

    @classmethod
    def parse(cls, params: dict[str, str]) -> QueueFilter:
        def day(name: str) -> date | None:
            value = params.get(name, "").strip()
            if not value:
                return None
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise FilterError(f"{name.replace('_', ' ')}: use YYYY-MM-DD") from None

        def amount(name: str) -> Decimal | None:
            value = params.get(name, "").strip().replace(",", "").lstrip("$")
            if not value:
                return None
            try:
                parsed = Decimal(value)
            except InvalidOperation:
                raise FilterError(f"{name.replace('_', ' ')}: an amount such as 120.00") \
                    from None
            if not amount_fits(parsed):
                raise FilterError(f"{name.replace('_', ' ')}: an amount from 0 to "
                                  f"{MAX_AMOUNT:,}")
            return parsed

        def text(name: str, key: str | None = None) -> str:
            value = params.get(key or name, "").strip()
            if len(value) > MAX_FILTER_TEXT:  # a LIKE pattern of 50,000 was a 500
                raise FilterError(f"{name.replace('_', ' ')}: at most {MAX_FILTER_TEXT} "
                                  "characters")
            return value

        sort = params.get("sort", "received")
        try:
            page = max(1, int(params.get("page", "1") or "1"))
        except ValueError:
            page = 1
        return cls(partner=text("partner"), payee=text("payee"),
                   line_of_business=text("line_of_business", "lob"), code=text("code"),
                   received_from=day("received_from"), received_to=day("received_to"),
                   min_charge=amount("min_charge"), max_charge=amount("max_charge"),
                   sort=sort if sort in SORTS else "received",
                   descending=params.get("dir") == "desc", page=min(page, 1_000_000))

    def selection(self) -> dict[str, object]:
        """What this filter selects, as the parameters `parse` reads (no sort or page):
        the fields a form carries to act on the same claims."""
        return {"partner": self.partner, "payee": self.payee,
                "lob": self.line_of_business, "code": self.code,
                "received_from": self.received_from or "",
                "received_to": self.received_to or "",
                "min_charge": self.min_charge if self.min_charge is not None else "",
                "max_charge": self.max_charge if self.max_charge is not None else ""}

    def query_string(self, **changes: Any) -> str:
        """This filter as URL parameters, with ``changes`` (another page, sort)."""
        from urllib.parse import urlencode

        values = {**self.selection(), "sort": self.sort,
                  "dir": "desc" if self.descending else "asc", "page": self.page}
        values.update(changes)
        return urlencode({k: str(v) for k, v in values.items() if v not in ("", None)})


@dataclass(frozen=True)
class QueueRow:
    claim_id: int
    icn: str | None
    patient_control_number: str
    received: date
    charge_cents: int
    file_name: str
    line_of_business: str | None = None
    payee_npi: str | None = None
    paid: str | None = None
    codes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    count: int
    total_charge_cents: int
    page: int
    pages: int


def _filtered(kind: QueueKind, f: QueueFilter, columns: list[Any]) -> Select[Any]:
    query = select(*columns).select_from(Claim)
    if kind == "rejections":  # the line of business named when it was answered
        query = query.where(Claim.front_end == "rejected")
        if f.line_of_business:
            query = query.where(Claim.line_of_business == f.line_of_business)
    else:  # the current decision's status, kept on the claim (its queue index)
        query = query.where(Claim.decision_status == STATUSES[kind])
        if f.line_of_business or f.code:
            query = query.join(DecisionRecord, (DecisionRecord.claim_id == Claim.id)
                               & (DecisionRecord.current == true()))
        if f.line_of_business == UNKNOWN:  # no member or no coverage: the decision names none
            query = query.where(DecisionRecord.line_of_business.is_(None))
        elif f.line_of_business:
            query = query.where(DecisionRecord.line_of_business == f.line_of_business)
    if f.payee:
        query = query.where(Claim.billing_npi == f.payee)
    if f.partner:  # the sender's few files, then the claims' index (not a probe per claim)
        query = query.where(Claim.file_id.in_(select(Interchange.file_id).where(
            Interchange.sender_id == f.partner)))
    if f.code:
        query = query.where(_code_matches(kind, f.code))
    if f.received_from is not None:
        query = query.where(Claim.receipt_date >= f.received_from)
    if f.received_to is not None:
        query = query.where(Claim.receipt_date <= f.received_to)
    if f.min_charge is not None:
        query = query.where(Claim.charge_cents >= int(f.min_charge * 100))
    if f.max_charge is not None:
        query = query.where(Claim.charge_cents <= int(f.max_charge * 100))
    return query


def _code_matches(kind: QueueKind, code: str) -> Any:
    """A rejection's 277CA codes are a short JSON list kept compactly (orjson), matched
    as its text; a decision's codes and rules are its ``codes`` and ``rule_ids``."""
    text = "".join(c for c in code if c not in '%_"|\\')
    if kind == "rejections":  # "A7:562:85"; "A7:562" or "A7" match it too
        return cast(Claim.codes, Text).like(f'%"{text}%')
    if kind == "denials":  # "CO-29" exactly; "29" under any group; a RARC ("N130")
        if "-" in text:
            return DecisionRecord.codes.like(f"%|{text}|%")
        return DecisionRecord.codes.like(f"%-{text}|%") | DecisionRecord.codes.like(
            f"%|{text}|%")
    return DecisionRecord.rule_ids.like(f"%|{text}|%")


def pended_icns(s: Session, f: QueueFilter, limit: int | None = None) -> list[str]:
    """The claim numbers of the pends queue under ``f`` (``code``: a rule that pended
    them), oldest first (by receipt, what the prompt-pay clock counts from, then the
    row: before 2026-12-01 by the row alone), at most ``limit``."""
    query = (_filtered("pends", f, [Claim.icn])
             .order_by(Claim.receipt_date.asc(), Claim.id.asc()).limit(limit))
    return [icn for icn in s.scalars(query) if icn is not None]


def paging(count: int, page: int, page_size: int) -> tuple[int, int]:
    """(the page shown, how many pages) for ``count`` rows asked at ``page``: a page
    past either end shows the nearest one, and no rows still make one page."""
    pages = max(1, -(-count // page_size))
    return min(max(page, 1), pages), pages


def queue(s: Session, kind: QueueKind, f: QueueFilter, page_size: int) -> QueuePage:
    count, total = s.execute(_filtered(kind, f, [func.count(), func.coalesce(
        func.sum(Claim.charge_cents), 0)])).one()
    page, pages = paging(count, f.page, page_size)
    # a rejected claim has no number: its queue shows and sorts it by its row. Receipt
    # is the receipt date, then the row in the same direction (the order they came in
    # that day), not the row alone: a file received late with an earlier --received
    # date has later rows but earlier dates
    orders: dict[str, list[Any]] = {
        "received": [Claim.receipt_date, Claim.id], "charge": [Claim.charge_cents],
        "claim": [Claim.id if kind == "rejections" else Claim.icn]}
    order = orders[f.sort]
    # the page's claim ids first, sorted on narrow columns; then only their rows are
    # read whole (a sort that carried every row's decision would read them all)
    ids = list(s.scalars(_filtered(kind, f, [Claim.id])
                         .order_by(*(c.desc() if f.descending else c.asc() for c in order),
                                   Claim.id.asc())
                         .limit(page_size).offset((page - 1) * page_size)))
    return QueuePage(_rows(s, kind, ids), count, int(total), page, pages)


def _rows(s: Session, kind: QueueKind, ids: list[int]) -> list[QueueRow]:
    """The queue rows of these claims, in this order."""
    columns: list[Any] = [Claim.id, Claim.icn, Claim.patient_control_number,
                          Claim.receipt_date, Claim.charge_cents, ReceivedFile.name,
                          Claim.billing_npi, Claim.codes, Claim.reasons,
                          Claim.line_of_business]
    query = select(*columns).join(ReceivedFile, ReceivedFile.id == Claim.file_id)
    if kind != "rejections":
        query = query.add_columns(
            DecisionRecord.line_of_business, DecisionRecord.codes, DecisionRecord.rules,
            DecisionRecord.data).join(DecisionRecord, (DecisionRecord.claim_id == Claim.id)
                                      & (DecisionRecord.current == true()))
    found: dict[int, QueueRow] = {}
    for row in s.execute(query.where(Claim.id.in_(ids))):
        base = dict(claim_id=row[0], icn=row[1], patient_control_number=row[2],
                    received=row[3], charge_cents=row[4], file_name=_base(row[5]),
                    payee_npi=row[6])
        if kind == "rejections":
            found[row[0]] = QueueRow(**base, codes=list(row[7]), reasons=list(row[8]),
                                     line_of_business=row[9] or UNKNOWN)
            continue
        data = row[13]
        found[row[0]] = QueueRow(
            **base, line_of_business=row[10] or UNKNOWN, paid=data.get("paid"),
            codes=codes_of(row[11]),
            reasons=[f"line {line['line_number']}: {line['pend_reason']}"
                     for line in data.get("lines", []) if line.get("pend_reason")],
            rules=list(row[12]))
    return [found[claim_id] for claim_id in ids if claim_id in found]


def _base(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def partners(s: Session) -> list[tuple[str, str]]:
    """(ISA06, label) of every sender a file came from: the partner's name when known."""
    named = {sender: name for sender, name in s.execute(
        select(TradingPartner.sender_id, TradingPartner.name))}
    senders = s.scalars(select(Interchange.sender_id).distinct().order_by(
        Interchange.sender_id))
    return [(sender, f"{named[sender]} ({sender})" if sender in named else sender)
            for sender in senders]


def lines_of_business() -> list[str]:
    """The engine's lines of business (its rule packs), not a scan of every decision,
    and `UNKNOWN`: no member or no coverage matched (a decision names none; a
    rejected claim's could not be named)."""
    return [*(lob.value for lob in LineOfBusiness), UNKNOWN]


@dataclass(frozen=True)
class FileRow:
    id: int
    name: str
    received_at: Any
    size: int
    status: str
    outcome: str | None
    ack_kind: str | None
    ack_code: str | None
    problems: list[str]
    senders: list[str]
    counts: dict[str, int]
    duplicates: int
    has_277ca: bool


def files(s: Session, page: int, page_size: int) -> tuple[list[FileRow], int, int]:
    """One page of received files, newest first, with claim counts and duplicate flags."""
    count = s.scalar(select(func.count()).select_from(ReceivedFile)) or 0
    page, pages = paging(count, page, page_size)
    found = list(s.scalars(select(ReceivedFile).order_by(ReceivedFile.id.desc())
                           .limit(page_size).offset((page - 1) * page_size)))
    ids = [f.id for f in found]
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    for file_id, front_end, n in s.execute(
            select(Claim.file_id, Claim.front_end, func.count())
            .where(Claim.file_id.in_(ids)).group_by(Claim.file_id, Claim.front_end)):
        counts[file_id][front_end] = n
    duplicates = {file_id: n for file_id, n in s.execute(
        select(DuplicateReceipt.file_id, func.count())
        .where(DuplicateReceipt.file_id.in_(ids)).group_by(DuplicateReceipt.file_id))}
    senders: dict[int, list[str]] = {i: [] for i in ids}
    for file_id, sender in s.execute(select(Interchange.file_id, Interchange.sender_id)
                                     .where(Interchange.file_id.in_(ids)).distinct()):
        senders[file_id].append(sender)
    rows = [FileRow(f.id, _base(f.name), f.received_at, f.size, f.status, f.outcome,
                    f.ack_kind, f.ack_code, list(f.problems), sorted(senders[f.id]),
                    counts[f.id], duplicates.get(f.id, 0), f.claim_ack_sha256 is not None)
            for f in found]
    return rows, page, pages


SearchKind = Literal["icn", "pcn", "npi", "rendering", "member"]
SEARCHES: dict[str, str] = {"icn": "Payer claim number", "pcn": "Patient control number",
                            "npi": "Provider NPI (billing)",
                            "rendering": "Provider NPI (rendering)", "member": "Member id"}
SEARCH_LIMIT = 200


@dataclass(frozen=True)
class Found:
    claim_id: int
    icn: str | None
    patient_control_number: str
    received: date
    charge_cents: int
    front_end: str
    status: str | None


def search(s: Session, kind: SearchKind, value: str) -> list[Found]:
    """Claims matching ``value`` exactly, newest first (at most `SEARCH_LIMIT`)."""
    query = (select(Claim.id, Claim.icn, Claim.patient_control_number, Claim.receipt_date,
                    Claim.charge_cents, Claim.front_end, DecisionRecord.status)
             .outerjoin(DecisionRecord, (DecisionRecord.claim_id == Claim.id)
                        & (DecisionRecord.current == true())))
    if kind == "icn":
        query = query.where(Claim.icn == value)
    elif kind == "pcn":
        query = query.where(Claim.patient_control_number == value)
    elif kind == "member":
        query = query.where((Claim.subscriber_id == value)
                            | (DecisionRecord.member_id == value))
    elif kind == "rendering":
        query = query.where(Claim.id.in_(select(ClaimRenderingNpi.claim_id).where(
            ClaimRenderingNpi.npi == value)))
    else:
        query = query.where(Claim.billing_npi == value)
    rows = s.execute(query.order_by(Claim.id.desc()).limit(SEARCH_LIMIT))
    return [Found(*row) for row in rows]
