"""The review screens through FastAPI's TestClient, on SQLite and on PostgreSQL.

Given a store with front-end rejections, timely-filing denials and a pend (no
payment cycle yet), each screen shows what the store holds, the queues filter,
sort and page in SQL, and pend work and payment cycles go through the engine's
own release and cycle steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Text, cast, func, select

from store.engine import Store
from store.models import (
    AuditEntry,
    Claim,
    DecisionRecord,
    PaymentCycle,
    PendRelease,
    RemittedClaim,
)
from tests.review_support import claim_ids, client, rejected_ids, seeded_store, sign_in


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Path]]:
    with seeded_store(request.param, tmp_path) as seeded:
        yield seeded


def _count(store: Store, *where: object) -> tuple[int, int]:
    with store.transaction() as s:
        count, total = s.execute(
            select(func.count(), func.coalesce(func.sum(Claim.charge_cents), 0))
            .join(DecisionRecord, DecisionRecord.claim_id == Claim.id)
            .where(DecisionRecord.current.is_(True), *where)).one()
    return int(count), int(total)


def test_files_queues_filters_sorting_and_pages(seeded: tuple[Store, Path]) -> None:
    store, archive = seeded
    c = client(store, archive, page_size=5)
    sign_in(c, "analyst")
    files = c.get("/files").text
    assert "demo-small.837" in files and "999 A" in files and "payer-billing-npi.837" in files
    # denials: counted and totalled over the whole queue, five to a page
    count, total = _count(store, DecisionRecord.status == "denied")
    page = c.get("/queues/denials").text
    assert f"<strong>{count}</strong> claims" in page
    assert f"${total / 100:,.2f}" in page
    assert "Page 1 of" in page and page.count('class="claim-link"') == 5
    last = c.get(f"/queues/denials?page={-(-count // 5)}").text
    assert last.count('class="claim-link"') == count - 5 * (-(-count // 5) - 1)
    # filtered by CARC, line of business, payee, charge and dates
    late, _ = _count(store, DecisionRecord.status == "denied",
                     cast(DecisionRecord.data, Text).like('%"carc":"29"%'))
    assert late and f"<strong>{late}</strong>" in c.get("/queues/denials?code=29").text
    assert f"<strong>{late}</strong>" in c.get("/queues/denials?code=CO-29").text
    assert "<strong>0</strong>" in c.get("/queues/denials?code=197").text
    medicare, _ = _count(store, DecisionRecord.status == "denied",
                         DecisionRecord.line_of_business == "medicare_advantage")
    assert f"<strong>{medicare}</strong>" in c.get(
        "/queues/denials?lob=medicare_advantage").text
    assert "<strong>0</strong>" in c.get("/queues/denials?payee=0000000000").text
    payee = "2356399792"
    theirs, _ = _count(store, DecisionRecord.status == "denied",
                       DecisionRecord.data["billing_npi"].as_string() == payee)
    assert theirs and f"<strong>{theirs}</strong>" in c.get(
        f"/queues/denials?payee={payee}").text
    cheap, _ = _count(store, DecisionRecord.status == "denied", Claim.charge_cents <= 15000)
    assert f"<strong>{cheap}</strong>" in c.get("/queues/denials?max_charge=150").text
    assert "<strong>0</strong>" in c.get("/queues/denials?received_from=2026-11-24").text
    assert f"<strong>{count}</strong>" in c.get(
        "/queues/denials?received_from=2026-11-23&received_to=2026-11-23").text
    assert "use YYYY-MM-DD" in c.get("/queues/denials?received_from=soon").text
    # sorted by charge, largest first; an htmx request gets the results alone
    with store.transaction() as s:
        largest = s.scalar(select(func.max(Claim.charge_cents)).join(
            DecisionRecord, DecisionRecord.claim_id == Claim.id).where(
            DecisionRecord.current.is_(True), DecisionRecord.status == "denied"))
    partial = c.get("/queues/denials?sort=charge&dir=desc",
                    headers={"HX-Request": "true"}).text
    assert "<html" not in partial and f"${largest / 100:,.2f}" in partial.split("</tr>")[1]
    # rejections and pends
    rejections = c.get("/queues/rejections").text
    assert f"<strong>{len(rejected_ids(store))}</strong>" in rejections
    assert "A7:562" in rejections and "check digit" in rejections
    assert "no fee on file" in c.get("/queues/pends").text


def _row(page: str, name: str) -> str:
    """The table row of the files screen that names ``name``."""
    (row,) = [r for r in page.split("<tr>") if f"<td>{name}" in r]
    return row.split("</tr>")[0]


def test_the_files_screen_flags_duplicates_says_why_a_file_was_rejected_and_serves_its_answers(
        seeded: tuple[Store, Path]) -> None:
    import hashlib
    import re

    from store.models import DuplicateReceipt, ReceivedFile
    from tests.paths import FIXTURES

    store, archive = seeded
    c = client(store, archive)
    sign_in(c, "analyst")
    page = c.get("/files").text
    # Given a file the 999 rejected (SBR09 not a claim filing indicator code)
    rejected = _row(page, "invalid-filing-indicator.837")
    assert "999 R" in rejected and "(rejected)" in rejected
    assert "SBR09 (Claim Filing Indicator Code) has an invalid code value" in rejected
    # none of its two claims reached: accepted, rejected and not reached counts
    assert '<td class="n">0</td>\n  <td class="n">0</td>\n  <td class="n">2</td>' in rejected
    assert "277CA" not in rejected  # no set passed the 999: no 277CA to download
    # and a file received again in a later run: flagged, with what it was answered
    again = _row(page, "pend-no-fee.837")
    assert "duplicate ×1" in again and "received again: answered TA1 025" in again
    assert "999 A" in again and ">277CA</a>" in again
    assert page.count("duplicate ×") == 1
    with store.transaction() as s:
        files = {Path(f.name).name: f for f in s.scalars(select(ReceivedFile))}
        (duplicate,) = s.scalars(select(DuplicateReceipt))
    assert duplicate.file_id == files["pend-no-fee.837"].id
    assert "TA1*000000501*261120*0930*R*025~" in duplicate.ack_text
    # the downloads: the 999 as the store keeps it, the received bytes, the 277CA
    bad = files["invalid-filing-indicator.837"]
    ack = c.get(f"/files/{bad.id}/ack")
    assert ack.status_code == 200 and ack.text == bad.ack_text
    assert "IK3*SBR*29**8~" in ack.text and "IK5*R*5~" in ack.text and "AK9*R*1*1*0~" in ack.text
    assert 'filename="invalid-filing-indicator.999"' in ack.headers["content-disposition"]
    raw = c.get(f"/files/{bad.id}/raw")
    assert raw.content == (FIXTURES / "ack" / "invalid-filing-indicator.837").read_bytes()
    assert c.get(f"/files/{bad.id}/277ca").status_code == 400
    npi = files["payer-billing-npi.837"]
    answer = c.get(f"/files/{npi.id}/277ca")
    assert answer.status_code == 200
    assert hashlib.sha256(answer.content).hexdigest() == npi.claim_ack_sha256
    # its two rejected claims (the STC date is the day the 277CA was written)
    assert len(re.findall(r"STC\*A7:562:85\*\d{8}\*U\*", answer.text)) == 2
    assert "The billing provider's NPI fails the NPI check digit." in answer.text
    assert 'filename="payer-billing-npi.277ca"' in answer.headers["content-disposition"]


def test_the_claim_page_shows_codes_in_words_the_trace_and_the_277ca(
        seeded: tuple[Store, Path]) -> None:
    store, archive = seeded
    c = client(store, archive)
    sign_in(c, "analyst")
    denied = claim_ids(store, "denied")[0]
    page = c.get(f"/claims/{denied}").text
    assert "CO-29" in page and "The time limit for filing has expired." in page
    assert 'id="timeline"' in page and "TIMELY-FILING" in page and "limit days" in page
    assert "accepted (A1:19 / A2:20)" in page
    assert "Decision version 1: denied" in page
    rejected = c.get(f"/claims/{rejected_ids(store)[0]}").text
    assert "rejected for invalid information" in rejected and "check digit" in rejected
    assert c.get("/claims/999999").status_code == 400


def test_an_analyst_previews_then_releases_a_pend_and_a_supervisor_pays_it(
        seeded: tuple[Store, Path]) -> None:
    store, archive = seeded
    analyst = client(store, archive)
    token = sign_in(analyst, "analyst")
    (pended,) = claim_ids(store, "pended")
    preview = analyst.post(f"/claims/{pended}/release/preview",
                           data={"csrf_token": token, "allowed_1": "80.00", "note": "agreed"})
    assert preview.status_code == 200
    assert "Before" in preview.text and "After" in preview.text and 'id="confirm"' in preview.text
    assert claim_ids(store, "pended") == [pended]  # nothing written yet
    bad = analyst.post(f"/claims/{pended}/release/preview",
                       data={"csrf_token": token, "allowed_1": "-5"})
    assert bad.status_code == 400 and "from 0" in bad.text
    done = analyst.post(f"/claims/{pended}/release",
                        data={"csrf_token": token, "allowed_1": "80.00", "note": "agreed"})
    assert done.status_code == 303
    with store.transaction() as s:
        (release,) = s.scalars(select(PendRelease))
        assert release.reviewer == "analyst-1" and release.overrides == {"1": "80.00"}
        status = s.scalar(select(DecisionRecord.status).where(
            DecisionRecord.claim_id == pended, DecisionRecord.current.is_(True)))
    assert status in ("paid", "partially_paid")
    # an analyst may not release a cycle; a supervisor previews and releases it
    refused = analyst.post("/payments/release", data={"csrf_token": token,
                                                      "as_of": "2026-11-23"})
    assert refused.status_code == 403
    supervisor = client(store, archive)
    token = sign_in(supervisor, "supervisor")
    preview = supervisor.get("/payments/release?as_of=2026-11-23").text
    assert "Release the cycle" in preview
    released = supervisor.post("/payments/release", data={"csrf_token": token,
                                                          "as_of": "2026-11-23"})
    assert released.status_code == 303
    cycle_page = supervisor.get(released.headers["location"]).text
    assert "released" in cycle_page and "advice" in cycle_page
    with store.transaction() as s:
        assert s.scalar(select(PaymentCycle.outcome)) == "released"
        assert s.scalar(select(func.count()).select_from(RemittedClaim).where(
            RemittedClaim.claim_id == pended)) == 1
        remittance_id = s.scalar(select(RemittedClaim.remittance_id).where(
            RemittedClaim.claim_id == pended))
        assert s.scalar(select(AuditEntry.subject).where(
            AuditEntry.action == "cycle.release")) is not None
    advice = supervisor.get(f"/payments/remittances/{remittance_id}/advice")
    assert advice.status_code == 200 and "Remittance advice" in advice.text
    assert "style-src 'sha256-" in advice.headers["content-security-policy"]
    assert "script-src" not in advice.headers["content-security-policy"]
    x12 = supervisor.get(f"/payments/remittances/{remittance_id}/835")
    assert x12.text.startswith("ISA*") and "attachment" in x12.headers["content-disposition"]
    history = supervisor.get(f"/claims/{pended}").text
    assert "Released by analyst-1" in history and "paid in" in history


def test_a_pend_is_denied_with_a_reason_code_and_an_analysts_limit_holds(
        seeded: tuple[Store, Path]) -> None:
    store, archive = seeded
    analyst = client(store, archive, analyst_release_limit="10.00")
    token = sign_in(analyst, "analyst")
    (pended,) = claim_ids(store, "pended")
    preview = analyst.post(f"/claims/{pended}/release/preview",
                           data={"csrf_token": token, "allowed_1": "80.00"})
    assert "above your release limit of 10.00" in preview.text
    assert 'id="confirm"' not in preview.text
    over = analyst.post(f"/claims/{pended}/release",
                        data={"csrf_token": token, "allowed_1": "80.00"})
    assert over.status_code == 403 and claim_ids(store, "pended") == [pended]
    denial = analyst.post(f"/claims/{pended}/deny/preview",
                          data={"csrf_token": token, "carc": "96", "note": "not necessary"})
    assert "CO-96" in denial.text and "REVIEW" not in denial.text
    assert analyst.post(f"/claims/{pended}/deny/preview",
                        data={"csrf_token": token, "carc": "1"}).status_code == 400
    done = analyst.post(f"/claims/{pended}/deny",
                        data={"csrf_token": token, "carc": "96", "note": "not necessary"})
    assert done.status_code == 303
    page = analyst.get(f"/claims/{pended}").text
    assert "REVIEW-DENIAL" in page and "Denied by analyst-1" in page
    with store.transaction() as s:
        data = s.scalar(select(DecisionRecord.data).where(
            DecisionRecord.claim_id == pended, DecisionRecord.current.is_(True)))
    assert data["status"] == "denied" and data["paid"] == "0.00"
    assert {a["carc"] for line in data["lines"] for a in line["adjustments"]} == {"96"}


def test_search_by_each_kind_and_users_managed_by_an_admin(
        seeded: tuple[Store, Path]) -> None:
    store, archive = seeded
    c = client(store, archive)
    sign_in(c, "analyst")
    with store.transaction() as s:
        icn, pcn, member = s.execute(select(Claim.icn, Claim.patient_control_number,
                                            Claim.subscriber_id)
                                     .where(Claim.icn.is_not(None))).first()  # type: ignore[misc]
    with store.transaction() as s:
        npi = s.scalar(select(DecisionRecord.data["billing_npi"].as_string()).where(
            DecisionRecord.icn == icn))
    for kind, value in (("icn", icn), ("pcn", pcn), ("member", member), ("npi", npi)):
        found = c.get(f"/search?kind={kind}&q={value}").text
        assert icn in found, kind
    assert "No claim matches" in c.get("/search?kind=icn&q=OBH000").text
    admin = client(store, archive)
    token = sign_in(admin, "admin")
    added = admin.post("/users", data={"csrf_token": token, "name": "new-analyst",
                                       "role": "analyst", "password": "a long password 1"})
    assert added.status_code == 303 and "new-analyst" in admin.get("/users").text
    short = admin.post("/users", data={"csrf_token": token, "name": "x", "role": "analyst",
                                       "password": "short"})
    assert short.status_code == 400 and "at least 12" in short.text
    assert admin.post("/users", data={"csrf_token": token, "name": "y", "role": "root",
                                      "password": "a long password 1"}).status_code == 400
