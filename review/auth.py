"""Users, sign-in, server-side sessions and the audit log.

Passwords are kept as argon2id hashes (argon2-cffi). Sign-in answers the same way,
after the same work, for an unknown name, a wrong password and a locked account: an
unknown name is checked against a dummy hash. Five failures in a row lock an
account for 15 minutes (`ReviewSettings`). A session is a random token in an
http-only cookie; the store keeps only its sha256, with the CSRF token every form
must carry, and forgets it after an idle spell or a fixed lifetime.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from edi.amounts import MAX_AMOUNT, amount_fits, whole_cents
from review.roles import GRANTS, Permission, Role
from review.settings import ReviewSettings
from store.engine import Store
from store.models import AuditEntry, ReviewSession, ReviewUser
from workers.files import is_utf8

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,79}")
MIN_PASSWORD = 12
DISABLED_UNTIL = datetime(9999, 1, 1, tzinfo=UTC)


class UserError(Exception):
    """A user cannot be added or changed (bad name, short password, name taken)."""


@cache
def hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    """What an unknown name is checked against, so it costs what a real check costs."""
    return hasher().hash(secrets.token_urlsafe(16))


def aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone: they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Principal:
    """The signed-in person a request acts for."""

    user_id: int
    name: str
    role: Role
    csrf_token: str
    release_limit: Decimal | None
    """The most this person may release a pend for; None: no limit."""

    def can(self, permission: Permission) -> bool:
        return permission in GRANTS[self.role]

    @property
    def phi(self) -> bool:
        return self.can(Permission.PHI)


def add_user(store: Store, name: str, role: Role, password: str, now: datetime, *,
             release_limit: Decimal | None = None, actor: str = "command line",
             client: str = "local") -> None:
    """A new user with an argon2 hash of ``password``; audited as ``user.add``."""
    if not NAME.fullmatch(name):
        raise UserError("a user name is 1-80 letters, digits, '.', '_', '@' or '-', "
                        "starting with a letter or digit")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password has at least {MIN_PASSWORD} characters")
    if not is_utf8(password):  # argon2 hashes its UTF-8 bytes: a lone surrogate has none
        raise UserError("a password is UTF-8 text (it holds a byte no encoding decoded)")
    if release_limit is not None:
        _check_release_limit(release_limit)
    with store.transaction() as s:
        if s.scalar(select(ReviewUser.id).where(ReviewUser.name == name)) is not None:
            raise UserError(f"there is already a user named {name}")
        s.add(ReviewUser(name=name, role=role.value, password_hash=hasher().hash(password),
                         release_limit_cents=None if release_limit is None
                         else int(release_limit * 100),
                         failed_logins=0, locked_until=None, created_at=now))
        audit(s, actor, "user.add", name, client, now, role=role.value)


def _check_release_limit(limit: Decimal) -> None:
    """A release limit is an amount a person typed: in dollars and cents, from 0 to the
    largest amount a person may type (`edi.amounts.MAX_AMOUNT`); anything
    else (NaN, Infinity, 1e999, a third decimal) is refused, never stored."""
    if not amount_fits(limit):
        raise UserError(f"a release limit is an amount from 0 to {MAX_AMOUNT:,}")
    if not whole_cents(limit):
        raise UserError("a release limit is in dollars and cents (two decimals)")


def set_locked(store: Store, name: str, locked: bool, now: datetime, *, actor: str,
               client: str) -> None:
    """Disable an account (its sessions end) or unlock it."""
    if not NAME.fullmatch(name):  # never looked up, nor quoted: it may be no text at all
        raise UserError("no user by that name (a user name is 1-80 letters, digits, '.', "
                        "'_', '@' or '-')")
    with store.transaction() as s:
        user = s.scalar(select(ReviewUser).where(ReviewUser.name == name))
        if user is None:
            raise UserError(f"no user named {name}")
        user.locked_until = DISABLED_UNTIL if locked else None
        user.failed_logins = 0
        if locked:
            s.execute(delete(ReviewSession).where(ReviewSession.user_id == user.id))
        audit(s, actor, "user.lock" if locked else "user.unlock", name, client, now)


def sign_in(store: Store, name: str, password: str, client: str, now: datetime,
            settings: ReviewSettings) -> str | None:
    """A new session's cookie token, or None: the same None, after the same argon2
    work, whether the name is unknown, the password wrong or the account locked."""
    with store.transaction() as s:
        user = s.scalar(select(ReviewUser).where(ReviewUser.name == name))
        if user is None:
            _verify(_dummy_hash(), password)
            audit(s, "(unknown)", "login.failed", "(unknown)", client, now)
            return None
        locked = user.locked_until is not None and aware(user.locked_until) > now
        good = _verify(user.password_hash, password)
        if locked or not good:
            if not locked:
                _count_failure(s, user.id, now, settings)
            audit(s, user.name, "login.failed", user.name, client, now,
                  reason="locked" if locked else "password")
            return None
        user.failed_logins = 0
        if hasher().check_needs_rehash(user.password_hash):
            user.password_hash = hasher().hash(password)
        token = secrets.token_urlsafe(32)
        s.add(ReviewSession(id=_digest(token), user_id=user.id,
                            csrf_token=secrets.token_urlsafe(32), created_at=now,
                            last_seen_at=now, client=client[:64]))
        audit(s, user.name, "login", user.name, client, now)
        return token


def _count_failure(s: Session, user_id: int, now: datetime,
                   settings: ReviewSettings) -> None:
    """One more failed sign-in, counted by the database: ``failed_logins + 1`` in one
    UPDATE, whose row lock makes parallel wrong passwords wait for each other. (A count
    read, then written back, let parallel attempts on PostgreSQL each write 1, so a
    burst of guesses never reached `lock_after`.)"""
    failures = s.execute(update(ReviewUser).where(ReviewUser.id == user_id)
                         .values(failed_logins=ReviewUser.failed_logins + 1)
                         .returning(ReviewUser.failed_logins)
                         .execution_options(synchronize_session=False)).scalar_one()
    if failures >= settings.lock_after:
        s.execute(update(ReviewUser).where(ReviewUser.id == user_id)
                  .values(locked_until=now + timedelta(minutes=settings.lock_minutes),
                          failed_logins=0)
                  .execution_options(synchronize_session=False))


def session_principal(store: Store, token: str, now: datetime,
                      settings: ReviewSettings) -> Principal | None:
    """The person a session cookie stands for, or None when it is unknown, idle too
    long, past its lifetime, or its account was locked since."""
    with store.transaction() as s:
        row = s.get(ReviewSession, _digest(token))
        if row is None:
            return None
        user = s.get(ReviewUser, row.user_id)
        idle = now - aware(row.last_seen_at) > timedelta(minutes=settings.idle_minutes)
        old = now - aware(row.created_at) > timedelta(hours=settings.session_hours)
        locked = user is None or (user.locked_until is not None
                                  and aware(user.locked_until) > now)
        if idle or old or locked:
            s.delete(row)
            return None
        assert user is not None
        if now - aware(row.last_seen_at) > timedelta(seconds=30):
            row.last_seen_at = now
        role = Role(user.role)
        limit: Decimal | None = None
        if role is Role.ANALYST:
            limit = (Decimal(user.release_limit_cents) / 100
                     if user.release_limit_cents is not None
                     else settings.analyst_release_limit)
        return Principal(user.id, user.name, role, row.csrf_token, limit)


def sign_out(store: Store, token: str, client: str, now: datetime) -> None:
    with store.transaction() as s:
        row = s.get(ReviewSession, _digest(token))
        if row is None:
            return
        user = s.get(ReviewUser, row.user_id)
        s.delete(row)
        name = user.name if user is not None else "(unknown)"
        audit(s, name, "logout", name, client, now)


def audit(s: Session, user_name: str, action: str, subject: str, client: str,
          now: datetime, **detail: Any) -> None:
    """One audit row: who, what (action and subject: never PHI), when, from where."""
    s.add(AuditEntry(at=now, user_name=user_name[:80], action=action, subject=subject[:80],
                     client=client[:64], detail=detail))


def record(store: Store, principal: Principal, action: str, subject: str, client: str,
           **detail: Any) -> None:
    """An audit row in a transaction of its own."""
    with store.transaction() as s:
        audit(s, principal.name, action, subject, client, datetime.now(tz=UTC), **detail)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
