"""Pend work: release a pended claim with allowed amounts, or deny it with a reason code.

Both go through `workers.review_cli` (the same functions as ``claims pends release``):
a preview decides the claim again without writing anything and shows the decision
before and after; the confirmation does it for real, in one transaction with the
new decision version, the release row, its event and the audit row. An analyst's
release must not pay more than their limit; a supervisor's has none.

The pends queue also decides its claims again as they stand, after what they waited
for has been loaded (`redecide`: ``claims pends redecide`` on the screens).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from adjudication.decision import Decision
from review import auth, queries
from review.auth import Principal
from review.codes import adjustment_words, rarc_words
from review.queries import FilterError, QueueFilter
from review.roles import Permission
from review.web import (
    BadRequest,
    Refused,
    RowId,
    client_of,
    code_sets_of,
    csrf_checked,
    now,
    render,
    store_of,
)
from store.engine import Store
from store.models import Claim
from workers.reference_store import ReferenceSource
from workers.review_cli import (
    Redecided,
    ReviewError,
    check_reviewer,
    deny,
    parse_overrides,
    preview_denial,
    preview_release,
    redecide_pends,
    release,
    still_pended,
)

router = APIRouter()


def worker(request: Request, principal: Annotated[Principal, Depends(csrf_checked)]
           ) -> Principal:
    """A pend worker (analyst or supervisor) posting a form with its CSRF token."""
    if not principal.can(Permission.WORK_PENDS):
        auth.record(store_of(request), principal, "access.denied", request.url.path,
                    client_of(request), needs=Permission.WORK_PENDS.value)
        raise Refused(principal, Permission.WORK_PENDS, "Working pends")
    return principal


Worker = Annotated[Principal, Depends(worker)]


def reference_source(store: Store) -> ReferenceSource:
    """The store's current reference version, else the shipped CSV directory."""
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY, read_reference_dir
    from workers.reference_store import InMemoryReference, StoredReference

    try:
        return StoredReference(store)
    except LookupError:
        return InMemoryReference(*read_reference_dir(SHIPPED_REFERENCE_DIRECTORY))


def _icn(store: Store, claim_id: int) -> str:
    with store.transaction() as s:
        icn = s.scalar(select(Claim.icn).where(Claim.id == claim_id))
    if icn is None:
        raise BadRequest("No such claim.")
    return icn


async def _allowed_amounts(request: Request) -> dict[int, Decimal]:
    form = await request.form()
    values = [f"{key.removeprefix('allowed_')}={value}" for key, value in form.items()
              if key.startswith("allowed_") and isinstance(value, str) and value.strip()]
    try:
        return parse_overrides(values)
    except ReviewError as exc:
        raise BadRequest(str(exc)) from None


def _limit_refusal(principal: Principal, decision: Decision) -> str:
    limit = principal.release_limit
    if limit is None or principal.can(Permission.ANY_PEND) or decision.paid <= limit:
        return ""
    return (f"This release would pay {decision.paid:,.2f}, above your release limit of "
            f"{limit:,.2f}: a supervisor can release it.")


def _within_limit(principal: Principal) -> Callable[[Decision], None]:
    """What a release by ``principal`` passes its new decision to: it raises
    `LimitExceeded` when the decision would pay more than they may release."""
    def approve(decision: Decision) -> None:
        refusal = _limit_refusal(principal, decision)
        if refusal:
            raise LimitExceeded(refusal)
    return approve


def _confirm(request: Request, claim_id: int, icn: str, action: str,
             before: Decision, after: Decision, refusal: str, **fields: str) -> Response:
    return render(request, "pend_confirm.html", claim_id=claim_id, icn=icn, action=action,
                  before=before, after=after, refusal=refusal, fields=fields,
                  adjustment_words=adjustment_words, rarc_words=rarc_words)


@router.post("/claims/{claim_id}/release/preview")
async def release_preview(request: Request, principal: Worker, claim_id: RowId,
                          note: Annotated[str, Form()] = "") -> Response:
    overrides = await _allowed_amounts(request)
    store = store_of(request)
    icn = _icn(store, claim_id)
    try:
        # what the confirmation will refuse is refused here, before a Confirm button
        # is offered for it (a 2,500-character note was, and its confirm failed)
        check_reviewer(principal.name, note)
        before, after = preview_release(store, icn, overrides, reference_source(store),
                                        code_sets_of(request))
    except ReviewError as exc:
        raise BadRequest(str(exc)) from None
    fields = {f"allowed_{k}": str(v) for k, v in overrides.items()}
    refusal = still_pended(after) if after.status == "pended" else _limit_refusal(principal,
                                                                                  after)
    return _confirm(request, claim_id, icn, "release", before, after, refusal, note=note,
                    **fields)


@router.post("/claims/{claim_id}/release")
async def release_confirmed(request: Request, principal: Worker, claim_id: RowId,
                            note: Annotated[str, Form()] = "") -> Response:
    overrides = await _allowed_amounts(request)
    store = store_of(request)
    icn = _icn(store, claim_id)

    def audited(s: Session, decision: Decision) -> None:
        auth.audit(s, principal.name, "pend.release", icn, client_of(request), moment,
                   status=decision.status, paid=f"{decision.paid:.2f}",
                   allowed={str(k): str(v) for k, v in overrides.items()})

    moment = now()
    try:
        release(store, icn, overrides, principal.name, note, reference_source(store), moment,
                code_sets=code_sets_of(request), approve=_within_limit(principal),
                audit=audited)
    except LimitExceeded as exc:
        auth.record(store, principal, "access.denied", icn, client_of(request),
                    needs="release limit")
        raise Refused(principal, Permission.ANY_PEND, str(exc)) from None
    except ReviewError as exc:
        raise BadRequest(str(exc)) from None
    return RedirectResponse(f"/claims/{claim_id}#decision", status_code=303)


@router.post("/claims/{claim_id}/deny/preview")
def deny_preview(request: Request, principal: Worker, claim_id: RowId,
                 carc: Annotated[str, Form()] = "", rarc: Annotated[str, Form()] = "",
                 note: Annotated[str, Form()] = "") -> Response:
    store = store_of(request)
    icn = _icn(store, claim_id)
    carc, rarc = carc.strip(), rarc.strip()
    try:
        check_reviewer(principal.name, note)  # as the confirmation will (`deny`)
        before, after = preview_denial(store, icn, carc, rarc)
    except ReviewError as exc:
        raise BadRequest(str(exc)) from None
    return _confirm(request, claim_id, icn, "deny", before, after, "", carc=carc,
                    rarc=rarc, note=note)


@router.post("/claims/{claim_id}/deny")
def deny_confirmed(request: Request, principal: Worker, claim_id: RowId,
                   carc: Annotated[str, Form()] = "", rarc: Annotated[str, Form()] = "",
                   note: Annotated[str, Form()] = "") -> Response:
    store = store_of(request)
    icn = _icn(store, claim_id)
    moment = now()
    carc, rarc = carc.strip(), rarc.strip()

    def audited(s: Session, _decision: Decision) -> None:
        auth.audit(s, principal.name, "pend.deny", icn, client_of(request), moment,
                   carc=carc, **({"rarc": rarc} if rarc else {}))

    try:
        deny(store, icn, carc, principal.name, note, moment, rarc=rarc, audit=audited)
    except ReviewError as exc:
        raise BadRequest(str(exc)) from None
    return RedirectResponse(f"/claims/{claim_id}#decision", status_code=303)


REDECIDE_AT_ONCE = 500
"""The most pends one "decide again" takes (each is its own transaction)."""


@router.post("/queues/pends/redecide")
async def redecide(request: Request, principal: Worker) -> Response:
    """Decide the pends the queue's filters select again, with no amount from a person:
    each that now decides is released under the reviewer (within their release limit)
    and audited; one that would pend again is left as it is."""
    form = await request.form()
    params = {key: value for key, value in form.items()
              if isinstance(value, str) and key != "csrf_token"}
    try:
        f = QueueFilter.parse(params)
    except FilterError as exc:
        raise BadRequest(str(exc)) from None
    store = store_of(request)
    with store.transaction() as s:
        icns = queries.pended_icns(s, f, REDECIDE_AT_ONCE)
    moment = now()

    def audited(s: Session, decision: Decision) -> None:
        auth.audit(s, principal.name, "pend.redecide", decision.icn, client_of(request), moment,
                   status=decision.status, paid=f"{decision.paid:.2f}")

    def decided() -> Redecided:  # up to REDECIDE_AT_ONCE transactions, and the reference
        return redecide_pends(store, icns, principal.name, "decided again on the pends queue",
                              reference_source(store), code_sets=code_sets_of(request),
                              now=moment, approve=_within_limit(principal), audit=audited)

    done = await run_in_threadpool(decided)  # in a worker thread, not on the event loop
    return render(request, "redecided.html", done=done, f=f, asked=len(icns),
                  at_once=REDECIDE_AT_ONCE)


class LimitExceeded(ReviewError):
    """A release would pay more than the reviewer may release."""
