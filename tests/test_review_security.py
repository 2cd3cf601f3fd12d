"""The review screens' security rules: sessions, CSRF, roles, PHI, audit, headers.

Given a store with rejections, denials and a pend (tests/review_support.py) and a
user of each role, these tests walk every route the application has, so a route
added later without a session check or a CSRF check fails here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select, update

from review.auth import set_locked
from store.engine import Store
from store.models import AuditEntry, Claim, DecisionRecord, PendRelease, ReviewSession
from tests.databases import database
from tests.review_support import (
    PASSWORD,
    USERS,
    claim_ids,
    client,
    csrf_of,
    rejected_ids,
    release_cycle,
    search,
    seed,
    sign_in,
)

REVIEW = Path(__file__).resolve().parents[1] / "review"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Path]]:
    work = tmp_path_factory.mktemp("review-security")
    with database("sqlite", work / "db") as url:
        archive = seed(url, work)
        store = Store(url)
        yield store, archive
        store.dispose()


def _routes(_app: object) -> list[tuple[str, str]]:
    """(method, path) of every route, path parameters filled with real-looking values."""
    from review import admin, pages, payments, work

    found = []
    routes = [r for m in (pages, work, payments, admin) for r in m.router.routes]
    for route in routes:
        if not isinstance(route, APIRoute):
            continue
        path = (route.path.replace("{kind}", "denials").replace("{claim_id}", "1")
                .replace("{file_id}", "1").replace("{what}", "ack")
                .replace("{cycle_id}", "1").replace("{remittance_id}", "1")
                .replace("{icn}", "X").replace("{name}", "viewer-1")
                .replace("{change}", "unlock"))
        found += [(method, path) for method in sorted(route.methods)]
    return found


def _audit(store: Store, action: str) -> list[AuditEntry]:
    with store.transaction() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)
                              .order_by(AuditEntry.id)))


def test_no_page_answers_without_a_session(seeded: tuple[Store, Path]) -> None:
    store, archive = seeded
    c = client(store, archive)
    routes = _routes(c.app)
    assert len(routes) >= 20
    for method, path in routes:
        if path == "/login":
            continue
        answer = c.request(method, path)
        assert answer.status_code == 303, (method, path)
        assert answer.headers["location"].startswith("/login"), (method, path)
    htmx = c.get("/queues/denials", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"] == "/login"
    # a made-up cookie is no session either
    c.cookies.set("review_session", "forged", domain="testserver")
    assert c.get("/files").status_code == 303


def test_every_form_post_without_the_sessions_csrf_token_is_refused(
        seeded: tuple[Store, Path]) -> None:
    store, archive = seeded
    c = client(store, archive)
    sign_in(c, "supervisor")
    with store.transaction() as s:
        before = s.scalar(select(DecisionRecord.id).order_by(DecisionRecord.id.desc()))
    for method, path in _routes(c.app):
        if method != "POST" or path == "/login":
            continue
        for form in ({}, {"csrf_token": "not-the-token"}):
            answer = c.post(path, data={**form, "as_of": "2026-11-23", "carc": "96"})
            assert answer.status_code == 403, (path, form)
            assert "This form has expired" in answer.text
    with store.transaction() as s:
        assert s.scalar(select(DecisionRecord.id).order_by(DecisionRecord.id.desc())) == before
        assert s.scalar(select(PendRelease.id)) is None
    # the sign-in form has its own token, tied to a cookie
    fresh = client(store, archive)
    refused = fresh.post("/login", data={"name": USERS["viewer"], "password": PASSWORD,
                                         "csrf_token": "guessed"})
    assert refused.status_code == 403 and "review_session" not in refused.cookies


def _phi(store: Store) -> set[str]:
    """Every name, member id, birth date and patient control number the claims carry."""
    from edi.claims import ParsedClaim

    values: set[str] = set()
    providers: set[str] = set()  # clinicians' names are not PHI (a few share a surname)
    with store.transaction() as s:
        for parsed, pcn in s.execute(select(Claim.parsed, Claim.patient_control_number)):
            values.add(pcn)
            if parsed is None:
                continue
            claim = ParsedClaim.model_validate_json(parsed)
            for party in (claim.billing_provider, claim.claim.rendering,
                          claim.claim.supervising, *(line.rendering for line in claim.claim.lines)):
                if party is not None:
                    providers |= {party.name.last_or_organization_name or "",
                                  party.name.first_name or ""}
            for person in (claim.subscriber, claim.patient):
                if person is None:
                    continue
                values |= {person.name.last_or_organization_name or "",
                           person.name.first_name or "", person.name.identification_code or ""}
                if person.demographics and person.demographics.birth_date:
                    values.add(person.demographics.birth_date.isoformat())
        values |= {m for m in s.scalars(select(DecisionRecord.member_id)) if m}
    return {v for v in values - providers if len(v) >= 4}


def test_a_viewer_sees_no_names_member_ids_or_birth_dates(seeded: tuple[Store, Path]) -> None:
    store, archive = seeded
    phi = _phi(store)
    assert len(phi) > 10
    viewer = client(store, archive)
    viewer_token = sign_in(viewer, "viewer")
    with store.transaction() as s:
        every_claim = list(s.scalars(select(Claim.id)))
        icn = s.scalar(select(Claim.icn).where(Claim.icn.is_not(None)))
    assert icn is not None
    pages = ["/files", "/queues/rejections", "/queues/denials", "/queues/pends", "/payments",
             *[f"/claims/{i}" for i in every_claim]]
    for path in pages:
        text = viewer.get(path).text
        assert viewer.get(path).status_code == 200, path
        leaked = sorted(v for v in phi if re.search(rf"\b{re.escape(v)}\b", text))
        assert leaked == [], (path, len(leaked))
    # search (any kind) and the downloads are refused
    member = sorted(phi)[0]
    refused = search(viewer, viewer_token, "member", member)
    assert refused.status_code == 403
    assert "needs an analyst" in refused.text and member not in refused.text.split(
        "</form>")[-1]
    assert viewer.get("/files/1/raw").status_code == 403
    # the same claim page shows them to an analyst
    analyst = client(store, archive)
    sign_in(analyst, "analyst")
    (pended,) = claim_ids(store, "pended")
    assert any(v in analyst.get(f"/claims/{pended}").text for v in phi)


def test_search_is_refused_to_the_roles_that_may_not_see_phi(
        seeded: tuple[Store, Path]) -> None:
    """Every search result shows PHI (the patient control number): a viewer and an
    admin get a page saying their role may not search, by any kind, with 403 and an
    ``access.denied`` row each time; an analyst searches as before."""
    store, archive = seeded
    with store.transaction() as s:
        icn, npi = s.execute(select(Claim.icn, Claim.billing_npi)
                             .where(Claim.icn.is_not(None)).order_by(Claim.id).limit(1)).one()
    for role in ("viewer", "admin"):
        c = client(store, archive)
        token = sign_in(c, role)
        before = len(_audit(store, "access.denied"))
        assert 'href="/search"' not in c.get("/files").text  # not offered in the menu
        answers = {"the form": c.get("/search"), "icn": search(c, token, "icn", icn),
                   "npi": search(c, token, "npi", npi),
                   "rendering": search(c, token, "rendering", npi)}
        for what, answer in answers.items():
            assert answer.status_code == 403, (role, what)
            main = answer.text.split("</form>")[-1]
            assert (f"Searching claims (every result shows PHI, such as the patient control "
                    f"number) needs an analyst or a supervisor; you are signed in as "
                    f"{USERS[role]} ({role})") in main
            assert 'id="found"' not in main and icn not in main
        refusals = _audit(store, "access.denied")[before:]
        assert [(r.user_name, r.subject, r.detail) for r in refusals] == [
            (USERS[role], "/search", {"needs": "phi"})] * 4
        assert not [r for r in _audit(store, "search") if r.user_name == USERS[role]]
    analyst = client(store, archive)
    token = sign_in(analyst, "analyst")
    assert 'href="/search"' in analyst.get("/files").text
    found = search(analyst, token, "icn", icn)
    assert found.status_code == 200 and 'id="found"' in found.text and icn in found.text


def test_a_search_is_posted_and_the_value_searched_never_goes_into_a_url(
        seeded: tuple[Store, Path]) -> None:
    """Until 2026-12-01 a search was a GET whose form pushed its URL (``hx-push-url``):
    the member id or patient control number searched for went into the address bar,
    the browser's history and, when the session had ended, ``/login?next=``. The form
    now posts it with the session's CSRF token, and a GET of /search shows the empty
    form whatever its query string holds: its results are reached by no URL."""
    store, archive = seeded
    with store.transaction() as s:
        icn, member = s.execute(select(Claim.icn, Claim.subscriber_id)
                                .where(Claim.icn.is_not(None)).order_by(Claim.id).limit(1)).one()
    c = client(store, archive)
    token = sign_in(c, "analyst")
    page = c.get("/search").text
    form = page[page.index("<form", page.index("<h1>")):]
    form, tag = form[:form.index("</form>")], form[:form.index(">") + 1]
    assert 'id="search-form"' in tag and 'method="post"' in tag and 'hx-post="/search"' in tag
    assert "hx-get" not in tag and "hx-push-url" not in tag and 'method="get"' not in tag
    assert f'<input type="hidden" name="csrf_token" value="{token}">' in form
    before = len(_audit(store, "search"))
    for headers in ({}, {"HX-Request": "true"}):  # the page, or htmx's results only
        found = search(c, token, "member", member, **headers)
        assert found.status_code == 200 and 'id="found"' in found.text and icn in found.text
        # no redirect, no HX-Push-Url, no header hands the value back in a URL
        assert member not in str(found.headers)
    # a GET with the search in its address shows the empty form (or, htmx, nothing)
    for path in (f"/search?kind=member&q={member}", f"/search?q={member}"):
        for headers in ({}, {"HX-Request": "true"}):
            answer = c.get(path, headers=headers)
            assert answer.status_code == 200, (path, headers)
            assert 'id="found"' not in answer.text and icn not in answer.text
            assert member not in answer.text and "No claim matches" not in answer.text
        assert "no longer read from the page's address" in c.get(path).text
    assert 'id="search-note"' not in page  # the form alone says nothing of it
    # a search without the session's CSRF token (or with another) is refused
    for sent in ({}, {"csrf_token": "not-the-token"}):
        refused = c.post("/search", data={**sent, "kind": "member", "q": member})
        assert refused.status_code == 403 and "This form has expired" in refused.text
        assert 'id="found"' not in refused.text and member not in refused.text
    assert len(_audit(store, "search")) == before + 2  # the two searches posted, only
    # a session that has ended sends the search to sign-in without the value
    ended = client(store, archive)
    gone = ended.post("/search", data={"csrf_token": token, "kind": "member", "q": member})
    assert gone.status_code == 303 and gone.headers["location"] == "/login"
    htmx = ended.post("/search", data={"csrf_token": token, "kind": "member", "q": member},
                      headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"] == "/login"
    # the address a search leaves in the bar is /search, the next a sign-in gets
    assert ended.get("/search").headers["location"] == "/login?next=%2Fsearch"
    # and so does an old address that held it (a bookmark, the browser's history)
    old = ended.get(f"/search?kind=member&q={member}")
    assert old.headers["location"] == "/login?next=%2Fsearch" and member not in str(old.headers)


def test_the_three_wrong_sign_ins_answer_alike(seeded: tuple[Store, Path]) -> None:
    store, archive = seeded
    set_locked(store, USERS["admin"], True, datetime.now(tz=UTC), actor="test", client="t")
    try:
        c = client(store, archive)
        token = csrf_of(c.get("/login").text)
        answers = [c.post("/login", data={"name": name, "password": password,
                                          "csrf_token": token})
                   for name, password in (("nobody-at-all", PASSWORD),
                                          (USERS["viewer"], "wrong password here"),
                                          (USERS["admin"], PASSWORD))]  # locked, right password
        assert {a.status_code for a in answers} == {401}
        assert len({a.text for a in answers}) == 1
        assert "not right, or the account is locked" in answers[0].text
        assert all("review_session" not in a.cookies for a in answers)
        reasons = [e.detail.get("reason") for e in _audit(store, "login.failed")[-3:]]
        assert reasons == [None, "password", "locked"]
    finally:
        set_locked(store, USERS["admin"], False, datetime.now(tz=UTC), actor="test", client="t")


def test_repeated_failures_lock_the_account_and_a_locked_account_cannot_sign_in(
        tmp_path: Path) -> None:
    with database("sqlite", tmp_path / "db") as url:
        archive = seed(url, tmp_path, sources=[])
        store = Store(url)
        c = client(store, archive, lock_after=3)
        token = csrf_of(c.get("/login").text)
        for _ in range(3):
            c.post("/login", data={"name": USERS["analyst"], "password": "nope nope nope",
                                   "csrf_token": token})
        right = c.post("/login", data={"name": USERS["analyst"], "password": PASSWORD,
                                       "csrf_token": token})
        assert right.status_code == 401
        store.dispose()


def test_analyst_views_releases_and_sign_out_are_written_to_the_audit_log(
        tmp_path: Path) -> None:
    with database("sqlite", tmp_path / "db") as url:
        archive = seed(url, tmp_path)
        store = Store(url)
        c = client(store, archive)
        token = sign_in(c, "analyst")
        (pended,) = claim_ids(store, "pended")
        c.get("/queues/pends?sort=charge&dir=desc")
        c.get("/queues/rejections?payee=1234567890", headers={"HX-Request": "true"})
        c.get(f"/claims/{pended}")
        search(c, token, "pcn", "PCN-0501")
        c.get("/files/1/raw")
        c.get("/payments/release?as_of=2026-11-23")  # a supervisor's screen: refused
        confirmed = c.post(f"/claims/{pended}/release",
                           data={"csrf_token": token, "allowed_1": "80.00", "note": "agreed"})
        assert confirmed.status_code == 303
        c.post("/logout", data={"csrf_token": token})
        with store.transaction() as s:
            rows = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        mine = [(r.action, r.subject) for r in rows if r.user_name == USERS["analyst"]]
        with store.transaction() as s:
            icn = s.scalar(select(Claim.icn).where(Claim.id == pended))
        assert mine == [("login", USERS["analyst"]), ("queue.view", "pends"),
                        ("queue.view", "rejections"), ("claim.view", icn),
                        ("search", "pcn"), ("file.download", "1:raw"),
                        ("access.denied", "/payments/release"), ("pend.release", icn),
                        ("logout", USERS["analyst"])]
        by_action = {r.action: r for r in rows if r.user_name == USERS["analyst"]}
        with store.transaction() as s:
            theirs = list(s.scalars(select(Claim.id).where(
                Claim.front_end == "rejected", Claim.billing_npi == "1234567890")
                .order_by(Claim.id)))
        views = [r.detail for r in rows if r.action == "queue.view"]
        # the queue, its filters and the claims it showed (a rejected claim by its row)
        assert views == [
            {"filters": "sort=charge&dir=desc&page=1", "count": 1, "claims": [icn]},
            {"filters": "payee=1234567890&sort=received&dir=asc&page=1", "count": 2,
             "claims": [f"claim {i}" for i in theirs]}]
        # a viewer is shown no PHI in a queue: nothing to audit
        viewer = client(store, archive)
        sign_in(viewer, "viewer")
        assert viewer.get("/queues/pends").status_code == 200
        with store.transaction() as s:
            assert s.scalar(select(AuditEntry.id).where(
                AuditEntry.action == "queue.view",
                AuditEntry.user_name == USERS["viewer"])) is None
        assert by_action["claim.view"].detail == {"phi": True}
        assert by_action["search"].detail["claims"] == [icn]
        assert by_action["pend.release"].detail["allowed"] == {"1": "80.00"}
        assert all(r.client == "testclient" and r.at is not None for r in rows
                   if r.user_name == USERS["analyst"])
        # the audit log names no patient: what was searched is kept as its kind only
        assert not any("PCN-0501" in str(r.detail) + r.subject for r in rows)
        store.dispose()


def test_a_denial_the_advice_and_835_of_a_cycle_and_a_user_added_are_audited(
        tmp_path: Path) -> None:
    """Given a pend, a paid claim and no cycle yet: an analyst denies the pend, a
    supervisor releases a cycle and opens an advice and an 835, an admin adds a user on
    the Users screen; each is one audit row naming who, what, when and from where."""
    from store.models import RemittanceRecord

    with database("sqlite", tmp_path / "db") as url:
        archive = seed(url, tmp_path)
        store = Store(url)
        try:
            analyst = client(store, archive)
            token = sign_in(analyst, "analyst")
            (pended,) = claim_ids(store, "pended")
            denied = analyst.post(f"/claims/{pended}/deny",
                                  data={"csrf_token": token, "carc": "96", "rarc": "N130",
                                        "note": "no"})
            assert denied.status_code == 303
            supervisor = client(store, archive)
            token = sign_in(supervisor, "supervisor")
            assert release_cycle(supervisor, token).status_code == 303
            with store.transaction() as s:
                remittance, trace = s.execute(
                    select(RemittanceRecord.id, RemittanceRecord.trace_number)
                    .order_by(RemittanceRecord.id).limit(1)).one()
            advice = supervisor.get(f"/payments/remittances/{remittance}/advice")
            x12 = supervisor.get(f"/payments/remittances/{remittance}/835")
            assert advice.status_code == 200 and x12.status_code == 200
            admin = client(store, archive)
            token = sign_in(admin, "admin")
            added = admin.post("/users", data={"csrf_token": token, "name": "new-analyst",
                                               "role": "analyst",
                                               "password": "a long password 1"})
            assert added.status_code == 303
            with store.transaction() as s:
                icn = s.scalar(select(Claim.icn).where(Claim.id == pended))
            rows = {action: _audit(store, action)
                    for action in ("pend.deny", "era.view", "835.download", "user.add")}
        finally:
            store.dispose()
    who = [(a, r.user_name, r.subject, r.detail) for a, found in rows.items() for r in found
           if r.user_name != "command line"]  # the seed's own users, added by the CLI
    assert who == [("pend.deny", USERS["analyst"], icn, {"carc": "96", "rarc": "N130"}),
                   ("era.view", USERS["supervisor"], trace, {"remittance": remittance}),
                   ("835.download", USERS["supervisor"], trace, {"remittance": remittance}),
                   ("user.add", USERS["admin"], "new-analyst", {"role": "analyst"})]
    assert all(r.client == "testclient" and r.at is not None
               for found in rows.values() for r in found if r.user_name != "command line")
    # the new user's password never reaches the audit log
    assert not any("a long password" in str(r.detail) for found in rows.values()
                   for r in found)


def test_idle_sessions_expire_and_sign_out_ends_the_session(
        seeded: tuple[Store, Path]) -> None:
    store, archive = seeded
    c = client(store, archive, idle_minutes=30)
    token = sign_in(c, "viewer")
    assert c.get("/files").status_code == 200
    with store.transaction() as s:
        s.execute(update(ReviewSession).values(
            last_seen_at=datetime.now(tz=UTC) - timedelta(minutes=31)))
    assert c.get("/files").status_code == 303
    token = sign_in(c, "viewer")
    cookie = c.cookies.get("review_session")
    c.post("/logout", data={"csrf_token": token})
    c.cookies.set("review_session", cookie or "", domain="testserver")
    assert c.get("/files").status_code == 303  # the old cookie is worth nothing now


def test_cookies_and_security_headers(seeded: tuple[Store, Path]) -> None:
    store, archive = seeded
    c = client(store, archive)
    login = c.get("/login")
    token = csrf_of(login.text)
    signed = c.post("/login", data={"name": USERS["viewer"], "password": PASSWORD,
                                    "csrf_token": token})
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie
    assert "samesite=strict" in login.headers["set-cookie"].lower()
    page = c.get("/queues/denials")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["strict-transport-security"]


def test_templates_carry_no_inline_script_or_style_and_htmx_is_the_pinned_file() -> None:
    for template in (REVIEW / "templates").glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=|javascript:", text), template.name
    htmx = (REVIEW / "static" / "htmx.min.js").read_bytes()
    assert hashlib.sha256(htmx).hexdigest() == HTMX_SHA256
    assert HTMX_SHA256 in (REVIEW / "static" / "README.md").read_text()


def test_a_locked_users_sessions_end_and_roles_are_refused_with_403(
        seeded: tuple[Store, Path]) -> None:
    store, archive = seeded
    analyst = client(store, archive)
    token = sign_in(analyst, "analyst")
    refused = analyst.post("/payments/release", data={"csrf_token": token,
                                                      "as_of": "2026-11-23"})
    assert refused.status_code == 403 and "needs a supervisor" in refused.text
    assert analyst.get("/users").status_code == 403
    viewer = client(store, archive)
    viewer_token = sign_in(viewer, "viewer")
    (pended,) = claim_ids(store, "pended")
    assert viewer.post(f"/claims/{pended}/deny/preview",
                       data={"csrf_token": viewer_token, "carc": "96"}).status_code == 403
    assert rejected_ids(store)
    set_locked(store, USERS["viewer"], True, datetime.now(tz=UTC), actor="t", client="t")
    try:
        assert viewer.get("/files").status_code == 303
    finally:
        set_locked(store, USERS["viewer"], False, datetime.now(tz=UTC), actor="t", client="t")


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_nul_character_or_an_overlong_id_in_a_request_is_a_400_on_either_store(
        engine: str, tmp_path: Path) -> None:
    """PostgreSQL refuses a NUL in text: a search, a filter or a note holding one was a
    server error there (SQLite stored it). `review.guard` refuses it before any page."""
    from tests.review_support import seeded_store

    with seeded_store(engine, tmp_path) as (store, archive):
        c = client(store, archive)
        token = sign_in(c, "supervisor")
        (pended,) = claim_ids(store, "pended")
        refused = [
            search(c, token, "member", "\x00abc"),
            c.get("/queues/denials?payee=%00"),
            c.get("/icn/OBH%00X"),
            c.post(f"/claims/{pended}/deny", data={"csrf_token": token, "carc": "29",
                                                   "note": "checked\x00"}),
            client(store, archive).post("/login", data={"name": "analyst-1\x00",
                                                         "password": "x", "csrf_token": "x"}),
        ]
        assert [r.status_code for r in refused] == [400] * len(refused)
        assert all("NUL character" in r.text for r in refused)
        assert refused[0].headers["x-frame-options"] == "DENY"  # the headers as any page
        # nothing was written: the claim is still pended, no denial, no search audited
        assert claim_ids(store, "pended") == [pended]
        # and a body larger than any form is refused before it is read whole
        huge = c.post(f"/claims/{pended}/deny", data={"csrf_token": token, "carc": "29",
                                                      "note": "x" * (2 << 20)})
        assert huge.status_code == 413
        # a row id longer than the database's keys is a 400 naming the field, not a 500
        big = "9" * 30
        for path in (f"/claims/{big}", f"/files/{big}/raw", f"/payments/cycles/{big}"):
            assert c.get(path).status_code == 400, path
        assert c.post(f"/claims/{big}/deny/preview",
                      data={"csrf_token": token, "carc": "29"}).status_code == 400
        # while the same requests without the NUL are answered as usual
        assert search(c, token, "member", "abc").status_code == 200
        assert c.get("/queues/denials?payee=1").status_code == 200


def test_a_fault_is_a_500_logged_by_its_type_only_and_never_handed_to_the_server(
        seeded: tuple[Store, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a queue query that raises with claim data in its text, as a database error
    # quotes its statement and values (found by an audit: Starlette's 500 handler
    # re-raised every fault for uvicorn to log whole, values and all)
    import structlog

    from review import queries

    store, archive = seeded
    c = client(store, archive)  # raises whatever reaches the server, as uvicorn logs it
    sign_in(c, "analyst")

    def broken(*_args: object) -> None:
        raise RuntimeError("SELECT ... WHERE member_id = 'SECRET-MEMBER-944749930'")

    monkeypatch.setattr(queries, "queue", broken)
    with structlog.testing.capture_logs() as logs:
        answer = c.get("/queues/pends")
    # Then the page is a 500 with the headers of any page, and the log names the type
    assert answer.status_code == 500 and "the fault is logged" in answer.text
    assert answer.headers["x-frame-options"] == "DENY"
    assert logs == [{"event": "review.fault", "path": "/queues/pends",
                     "error": "RuntimeError", "log_level": "error"}]
    assert "SECRET" not in answer.text and "SECRET" not in str(logs)


def test_a_filter_longer_than_any_code_or_name_is_a_400(seeded: tuple[Store, Path]) -> None:
    # a LIKE pattern of 50,000 characters was a 500 on SQLite (found by an audit)
    store, archive = seeded
    c = client(store, archive)
    token = sign_in(c, "analyst")
    for name in ("code", "partner", "payee", "lob"):
        long = c.get(f"/queues/pends?{name}={'x' * 81}")
        assert long.status_code == 400 and "at most 80 characters" in long.text, name
        assert c.get(f"/queues/pends?{name}={'x' * 80}").status_code == 200, name
    redecide = c.post("/queues/pends/redecide", data={"csrf_token": token,
                                                      "code": "%" * 50_000})
    assert redecide.status_code == 400


def test_a_download_of_a_file_named_outside_ascii_is_served_not_a_500(tmp_path: Path) -> None:
    """The 999 download wrote the received name raw into Content-Disposition, which
    HTTP headers cannot carry beyond Latin-1: a file named claims-€.837 was a 500."""
    from typer.testing import CliRunner

    from review.auth import add_user
    from review.roles import Role
    from review.web import attachment
    from store.engine import sqlite_url
    from tests.paths import ACK_FIXTURES
    from workers.cli import app

    assert attachment("a.999") == {"Content-Disposition": 'attachment; filename="a.999"'}
    assert attachment('a"\r\nb€.999') == {
        "Content-Disposition": "attachment; filename*=utf-8''a%22%0D%0Ab%E2%82%AC.999"}
    source = tmp_path / "claims-€.837"
    source.write_bytes((ACK_FIXTURES / "valid-two-claims.837").read_bytes())
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["process", str(source), "--out", str(out),
                                    "--quiet"]).exit_code == 0
    store = Store(sqlite_url(out))
    try:
        add_user(store, USERS["analyst"], Role.ANALYST, PASSWORD, datetime.now(tz=UTC))
        c = client(store, out / "archive")
        sign_in(c, "analyst")
        with store.transaction() as s:
            from store.models import ReceivedFile
            file_id = s.scalar(select(ReceivedFile.id))
        for what, kind in (("raw", "837"), ("ack", "999"), ("277ca", "277ca")):
            answer = c.get(f"/files/{file_id}/{what}")
            assert answer.status_code == 200, what
            assert answer.headers["content-disposition"] == (
                f"attachment; filename*=utf-8''claims-%E2%82%AC.{kind}")
    finally:
        store.dispose()


def test_parallel_wrong_passwords_on_postgresql_still_lock_the_account(tmp_path: Path) -> None:
    # Given a user on PostgreSQL and accounts that lock after 4 failures
    import threading

    from review.auth import add_user, sign_in
    from review.roles import Role
    from review.settings import ReviewSettings
    from store import migrate
    from store.models import ReviewUser

    settings = ReviewSettings(lock_after=4)
    with database("postgresql", tmp_path / "db") as url:
        migrate.upgrade(url)
        store = Store(url)
        try:
            add_user(store, "guessed", Role.VIEWER, PASSWORD, datetime.now(tz=UTC))
            # When ten wrong passwords arrive at once (each sign-in its own transaction)
            start = threading.Barrier(10)
            answers: list[str | None] = []

            def guess(i: int) -> None:
                start.wait()
                answers.append(sign_in(store, "guessed", f"wrong guess {i:04}", "t",
                                       datetime.now(tz=UTC), settings))

            threads = [threading.Thread(target=guess, args=(i,)) for i in range(10)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            # Then every one failed, each was counted, and the account is locked: the
            # right password is refused now
            assert answers == [None] * 10
            with store.transaction() as s:
                user = s.scalar(select(ReviewUser).where(ReviewUser.name == "guessed"))
                assert user is not None and user.locked_until is not None
            assert sign_in(store, "guessed", PASSWORD, "t", datetime.now(tz=UTC),
                           settings) is None
        finally:
            store.dispose()


def test_a_client_that_hangs_up_mid_upload_is_not_logged_as_a_fault(
        seeded: tuple[Store, Path]) -> None:
    # Given a POST whose client disconnects before its body is read whole (found by an
    # audit: the guard returned no response, and the app logged a review.fault 500)
    import asyncio

    import structlog

    from review.app import create_app
    from review.settings import ReviewSettings

    store, archive = seeded
    app = create_app(store, ReviewSettings(archive_dir=archive))
    incoming = [{"type": "http.request", "body": b"na", "more_body": True},
                {"type": "http.disconnect"}]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "https", "path": "/login", "raw_path": b"/login",
             "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1),
             "server": ("testserver", 443),
             "headers": [(b"host", b"testserver"), (b"content-length", b"40"),
                         (b"content-type", b"application/x-www-form-urlencoded")]}
    with structlog.testing.capture_logs() as logs:
        asyncio.run(app(scope, receive, send))
    # Then nothing is logged as the engine's fault, and no 500 is answered
    assert [e for e in logs if e.get("event") == "review.fault"] == []
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] != [500]


def test_a_password_holding_a_byte_no_encoding_decoded_is_refused_by_add_user(
    seeded: tuple[Store, Path],
) -> None:
    """The command line checks it (workers.cli); add_user itself hashed it, and
    argon2 raised UnicodeEncodeError from inside the store's transaction."""
    from review.auth import UserError, add_user
    from review.roles import Role

    store, _archive = seeded
    with pytest.raises(UserError, match="a password is UTF-8 text"):
        add_user(store, "surrogate", Role.VIEWER, PASSWORD + "\udcff", datetime.now(tz=UTC))
