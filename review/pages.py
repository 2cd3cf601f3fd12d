"""Sign-in, files, work queues, the claim page and search."""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select

from review import auth, queries
from review.aging import age
from review.auth import Principal
from review.claim_page import claim_page
from review.codes import adjustment_words, rarc_words
from review.queries import QUEUES, SEARCHES, FilterError, QueueFilter
from review.roles import Permission
from review.web import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
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
    safe_next,
    settings_of,
    store_of,
)
from review.work import REDECIDE_AT_ONCE
from store.models import Claim, ReceivedFile
from workers.archive import archive_path
from workers.kept_answers import KeptAnswer

router = APIRouter()
FAILED = "Sign-in failed: the name or the password is not right, or the account is locked."
PhiReader = Annotated[Principal, Depends(allowed(Permission.PHI, "Downloading received "
                                                                 "files and answers"))]
Searcher = Annotated[Principal, Depends(allowed(
    Permission.PHI, "Searching claims (every result shows PHI, such as the patient control "
                    "number)"))]
Posted = Annotated[Principal, Depends(csrf_checked)]


def _login_page(request: Request, token: str, next_path: str, message: str = "",
                status_code: int = 200) -> Response:
    response = render(request, "login.html", status_code, csrf_token=token,
                      next=next_path, message=message)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=settings_of(request).secure_cookies, path="/login")
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    return _login_page(request, token, safe_next(next))


@router.post("/login")
def login(request: Request, name: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/") -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not csrf_token or not hmac.compare_digest(expected, csrf_token):
        return _login_page(request, secrets.token_urlsafe(32), safe_next(next),
                           "The sign-in form expired: please try again.", 403)
    token = auth.sign_in(store_of(request), name.strip(), password, client_of(request),
                         now(), settings_of(request))
    if token is None:
        return _login_page(request, expected, safe_next(next), FAILED, 401)
    response = RedirectResponse(safe_next(next), status_code=303)
    settings = settings_of(request)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=settings.secure_cookies, path="/",
                        max_age=settings.session_hours * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, _principal: Annotated[Principal, Depends(csrf_checked)]
           ) -> Response:
    auth.sign_out(store_of(request), request.cookies.get(SESSION_COOKIE, ""),
                  client_of(request), now())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(_principal: Signed) -> Response:
    return RedirectResponse("/queues/pends", status_code=303)


@router.get("/files")
def files(request: Request, principal: Signed, page: int = 1) -> Response:
    with store_of(request).transaction() as s:
        rows, page, pages = queries.files(s, page, settings_of(request).page_size)
    return render(request, "files.html", rows=rows, page=page, pages=pages)


def _archived(request: Request, sha256: str, filename: str, media_type: str) -> Response:
    archive = settings_of(request).archive_dir
    path = archive_path(archive, sha256) if archive is not None else None
    if path is None or not path.is_file():
        raise BadRequest("That file is not in the archive this server reads "
                         "(start claims review with --archive DIR).")
    return FileResponse(path, media_type=media_type, filename=filename)


@router.get("/files/{file_id}/{what}")
def download(request: Request, principal: PhiReader, file_id: RowId, what: str) -> Response:
    """The received bytes (``raw``), the 999/TA1 (``ack``) or the 277CA (``277ca``)."""
    with store_of(request).transaction() as s:
        row = s.get(ReceivedFile, file_id)
        if row is None or what not in ("raw", "ack", "277ca"):
            raise BadRequest("No such file.")
        stem = Path(row.name.replace("\\", "/")).stem or f"file-{file_id}"
        auth.audit(s, principal.name, "file.download", f"{file_id}:{what}",
                   client_of(request), now(), sha256=row.sha256)
        sha, ack_kind = row.sha256, row.ack_kind
        ack = KeptAnswer.of(row)
        claim_ack = row.claim_ack_sha256
    if what == "raw":
        return _archived(request, sha, f"{stem}.837", "application/edi-x12")
    if what == "277ca":
        if claim_ack is None:
            raise BadRequest("This file has no 277CA.")
        return _archived(request, claim_ack, f"{stem}.277ca", "application/edi-x12")
    if ack is None:
        raise BadRequest("This file has not been acknowledged yet.")
    name = f"{stem}.{(ack_kind or '999').lower()}"
    if ack.sha256 is not None:
        return _archived(request, ack.sha256, name, "application/edi-x12")
    return Response(ack.text, media_type="application/edi-x12", headers=attachment(name))


@router.get("/queues/{kind}")
def queue(request: Request, principal: Signed, kind: str) -> Response:
    """A queue page (or its results, for htmx). A role that sees PHI is shown patient
    control numbers: each such view is audited (``queue.view``: the queue, its filters,
    which hold no PHI, and the claims shown), as a claim view or a search is."""
    if kind not in QUEUES:
        raise BadRequest("No such queue.")
    params = dict(request.query_params)
    try:
        f = QueueFilter.parse(params)
    except FilterError as exc:
        raise BadRequest(str(exc)) from None
    with store_of(request).transaction() as s:
        page = queries.queue(s, kind, f, settings_of(request).page_size)  # type: ignore[arg-type]
        partners = queries.partners(s)
        if principal.phi:
            auth.audit(s, principal.name, "queue.view", kind, client_of(request), now(),
                       filters=f.query_string(page=page.page), count=page.count,
                       claims=[row.icn or f"claim {row.claim_id}" for row in page.rows])
    today = business_today(request)
    ages = {row.claim_id: age(row.received, row.line_of_business, today)
            for row in page.rows} if kind == "pends" else {}
    return render(request, "queue.html", partial="queue_results.html", kind=kind,
                  title=QUEUES[kind], f=f, result=page, partners=partners,
                  lobs=queries.lines_of_business(), ages=ages,
                  params=params, at_once=REDECIDE_AT_ONCE)


@router.get("/claims/{claim_id}")
def claim(request: Request, principal: Signed, claim_id: RowId) -> Response:
    from remittance.era import codes
    from workers.review_cli import DENIAL_GROUPS, NEEDS_REMARK, NOT_FOR_DENIAL

    store = store_of(request)
    with store.transaction() as s:
        page = claim_page(s, claim_id, phi=principal.phi)
        if page is None:
            raise BadRequest("No such claim.")
        auth.audit(s, principal.name, "claim.view", page.icn or f"claim {claim_id}",
                   client_of(request), now(), phi=principal.phi)
    return render(request, "claim.html", c=page, adjustment_words=adjustment_words,
                  rarc_words=rarc_words,
                  carcs=sorted(((k, v) for k, v in codes()["carc"].items()
                                if k not in NOT_FOR_DENIAL), key=lambda kv: int(kv[0])),
                  rarcs=sorted(codes()["rarc"].items()),
                  needs_remark=sorted(NEEDS_REMARK, key=int),
                  denial_groups=sorted((c, str(g)) for c, g in DENIAL_GROUPS.items()))


@router.get("/icn/{icn}")
def by_claim_number(request: Request, principal: Signed, icn: str) -> Response:
    with store_of(request).transaction() as s:
        claim_id = s.scalar(select(Claim.id).where(Claim.icn == icn))
    if claim_id is None:
        raise BadRequest("No claim has that number.")
    return RedirectResponse(f"/claims/{claim_id}", status_code=303)


@router.get("/search")
def search_form(request: Request, _principal: Searcher) -> Response:
    """The empty search form, whatever the address holds: a search is a POST
    (`search`), so the value searched, a member id or a patient control number, never
    goes into a URL, the browser's history or a sign-in page's ``next``. The value of
    a ``q`` in the query string is never read: an address naming one (kept from
    before 2026-12-01, when the search was a GET) is only told to use the form."""
    return render(request, "search.html", partial="search_results.html", kind="icn", q="",
                  found=None, searches=SEARCHES, limit=queries.SEARCH_LIMIT,
                  from_address="q" in request.query_params)


@router.post("/search")
def search(request: Request, _posted: Posted, principal: Searcher,
           kind: Annotated[str, Form()] = "icn", q: Annotated[str, Form()] = "") -> Response:
    """Exact search, posted with the session's CSRF token, for the roles that may see
    PHI only: a viewer (or an admin) is refused with 403 and an ``access.denied``
    audit row, whatever is searched. The audit row keeps the kind, never the value."""
    value = q.strip()
    found: list[queries.Found] | None = None
    if kind not in SEARCHES:
        kind = "icn"
    if value:
        with store_of(request).transaction() as s:
            found = queries.search(s, kind, value)  # type: ignore[arg-type]
            auth.audit(s, principal.name, "search", kind, client_of(request), now(),
                       results=len(found), claims=[f.icn for f in found if f.icn][:50])
    return render(request, "search.html", partial="search_results.html", kind=kind, q=value,
                  found=found, searches=SEARCHES, limit=queries.SEARCH_LIMIT,
                  from_address=False)
