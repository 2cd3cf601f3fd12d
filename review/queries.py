"""Files, work queues and search: filtered, sorted and paginated in SQL.

The queues are three views of the claims table: front-end rejections (the 277CA
rejected them), denials and pends (the current decision's status). Filters are
exact or ranges on indexed columns where the store has them (status, line of
business, receipt date, charge) and JSON fields of the decision otherwise (the
payee's NPI, the CARCs); counts and charge totals come from the same filtered query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from sqlalchemy import Select, Text, cast, exists, func, select
from sqlalchemy.orm import Session

from store.models import (
    Claim,
    DecisionRecord,
    DuplicateReceipt,
    Interchange,
    ReceivedFile,
    TradingPartner,
)

QueueKind = Literal["rejections", "denials", "pends"]
QUEUES: dict[str, str] = {"rejections": "Front-end rejections", "denials": "Denials",
                          "pends": "Pends"}
SORTS = ("received", "charge", "claim")


class FilterError(ValueError):
    """A filter value a person can fix (a date or an amount that does not read)."""


@dataclass(frozen=True)
class QueueFilter:
    """What a queue page asks for; every field optional."""

    partner: str = ""
    """The sender's ISA06."""
    payee: str = ""
    """The billing provider's NPI (denials and pends)."""
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
            if not parsed.is_finite() or parsed < 0:
                raise FilterError(f"{name.replace('_', ' ')}: an amount from 0 up")
            return parsed

        sort = params.get("sort", "received")
        try:
            page = max(1, int(params.get("page", "1") or "1"))
        except ValueError:
            page = 1
        return cls(partner=params.get("partner", "").strip(),
                   payee=params.get("payee", "").strip(),
                   line_of_business=params.get("lob", "").strip(),
                   code=params.get("code", "").strip(),
                   received_from=day("received_from"), received_to=day("received_to"),
                   min_charge=amount("min_charge"), max_charge=amount("max_charge"),
                   sort=sort if sort in SORTS else "received",
                   descending=params.get("dir") == "desc", page=min(page, 1_000_000))

    def query_string(self, **changes: Any) -> str:
        """This filter as URL parameters, with ``changes`` (another page, sort)."""
        from urllib.parse import urlencode

        values = {"partner": self.partner, "payee": self.payee,
                  "lob": self.line_of_business, "code": self.code,
                  "received_from": self.received_from or "",
                  "received_to": self.received_to or "",
                  "min_charge": self.min_charge if self.min_charge is not None else "",
                  "max_charge": self.max_charge if self.max_charge is not None else "",
                  "sort": self.sort, "dir": "desc" if self.descending else "asc",
                  "page": self.page}
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


def _billing_npi() -> Any:
    return DecisionRecord.data["billing_npi"].as_string()


def _filtered(kind: QueueKind, f: QueueFilter, columns: list[Any]) -> Select[Any]:
    query = select(*columns).select_from(Claim)
    if kind == "rejections":
        query = query.where(Claim.front_end == "rejected")
    else:
        query = query.join(DecisionRecord, DecisionRecord.claim_id == Claim.id).where(
            DecisionRecord.current.is_(True),
            DecisionRecord.status == ("denied" if kind == "denials" else "pended"))
        if f.payee:
            query = query.where(_billing_npi() == f.payee)
        if f.line_of_business:
            query = query.where(DecisionRecord.line_of_business == f.line_of_business)
    if f.partner:
        query = query.where(exists().where(Interchange.file_id == Claim.file_id,
                                           Interchange.sender_id == f.partner))
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
    """Codes live in JSON lists kept compactly (orjson): matched as their text."""
    text = code.replace("%", "").replace("_", "").replace('"', "")
    if kind == "rejections":  # "A7:562:85"; "A7:562" or "A7" match it too
        return cast(Claim.codes, Text).like(f'%"{text}%')
    if kind == "denials":  # a CARC, with or without its group ("CO-29")
        carc = text.split("-", 1)[1] if "-" in text else text
        return cast(DecisionRecord.data, Text).like(f'%"carc":"{carc}"%')
    return cast(DecisionRecord.rules, Text).like(f'%"{text}"%')


def queue(s: Session, kind: QueueKind, f: QueueFilter, page_size: int) -> QueuePage:
    count, total = s.execute(_filtered(kind, f, [func.count(), func.coalesce(
        func.sum(Claim.charge_cents), 0)])).one()
    order = {"received": Claim.id, "charge": Claim.charge_cents, "claim": Claim.icn}[f.sort]
    columns: list[Any] = [Claim.id, Claim.icn, Claim.patient_control_number,
                          Claim.receipt_date, Claim.charge_cents, ReceivedFile.name,
                          Claim.codes, Claim.reasons]
    if kind != "rejections":
        columns += [DecisionRecord.line_of_business, DecisionRecord.data,
                    DecisionRecord.rules]
    pages = max(1, -(-count // page_size))
    page = min(f.page, pages)
    query = (_filtered(kind, f, columns).join(ReceivedFile, ReceivedFile.id == Claim.file_id)
             .order_by(order.desc() if f.descending else order.asc(), Claim.id.asc())
             .limit(page_size).offset((page - 1) * page_size))
    rows = []
    for row in s.execute(query):
        base = dict(claim_id=row[0], icn=row[1], patient_control_number=row[2],
                    received=row[3], charge_cents=row[4], file_name=_base(row[5]))
        if kind == "rejections":
            rows.append(QueueRow(**base, codes=list(row[6]), reasons=list(row[7])))
            continue
        data = row[9]
        rows.append(QueueRow(
            **base, line_of_business=row[8], payee_npi=data.get("billing_npi"),
            paid=data.get("paid"), codes=_adjustment_codes(data),
            reasons=[f"line {line['line_number']}: {line['pend_reason']}"
                     for line in data.get("lines", []) if line.get("pend_reason")],
            rules=list(row[10])))
    return QueuePage(rows, count, int(total), page, pages)


def _adjustment_codes(data: dict[str, Any]) -> list[str]:
    found = [f"{a['group']}-{a['carc']}" for a in data.get("claim_adjustments", [])]
    for line in data.get("lines", []):
        found += [f"{a['group']}-{a['carc']}" for a in line.get("adjustments", [])]
        found += list(line.get("rarcs", []))
    found += list(data.get("rarcs", []))
    return list(dict.fromkeys(found))


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


def lines_of_business(s: Session) -> list[str]:
    return [lob for lob in s.scalars(select(DecisionRecord.line_of_business).distinct()
                                     .order_by(DecisionRecord.line_of_business)) if lob]


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
    pages = max(1, -(-count // page_size))
    page = min(max(page, 1), pages)
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


SearchKind = Literal["icn", "pcn", "npi", "member"]
SEARCHES: dict[str, str] = {"icn": "Payer claim number", "pcn": "Patient control number",
                            "npi": "Provider NPI (billing)", "member": "Member id"}
PHI_SEARCHES = ("pcn", "member")
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
                        & DecisionRecord.current.is_(True)))
    if kind == "icn":
        query = query.where(Claim.icn == value)
    elif kind == "pcn":
        query = query.where(Claim.patient_control_number == value)
    elif kind == "member":
        query = query.where((Claim.subscriber_id == value)
                            | (DecisionRecord.member_id == value))
    else:
        query = query.where(_billing_npi() == value)
    rows = s.execute(query.order_by(Claim.id.desc()).limit(SEARCH_LIMIT))
    return [Found(*row) for row in rows]
