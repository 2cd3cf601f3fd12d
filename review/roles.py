"""Roles and what each may do on the review screens."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A review user's role (``review_users.role``)."""

    VIEWER = "viewer"
    """Files, queues, payments and claims without PHI: no names, member ids, birth dates."""
    ANALYST = "analyst"
    """Works the queues with PHI and releases pends up to a limit."""
    SUPERVISOR = "supervisor"
    """Releases any pend and releases payment cycles."""
    ADMIN = "admin"
    """Manages users; sees the screens as a viewer does."""


class Permission(StrEnum):
    VIEW = "view"
    PHI = "phi"
    WORK_PENDS = "work pends"
    ANY_PEND = "release any pend"
    RELEASE_CYCLES = "release payment cycles"
    MANAGE_USERS = "manage users"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.VIEW}),
    Role.ANALYST: frozenset({Permission.VIEW, Permission.PHI, Permission.WORK_PENDS}),
    Role.SUPERVISOR: frozenset({Permission.VIEW, Permission.PHI, Permission.WORK_PENDS,
                                Permission.ANY_PEND, Permission.RELEASE_CYCLES}),
    Role.ADMIN: frozenset({Permission.VIEW, Permission.MANAGE_USERS}),
}

WHO_MAY: dict[Permission, str] = {
    Permission.VIEW: "any signed-in user",
    Permission.PHI: "an analyst or a supervisor",
    Permission.WORK_PENDS: "an analyst or a supervisor",
    Permission.ANY_PEND: "a supervisor",
    Permission.RELEASE_CYCLES: "a supervisor",
    Permission.MANAGE_USERS: "an admin",
}
"""Said on a refusal: who could do it."""


def parse_role(value: str) -> Role:
    """A role by name; ValueError names the roles there are."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise ValueError(f"no role {value!r}: use one of "
                         + ", ".join(r.value for r in Role)) from None
