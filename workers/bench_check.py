"""Whether a queue page shows what the store holds: the review bench's check.

`make bench` times the queue pages at 100,000 claims; this module checks them. It reads
the claims once with plain SELECTs (no join, no filter, nothing from `review.queries`),
works out in Python what each page must show (the filters, the sort with its tie
break, the page), and compares the page's count, charge total, page number and rows
with it. The same check runs at a small size in tests/test_review_bench.py.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from fastapi.testclient import TestClient
from sqlalchemy import select, true

from review.queries import QueueFilter
from store.engine import Store
from store.models import Claim, DecisionRecord, Interchange
from workers.line_of_business import UNKNOWN

STATUSES = {"denials": "denied", "pends": "pended"}


@dataclass(frozen=True)
class Held:
    """One claim as the store holds it, with what the queues filter by."""

    id: int
    icn: str | None
    front_end: str
    status: str | None
    charge_cents: int
    received: date
    payee: str | None
    senders: frozenset[str]
    line_of_business: str | None
    codes: tuple[str, ...]
    """A rejection's 277CA codes; a decision's adjustment and remark codes."""
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Expected:
    count: int
    total_cents: int
    page: int
    pages: int
    ids: list[int]


def held(store: Store) -> list[Held]:
    """Every claim, read apart from the application's queries."""
    with store.transaction() as s:
        senders: dict[int, set[str]] = defaultdict(set)
        for file_id, sender in s.execute(select(Interchange.file_id, Interchange.sender_id)):
            senders[file_id].add(sender)
        decided = {claim_id: (lob, _bars(codes), _bars(rules)) for claim_id, lob, codes, rules
                   in s.execute(select(DecisionRecord.claim_id, DecisionRecord.line_of_business,
                                       DecisionRecord.codes, DecisionRecord.rule_ids)
                                .where(DecisionRecord.current == true()))}
        found = []
        for row in s.execute(select(Claim.id, Claim.icn, Claim.front_end, Claim.decision_status,
                                    Claim.charge_cents, Claim.receipt_date, Claim.billing_npi,
                                    Claim.file_id, Claim.line_of_business, Claim.codes)):
            lob, codes, rules = decided.get(row.id, (row.line_of_business, (), ()))
            found.append(Held(row.id, row.icn, row.front_end, row.decision_status,
                              row.charge_cents, row.receipt_date, row.billing_npi,
                              frozenset(senders[row.file_id]), lob,
                              tuple(row.codes) if row.front_end == "rejected" else codes, rules))
    return found


def _bars(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split("|") if part)


def _code_matches(kind: str, claim: Held, code: str) -> bool:
    if kind == "rejections":  # a 277CA code and any code it begins (A7:562 finds A7:562:85)
        return any(c.startswith(code) for c in claim.codes)
    if kind == "denials":  # CO-29 exactly; 29 under any group; a remark code itself
        return code in claim.codes if "-" in code else any(
            c == code or c.endswith("-" + code) for c in claim.codes)
    return code in claim.rules


def _keeps(kind: str, f: QueueFilter, claim: Held) -> bool:
    in_queue = (claim.front_end == "rejected" if kind == "rejections"
                else claim.status == STATUSES[kind])
    lob = claim.line_of_business or UNKNOWN
    return (in_queue and (not f.partner or f.partner in claim.senders)
            and (not f.payee or claim.payee == f.payee)
            and (not f.line_of_business or lob == f.line_of_business)
            and (not f.code or _code_matches(kind, claim, f.code))
            and (f.received_from is None or claim.received >= f.received_from)
            and (f.received_to is None or claim.received <= f.received_to)
            and (f.min_charge is None or claim.charge_cents >= int(f.min_charge * 100))
            and (f.max_charge is None or claim.charge_cents <= int(f.max_charge * 100)))


def expected(claims: list[Held], kind: str, params: dict[str, str],
             page_size: int) -> Expected:
    """What the page of ``kind`` asked for with ``params`` must show."""
    f = QueueFilter.parse(params)
    kept = sorted((c for c in claims if _keeps(kind, f, c)), key=lambda c: c.id)

    def key(c: Held) -> Any:
        if f.sort == "charge":
            return c.charge_cents
        if f.sort == "claim" and kind != "rejections":
            return c.icn or ""
        if f.sort == "received":  # the receipt date, then the row, both one way
            return (c.received, c.id)
        return c.id  # a rejection has no claim number: its row

    kept.sort(key=key, reverse=f.descending)  # stable: ties stay in id order
    pages = max(1, -(-len(kept) // page_size))
    page = min(f.page, pages)
    return Expected(len(kept), sum(c.charge_cents for c in kept), page, pages,
                    [c.id for c in kept[(page - 1) * page_size:page * page_size]])


def problems(html: str, want: Expected) -> list[str]:
    """How the page differs from what it must show (empty: it shows it)."""
    found: list[str] = []
    count = re.search(r'id="totals"><strong>([\d,]+)</strong>', html)
    total = re.search(r"claims?, charges (-?)\$([\d,]+\.\d\d)", html)
    pages = re.search(r"Page (\d+) of (\d+)", html)
    ids = [int(i) for i in re.findall(r'href="/claims/(\d+)" class="claim-link"', html)]
    if count is None or int(count.group(1).replace(",", "")) != want.count:
        found.append(f"count {count.group(1) if count else 'missing'}, not {want.count:,}")
    shown = (Decimal(total.group(2).replace(",", "")) * (-1 if total.group(1) else 1)
             if total else None)
    if shown is None or shown * 100 != want.total_cents:
        found.append(f"charges {shown}, not {Decimal(want.total_cents) / 100}")
    if pages is None or (int(pages.group(1)), int(pages.group(2))) != (want.page, want.pages):
        found.append(f"page {pages.group(0) if pages else 'missing'}, not "
                     f"{want.page} of {want.pages}")
    if ids != want.ids:
        found.append(f"rows {ids[:5]}... ({len(ids)}), not {want.ids[:5]}... ({len(want.ids)})")
    return found


def check_pages(client: TestClient, store: Store, paths: list[tuple[str, str]],
                page_size: int) -> tuple[int, list[str]]:
    """Ask for every queue page of ``paths`` (label, URL) and check it against the
    store: how many were checked, and what was wrong with any."""
    claims = held(store)
    checked, wrong = 0, []
    for label, path in paths:
        if not path.startswith("/queues/"):
            continue
        kind, _, query = path.removeprefix("/queues/").partition("?")
        want = expected(claims, kind, dict(parse_qsl(query)), page_size)
        answer = client.get(path)
        checked += 1
        found = problems(answer.text, want) if answer.status_code == 200 \
            else [f"answered {answer.status_code}"]
        wrong += [f"{label} ({path}): {problem}" for problem in found]
    return checked, wrong
