"""A store with something to review: front-end rejections, denials, a pend, no cycle yet.

The files go through ``claims process`` (in process, `--no-remit`) on the database
given: twelve claims decided late (timely-filing denials, two Medicare Advantage
claims billed as primary: CO-22), two files whose claims the front end partly
rejects, the claim pended for want of a fee, and a file the 999 rejects (an invalid
claim filing indicator, SBR09: its claims are not reached). A second run receives
the pend's file again under another name: a duplicate (TA1 025), nothing decided.
Users of every role are added with known passwords.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from review.app import create_app
from review.auth import add_user
from review.roles import Role
from review.settings import ReviewSettings
from store import migrate
from store.engine import Store
from store.models import Claim, DecisionRecord
from tests.paths import FIXTURES
from workers.cli import app

AS_OF = "2026-11-23"
PASSWORD = "correct horse battery staple"
USERS = {role.value: f"{role.value}-1" for role in Role}
SOURCES = [FIXTURES / "837p" / "demo-small.837",
           FIXTURES / "edits" / "payer-billing-npi.837",
           FIXTURES / "edits" / "snip3-charge-balance.837",
           FIXTURES / "adjudication" / "pend-no-fee.837",
           FIXTURES / "ack" / "invalid-filing-indicator.837"]
AGAIN = (FIXTURES / "adjudication" / "pend-no-fee.837", "pend-no-fee-again.837")
"""A file of the first run received again (same bytes, another name) in a second run."""


def seed(url: str, work: Path, sources: list[Path] | None = None) -> Path:
    """Process the sample files into the database at ``url``; the archive's path."""
    from datetime import UTC, datetime

    migrate.upgrade(url)
    inbound = work / "inbound"
    inbound.mkdir(parents=True, exist_ok=True)
    files = []
    for source in sources or SOURCES:
        shutil.copy(source, inbound / source.name)
        files.append(str(inbound / source.name))
    out = work / "out"
    result = CliRunner().invoke(app, ["process", *files, "--out", str(out), "--db", url,
                                      "--quiet", "--as-of", AS_OF, "--received", AS_OF,
                                      "--no-remit"])
    assert result.exit_code == 0, result.output
    if sources is None:
        again = inbound / AGAIN[1]
        shutil.copy(AGAIN[0], again)
        result = CliRunner().invoke(app, ["process", str(again), "--out", str(out),
                                          "--db", url, "--quiet", "--as-of", AS_OF,
                                          "--received", AS_OF, "--no-remit"])
        assert result.exit_code == 0, result.output
    store = Store(url)
    try:
        now = datetime.now(tz=UTC)
        for role, name in USERS.items():
            add_user(store, name, Role(role), PASSWORD, now)
    finally:
        store.dispose()
    return out / "archive"


def client(store: Store, archive: Path, **settings: object) -> TestClient:
    """A TestClient over HTTPS (the cookies are Secure)."""
    config = ReviewSettings(archive_dir=archive, **settings)  # type: ignore[arg-type]
    return TestClient(create_app(store, config), base_url="https://testserver",
                      follow_redirects=False)


def sign_in(c: TestClient, role: str, password: str = PASSWORD) -> str:
    """Sign in as the seeded user of ``role``; the session's CSRF token."""
    page = c.get("/login")
    token = csrf_of(page.text)
    answer = c.post("/login", data={"name": USERS[role], "password": password,
                                    "csrf_token": token, "next": "/"})
    assert answer.status_code == 303, answer.text
    return csrf_of(c.get("/files").text)


def csrf_of(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def claim_ids(store: Store, status: str) -> list[int]:
    with store.transaction() as s:
        return list(s.scalars(select(DecisionRecord.claim_id).where(
            DecisionRecord.current.is_(True), DecisionRecord.status == status)
            .order_by(DecisionRecord.claim_id)))


def rejected_ids(store: Store) -> list[int]:
    with store.transaction() as s:
        return list(s.scalars(select(Claim.id).where(Claim.front_end == "rejected")))


@contextmanager
def seeded_store(kind: str, directory: Path) -> Iterator[tuple[Store, Path]]:
    """A seeded database of ``kind`` (`seed`) under ``directory``: its store and archive."""
    from tests.databases import database

    with database(kind, directory / "db") as url:
        archive = seed(url, directory)
        store = Store(url)
        try:
            yield store, archive
        finally:
            store.dispose()
