"""The review bench's check at a small size: the bulk fill's queue pages show what the
store holds, on SQLite and PostgreSQL.

`make bench` fills 100,000 claims and checks every queue page it times against plain
reads of the store (`workers.bench_check`); this runs the same fill and the same check
on 2,000 claims, at the bench's page size and at seven to a page (so the deep pages
exist), in seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from review.app import create_app
from review.auth import add_user
from review.roles import Role
from review.settings import ReviewSettings
from store.engine import Store
from store.migrate import upgrade
from workers.bench_check import check_pages, expected, held, problems
from workers.bench_fill import fill
from workers.bench_review import PASSWORD, pages, searches, sign_in, timed_search


def test_every_queue_page_of_the_bench_fill_shows_what_the_store_holds(
        database_url: str) -> None:
    upgrade(database_url)
    store = Store(database_url)
    try:
        sample = fill(store, 2_000)  # four files: one from each of the first four senders
        add_user(store, "bench-analyst", Role.ANALYST, PASSWORD, datetime.now(tz=UTC))
        asked = pages(sample)
        queues = [(label, path) for label, path in asked if path.startswith("/queues/")]
        assert len(queues) == 33  # eleven pages of each queue
        for page_size in (50, 7):
            client = TestClient(create_app(store, ReviewSettings(archive_dir=None,
                                                                 page_size=page_size)),
                                base_url="https://testserver", follow_redirects=False)
            token = sign_in(client)
            checked, wrong = check_pages(client, store, asked, page_size)
            assert (checked, wrong) == (33, [])
        # the searches the bench times are posted and find claims (an empty form page,
        # what a GET of /search shows, would fail the bench rather than be timed)
        assert [kind for _label, kind, _value in searches(sample)] == ["npi", "rendering"]
        for _label, kind, value in searches(sample):
            assert timed_search(client, token, kind, value) > 0
        with pytest.raises(SystemExit, match="without the claims"):
            timed_search(client, token, "npi", "0000000000")
        # the check is not vacuous: each filter finds claims on some queue at this size
        # (not every filter at once: its sender's four files fall outside its month) ...
        claims = held(store)
        found: dict[str, int] = {}
        for label, path in queues:
            kind, _, query = path.removeprefix("/queues/").partition("?")
            params = dict(p.split("=", 1) for p in query.split("&") if p)
            what = label.split(": ", 1)[1].split(" ")[0]  # "sender", "code", "a", ...
            found[what] = found.get(what, 0) + expected(claims, kind, params, 50).count
        assert [what for what, count in found.items() if not count] == ["every"]
        # ... and a page that shows rows in another order, or another count, is caught
        want = expected(claims, "denials", {"sort": "charge", "dir": "desc"}, 7)
        page = client.get("/queues/denials?sort=charge&dir=desc").text  # seven a page
        assert problems(page, want) == []
        first, second = (f'href="/claims/{i}" class="claim-link"' for i in want.ids[:2])
        swapped = page.replace(first, "@").replace(second, first).replace("@", second)
        assert [p[:4] for p in problems(swapped, want)] == ["rows"]
        recounted = page.replace(f"<strong>{want.count:,}</strong>",
                                 f"<strong>{want.count + 1:,}</strong>")
        assert [p[:5] for p in problems(recounted, want)] == ["count"]
    finally:
        store.dispose()
