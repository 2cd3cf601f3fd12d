"""`make bench`, the review part: every work-queue page at 100,000 claims, on SQLite and
on PostgreSQL, against the 300 ms target.

    python -m workers.bench_review [--claims N] [--repeat R] [--engine sqlite|postgresql]

A store is filled in bulk (Core inserts, not the pipeline; `workers.bench_fill`) with
100,000 claims over 200 files from 8 senders, 500 payees, 2,000 clinicians, three
lines of business, three months of receipt dates and charges from $20 to $4,000:
10% rejected by the front end, 30% denied, 8% pended, the rest paid, the columns
and JSON as the engine writes them. Then an analyst signs in to the real application
(FastAPI's TestClient: routing, session check, SQL, template) and every page of the
three queues is asked for ``R`` times after one warm-up: unfiltered, filtered by
sender, payee, line of business, code, a month of receipt dates and a charge range,
sorted by charge and by claim number, a deep page, every filter at once; and
search by billing and rendering NPI, posted as the search form posts it (with the
session's CSRF token; a search is never a GET: the value searched stays out of URLs),
each answer checked to show the claims found. The table gives the median and the worst per
page and engine. Then every queue page is checked, not only timed
(`workers.bench_check`): its count, charge total, page number and rows against what
plain reads of the claims say it must show; a page that differs fails the bench. The
SQLite file is deleted and the PostgreSQL schema dropped after.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from workers.bench import DATA

TARGET_MS = 300.0
PASSWORD = "bench password 1"


def pages(sample: dict[str, str]) -> list[tuple[str, str]]:
    """(label, URL) of every queue page timed; ``sample`` names values that exist."""
    month = f"received_from={sample['from']}&received_to={sample['to']}"
    found: list[tuple[str, str]] = []
    for kind in ("rejections", "denials", "pends"):
        code = sample[f"code_{kind}"]
        base = f"/queues/{kind}"
        found += [
            (f"{kind}: first page", base),
            (f"{kind}: sender", f"{base}?partner={sample['partner']}"),
            (f"{kind}: payee", f"{base}?payee={sample['payee']}"),
            (f"{kind}: line of business", f"{base}?lob=medicaid"),
            (f"{kind}: code {code}", f"{base}?code={code}"),
            (f"{kind}: a month received", f"{base}?{month}"),
            (f"{kind}: charge $100-$500", f"{base}?min_charge=100&max_charge=500"),
            (f"{kind}: sort charge desc", f"{base}?sort=charge&dir=desc"),
            (f"{kind}: sort claim number", f"{base}?sort=claim"),
            (f"{kind}: deep page (100)", f"{base}?page=100"),
            (f"{kind}: every filter", f"{base}?partner={sample['partner']}&code={code}"
                                      f"&{month}&min_charge=20&max_charge=4000"
                                      f"&sort=charge&dir=desc"),
        ]
    return found


def searches(sample: dict[str, str]) -> list[tuple[str, str, str]]:
    """(label, kind, value) of every search timed: each a POST of the search form."""
    return [("search: billing NPI", "npi", sample["payee"]),
            ("search: rendering NPI", "rendering", sample["rendering"])]


@contextmanager
def _database(engine: str) -> Iterator[str]:
    from store.engine import sqlite_url

    if engine == "sqlite":
        scratch = DATA / "review-sqlite"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        try:
            yield sqlite_url(scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return
    from store.scratch import SERVER, scratch_schema

    with scratch_schema(SERVER) as url:
        yield url


def measure(engine: str, claims: int, repeat: int) -> dict[str, list[float]]:
    """Seconds per request of every page, on a fresh store of ``engine``."""
    from fastapi.testclient import TestClient

    from review.app import create_app
    from review.auth import add_user
    from review.roles import Role
    from review.settings import ReviewSettings
    from store.engine import Store
    from store.migrate import upgrade
    from workers.bench_check import check_pages
    from workers.bench_fill import fill

    with _database(engine) as url:
        upgrade(url)
        store = Store(url)
        try:
            start = time.perf_counter()
            sample = fill(store, claims)
            print(f"{engine}: {claims:,} claims written in "
                  f"{time.perf_counter() - start:.1f} s", flush=True)
            add_user(store, "bench-analyst", Role.ANALYST, PASSWORD, datetime.now(tz=UTC))
            client = TestClient(create_app(store, ReviewSettings(archive_dir=None)),
                                base_url="https://testserver", follow_redirects=False)
            token = sign_in(client)
            times: dict[str, list[float]] = {}
            for label, url_path in pages(sample):
                _get(client, url_path)  # warm-up: plans and pages cached as in use
                times[label] = [_get(client, url_path) for _ in range(repeat)]
            for label, kind, value in searches(sample):
                timed_search(client, token, kind, value)  # warm-up, as above
                times[label] = [timed_search(client, token, kind, value) for _ in range(repeat)]
            checked, wrong = check_pages(client, store, pages(sample),
                                         ReviewSettings().page_size)
            if wrong:
                raise SystemExit(f"{engine}: pages that do not show what the store holds:\n"
                                 + "\n".join(wrong))
            print(f"{engine}: {checked} queue pages checked: counts, charge totals, page "
                  f"numbers and rows agree with the store", flush=True)
            return times
        finally:
            store.dispose()


def sign_in(client: object) -> str:
    """Sign the bench analyst in; the session's CSRF token (a search posts it)."""
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    form = client.get("/login").text
    marker = 'name="csrf_token" value="'
    token = form[form.index(marker) + len(marker):].split('"', 1)[0]
    answer = client.post("/login", data={"name": "bench-analyst", "password": PASSWORD,
                                         "csrf_token": token, "next": "/"})
    if answer.status_code != 303:
        raise SystemExit(f"the bench user could not sign in: {answer.status_code}")
    page: str = client.get("/files").text
    return page[page.index(marker) + len(marker):].split('"', 1)[0]


def _get(client: object, path: str) -> float:
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    start = time.perf_counter()
    answer = client.get(path)
    seconds = time.perf_counter() - start
    if answer.status_code != 200 or 'id="totals"' not in answer.text:
        raise SystemExit(f"{path} answered {answer.status_code}")
    return seconds


def timed_search(client: object, token: str, kind: str, value: str) -> float:
    """Seconds for one search as the form sends it; an answer without the claims
    found (an empty form, a refusal) fails the bench rather than being timed."""
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    start = time.perf_counter()
    answer = client.post("/search", data={"csrf_token": token, "kind": kind, "q": value})
    seconds = time.perf_counter() - start
    if answer.status_code != 200 or 'href="/claims/' not in answer.text:
        raise SystemExit(f"the search by {kind} answered {answer.status_code} "
                         "without the claims it finds")
    return seconds


def table(results: dict[str, dict[str, list[float]]]) -> list[str]:
    """One line per page: median and worst per engine, in ms, and whether under target."""
    engines = list(results)
    labels = list(next(iter(results.values())))
    head = f"{'page':<36}" + "".join(f" {e + ' median':>18} {e + ' worst':>17}"
                                     for e in engines) + "  under 300 ms"
    lines = [head, "-" * len(head)]
    for label in labels:
        cells, ok = "", True
        for engine in engines:
            ms = [t * 1000 for t in results[engine][label]]
            worst = max(ms)
            ok = ok and worst < TARGET_MS
            cells += f" {statistics.median(ms):>18.1f} {worst:>17.1f}"
        lines.append(f"{label:<36}{cells}  {'yes' if ok else 'NO'}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), action="append")
    options = parser.parse_args()
    print(f"review queues at {options.claims:,} claims, {options.repeat} requests per page "
          f"after a warm-up, through the application (TestClient), ms")
    results = {engine: measure(engine, options.claims, options.repeat)
               for engine in options.engine or ("sqlite", "postgresql")}
    for line in table(results):
        print(line)
    slow = [label for label in next(iter(results.values()))
            if any(max(r[label]) * 1000 >= TARGET_MS for r in results.values())]
    print(f"every page under {TARGET_MS:.0f} ms" if not slow
          else f"over {TARGET_MS:.0f} ms: {', '.join(slow)}")


if __name__ == "__main__":
    main()
