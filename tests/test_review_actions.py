"""What the review screens' actions leave behind: delivered 835s, audit rows in the
action's own transaction, locked users, and times in the business time zone.

Given the store of tests/review_support.py (rejections, denials, a pend, no cycle yet)
and a user of each role.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select, update

from review import auth, web
from review.app import create_app
from review.settings import ReviewSettings
from store.engine import Store
from store.models import (
    AuditEntry,
    Claim,
    DecisionRecord,
    Event,
    Interchange,
    PaymentCycle,
    PendRelease,
    ReceivedFile,
    RemittanceRecord,
    RemittedClaim,
    ReviewSession,
    ReviewUser,
)
from tests.review_support import (
    AS_OF,
    USERS,
    claim_ids,
    client,
    payer_today,
    release_cycle,
    seeded_store,
    sign_in,
)
from workers.archive import archive_path
from workers.cli import _review_delivery
from workers.delivery import undelivered_remittances


@pytest.fixture
def sqlite_seeded(tmp_path: Path) -> Iterator[tuple[Store, Path]]:
    with seeded_store("sqlite", tmp_path) as seeded:
        yield seeded


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Path]]:
    with seeded_store(request.param, tmp_path) as seeded:
        yield seeded


def _app_client(store: Store, archive: Path, deliver: Callable[[], int] | None = None,
                **settings: Any) -> TestClient:
    app = create_app(store, ReviewSettings(archive_dir=archive, **settings), deliver=deliver)
    return TestClient(app, base_url="https://testserver", follow_redirects=False,
                      raise_server_exceptions=False)


def _audit(store: Store, action: str) -> list[AuditEntry]:
    with store.transaction() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _release_cycle(c: TestClient) -> int:
    released = release_cycle(c, sign_in(c, "supervisor"))
    assert released.status_code == 303, released.text
    return int(released.headers["location"].rsplit("/", 1)[-1])


def test_a_cycle_released_on_the_screens_is_delivered_to_the_partners_like_the_services(
        sqlite_seeded: tuple[Store, Path], tmp_path: Path) -> None:
    store, archive = sqlite_seeded
    data = tmp_path / "review-data"
    deliver = _review_delivery(store, archive, data, None, None)  # claims review --out DIR
    assert deliver is not None
    c = _app_client(store, archive, deliver)
    cycle_id = _release_cycle(c)
    with store.transaction() as s:
        remittances = list(s.execute(select(RemittanceRecord.payee_npi,
                                            RemittanceRecord.trace_number,
                                            RemittanceRecord.sha256)))
        senders = set(s.scalars(select(Interchange.sender_id).where(
            Interchange.accepted.is_(True))))
        delivered = set(s.scalars(select(Event.subject).where(
            Event.kind == "remittance.delivered")))
    assert remittances and undelivered_remittances(store) == 0
    for npi, trace, sha in remittances:
        assert trace in delivered
        copies = list((data / "outbound").glob(f"*/{npi}-{trace}.835"))
        assert copies, trace
        assert {p.parent.name.split("-", 1)[1] for p in copies} <= senders
        assert all(p.read_bytes() == archive_path(archive, sha).read_bytes() for p in copies)
    page = c.get(f"/payments/cycles/{cycle_id}").text
    assert "not yet" not in page and page.count('<td class="delivery">yes</td>') == len(
        remittances)


def test_a_cycle_s_page_shows_its_835s_a_page_at_a_time_and_its_totals_over_all(
        sqlite_seeded: tuple[Store, Path]) -> None:
    """A cycle pays every payee with decided claims: its page lists a page of 835s at
    a time, and says what the whole cycle paid, in how many 835s."""
    store, archive = sqlite_seeded
    cycle_id = _release_cycle(_app_client(store, archive))
    with store.transaction() as s:
        released = list(s.execute(select(RemittanceRecord.trace_number,
                                         RemittanceRecord.amount_cents)
                                  .order_by(RemittanceRecord.id)))
    assert len(released) >= 3, "the seeded store pays at least three payees"
    paid = sum(cents for _trace, cents in released)
    c = _app_client(store, archive, page_size=2)
    sign_in(c, "analyst")
    shown = []
    pages = -(-len(released) // 2)
    for page in range(1, pages + 1):
        text = c.get(f"/payments/cycles/{cycle_id}?page={page}").text
        assert f"Page {page} of {pages}" in text
        assert f"{paid // 100:,}.{paid % 100:02d} in {len(released)} 835s" in text
        shown += [trace for trace, _cents in released if f"<td>{trace}</td>" in text]
        assert text.count('<td class="delivery">') == min(2, len(released) - 2 * (page - 1))
    assert shown == [trace for trace, _cents in released]  # each once, in order
    # a page past the end shows the last one
    assert f"Page {pages} of {pages}" in c.get(f"/payments/cycles/{cycle_id}?page=999").text


def _pages_of_waiting(c: TestClient, first: str, pages: int) -> list[str]:
    """The text of each page of the waiting payees, following the pager's own links
    from ``first``; the pager says which page and of how many on each."""
    texts, url = [], first
    for page in range(1, pages + 1):
        text = c.get(url).text
        assert f"Page {page} of {pages}" in text, url
        texts.append(text)
        following = re.search(r'href="([^"]*)" rel="next"', text[text.index('id="waiting"'):])
        if page < pages:
            assert following, url
            url = html.unescape(following.group(1))
    return texts


def test_the_payees_waiting_for_a_cycle_are_listed_a_page_at_a_time_under_their_totals(
        seeded: tuple[Store, Path]) -> None:
    """The payments overview and the release preview list the payees the next cycle
    would pay a page at a time, under what it would pay them all (counted here from
    every decision, not by the screens' query); the overview's two pagers keep each
    other's page."""
    store, archive = seeded
    owed: dict[str, list[int]] = {}
    with store.transaction() as s:
        remitted = set(s.scalars(select(RemittedClaim.claim_id)))
        for npi, claim_id, status, cents in s.execute(
                select(Claim.billing_npi, Claim.id, DecisionRecord.status,
                       DecisionRecord.paid_cents)
                .join(DecisionRecord, DecisionRecord.claim_id == Claim.id)
                .where(DecisionRecord.current.is_(True))):
            if status != "pended" and claim_id not in remitted:
                owed.setdefault(npi or "", []).append(cents)
    assert len(owed) >= 3, "the seeded store has decided claims for at least three payees"
    claims, paid = sum(map(len, owed.values())), sum(map(sum, owed.values()))
    money = f"${paid // 100:,}.{paid % 100:02d} in all"
    c = _app_client(store, archive, page_size=2)
    sign_in(c, "supervisor")
    pages = -(-len(owed) // 2)
    for first, said in (("/payments", f"{claims} decided claims, {money}, for {len(owed)} payees"),
                        (f"/payments/release?as_of={AS_OF}",
                         f"{claims} decided claims received by {AS_OF} would be remitted, "
                         f"{money} to {len(owed)} payees")):
        with payer_today(AS_OF):
            texts = _pages_of_waiting(c, first, pages)
        shown = [re.findall(r"<tr><td>(\d*)</td>", text[text.index('id="waiting"'):])
                 for text in texts]
        assert [npi for page in shown for npi in page] == sorted(owed), first
        assert all(said in text for text in texts), first
    # the overview's waiting pager keeps the cycles' page; a page past the end shows the
    # last one
    assert 'href="/payments?page=1&amp;waiting_page=2" rel="next"' in c.get("/payments").text
    assert f"Page {pages} of {pages}" in c.get("/payments?waiting_page=999").text
    with payer_today(AS_OF):
        assert f"Page {pages} of {pages}" in c.get(
            f"/payments/release?as_of={AS_OF}&page=999").text


def test_a_delivery_that_fails_leaves_the_released_835s_for_claims_redeliver(
        sqlite_seeded: tuple[Store, Path], tmp_path: Path) -> None:
    store, archive = sqlite_seeded
    blocked = tmp_path / "outbound"
    blocked.write_text("a file where the outbound folder should be")
    deliver = _review_delivery(store, archive, None, blocked, None)
    assert deliver is not None
    c = _app_client(store, archive, deliver)
    cycle_id = _release_cycle(c)
    with store.transaction() as s:
        assert s.scalar(select(PaymentCycle.outcome)) == "released"
        count = s.scalar(select(func.count()).select_from(RemittanceRecord))
    assert count and undelivered_remittances(store) == count
    page = c.get(f"/payments/cycles/{cycle_id}").text
    assert page.count("not yet (claims redeliver)") == count
    blocked.unlink()
    assert deliver() == count and undelivered_remittances(store) == 0


def test_an_action_and_its_audit_row_commit_together_or_neither_does(
        seeded: tuple[Store, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    store, archive = seeded
    real = auth.audit
    failing = {"pend.release", "pend.deny", "cycle.release", "user.lock"}

    def audit_then_fail(s: Any, user: str, action: str, *args: Any, **detail: Any) -> None:
        real(s, user, action, *args, **detail)  # the row is written, then the commit fails
        if action in failing:
            raise RuntimeError("the audit log is full")

    monkeypatch.setattr(auth, "audit", audit_then_fail)
    (pended,) = claim_ids(store, "pended")
    analyst = _app_client(store, archive)
    token = sign_in(analyst, "analyst")
    assert analyst.post(f"/claims/{pended}/release", data={
        "csrf_token": token, "allowed_1": "80.00"}).status_code == 500
    assert analyst.post(f"/claims/{pended}/deny", data={
        "csrf_token": token, "carc": "96", "rarc": "N130"}).status_code == 500
    supervisor = _app_client(store, archive)
    supervisor_token = sign_in(supervisor, "supervisor")
    assert release_cycle(supervisor, supervisor_token).status_code == 500
    admin = _app_client(store, archive)
    admin_token = sign_in(admin, "admin")
    assert admin.post(f"/users/{USERS['viewer']}/lock",
                      data={"csrf_token": admin_token}).status_code == 500
    with store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(PendRelease)) == 0
        assert s.scalar(select(func.count()).select_from(PaymentCycle)) == 0
        assert s.scalar(select(func.count()).select_from(RemittedClaim)) == 0
        assert s.scalar(select(func.count()).select_from(Event).where(
            Event.kind.in_(["pend.released", "pend.denied", "cycle.released"]))) == 0
        assert s.scalar(select(ReviewUser.locked_until).where(
            ReviewUser.name == USERS["viewer"])) is None
    assert claim_ids(store, "pended") == [pended]
    assert all(_audit(store, action) == [] for action in failing)
    # with the audit log working, the release and its row are one transaction's
    monkeypatch.setattr(auth, "audit", real)
    assert analyst.post(f"/claims/{pended}/release", data={
        "csrf_token": token, "allowed_1": "80.00"}).status_code == 303
    (row,) = _audit(store, "pend.release")
    with store.transaction() as s:
        (release,) = s.scalars(select(PendRelease))
    assert auth.aware(row.at) == auth.aware(release.released_at)
    assert (row.user_name, row.detail["allowed"]) == (USERS["analyst"], {"1": "80.00"})


def test_an_admin_locks_and_unlocks_a_user_with_the_users_screen_buttons(
        sqlite_seeded: tuple[Store, Path]) -> None:
    store, archive = sqlite_seeded
    viewer_name = USERS["viewer"]
    viewer = client(store, archive)
    sign_in(viewer, "viewer")
    admin = client(store, archive)
    token = sign_in(admin, "admin")
    assert f'action="/users/{viewer_name}/lock"' in admin.get("/users").text

    def locked() -> datetime | None:
        with store.transaction() as s:
            return s.scalar(select(ReviewUser.locked_until).where(
                ReviewUser.name == viewer_name))

    # no CSRF token, or a non-admin's: refused, nothing changes
    assert admin.post(f"/users/{viewer_name}/lock", data={}).status_code == 403
    supervisor = client(store, archive)
    supervisor_token = sign_in(supervisor, "supervisor")
    refused = supervisor.post(f"/users/{viewer_name}/lock",
                              data={"csrf_token": supervisor_token})
    assert refused.status_code == 403 and "Managing users" in refused.text
    assert locked() is None
    assert [a.user_name for a in _audit(store, "access.denied")
            if a.subject == f"/users/{viewer_name}/lock"] == [USERS["supervisor"]]
    # the admin's button locks the account and ends its sessions
    done = admin.post(f"/users/{viewer_name}/lock", data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == "/users"
    assert locked() is not None and auth.aware(locked()) == auth.DISABLED_UNTIL  # type: ignore[arg-type]
    assert viewer.get("/files").status_code == 303
    with store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(ReviewSession).join(
            ReviewUser, ReviewUser.id == ReviewSession.user_id).where(
            ReviewUser.name == viewer_name)) == 0
    (lock_row,) = _audit(store, "user.lock")
    assert (lock_row.user_name, lock_row.subject) == (USERS["admin"], viewer_name)
    page = admin.get("/users").text
    assert f'action="/users/{viewer_name}/unlock"' in page and ">Unlock<" in page
    # and unlocks it: the person signs in again
    assert admin.post(f"/users/{viewer_name}/unlock",
                      data={"csrf_token": token}).status_code == 303
    assert locked() is None
    (unlock_row,) = _audit(store, "user.unlock")
    assert (unlock_row.user_name, unlock_row.subject) == (USERS["admin"], viewer_name)
    sign_in(client(store, archive), "viewer")
    assert admin.post(f"/users/{USERS['admin']}/lock",
                      data={"csrf_token": token}).status_code == 400
    assert admin.post("/users/nobody/lock", data={"csrf_token": token}).status_code == 400


def test_times_are_shown_in_the_business_time_zone_with_its_abbreviation(
        sqlite_seeded: tuple[Store, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    store, archive = sqlite_seeded
    monkeypatch.delenv("EDI_BUSINESS_TIMEZONE", raising=False)
    with store.transaction() as s:
        s.execute(update(ReceivedFile).values(
            received_at=datetime(2026, 11, 23, 15, 4, tzinfo=UTC)))
    chicago = client(store, archive)
    sign_in(chicago, "analyst")
    files = chicago.get("/files").text
    assert "2026-11-23 09:04 CST" in files and "UTC" not in files
    monkeypatch.setenv("EDI_BUSINESS_TIMEZONE", "America/New_York")
    eastern = client(store, archive)
    sign_in(eastern, "analyst")
    assert "2026-11-23 10:04 EST" in eastern.get("/files").text
    with store.transaction() as s:
        s.execute(update(ReceivedFile).values(
            received_at=datetime(2026, 7, 1, 15, 4, tzinfo=UTC)))
    assert "2026-07-01 11:04 EDT" in eastern.get("/files").text
    # a cycle's default as-of day is the payer's date: 03:00 UTC is the evening before
    supervisor = client(store, archive)
    sign_in(supervisor, "supervisor")
    monkeypatch.setattr(web, "now", lambda: datetime(2026, 11, 24, 3, 0, tzinfo=UTC))
    assert 'id="as-of" value="2026-11-23"' in supervisor.get("/payments").text
    monkeypatch.setenv("EDI_BUSINESS_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(ValidationError):
        ReviewSettings()


def test_the_pends_queue_decides_again_what_a_loaded_release_now_decides(
        tmp_path: Path) -> None:
    # Given the two-claim sample decided without FY2027 (both pend: no release is in
    # force on their November 2026 services), and the screens running with FY2027
    # loaded (the tests' EDI_CODE_SETS_DIR)
    from tests.databases import database
    from tests.paths import ACK_FIXTURES
    from tests.review_support import seed

    empty = tmp_path / "no-releases"
    empty.mkdir()
    with database("sqlite", tmp_path / "db") as url:
        archive = seed(url, tmp_path, sources=[ACK_FIXTURES / "valid-two-claims.837"],
                       options=("--code-sets", str(empty)))
        store = Store(url)
        try:
            with store.transaction() as s:
                pended = sorted(s.scalars(select(DecisionRecord.icn).where(
                    DecisionRecord.current.is_(True), DecisionRecord.status == "pended")))
            assert len(pended) == 2
            # When an analyst whose limit is 1.00 asks, on the queue filtered by rule
            low = _app_client(store, archive, analyst_release_limit="1.00")
            token = sign_in(low, "analyst")
            page = low.get("/queues/pends?code=DIAGNOSIS-CODE-SET")
            assert 'id="redecide-form"' in page.text
            # (each pend says how long it has waited; looked at on 2026-12-30, the
            # Medicaid one's 30-day prompt-pay mark, 2026-12-23, has passed, and the
            # commercial one shows no clock: state prompt-pay laws are not on file)
            with pytest.MonkeyPatch.context() as later:
                later.setattr("review.pages.business_today", lambda _r: date(2026, 12, 30))
                aged = low.get("/queues/pends?code=DIAGNOSIS-CODE-SET").text
            assert aged.count("37 days") == 2
            assert aged.count("prompt-pay day 2026-12-23 passed") == 1
            refused = low.post("/queues/pends/redecide",
                               data={"csrf_token": token, "code": "DIAGNOSIS-CODE-SET"})
            # Then nothing is released above the limit: each says why, and stays pended
            assert refused.status_code == 200, refused.text
            assert "0</strong> decided" in refused.text
            assert refused.text.count("above your release limit of 1.00") == 2
            # When an analyst with the default limit asks
            c = _app_client(store, archive)
            token = sign_in(c, "analyst")
            done = c.post("/queues/pends/redecide",
                          data={"csrf_token": token, "code": "DIAGNOSIS-CODE-SET"})
            # Then both are decided and paid, each release audited under their name
            assert done.status_code == 200, done.text
            assert "2</strong> decided" in done.text
            with store.transaction() as s:
                now = dict(s.execute(select(DecisionRecord.icn, DecisionRecord.status)
                                     .where(DecisionRecord.current.is_(True))).all())
                releases = sorted(r.icn for r in s.scalars(select(PendRelease)))
            assert [now[icn] for icn in pended] == ["paid", "paid"] and releases == pended
            audited = _audit(store, "pend.redecide")
            assert sorted(a.subject for a in audited) == pended
            assert {a.user_name for a in audited} == {USERS["analyst"]}
            # And a viewer may not
            viewer = _app_client(store, archive)
            viewer_token = sign_in(viewer, "viewer")
            assert viewer.post("/queues/pends/redecide",
                               data={"csrf_token": viewer_token}).status_code == 403
        finally:
            store.dispose()


def test_the_prompt_pay_clock_is_30_days_for_medicare_advantage_and_medicaid_only() -> None:
    from review.aging import age

    received = date(2026, 11, 1)
    ma = age(received, "medicare_advantage", date(2026, 12, 1))
    assert (ma.days, ma.due, ma.overdue) == (30, date(2026, 12, 1), False)
    assert age(received, "medicaid", date(2026, 12, 2)).overdue
    assert age(received, "commercial", date(2027, 3, 1)) == (
        age(received, None, date(2027, 3, 1))) and age(received, "commercial",
                                                       date(2027, 3, 1)).due is None


def _redecide_fields(page: str) -> dict[str, str]:
    """The hidden fields of a page's "Decide these again" form (what it will act on)."""
    form = page[page.index('id="redecide-form"'):]
    form = form[:form.index("</form>")]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))


def test_decide_these_again_carries_the_filters_the_results_on_screen_were_asked_with(
        tmp_path: Path) -> None:
    # Given the seed's pend and two pends received later, one commercial, one Medicaid
    from tests.review_support import receive_later

    with seeded_store("sqlite", tmp_path) as (store, archive):
        receive_later(store.url, tmp_path)
        c = _app_client(store, archive)
        sign_in(c, "analyst")
        everything = c.get("/queues/pends").text
        assert _redecide_fields(everything)["lob"] == ""
        # When the queue is filtered by htmx (which swaps only the results, as a
        # browser does: the filter form itself stays as it was first loaded)
        swapped = c.get("/queues/pends?lob=medicaid", headers={"HX-Request": "true"})
        assert swapped.status_code == 200 and "<h1>" not in swapped.text
        # Then the swapped results carry a "Decide these again" form for that filter,
        # saying how many claims it acts on
        fields = _redecide_fields(swapped.text)
        assert fields["lob"] == "medicaid" and fields["csrf_token"]
        assert "1</strong> claim," in swapped.text
        assert "Decide these 1 again" in swapped.text
        # And posting it acts on the Medicaid pend only, not on every pend
        done = c.post("/queues/pends/redecide", data=fields)
        assert done.status_code == 200, done.text
        assert "of 1 pended claim these filters select" in done.text
        # And a filter that selects no pend offers nothing to decide again
        none = c.get("/queues/pends?lob=medicaid&min_charge=99999",
                     headers={"HX-Request": "true"}).text
        assert 'id="redecide-form"' not in none


def test_a_cycle_release_pays_what_its_preview_showed_or_nothing(
        sqlite_seeded: tuple[Store, Path]) -> None:
    # Given a supervisor's release preview as of the seed's day
    store, archive = sqlite_seeded
    supervisor = _app_client(store, archive)
    token = sign_in(supervisor, "supervisor")
    with payer_today(AS_OF):
        preview = supervisor.get(f"/payments/release?as_of={AS_OF}").text
    shown = re.search(r'name="shown" value="([0-9a-f]{64})"', preview)
    assert shown is not None
    form = {"csrf_token": token, "as_of": AS_OF, "shown": shown.group(1)}
    # When an analyst releases the pend after the preview (one more claim to pay)
    (pended,) = claim_ids(store, "pended")
    analyst = _app_client(store, archive)
    assert analyst.post(f"/claims/{pended}/release", data={
        "csrf_token": sign_in(analyst, "analyst"), "allowed_1": "80.00"}).status_code == 303
    # Then the preview's form is refused: it would pay what the preview did not show
    refused = {"Nothing was released", "show the cycle again before releasing"}
    with payer_today(AS_OF):
        stale = supervisor.post("/payments/release", data=form)
        assert stale.status_code == 400 and all(s in stale.text for s in refused)
        # and so is a release with no preview behind it
        blind = supervisor.post("/payments/release", data={**form, "shown": ""})
        assert blind.status_code == 400 and "Nothing was released" in blind.text
    with store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(PaymentCycle)) == 0
    # When the cycle is previewed again and released, then its form is sent again
    with payer_today(AS_OF):
        preview = supervisor.get(f"/payments/release?as_of={AS_OF}").text
        again = re.search(r'name="shown" value="([0-9a-f]{64})"', preview)
        assert again is not None
        form["shown"] = again.group(1)
        assert supervisor.post("/payments/release", data=form).status_code == 303
        twice = supervisor.post("/payments/release", data=form)
    # Then the second is refused: one cycle, released, and no empty cycle recorded
    assert twice.status_code == 400 and "Nothing was released" in twice.text
    with store.transaction() as s:
        assert list(s.scalars(select(PaymentCycle.outcome))) == ["released"]


def test_a_pend_release_waits_for_a_batch_deciding_for_the_same_member(
        tmp_path: Path) -> None:
    """A batch of a file holds an advisory lock on each member and original it decides
    for (PostgreSQL). A release took none: a replacement released while another
    replacement of the same original was decided reversed that original twice, and every
    later payment cycle failed on the store's key for it, for every payee."""
    import threading

    from sqlalchemy import text

    from edi.validators.codesets import default_registry
    from review.work import reference_source
    from workers.review_cli import release

    with seeded_store("postgresql", tmp_path) as (store, _archive):
        with store.transaction() as s:
            icn, subscriber = s.execute(select(Claim.icn, Claim.subscriber_id).where(
                Claim.decision_status == "pended").limit(1)).one()
        outcome: list[str] = []

        def released() -> None:
            try:
                outcome.append(release(store, icn, {}, "ops", "", reference_source(store),
                                       code_sets=default_registry()).status)
            except Exception as exc:  # a refusal is an outcome too; it must only come after
                outcome.append(type(exc).__name__)

        with store.engine.connect() as batch, batch.begin():  # a batch deciding for the member
            batch.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                          {"key": subscriber})
            worker = threading.Thread(target=released)
            worker.start()
            worker.join(2)
            assert worker.is_alive() and outcome == [], (outcome, subscriber)  # it waits
        worker.join(60)
        assert not worker.is_alive() and len(outcome) == 1
