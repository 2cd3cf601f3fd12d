"""Payments: cycles and their 835s per payee, the advice for people, releasing a cycle.

A cycle is released by `workers.remit.run_cycle`, the same step ``claims remit``
runs: planned, every 835 written, read back, proven to balance and checked by pyx12
in one transaction with its audit row, or refused whole. Only a supervisor may
release one. The 835s go into the archive, then, as the service's ``remit`` actor
does, every 835 not yet delivered is copied to the outbound folder of the senders
whose claims it pays (`workers.delivery.deliver_remittances`, given to `create_app`
by ``claims review``); a delivery that fails leaves them for ``claims redeliver``
(``claims status`` counts them) and the cycle page says which were delivered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from review import auth
from review.auth import Principal
from review.queries import paging
from review.roles import Permission
from review.web import (
    BadRequest,
    RowId,
    Signed,
    allowed,
    attachment,
    business_today,
    client_of,
    csrf_checked,
    now,
    render,
    settings_of,
    store_of,
)
from review.work import reference_source
from store.models import (
    Claim,
    DecisionRecord,
    Event,
    PaymentCycle,
    RemittanceRecord,
)
from workers.archive import archive_path
from workers.receipt import business_day
from workers.remit import waiting_for_a_cycle

router = APIRouter()
log = structlog.get_logger("claims.review")
Delivery = Callable[[], int]
"""Delivers every released 835 not delivered yet (`workers.delivery.deliver_remittances`
over the service's folders); how many."""
PhiReader = Annotated[Principal, Depends(allowed(Permission.PHI, "Reading 835s and "
                                                                 "remittance advices"))]
Releaser = Annotated[Principal, Depends(allowed(Permission.RELEASE_CYCLES,
                                                "Releasing a payment cycle"))]
STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def _waiting(as_of: date | None) -> Select[Any]:
    """What the next cycle would pay, per payee (`workers.remit.waiting_for_a_cycle`),
    in payee order."""
    npi = Claim.billing_npi
    return (select(npi.label("npi"), func.count().label("claims"),
                   func.sum(DecisionRecord.paid_cents).label("paid"))
            .join(Claim, Claim.id == DecisionRecord.claim_id)
            .where(*waiting_for_a_cycle(as_of))
            .group_by(npi).order_by(npi))


@dataclass(frozen=True)
class Waiting:
    """One page of the payees the next cycle would pay, under the totals of them all."""

    payees: list[dict[str, Any]]
    payee_count: int
    claims: int
    paid_cents: int
    page: int
    pages: int


def waiting(s: Session, as_of: date | None, page: int, size: int) -> Waiting:
    """Page ``page`` (of ``size`` payees) of what the next cycle would pay, and what it
    would pay in all: the totals are summed by the database, the page alone is read."""
    per_payee = _waiting(as_of).order_by(None).subquery()
    count, claims, paid = s.execute(select(
        func.count(), func.coalesce(func.sum(per_payee.c.claims), 0),
        func.coalesce(func.sum(per_payee.c.paid), 0))).one()
    page, pages = paging(count, page, size)
    rows = s.execute(_waiting(as_of).limit(size).offset((page - 1) * size))
    return Waiting([{"payee_npi": p or "", "claims": n, "paid_cents": int(cents or 0)}
                    for p, n, cents in rows], count, int(claims), int(paid), page, pages)


@router.get("/payments")
def payments(request: Request, principal: Signed, page: int = 1,
             waiting_page: int = 1) -> Response:
    size = settings_of(request).page_size
    with store_of(request).transaction() as s:
        count = s.scalar(select(func.count()).select_from(PaymentCycle)) or 0
        page, pages = paging(count, page, size)
        cycles = list(s.scalars(select(PaymentCycle).order_by(PaymentCycle.id.desc())
                                .limit(size).offset((page - 1) * size)))
        totals = {cid: (n, int(total or 0)) for cid, n, total in s.execute(
            select(RemittanceRecord.cycle_id, func.count(),
                   func.sum(RemittanceRecord.amount_cents))
            .where(RemittanceRecord.cycle_id.in_([c.id for c in cycles]))
            .group_by(RemittanceRecord.cycle_id))}
        pending = waiting(s, None, waiting_page, size)
    today = business_today(request)
    return render(request, "payments.html", cycles=cycles, totals=totals, waiting=pending,
                  page=page, pages=pages, today=today.isoformat(),
                  last=(today + timedelta(days=DAYS_AHEAD)).isoformat())


DAYS_AHEAD = 7
"""How far past the payer's today a cycle released on the screens may be dated."""


def _as_of(value: str, today: date) -> date:
    """The as-of date a person gave for a cycle. It becomes every 835's payment date
    (BPR16, the ACH effective date), so on the screens it is today or within
    `DAYS_AHEAD` days after: a past date would tell payees their money was sent
    already, and any 2000-2099 date was taken. ``claims remit --as-of`` still takes
    a past date (operators replay past cycles)."""
    try:
        day = business_day(value)
    except ValueError as exc:
        raise BadRequest(f"The as-of date: {exc}.") from None
    last = today + timedelta(days=DAYS_AHEAD)
    if not today <= day <= last:
        raise BadRequest(f"The as-of date {day} cannot be used: it is the date the 835s "
                         f"say the payment is made, so it must be today ({today}) or up "
                         f"to {DAYS_AHEAD} days after, to {last}.")
    return day


def previewed(s: Session, as_of: date) -> tuple[int, str]:
    """How many decisions a cycle as of ``as_of`` would pay, and a digest of which
    (their decision ids: a pend released or a claim decided again is a new id). The
    release preview's confirm form carries the digest, so the release pays what the
    supervisor saw, or nothing."""
    digest = hashlib.sha256()
    count = 0
    for decision_id in s.scalars(select(DecisionRecord.id)
                                 .join(Claim, Claim.id == DecisionRecord.claim_id)
                                 .where(*waiting_for_a_cycle(as_of))
                                 .order_by(DecisionRecord.id)):
        digest.update(b"%d," % decision_id)
        count += 1
    return count, digest.hexdigest()


class PreviewChanged(Exception):
    """What a cycle would release is not what its preview showed (or there was no
    preview, or nothing waits): refused before anything is written."""


@router.get("/payments/release")
def release_preview(request: Request, principal: Releaser, as_of: str = "",
                    page: int = 1) -> Response:
    today = business_today(request)
    day = _as_of(as_of or today.isoformat(), today)
    with store_of(request).transaction() as s:
        pending = waiting(s, day, page, settings_of(request).page_size)
        _count, digest = previewed(s, day)
    return render(request, "cycle_confirm.html", as_of=day.isoformat(), waiting=pending,
                  digest=digest)


@router.post("/payments/release")
def release(request: Request, principal: Annotated[Principal, Depends(csrf_checked)],
            releaser: Releaser, as_of: Annotated[str, Form()] = "",
            shown: Annotated[str, Form()] = "") -> Response:
    """Release the cycle the preview showed: ``shown`` is its digest (`previewed`).
    A form sent twice, or after a pend was released or another cycle ran, no longer
    matches and is refused; so is one with nothing waiting (never an empty cycle)."""
    from remittance.era import render_era
    from workers.remit import CycleOutcome, run_cycle

    day = _as_of(as_of, business_today(request))
    archive = settings_of(request).archive_dir
    if archive is None:
        raise BadRequest("This server has no archive to keep 835s in "
                         "(start claims review with --archive DIR).")
    store = store_of(request)
    moment = now()

    def audited(s: Session, outcome: CycleOutcome) -> None:
        auth.audit(s, releaser.name, "cycle.release", str(outcome.cycle_id),
                   client_of(request), moment, outcome=outcome.outcome,
                   remittances=len(outcome.remittances), as_of=day.isoformat())

    def as_shown(s: Session) -> None:  # under the cycle lock, before anything is written
        count, digest = previewed(s, day)
        if not count or not shown or not hmac.compare_digest(digest, shown):
            raise PreviewChanged()

    try:
        cycle = run_cycle(store, archive, as_of=day, now=moment,
                          reference=reference_source(store), actor=releaser.name,
                          render_html=render_era, audit=audited, check=as_shown)
    except PreviewChanged:
        raise BadRequest("Nothing was released: what this cycle would pay is not what "
                         "its preview showed (the form was sent twice, a cycle was "
                         "released or a claim decided since, or nothing waits). A cycle "
                         "released already is listed under Payments; show the cycle "
                         "again before releasing.") from None
    deliver: Delivery | None = request.app.state.deliver
    if cycle.outcome == "released" and deliver is not None:
        try:  # as the service's remit actor does once its cycle is released
            deliver()
        except Exception as exc:  # released all the same: claims redeliver sends them
            log.error("review.delivery_failed", cycle=cycle.cycle_id,
                      error=type(exc).__name__)
    return RedirectResponse(f"/payments/cycles/{cycle.cycle_id}", status_code=303)


@router.get("/payments/cycles/{cycle_id}")
def cycle(request: Request, principal: Signed, cycle_id: RowId, page: int = 1) -> Response:
    """One cycle: its totals over every 835 it released, and one page of them (a cycle
    pays every payee with decided claims: thousands of 835s in a large network)."""
    size = settings_of(request).page_size
    with store_of(request).transaction() as s:
        row = s.get(PaymentCycle, cycle_id)
        if row is None:
            raise BadRequest("No such payment cycle.")
        of_cycle = RemittanceRecord.cycle_id == cycle_id
        count, total_cents = s.execute(select(func.count(), func.coalesce(
            func.sum(RemittanceRecord.amount_cents), 0)).where(of_cycle)).one()
        page, pages = paging(count, page, size)
        remittances = list(s.scalars(select(RemittanceRecord).where(of_cycle)
                                     .order_by(RemittanceRecord.id)
                                     .limit(size).offset((page - 1) * size)))
        delivered = set(s.scalars(select(Event.subject).where(
            Event.kind == "remittance.delivered",
            Event.subject.in_([r.trace_number for r in remittances]))))
    return render(request, "cycle.html", cycle=row, remittances=remittances, count=count,
                  total_cents=int(total_cents), delivered=delivered, page=page, pages=pages)


def _remittance(request: Request, remittance_id: int, principal: Principal,
                what: str) -> RemittanceRecord:
    with store_of(request).transaction() as s:
        row = s.get(RemittanceRecord, remittance_id)
        if row is None:
            raise BadRequest("No such remittance.")
        auth.audit(s, principal.name, what, row.trace_number, client_of(request), now(),
                   remittance=remittance_id)
        return row


def _read_archived(request: Request, sha256: str | None) -> str:
    archive = settings_of(request).archive_dir
    path = archive_path(archive, sha256) if archive is not None and sha256 else None
    if path is None or not path.is_file():
        raise BadRequest("That document is not in the archive this server reads "
                         "(start claims review with --archive DIR).")
    return path.read_text(encoding="utf-8")


@router.get("/payments/remittances/{remittance_id}/advice")
def advice(request: Request, principal: PhiReader, remittance_id: RowId) -> Response:
    """The remittance advice as written at release, under a policy that lets its own
    style sheet (by hash) and nothing else run: no script at all."""
    row = _remittance(request, remittance_id, principal, "era.view")
    page = _read_archived(request, row.html_sha256)
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.encode()).digest()).decode() + "'"
        for m in STYLE.findall(page))
    styles = hashes or "'none'"
    return Response(page, media_type="text/html", headers={
        "Content-Security-Policy": f"default-src 'none'; style-src {styles}; "
                                   "frame-ancestors 'none'; base-uri 'none'; "
                                   "form-action 'none'"})


@router.get("/payments/remittances/{remittance_id}/835")
def download_835(request: Request, principal: PhiReader, remittance_id: RowId) -> Response:
    row = _remittance(request, remittance_id, principal, "835.download")
    text = _read_archived(request, row.sha256)
    name = f"{row.payee_npi}-{row.trace_number}.835"
    return Response(text, media_type="application/edi-x12",
                    headers=attachment(name))
