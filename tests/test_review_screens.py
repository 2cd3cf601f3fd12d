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
from fastapi.testclient import TestClient
from sqlalchemy import Text, cast, func, select, update

from store.engine import Store
from store.models import (
    AuditEntry,
    Claim,
    DecisionRecord,
    PaymentCycle,
    PendRelease,
    RemittedClaim,
    ReviewUser,
)
from tests.databases import database, kept_text
from tests.review_support import (
    claim_ids,
    client,
    payer_today,
    rejected_ids,
    release_cycle,
    search,
    seeded_store,
    sign_in,
)


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
    for amount in ("1e999", "1e30", "-1", "NaN", "Infinity"):  # a clear refusal, never a 500
        refused = c.get(f"/queues/denials?min_charge={amount}")
        assert refused.status_code == 400, amount
        assert "min charge: an amount from 0 to 99,999,999.99" in refused.text, amount
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


R = {1: "payer-billing-npi.837:PCN-0001", 2: "payer-billing-npi.837:PCN-0002",
     3: "snip3-charge-balance.837:PCN-0001", 4: "npi-later.837:PCN-0701",
     5: "npi-later.837:PCN-0702", 6: "npi-later.837:PCN-0711"}
"""The rejections: 300.00, 150.00 (billing NPI 1234567890, A7:562:85) and 310.00
(1234567893, A7:400) from CLEARHOUSE01 on 2026-11-23; 275.00, 150.00 (1234567890,
A7:562:85) and 300.00 (1234567893, A7:400) from CLEARHOUSE02 on 2026-11-25. PCN-0001
and its later copies are member OBH000001 (commercial), PCN-0002's OBH000002 (Medicaid)."""
D = {**{n: f"demo-small.837:{'PCP' if n <= 6 else 'PHD'}001{n:06d}" for n in range(1, 13)},
     13: "snip3-charge-balance.837:PCN-0002", 14: "pend-no-fee.837:PCN-0502",
     15: "npi-later.837:PCN-0712"}
"""The denials: demo-small.837's twelve from CLEARPATHEDI (1-6 billed by 2356399792, 7-12
by 1094724170; 1-10 commercial CO-29 at 1,273.00, 133.00, 237.50, 90.25, 722.00, 90.25,
308.00, 616.00, 341.00, 649.00; 11-12 Medicare Advantage CO-22 MA04 at 104.50 and
209.00), and three Medicaid OA-18 duplicates of 150.00 billed by 1234567893 (13-14 from
CLEARHOUSE01 on 2026-11-23, 15 from CLEARHOUSE02 on 2026-11-25)."""
P = {1: "pend-no-fee.837:PCN-0501", 2: "pend-later.837:PCN-0601",
     3: "pend-later.837:PCN-0602"}
"""The pends, all billed by 1234567893 and pended by PRICING (no fee for 90840): 300.00
commercial from CLEARHOUSE01 on 2026-11-23; 320.00 commercial and 150.00 Medicaid from
CLEARHOUSE02 on 2026-11-25."""


def _shown(c: TestClient, path: str) -> tuple[int, str, list[str]]:
    """A queue page's count, charge total and rows (``file:patient control number``)."""
    import re

    page = c.get(path)
    assert page.status_code == 200, (path, page.text[-500:])
    count = int(re.search(r'id="totals"><strong>([\d,]+)</strong>', page.text)
                .group(1).replace(",", ""))  # type: ignore[union-attr]
    total = re.search(r"claims?, charges (\$[\d,.]+)", page.text).group(1)  # type: ignore[union-attr]
    body = page.text.split('id="queue"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [re.sub(r"<[^>]+>", "", cell).strip()
                 for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        if len(cells) > 1:  # not the "nothing in this queue" row
            rows.append(f"{cells[-1]}:{cells[1]}")
    return count, total, rows


FILTERS: list[tuple[str, str, list[str]]] = [
    # (queue, query, the claims it shows in order), each derived by hand from R, D and P
    ("rejections", "", [R[n] for n in range(1, 7)]),
    ("rejections", "partner=CLEARHOUSE02", [R[4], R[5], R[6]]),
    ("rejections", "partner=CLEARPATHEDI", []),
    ("rejections", "payee=1234567893", [R[3], R[6]]),
    ("rejections", "lob=medicaid", [R[2], R[5]]),
    ("rejections", "lob=commercial", [R[1], R[3], R[4], R[6]]),
    ("rejections", "lob=unknown", []),
    ("rejections", "code=A7:400", [R[3], R[6]]),
    ("rejections", "code=A7:562", [R[1], R[2], R[4], R[5]]),
    ("rejections", "received_from=2026-11-24", [R[4], R[5], R[6]]),
    ("rejections", "received_to=2026-11-23", [R[1], R[2], R[3]]),
    ("rejections", "min_charge=300", [R[1], R[3], R[6]]),
    ("rejections", "max_charge=150.00", [R[2], R[5]]),
    ("rejections", "min_charge=200&max_charge=299.99", [R[4]]),
    ("rejections", "partner=CLEARHOUSE02&lob=commercial&code=A7:400", [R[6]]),
    ("rejections", "sort=charge", [R[2], R[5], R[4], R[1], R[6], R[3]]),
    ("rejections", "sort=charge&dir=desc", [R[3], R[1], R[6], R[4], R[2], R[5]]),
    ("rejections", "sort=claim&dir=desc", [R[n] for n in range(6, 0, -1)]),
    ("rejections", "sort=received&dir=desc", [R[n] for n in range(6, 0, -1)]),
    ("denials", "", [D[n] for n in range(1, 16)]),
    ("denials", "partner=CLEARPATHEDI", [D[n] for n in range(1, 13)]),
    ("denials", "partner=CLEARHOUSE02", [D[15]]),
    ("denials", "payee=1094724170", [D[n] for n in range(7, 13)]),
    ("denials", "payee=1234567893", [D[13], D[14], D[15]]),
    ("denials", "lob=medicare_advantage", [D[11], D[12]]),
    ("denials", "lob=medicaid", [D[13], D[14], D[15]]),
    ("denials", "lob=unknown", []),
    ("denials", "code=29", [D[n] for n in range(1, 11)]),
    ("denials", "code=CO-22", [D[11], D[12]]),
    ("denials", "code=MA04", [D[11], D[12]]),
    ("denials", "code=18", [D[13], D[14], D[15]]),
    ("denials", "code=CO-18", []),
    ("denials", "received_from=2026-11-24", [D[15]]),
    ("denials", "received_to=2026-11-23", [D[n] for n in range(1, 15)]),
    ("denials", "min_charge=600", [D[1], D[5], D[8], D[10]]),
    ("denials", "max_charge=100", [D[4], D[6]]),
    ("denials", "min_charge=150&max_charge=150", [D[13], D[14], D[15]]),
    ("denials", "lob=commercial&payee=1094724170&max_charge=400", [D[7], D[9]]),
    ("denials", "sort=charge&dir=desc", [D[n] for n in (1, 5, 10, 8, 9, 7, 3, 12, 13, 14, 15,
                                                         2, 11, 4, 6)]),
    ("denials", "sort=claim&dir=desc", [D[n] for n in range(15, 0, -1)]),
    ("pends", "", [P[1], P[2], P[3]]),
    ("pends", "partner=CLEARHOUSE02", [P[2], P[3]]),
    ("pends", "partner=CLEARHOUSE01", [P[1]]),
    ("pends", "payee=1234567893", [P[1], P[2], P[3]]),
    ("pends", "payee=1234567890", []),
    ("pends", "lob=medicaid", [P[3]]),
    ("pends", "lob=commercial", [P[1], P[2]]),
    ("pends", "code=PRICING", [P[1], P[2], P[3]]),
    ("pends", "code=TIMELY-FILING", []),
    ("pends", "received_from=2026-11-24", [P[2], P[3]]),
    ("pends", "received_to=2026-11-23", [P[1]]),
    ("pends", "min_charge=300", [P[1], P[2]]),
    ("pends", "max_charge=200", [P[3]]),
    ("pends", "sort=charge", [P[3], P[1], P[2]]),
    ("pends", "sort=charge&dir=desc", [P[2], P[1], P[3]]),
    ("pends", "sort=claim", [P[1], P[2], P[3]]),
    ("pends", "sort=claim&dir=desc", [P[3], P[2], P[1]]),
]
CHARGES = {**{R[1]: 30000, R[2]: 15000, R[3]: 31000, R[4]: 27500, R[5]: 15000, R[6]: 30000},
           **dict(zip([D[n] for n in range(1, 16)],
                      [127300, 13300, 23750, 9025, 72200, 9025, 30800, 61600, 34100, 64900,
                       10450, 20900, 15000, 15000, 15000], strict=True)),
           P[1]: 30000, P[2]: 32000, P[3]: 15000}


@pytest.fixture(params=["sqlite", "postgresql"])
def two_senders(request: pytest.FixtureRequest, tmp_path: Path
                ) -> Iterator[tuple[Store, Path]]:
    """The seeded store, then a second sender's files two days later (`receive_later`)."""
    from tests.databases import database
    from tests.review_support import receive_later, seed

    with database(request.param, tmp_path / "db") as url:
        archive = seed(url, tmp_path)
        receive_later(url, tmp_path)
        store = Store(url)
        try:
            yield store, archive
        finally:
            store.dispose()


def test_every_queue_filters_by_each_field_and_sorts_to_the_claims_worked_out_by_hand(
        two_senders: tuple[Store, Path]) -> None:
    store, archive = two_senders
    c = client(store, archive)
    sign_in(c, "analyst")
    for kind, query, expected in FILTERS:
        count, total, rows = _shown(c, f"/queues/{kind}?{query}")
        assert rows == expected, (kind, query)
        assert count == len(expected), (kind, query)
        assert total == f"${sum(CHARGES[r] for r in expected) / 100:,.2f}", (kind, query)
    # pages of four: the second page of the rejections holds the fifth and sixth
    paged = client(store, archive, page_size=4)
    sign_in(paged, "analyst")
    assert _shown(paged, "/queues/rejections?page=2") == (6, "$1,485.00", [R[5], R[6]])
    assert "Page 2 of 2" in paged.get("/queues/rejections?page=2").text
    assert _shown(paged, "/queues/denials?sort=charge&dir=desc&page=4")[2] == [D[11], D[4], D[6]]


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
    assert "TA1*000000501*261120*0930*R*025~" in str(
        kept_text(archive, duplicate.ack_sha256, duplicate.ack_text))
    # the downloads: the 999 as the store keeps it, the received bytes, the 277CA
    bad = files["invalid-filing-indicator.837"]
    ack = c.get(f"/files/{bad.id}/ack")
    assert ack.status_code == 200 and ack.text == kept_text(archive, bad.ack_sha256, None)
    assert "IK3*SBR*29**8~" in ack.text and "IK5*R*5~" in ack.text and "AK9*R*1*1*0~" in ack.text
    assert 'filename="invalid-filing-indicator.999"' in ack.headers["content-disposition"]
    with store.transaction() as s:  # a file answered before revision 0013: text in its row
        s.execute(update(ReceivedFile).where(ReceivedFile.id == bad.id).values(
            ack_sha256=None, ack_text=ack.text + "kept in the row"))
    assert c.get(f"/files/{bad.id}/ack").text == ack.text + "kept in the row"
    raw = c.get(f"/files/{bad.id}/raw")
    assert raw.content == (FIXTURES / "ack" / "invalid-filing-indicator.837").read_bytes()
    assert c.get(f"/files/{bad.id}/277ca").status_code == 400
    assert c.get(f"/files/{bad.id}/summary").status_code == 400  # not a download
    assert c.get("/files/999999/raw").status_code == 400
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
    # a claim number leads to its claim page; an unknown one is a plain refusal
    with store.transaction() as s:
        icn = s.scalar(select(Claim.icn).where(Claim.id == denied))
    assert icn is not None
    found = c.get(f"/icn/{icn}", follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == f"/claims/{denied}"
    unknown = c.get("/icn/OBH000000000000", follow_redirects=False)
    assert unknown.status_code == 400 and "No claim has that number." in unknown.text


def test_the_claim_page_shows_corrections_reversals_and_diagnoses_in_words(
        seeded: tuple[Store, Path]) -> None:
    """Given PCN-0101 and PCN-0102 paid in a first cycle, then replaced and voided by the
    provider and the corrections paid in a second cycle: each claim page links the
    original and its correction both ways and lists every 835 that paid or reversed it;
    an analyst reads the diagnoses with their ICD-10-CM descriptions."""
    import re

    from tests.review_support import correct_and_void

    store, archive = seeded
    supervisor = client(store, archive)
    token = sign_in(supervisor, "supervisor")

    def release(day: str) -> str:
        done = release_cycle(supervisor, token, day)
        assert done.status_code == 303
        return str(done.headers["location"]).rsplit("/", 1)[1]

    def claim(pcn: str, corrects: bool) -> tuple[int, str]:
        with store.transaction() as s:
            found = s.execute(select(Claim.id, Claim.icn).where(
                Claim.patient_control_number == pcn, Claim.icn.is_not(None),
                Claim.original_icn.is_not(None) if corrects
                else Claim.original_icn.is_(None))).one()
        return found[0], str(found[1])

    first = release("2026-11-23")
    (original, original_icn), (gone, gone_icn) = claim("PCN-0101", False), claim("PCN-0102", False)
    correct_and_void(store.engine.url.render_as_string(hide_password=False),
                     archive.parent.parent, original_icn, gone_icn)
    second = release("2026-11-24")
    (replacement, replacement_icn) = claim("PCN-0101", True)
    (void, void_icn) = claim("PCN-0102", True)
    page = _visible(supervisor.get(f"/claims/{original}").text)
    links = supervisor.get(f"/claims/{original}").text
    assert f'Replaced or voided by <a href="/claims/{replacement}">{replacement_icn}</a>' in links
    # and its heading says at once that the paid original no longer stands
    assert (f'id="claim-superseded">superseded by <a href="/claims/{replacement}">'
            f'{replacement_icn}</a>') in links
    paid = re.search(rf"paid in cycle {first} ?, 835 trace \d+ \(2026-11-23\), paid "
                     r"(\$[\d.,]+)", page)
    assert paid is not None  # the reversal takes back exactly what the first cycle paid
    assert re.search(rf"reversed by {replacement_icn} in cycle {second} ?, 835 trace \d+ "
                     rf"\(2026-11-24\), paid -\{paid.group(1)}", page)
    page = supervisor.get(f"/claims/{replacement}").text
    assert f'<dt>Corrects</dt><dd><a href="/claims/{original}">{original_icn}</a>' in page
    assert f'<li>Corrects <a href="/claims/{original}">{original_icn}</a></li>' in page
    assert "Frequency replacement of a prior claim" in _visible(page)
    assert f"paid in cycle {second}" in _visible(page)
    assert f"reversal of {original_icn} in cycle {second}" in _visible(page)
    assert "Replaced or voided by" not in page and "claim-superseded" not in page
    page = supervisor.get(f"/claims/{void}").text
    assert f'<li>Corrects <a href="/claims/{gone}">{gone_icn}</a></li>' in page
    assert "Frequency void of a prior claim" in _visible(page)
    assert 'id="claim-status">voided<' in page
    assert f"reversal of {gone_icn} in cycle {second}" in _visible(page)
    assert f'Replaced or voided by <a href="/claims/{void}">{void_icn}</a>' in supervisor.get(
        f"/claims/{gone}").text
    assert f"reversed by {void_icn} in cycle {second}" in _visible(
        supervisor.get(f"/claims/{gone}").text)
    # the diagnoses with their words (HI*ABK:F321*ABF:F411), for a role that sees PHI
    assert ("Diagnoses F321 Major depressive disorder, single episode, moderate F411 "
            "Generalized anxiety disorder") in _visible(supervisor.get(f"/claims/{original}").text)
    viewer = client(store, archive)
    sign_in(viewer, "viewer")
    assert "Diagnoses" not in viewer.get(f"/claims/{original}").text


def _visible(html: str) -> str:
    """The text a person reads: tags (and so their attributes, tooltips) left out."""
    import html as entities
    import re

    return " ".join(entities.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_every_code_is_shown_beside_its_meaning_not_in_a_tooltip(
        seeded: tuple[Store, Path]) -> None:
    """Queues and the claim page show each code followed by its meaning as text a
    keyboard or a screen reader reaches: CARCs with their group, remark codes, 277CA
    codes, deciding rules, places of service, procedure codes and modifiers."""
    store, archive = seeded
    c = client(store, archive)
    sign_in(c, "analyst")
    denials = _visible(c.get("/queues/denials").text)
    assert ("CO-29 The time limit for filing has expired. (contractual obligation)"
            in denials)
    assert ("TIMELY-FILING The claim arrived within the initial filing limit of the "
            "service") in denials
    assert ("MA04 Secondary payment needs the primary payer's identity or payment "
            "information") in denials
    assert "OA-18 Exact duplicate claim or service. (other adjustment)" in denials
    pends = _visible(c.get("/queues/pends").text)
    assert "PRICING Allowed amount from the fee schedule and the license-level factor" in pends
    assert "COST-SHARE Deductible, copay and coinsurance" in pends
    rejections = _visible(c.get("/queues/rejections").text)
    assert ("A7:562:85 rejected for invalid information, the billing provider, failing the "
            "edit “Billing (2010AA) and rendering (2310B, 2420A) NPIs pass the check "
            "digit") in rejections
    assert ("A7:400 rejected for invalid information, failing the edit “CLM02 equals the "
            "sum of SV102”") in rejections
    # a supervised telehealth visit: its place of service, procedure and modifiers
    with store.transaction() as s:
        visit = s.scalar(select(Claim.id).where(Claim.icn == "OBH263270000006"))
    claim = _visible(c.get(f"/claims/{visit}").text)
    assert "Place of service 10 telehealth in patient home" in claim
    assert ("90832 Psychotherapy, 30 minutes U5 supervised service (the payer's supervision "
            "modifier) 95 synchronous telemedicine, audio and video 1 10 telehealth in "
            "patient home") in claim
    assert "denied (CLP02 1: processed as primary)" in claim
    assert ("TIMELY-FILING v6 · line 1 · The claim arrived within the initial filing limit"
            in claim)
    assert "CO-29 $90.25: The time limit for filing has expired." in claim
    # and no template hides a meaning in a hover title
    for template in (Path(__file__).resolve().parents[1] / "review" / "templates").glob("*"):
        assert "<abbr" not in template.read_text() and " title=" not in template.read_text()


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
    typed = analyst.post(f"/claims/{pended}/release/preview",
                         data={"csrf_token": token, "allowed_1": "eighty"})
    assert typed.status_code == 400 and "--allowed" not in typed.text
    assert "the allowed amount for line 1 is not an amount in dollars and cents" in typed.text
    absent = analyst.post(f"/claims/{pended}/release/preview",
                          data={"csrf_token": token, "allowed_7": "1.00"})
    assert absent.status_code == 400 and "line 7, which the claim does not have" in absent.text
    # with no amount the claim would pend again: the preview says so and offers no
    # confirmation, and a confirmation sent all the same writes nothing
    unpriced = analyst.post(f"/claims/{pended}/release/preview", data={"csrf_token": token})
    assert "would pend again" in unpriced.text and 'id="confirm"' not in unpriced.text
    forced = analyst.post(f"/claims/{pended}/release", data={"csrf_token": token})
    assert forced.status_code == 400 and "would pend again" in forced.text
    nul = analyst.post(f"/claims/{pended}/release",
                       data={"csrf_token": token, "allowed_1": "80.00", "note": "a\x07b"})
    assert nul.status_code == 400 and "a note is plain text" in nul.text
    with store.transaction() as s:
        assert s.scalars(select(PendRelease)).all() == []
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
    with payer_today("2026-11-23"):
        preview = supervisor.get("/payments/release?as_of=2026-11-23").text
        assert "Release the cycle" in preview
        for day in ("9999-12-31", "20261123", "2026-W48-1"):
            far = supervisor.post("/payments/release", data={"csrf_token": token,
                                                             "as_of": day})
            assert far.status_code == 400 and "as-of date" in far.text, day
            assert supervisor.get(f"/payments/release?as_of={day}").status_code == 400
        # the as-of date is the 835s' payment date: yesterday, or more than a week
        # ahead, is refused on the screens with a sentence (claims remit still replays)
        for day in ("2026-11-22", "2026-12-01", "2000-01-03"):
            wrong = supervisor.post("/payments/release", data={"csrf_token": token,
                                                               "as_of": day})
            assert wrong.status_code == 400, day
            assert ("must be today (2026-11-23) or up to 7 days after, to 2026-11-30"
                    in wrong.text), day
            assert supervisor.get(f"/payments/release?as_of={day}").status_code == 400
        assert supervisor.get("/payments/release?as_of=2026-11-30").status_code == 200
        with store.transaction() as s:
            assert s.scalar(select(func.count()).select_from(PaymentCycle)) == 0
    released = release_cycle(supervisor, token, "2026-11-23")
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
    work = analyst.get(f"/claims/{pended}").text
    assert 'id="deny-rarc"' in work and '<option value="N130">' in work
    assert "CARC 16, 96, 234, 252 need a remark code; 18 is given as OA" in work
    denial = analyst.post(f"/claims/{pended}/deny/preview",
                          data={"csrf_token": token, "carc": "96", "rarc": "N130",
                                "note": "not necessary"})
    assert "CO-96" in denial.text and "REVIEW" not in denial.text
    assert 'name="rarc" value="N130"' in denial.text  # carried to the confirmation
    assert analyst.post(f"/claims/{pended}/deny/preview",
                        data={"csrf_token": token, "carc": "1"}).status_code == 400
    without = analyst.post(f"/claims/{pended}/deny/preview",
                           data={"csrf_token": token, "carc": "96"})
    assert without.status_code == 400 and "CARC 96 needs a remark code" in without.text
    done = analyst.post(f"/claims/{pended}/deny",
                        data={"csrf_token": token, "carc": "96", "rarc": "N130",
                              "note": "not necessary"})
    assert done.status_code == 303
    page = analyst.get(f"/claims/{pended}").text
    assert "REVIEW-DENIAL" in page and "Denied by analyst-1" in page
    with store.transaction() as s:
        data = s.scalar(select(DecisionRecord.data).where(
            DecisionRecord.claim_id == pended, DecisionRecord.current.is_(True)))
    assert data["status"] == "denied" and data["paid"] == "0.00"
    assert {a["carc"] for line in data["lines"] for a in line["adjustments"]} == {"96"}
    assert {r for line in data["lines"] for r in line["rarcs"]} == {"N130"}
    assert "(CO-96, N130)" in page


def test_search_by_each_kind_and_users_managed_by_an_admin(
        seeded: tuple[Store, Path]) -> None:
    store, archive = seeded
    c = client(store, archive)
    token = sign_in(c, "analyst")
    with store.transaction() as s:
        icn, pcn, member = s.execute(select(Claim.icn, Claim.patient_control_number,
                                            Claim.subscriber_id)
                                     .where(Claim.icn.is_not(None))).first()  # type: ignore[misc]
    with store.transaction() as s:
        npi = s.scalar(select(DecisionRecord.data["billing_npi"].as_string()).where(
            DecisionRecord.icn == icn))
    for kind, value in (("icn", icn), ("pcn", pcn), ("member", member), ("npi", npi)):
        found = search(c, token, kind, value).text
        assert icn in found, kind
    assert "No claim matches" in search(c, token, "icn", "OBH000").text
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
    for limit, sentence in BAD_RELEASE_LIMITS.items():
        refused = admin.post("/users", data={
            "csrf_token": token, "name": "z", "role": "analyst",
            "password": "a long password 1", "release_limit": limit})
        assert refused.status_code == 400 and sentence in refused.text, limit
    assert "z" not in [u.name for u in _users(store)]


BAD_RELEASE_LIMITS = {
    "NaN": "a release limit is an amount from 0 to 99,999,999.99",
    "Infinity": "a release limit is an amount from 0 to 99,999,999.99",
    "1e999": "a release limit is an amount from 0 to 99,999,999.99",
    "-5": "a release limit is an amount from 0 to 99,999,999.99",
    "2500.005": "a release limit is in dollars and cents (two decimals)",
    "lots": "The release limit is an amount such as 2500.00.",
}
"""Release limits an admin may type that are never stored, and what the screen says."""


def _users(store: Store) -> list[ReviewUser]:
    with store.transaction() as s:
        return list(s.scalars(select(ReviewUser)))



def test_a_correction_that_was_denied_does_not_supersede_its_original(tmp_path: Path) -> None:
    """Given the seed's pend and one of its denials, then a replacement of the pend and
    a void of the denial: neither original stands as adjudication requires (a pend is
    not decided, a denial paid nothing), so both corrections are denied (CO-16 M47) and
    reverse nothing. The originals' pages must not say they were superseded."""
    from tests.review_support import correct_and_void

    with seeded_store("sqlite", tmp_path) as (store, archive):
        (pended,) = claim_ids(store, "pended")
        denied = claim_ids(store, "denied")[0]
        with store.transaction() as s:
            icns = dict(s.execute(select(Claim.id, Claim.icn).where(
                Claim.id.in_([pended, denied]))).all())
        correct_and_void(store.url, tmp_path, icns[pended], icns[denied])
        with store.transaction() as s:
            corrections = dict(s.execute(select(Claim.original_icn, Claim.id).where(
                Claim.original_icn.is_not(None))).all())
            statuses = dict(s.execute(select(DecisionRecord.claim_id, DecisionRecord.status)
                                      .where(DecisionRecord.current.is_(True))).all())
        assert {statuses[corrections[icns[pended]]], statuses[corrections[icns[denied]]]} \
            == {"denied"}
        c = client(store, archive)
        sign_in(c, "analyst")
        for original in (pended, denied):
            page = c.get(f"/claims/{original}").text
            correction = corrections[icns[original]]
            assert "claim-superseded" not in page and "Replaced or voided by" not in page
            assert (f'A correction, <a href="/claims/{correction}">'
                    in page), page
            assert "was received and denied: it did not take effect" in page
        # the pend still stands as it was: its work is still offered
        assert 'id="claim-status">pended<' in c.get(f"/claims/{pended}").text
        assert 'id="release-form"' in c.get(f"/claims/{pended}").text


def test_sorting_by_receipt_reads_the_receipt_date_not_the_order_rows_were_written(
        tmp_path: Path) -> None:
    """Given the seed (received 2026-11-23), then a file received later but dated
    2026-11-10 (``--received``, as a replay of a late-found file is): its claims have
    the later rows and the earlier date. Sorted by receipt, they come first going up
    and last going down; within a day, the rows in the order they came."""
    import re
    import shutil

    from typer.testing import CliRunner

    from tests.paths import FIXTURES
    from workers.cli import app

    with seeded_store("sqlite", tmp_path) as (store, archive):
        late = tmp_path / "late" / "late-replay.837"
        late.parent.mkdir()
        shutil.copy(FIXTURES / "edits" / "payer-billing-npi.837", late)
        late.write_text(late.read_text().replace("000000301", "000000931"))
        result = CliRunner().invoke(app, [
            "process", str(late), "--out", str(tmp_path / "out"), "--db", store.url,
            "--quiet", "--as-of", "2026-11-23", "--received", "2026-11-10", "--no-remit"])
        assert result.exit_code == 0, result.output
        c = client(store, archive)
        sign_in(c, "analyst")
        for kind in ("rejections", "denials"):
            with store.transaction() as s:
                status = (Claim.front_end == "rejected" if kind == "rejections"
                          else Claim.decision_status == "denied")
                rows = s.execute(select(Claim.id, Claim.receipt_date).where(status)).all()
            assert {day.isoformat() for _, day in rows} >= {"2026-11-10", "2026-11-23"}
            by_receipt = [claim_id for claim_id, _ in sorted(rows, key=lambda r: (r[1], r[0]))]
            for direction, wanted in (("asc", by_receipt), ("desc", by_receipt[::-1])):
                page = c.get(f"/queues/{kind}?sort=received&dir={direction}").text
                shown = [int(i) for i in re.findall(r'href="/claims/(\d+)" class="claim-link"',
                                                    page)]
                assert shown == wanted, (kind, direction)


def test_an_allowed_amount_for_a_line_that_is_not_pended_is_refused(tmp_path: Path) -> None:
    """Given PCN-0501 (line 1 pended for want of a fee, line 2 held with it) with a third
    line served in January 2025, denied for timely filing: an amount for line 3 changed
    nothing but was recorded in the release and its audit ("line 3 allowed 300.00").
    It is refused with a sentence, on the screen and on the command line."""
    from typer.testing import CliRunner

    from tests.paths import FIXTURES
    from tests.review_support import _variant, seed
    from workers.cli import app

    source = tmp_path / "src"
    source.mkdir()
    mixed = _variant(FIXTURES / "adjudication" / "pend-no-fee.837", source / "mixed.837", [
        ("SV1*HC:90839*100*UN*1***1~\nDTP*472*D8*20261105~",
         "SV1*HC:90839*100*UN*1***1~\nDTP*472*D8*20261105~\nLX*3~\n"
         "SV1*HC:90834*300*UN*1***1~\nDTP*472*D8*20250105~"),
        ("CLM*PCN-0501*300", "CLM*PCN-0501*600"), ("SE*42*", "SE*45*")])
    with database("sqlite", tmp_path / "db") as url:
        archive = seed(url, tmp_path, sources=[mixed])
        store = Store(url)
        try:
            (pended,) = claim_ids(store, "pended")
            with store.transaction() as s:
                record = s.scalar(select(DecisionRecord).where(
                    DecisionRecord.claim_id == pended, DecisionRecord.current.is_(True)))
                assert record is not None
                icn = record.icn
                assert [line["status"] for line in record.data["lines"]] == [
                    "pended", "pended", "denied"]
            c = client(store, archive)
            token = sign_in(c, "analyst")
            assert 'id="allowed-3"' not in c.get(f"/claims/{pended}").text
            said = ("an allowed amount is given for line 3, which is not pended (it was "
                    "denied): only a pended line takes one")
            for path in (f"/claims/{pended}/release/preview", f"/claims/{pended}/release"):
                answer = c.post(path, data={"csrf_token": token, "allowed_1": "80.00",
                                            "allowed_3": "300.00"})
                assert answer.status_code == 400 and said in answer.text, path
            result = CliRunner().invoke(app, ["pends", "release", icn, "--db", url,
                                              "--reviewer", "analyst.one",
                                              "--allowed", "1=80.00", "--allowed", "3=300.00"])
            assert result.exit_code == 2 and "Traceback" not in result.output
            assert said in " ".join(result.output.replace("│", " ").split())
            # and nothing was released: still pended, no release row
            assert claim_ids(store, "pended") == [pended]
            with store.transaction() as s:
                assert s.scalar(select(func.count()).select_from(PendRelease)) == 0
            # the pended lines alone release as before
            assert c.post(f"/claims/{pended}/release", data={
                "csrf_token": token, "allowed_1": "80.00"}).status_code == 303
        finally:
            store.dispose()


def test_a_note_the_confirmation_would_refuse_is_refused_by_the_preview(
        tmp_path: Path) -> None:
    # Given the seed's pend and an analyst with a note of 2,500 characters (the most
    # a note keeps is 2,000): the preview offered a Confirm button that then failed
    with seeded_store("sqlite", tmp_path) as (store, archive):
        (pended,) = claim_ids(store, "pended")
        c = client(store, archive)
        token = sign_in(c, "analyst")
        for path, fields in (("release/preview", {"allowed_1": "80.00"}),
                             ("deny/preview", {"carc": "96", "rarc": "N130"})):
            for note in ("x" * 2500, "a bell \x07 rings"):
                answer = c.post(f"/claims/{pended}/{path}",
                                data={"csrf_token": token, "note": note, **fields})
                # Then the preview says why, with no Confirm button
                assert answer.status_code == 400, (path, note[:8])
                assert "a note" in answer.text and 'id="confirm"' not in answer.text
            # and a note of 2,000 characters is previewed with its Confirm button
            fine = c.post(f"/claims/{pended}/{path}",
                          data={"csrf_token": token, "note": "x" * 2000, **fields})
            assert fine.status_code == 200 and 'id="confirm"' in fine.text, path
