"""The review application: routers, security headers, and the pages errors become.

`create_app(store, settings)` builds it around an open store (the engine's own
`Store`); ``claims review`` serves it with uvicorn. Nothing is built at import time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from edi.validators.codesets import CodeSetRegistry, code_set_registry
from review import admin, pages, payments, work
from review.guard import ClientGone, RefuseNul
from review.queries import FilterError
from review.settings import ReviewSettings
from review.web import (
    BadRequest,
    CsrfRejected,
    LoginRequired,
    Refused,
    login_redirect,
    render,
)
from store.engine import Store

STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
log = structlog.get_logger("claims.review")


def create_app(store: Store, settings: ReviewSettings | None = None, *,
               deliver: Callable[[], int] | None = None,
               code_sets: CodeSetRegistry | None = None) -> FastAPI:
    """The application over ``store``; ``deliver`` sends released 835s not delivered yet
    to the partners (run after a cycle is released on the Payments screen);
    ``code_sets``, the ICD-10-CM releases a released pend is decided against (default:
    the shipped ones plus the settings' ``code_sets_dir``)."""
    app = FastAPI(title="Claims 87726 review", docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.store = store
    app.state.settings = settings or ReviewSettings()
    app.state.code_sets = code_sets or code_set_registry(app.state.settings.code_sets_dir)
    app.state.deliver = deliver
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (pages, work, payments, admin):
        app.include_router(module.router)
    _errors(app)
    app.add_middleware(RefuseNul)  # inside the headers below: its refusals get them too

    @app.middleware("http")
    async def security_headers(request: Request,
                               call_next: Callable[[Request], Awaitable[Response]]
                               ) -> Response:
        try:
            response = await call_next(request)
        except ClientGone:  # nobody reads this answer, and no fault happened: not logged
            response = Response("The request ended before it was read.", status_code=400)
        except Exception as exc:  # answered here: Starlette's own 500 handler re-raises
            response = _fault(request, exc)  # for the server to log, SQL and values too
        headers = response.headers
        if "content-security-policy" not in headers:
            headers["Content-Security-Policy"] = CSP
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if not request.url.path.startswith("/static/"):
            headers["Cache-Control"] = "no-store"  # pages carry PHI: never kept
        if app.state.settings.secure_cookies and request.url.scheme == "https":
            headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        if request.method != "GET":
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse(login_redirect(request), status_code=303)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return render(request, "error.html", 403, title="Not allowed", message=exc.sentence)

    @app.exception_handler(CsrfRejected)
    async def csrf(request: Request, _exc: CsrfRejected) -> Response:
        return render(request, "error.html", 403, title="Form rejected",
                      message="This form has expired or did not come from this site: "
                              "go back, reload the page and try again.")

    @app.exception_handler(BadRequest)
    @app.exception_handler(FilterError)
    async def bad_request(request: Request, exc: Exception) -> Response:
        return render(request, "error.html", 400, title="Cannot do that", message=str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        # never echo the submitted values (they may be PHI): name the fields only
        fields = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
        return render(request, "error.html", 400, title="Cannot do that",
                      message="Not a valid value: " + ", ".join(fields))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        title = "Not found" if exc.status_code == 404 else "Cannot do that"
        return render(request, "error.html", exc.status_code, title=title,
                      message="There is no such page." if exc.status_code == 404
                      else "The request was not understood.")

    @app.exception_handler(Exception)
    async def fault(request: Request, exc: Exception) -> Response:
        return _fault(request, exc)


def _fault(request: Request, exc: Exception) -> Response:
    """A 500 page for an engine or server bug, logged by its type only: an exception's
    text may quote claim data (a database error quotes its statement and values)."""
    log.error("review.fault", path=request.url.path, error=type(exc).__name__)
    return render(request, "error.html", 500, title="Something went wrong",
                  message="The server could not answer; the fault is logged.")
