"""The request edge: the store and settings, who is signed in, roles, CSRF, templates.

Every route but the sign-in page and the static files depends on `signed_in`, which
answers a request without a live session with a redirect to ``/login`` (htmx
requests get ``HX-Redirect``). `allowed(permission)` refuses a role with 403 and an
``access.denied`` audit row. `csrf_checked` rejects a POST whose ``csrf_token``
field (or ``X-CSRF-Token`` header) is not the session's token.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, Form, Request
from fastapi import Path as PathPart
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.responses import Response

from edi.validators.codesets import CodeSetRegistry
from review import auth
from review.auth import Principal
from review.roles import WHO_MAY, Permission
from review.settings import ReviewSettings
from store.engine import Store
from workers.receipt import receipt_date

SESSION_COOKIE = "review_session"
LOGIN_CSRF_COOKIE = "review_login_csrf"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


class LoginRequired(Exception):
    """No live session: the person signs in first."""


class Refused(Exception):
    """The signed-in person's role does not allow this."""

    def __init__(self, principal: Principal, permission: Permission, what: str) -> None:
        super().__init__(what)
        self.principal, self.permission, self.what = principal, permission, what

    @property
    def sentence(self) -> str:
        return (f"{self.what} needs {WHO_MAY[self.permission]}; you are signed in as "
                f"{self.principal.name} ({self.principal.role.value}).")


class BadRequest(Exception):
    """A form or filter a person can fix: said on the page, never a traceback."""


def now() -> datetime:
    return datetime.now(tz=UTC)


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def settings_of(request: Request) -> ReviewSettings:
    settings: ReviewSettings = request.app.state.settings
    return settings


def code_sets_of(request: Request) -> CodeSetRegistry:
    """The ICD-10-CM releases loaded (`review.app.create_app`)."""
    code_sets: CodeSetRegistry = request.app.state.code_sets
    return code_sets


def client_of(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def signed_in(request: Request) -> Principal:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        principal = auth.session_principal(store_of(request), token, now(),
                                           settings_of(request))
        if principal is not None:
            request.state.principal = principal
            return principal
    raise LoginRequired()


Signed = Annotated[Principal, Depends(signed_in)]
RowId = Annotated[int, PathPart(ge=1, le=2**63 - 1)]


def attachment(filename: str) -> dict[str, str]:
    """The Content-Disposition of a download named ``filename`` (a received file's
    name may hold any character): plain ASCII as it is, else percent-encoded UTF-8
    (RFC 6266 ``filename*``), as Starlette's FileResponse writes it."""
    quoted = quote(filename)
    if quoted == filename:
        return {"Content-Disposition": f'attachment; filename="{filename}"'}
    return {"Content-Disposition": f"attachment; filename*=utf-8''{quoted}"}
"""A row id in a page's path: a number the database's 64-bit keys can hold (a longer
one is a 400 naming the field, never a server error)."""


def allowed(permission: Permission, what: str) -> Callable[..., Principal]:
    """A dependency: the signed-in person, who must hold ``permission``."""
    def check(request: Request, principal: Signed) -> Principal:
        if not principal.can(permission):
            auth.record(store_of(request), principal, "access.denied", request.url.path,
                        client_of(request), needs=permission.value)
            raise Refused(principal, permission, what)
        return principal

    return check


def csrf_checked(request: Request, principal: Signed,
                 csrf_token: Annotated[str, Form()] = "") -> Principal:
    """The signed-in person, on a POST that carries their session's CSRF token."""
    sent = csrf_token or request.headers.get("x-csrf-token", "")
    if not sent or not hmac.compare_digest(sent, principal.csrf_token):
        raise CsrfRejected()
    return principal


class CsrfRejected(Exception):
    """A form without the session's CSRF token (or with another)."""


QUERY_NOT_KEPT = frozenset({"/search"})
"""Pages whose query string a sign-in's ``next`` leaves out: a search's address held
the member id searched for until 2026-12-01, and an old bookmark or history entry
still does."""


def login_redirect(request: Request) -> str:
    query = request.url.query if request.url.path not in QUERY_NOT_KEPT else ""
    target = request.url.path + (f"?{query}" if query else "")
    return f"/login?next={quote(target, safe='')}"


def safe_next(target: str | None) -> str:
    """Only a path on this site: never ``//host`` or a scheme."""
    if not target or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return "/"
    return target


def render(request: Request, template: str, status_code: int = 200,
           **context: Any) -> Response:
    """A page (or, for an htmx request naming ``partial``, just that fragment)."""
    principal = getattr(request.state, "principal", None)
    partial = context.pop("partial", None)
    name = partial if partial and request.headers.get("hx-request") else template
    return TEMPLATES.TemplateResponse(request, name, {
        "principal": principal, "Permission": Permission, **context},
        status_code=status_code)


def money(value: Decimal | int | str | None, *, cents: bool = False) -> str:
    """Money for people: ``$1,234.50``; integer cents when ``cents``."""
    if value is None or value == "":
        return ""
    amount = Decimal(value) / 100 if cents else Decimal(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def when(moment: datetime | None, zone: ZoneInfo) -> str:
    """A timestamp for people in ``zone`` with its abbreviation (``2026-11-23 08:05
    CST``); the store keeps UTC."""
    if moment is None:
        return ""
    return auth.aware(moment).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


@pass_context
def _when(context: Context, moment: datetime | None) -> str:
    """`when` in the business time zone of the app the page is rendered for."""
    request: Request = context["request"]
    return when(moment, settings_of(request).zone)


def business_today(request: Request) -> date:
    """Today on the payer's calendar (the business time zone), not UTC's."""
    return receipt_date(now(), settings_of(request).zone)


TEMPLATES.env.filters["money"] = money
TEMPLATES.env.filters["when"] = _when


def _code_filters() -> None:
    """Every code in words, beside the code (`review.codes`)."""
    from review import codes

    filters = TEMPLATES.env.filters
    filters["meaning"] = codes.queue_code
    filters["rule_words"] = codes.rule_words
    filters["place_words"] = codes.place_words
    filters["procedure_words"] = codes.procedure_words
    filters["modifier_words"] = codes.modifier_words
    filters["claim_status_words"] = codes.claim_status_words


_code_filters()
