"""A store with something to review: front-end rejections, denials, a pend, no cycle yet.

The files go through ``claims process`` (in process, `--no-remit`) on the database
given: twelve claims decided late (timely-filing denials, two Medicare Advantage
claims billed as primary: CO-22), two files whose claims the front end partly
rejects, the claim pended for want of a fee, and a file the 999 rejects (an invalid
claim filing indicator, SBR09: its claims are not reached). A second run receives
the pend's file again under another name: a duplicate (TA1 025), nothing decided.
Users of every role are added with known passwords. Tests add to it: a second
sender's files two days later (`receive_later`), and a replacement and a void
(`correct_and_void`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response
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


def seed(url: str, work: Path, sources: list[Path] | None = None,
         options: tuple[str, ...] = ()) -> Path:
    """Process the sample files into the database at ``url`` (with ``options`` for
    ``claims process``); the archive's path."""
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
                                      "--no-remit", *options])
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


LATER = "2026-11-25"
"""When `receive_later`'s files arrive."""


def _variant(source: Path, target: Path, edits: list[tuple[str, str]]) -> Path:
    text = source.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    target.write_text(text)
    return target


def receive_later(url: str, work: Path) -> None:
    """A second sender's files, received two days after the seed's (`LATER`), for the
    queue filters. From CLEARHOUSE02, ``pend-later.837`` (pend-no-fee.837 a week
    later: PCN-0601 for member OBH000001, commercial, 320.00, and PCN-0602 for
    OBH000002, Medicaid, 150.00, both billing the 90840 crisis add-on that has no fee:
    both pend) and ``npi-later.837`` (payer-billing-npi.837 with its 90837 lines at
    175.00: PCN-0701 at 275.00 and PCN-0702 at 150.00 rejected for the billing NPI's
    check digit, A7:562:85; PCN-0711 still claiming 300.00 for 275.00 of lines,
    rejected A7:400; PCN-0712 the very service PCN-0102 was paid for: denied OA-18)."""
    inbound = work / "later"
    inbound.mkdir(parents=True, exist_ok=True)
    sender = ("CLEARHOUSE01", "CLEARHOUSE02")
    pends = _variant(FIXTURES / "adjudication" / "pend-no-fee.837", inbound / "pend-later.837", [
        sender, ("000000501", "000000601"), ("PCN-0501*300", "PCN-0601*320"),
        ("SV1*HC:90839*100", "SV1*HC:90839*120"), ("DTP*472*D8*20261105", "DTP*472*D8*20261112"),
        ("PCN-0502", "PCN-0602"),
        ("SV1*HC:90834*150*UN*1***1~\nDTP*472*D8*20261110~",
         "SV1*HC:90840*100*UN*1***1~\nDTP*472*D8*20261117~\nLX*2~\n"
         "SV1*HC:90839*50*UN*1***1~\nDTP*472*D8*20261117~"),
        ("SE*42*0001", "SE*45*0001")])
    npis = _variant(FIXTURES / "edits" / "payer-billing-npi.837", inbound / "npi-later.837", [
        sender, ("000000301", "000000602"), ("SV1*HC:90837*200", "SV1*HC:90837*175"),
        ("CLM*PCN-0001*300", "CLM*PCN-0701*275"), ("PCN-0002", "PCN-0702"),
        ("PCN-0101", "PCN-0711"), ("PCN-0102", "PCN-0712")])
    result = CliRunner().invoke(app, ["process", str(pends), str(npis), "--out",
                                      str(work / "out"), "--db", url, "--quiet", "--as-of",
                                      LATER, "--received", LATER, "--no-remit"])
    assert result.exit_code == 0, result.output


CORRECTED = "2026-11-24"
"""When `correct_and_void`'s file arrives."""


def correct_and_void(url: str, work: Path, replaced: str, voided: str) -> None:
    """The provider's corrections a day after the seed (`CORRECTED`), from the same
    billing provider (1234567893): ``corrections.837`` replaces claim ``replaced``
    (PCN-0101, frequency 7) and voids claim ``voided`` (PCN-0102, frequency 8), each
    naming its original in REF*F8."""
    inbound = work / "corrections"
    inbound.mkdir(parents=True, exist_ok=True)
    corrections = _variant(FIXTURES / "ack" / "valid-two-claims.837",
                           inbound / "corrections.837", [
        ("000000101", "000000901"),
        ("CLM*PCN-0001*300***11:B:1*Y*A*Y*Y~",
         f"CLM*PCN-0101*300***11:B:7*Y*A*Y*Y~REF*F8*{replaced}~"),
        ("CLM*PCN-0002*150***11:B:1*Y*A*Y*Y~",
         f"CLM*PCN-0102*150***11:B:8*Y*A*Y*Y~REF*F8*{voided}~"),
        ("SE*42*0001", "SE*44*0001")])
    result = CliRunner().invoke(app, ["process", str(corrections), "--out", str(work / "out"),
                                      "--db", url, "--quiet", "--as-of", CORRECTED,
                                      "--received", CORRECTED, "--no-remit"])
    assert result.exit_code == 0, result.output


@contextmanager
def payer_today(day: str = AS_OF) -> Iterator[None]:
    """The payments screens as if the payer's today were ``day`` (the seed's, by
    default): they release a cycle only as of today or the week after it, and the
    seeded claims were received on `AS_OF`."""
    import pytest

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("review.payments.business_today",
                      lambda _request: date.fromisoformat(day))
        yield


def release_cycle(c: TestClient, token: str, day: str = AS_OF) -> Response:
    """A supervisor's cycle release as the screens make it: the preview as of ``day``
    (on that day, `payer_today`), then its confirm form, which carries the digest of
    what the preview showed."""
    with payer_today(day):
        preview = c.get(f"/payments/release?as_of={day}")
        assert preview.status_code == 200, preview.text
        marker = 'name="shown" value="'
        start = preview.text.index(marker) + len(marker)
        shown = preview.text[start:preview.text.index('"', start)]
        return c.post("/payments/release",
                      data={"csrf_token": token, "as_of": day, "shown": shown})


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


def search(c: TestClient, token: str, kind: str, value: str, **headers: str) -> Response:
    """A search as the search form sends it: a POST with the session's CSRF token (the
    value searched, PHI, never goes into a URL)."""
    return c.post("/search", data={"csrf_token": token, "kind": kind, "q": value},
                  headers=headers)


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
