"""The columns the review queues read (store revisions 0006 and 0008), on SQLite and
PostgreSQL.

Given a store with front-end rejections, denials and a pend, every claim the front
end read keeps its billing NPI (rejected ones too: the rejections queue filters by
payee) and its rendering NPIs (search), a rejected claim its line of business, the
claim row keeps its current decision's status and the decision its codes and
deciding rules as text, and revisions 0006 and 0008 fill values into a database
written before them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from store import migrate
from store.engine import Store
from store.models import Claim, ClaimRenderingNpi, DecisionRecord, ReceivedFile
from tests.databases import database
from tests.review_support import claim_ids, client, rejected_ids, search, seed, sign_in
from workers.decisions import adjustment_codes


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Path, str]]:
    with database(request.param, tmp_path / "db") as url:
        archive = seed(url, tmp_path)
        store = Store(url)
        try:
            yield store, archive, url
        finally:
            store.dispose()


def _columns(store: Store) -> dict[str, object]:
    with store.transaction() as s:
        return {
            "billing": dict(s.execute(select(Claim.id, Claim.billing_npi)).tuples().all()),
            "status": dict(s.execute(select(Claim.id, Claim.decision_status)).tuples().all()),
            "rendering": sorted(s.execute(select(ClaimRenderingNpi.claim_id,
                                                 ClaimRenderingNpi.npi)).tuples().all()),
            "codes": dict(s.execute(select(DecisionRecord.id, DecisionRecord.codes))
                          .tuples().all()),
            "rules": dict(s.execute(select(DecisionRecord.id, DecisionRecord.rule_ids))
                          .tuples().all()),
        }


def test_rejected_claims_keep_their_billing_npi_and_the_rejections_queue_filters_by_it(
        seeded: tuple[Store, Path, str]) -> None:
    store, archive, _url = seeded
    rejected = rejected_ids(store)
    with store.transaction() as s:
        npis = dict(s.execute(select(Claim.id, Claim.billing_npi)
                              .where(Claim.id.in_(rejected))).tuples().all())
        decided = s.execute(select(Claim.billing_npi,
                                   DecisionRecord.data["billing_npi"].as_string())
                            .join(DecisionRecord, DecisionRecord.claim_id == Claim.id)).all()
    assert rejected and all(npis.values())
    # the claim row says what the decision says for every decided claim
    assert decided and all(column == data for column, data in decided)
    c = client(store, archive)
    sign_in(c, "analyst")
    npi = sorted(npis.values())[0]
    theirs = sum(1 for value in npis.values() if value == npi)
    page = c.get(f"/queues/rejections?payee={npi}").text
    assert f"<strong>{theirs}</strong> claim" in page and npi in page
    assert 'id="f-payee"' in page
    assert "<strong>0</strong> claims" in c.get("/queues/rejections?payee=0000000000").text


def test_a_rejected_claim_keeps_the_line_of_business_adjudication_would_name(
        seeded: tuple[Store, Path, str]) -> None:
    store, archive, _url = seeded
    with store.transaction() as s:
        rejected = s.execute(select(ReceivedFile.name, Claim.patient_control_number,
                                    Claim.line_of_business)
                             .join(ReceivedFile, ReceivedFile.id == Claim.file_id)
                             .where(Claim.front_end == "rejected").order_by(Claim.id)).all()
        others = set(s.scalars(select(Claim.line_of_business)
                               .where(Claim.front_end != "rejected")))
    # the subscribers' coverage in the shipped reference data (coverage.csv): OBH000001
    # (PCN-0001 in both files) commercial, OBH000002 (PCN-0002) medicaid
    assert [(Path(name).name, pcn, lob) for name, pcn, lob in rejected] == [
        ("payer-billing-npi.837", "PCN-0001", "commercial"),
        ("payer-billing-npi.837", "PCN-0002", "medicaid"),
        ("snip3-charge-balance.837", "PCN-0001", "commercial")]
    assert others == {None}  # an accepted claim's decision names it
    c = client(store, archive)
    sign_in(c, "analyst")
    page = c.get("/queues/rejections?lob=medicaid").text
    assert "<strong>1</strong> claim," in page and "medicaid" in page.split('id="queue"')[1]
    assert 'id="f-lob"' in page


def test_revision_0008_gives_claims_rejected_before_it_an_unknown_line_of_business(
        seeded: tuple[Store, Path, str]) -> None:
    store, _archive, url = seeded
    migrate.downgrade(url, "0007")
    migrate.upgrade(url)
    with store.transaction() as s:
        kept = sorted(s.execute(select(Claim.front_end, Claim.line_of_business)
                                .distinct()).tuples().all(), key=str)
    # nothing was kept to name it from (no parsed claim, no member id): unknown
    assert kept == [("accepted", None), ("not_reached", None), ("rejected", "unknown")]


def test_search_finds_a_claim_by_the_npi_that_rendered_its_lines(
        seeded: tuple[Store, Path, str]) -> None:
    store, archive, _url = seeded
    rejected = rejected_ids(store)
    with store.transaction() as s:
        icn, claim_id, data = s.execute(
            select(DecisionRecord.icn, DecisionRecord.claim_id, DecisionRecord.data)
            .where(DecisionRecord.current.is_(True)).order_by(DecisionRecord.id).limit(1)).one()
        kept = set(s.scalars(select(ClaimRenderingNpi.npi)
                             .where(ClaimRenderingNpi.claim_id == claim_id)))
        rejected_rendering = s.scalar(select(ClaimRenderingNpi.npi).where(
            ClaimRenderingNpi.claim_id.in_(rejected)))
    # the same clinicians adjudication named on the decision's lines (2420A, 2310B, 2010AA)
    assert kept == {line["rendering_npi"] for line in data["lines"]}
    c = client(store, archive)
    token = sign_in(c, "analyst")  # search is for the roles that see PHI (its results carry it)
    rendering = sorted(kept)[0]
    found = search(c, token, "rendering", rendering).text
    assert icn in found and "Provider NPI (rendering)" in found
    assert "No claim matches" in search(c, token, "rendering", "0000000000").text
    assert rejected_rendering is not None  # rejected claims are found by it too
    assert 'href="/claims/' in search(c, token, "rendering", rejected_rendering).text


def test_the_claim_keeps_its_current_decisions_status_and_the_codes_filter_reads_them(
        seeded: tuple[Store, Path, str]) -> None:
    store, archive, _url = seeded
    (pended,) = claim_ids(store, "pended")
    c = client(store, archive)
    token = sign_in(c, "analyst")
    with store.transaction() as s:
        (rule, *_rest) = s.scalar(select(DecisionRecord.rules).where(
            DecisionRecord.claim_id == pended))
    assert "<strong>1</strong> claim," in c.get(f"/queues/pends?code={rule}").text
    assert "<strong>0</strong> claims" in c.get("/queues/pends?code=NO-SUCH-RULE").text
    assert c.post(f"/claims/{pended}/deny", data={"csrf_token": token, "carc": "96",
                                                  "rarc": "N130", "note": ""}).status_code == 303
    with store.transaction() as s:
        pairs = list(s.execute(select(Claim.decision_status, DecisionRecord.status)
                               .join(DecisionRecord, DecisionRecord.claim_id == Claim.id)
                               .where(DecisionRecord.current.is_(True))))
        codes = list(s.execute(select(DecisionRecord.data, DecisionRecord.codes)))
        rules = list(s.execute(select(DecisionRecord.rules, DecisionRecord.rule_ids)))
        undecided = s.scalar(select(func.count()).select_from(Claim).where(
            Claim.decision_status.is_not(None), Claim.state != "decided"))
    assert pairs and all(kept == current for kept, current in pairs)
    assert undecided == 0
    assert all(text == ("|" + "|".join(adjustment_codes(data)) + "|"
                        if adjustment_codes(data) else "") for data, text in codes)
    assert rules and all(text == ("|" + "|".join(listed) + "|" if listed else "")
                         for listed, text in rules)
    assert "<strong>0</strong> claims" in c.get("/queues/pends").text
    denied_96 = c.get("/queues/denials?code=CO-96").text
    assert "<strong>1</strong> claim," in denied_96 and "CO-96" in denied_96
    assert "<strong>0</strong> claims" in c.get("/queues/denials?code=PR-96").text


def test_revision_0006_fills_what_the_engine_writes_into_an_older_database(
        seeded: tuple[Store, Path, str]) -> None:
    store, _archive, url = seeded
    written = _columns(store)
    migrate.downgrade(url, "0005")
    migrate.upgrade(url)
    filled = _columns(store)
    assert filled["billing"] == written["billing"]
    assert filled["status"] == written["status"]
    assert filled["codes"] == written["codes"]
    assert filled["rules"] == written["rules"]
    # rendering NPIs come back from the parsed claims: rejected claims kept none
    rejected = set(rejected_ids(store))
    assert filled["rendering"] == [row for row in written["rendering"]  # type: ignore[attr-defined]
                                   if row[0] not in rejected]


def test_decide_again_takes_the_pends_received_first_not_the_rows_written_first(
        seeded: tuple[Store, Path, str], tmp_path: Path) -> None:
    """"Decide these again" takes at most 500 pends, the oldest first: oldest by receipt
    (what the prompt-pay clock counts from), not by the order rows were written (a
    replayed file received earlier has later rows)."""
    from datetime import timedelta

    from sqlalchemy import update

    from review.queries import QueueFilter, pended_icns
    from tests.review_support import receive_later

    store, _archive, url = seeded
    receive_later(url, tmp_path)  # two more pends, received later
    with store.transaction() as s:
        pends = list(s.execute(select(Claim.id, Claim.icn, Claim.receipt_date)
                               .where(Claim.decision_status == "pended").order_by(Claim.id)))
        assert len(pends) >= 2
        (_first_id, first, day), *_, (last_id, last, _) = pends
        # the pend written last was received a day before the others
        s.execute(update(Claim).where(Claim.id == last_id).values(
            receipt_date=day - timedelta(days=1)))
    with store.transaction() as s:
        assert pended_icns(s, QueueFilter.parse({}), 1) == [last]
        assert pended_icns(s, QueueFilter.parse({}))[1] == first
