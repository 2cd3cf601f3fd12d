"""Users: an admin lists, adds, locks and unlocks the people who sign in."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from review import auth
from review.auth import Principal, UserError
from review.roles import Permission, Role, parse_role
from review.web import BadRequest, allowed, client_of, csrf_checked, now, render, store_of
from store.models import ReviewUser

router = APIRouter()
Admin = Annotated[Principal, Depends(allowed(Permission.MANAGE_USERS, "Managing users"))]
Posted = Annotated[Principal, Depends(csrf_checked)]


@router.get("/users")
def users(request: Request, principal: Admin) -> Response:
    with store_of(request).transaction() as s:
        rows = list(s.scalars(select(ReviewUser).order_by(ReviewUser.name)))
    moment = now()
    return render(request, "users.html", users=rows, roles=[r.value for r in Role],
                  locked={u.id for u in rows if u.locked_until is not None
                          and auth.aware(u.locked_until) > moment})


@router.post("/users")
def add(request: Request, _posted: Posted, principal: Admin,
        name: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        release_limit: Annotated[str, Form()] = "") -> Response:
    try:
        limit = Decimal(release_limit) if release_limit.strip() else None
    except InvalidOperation:
        raise BadRequest("The release limit is an amount such as 2500.00.") from None
    try:
        auth.add_user(store_of(request), name.strip(), parse_role(role), password, now(),
                      release_limit=limit, actor=principal.name, client=client_of(request))
    except (UserError, ValueError) as exc:
        raise BadRequest(str(exc)) from None
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{name}/{change}")
def lock(request: Request, _posted: Posted, principal: Admin, name: str,
         change: str) -> Response:
    if change not in ("lock", "unlock"):
        raise BadRequest("No such change.")
    if name == principal.name and change == "lock":
        raise BadRequest("You cannot lock yourself out.")
    try:
        auth.set_locked(store_of(request), name, change == "lock", now(),
                        actor=principal.name, client=client_of(request))
    except UserError as exc:
        raise BadRequest(str(exc)) from None
    return RedirectResponse("/users", status_code=303)
