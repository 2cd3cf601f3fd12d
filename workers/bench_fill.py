"""A store filled in bulk for the review benchmark: many claims, written fast.

Rows are written with Core inserts, 5,000 to a statement, not through the pipeline:
the payloads are real (a sample claim's parsed JSON and a decision's data and
trace, decided by the engine in memory) and the columns the queues read are set as
the engine sets them (`workers.decisions.codes_text` for the codes, the billing NPI
on every claim the front end read, the rendering NPIs beside, a rejected claim's line
of business, one in twenty ``unknown``). Every claim reuses
the one parsed claim: the queue pages never read it.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import insert, text

from store.engine import Store
from store.models import (
    Claim,
    ClaimRenderingNpi,
    DecisionRecord,
    Interchange,
    ReceivedFile,
    Run,
    TradingPartner,
    TransactionSet,
)
from workers.decisions import codes_text, deciding_rules, rule_ids_text, split_decision
from workers.line_of_business import UNKNOWN

CLAIMS_PER_FILE = 500
SENDERS = [f"CLEARHOUSE{n:02d}" for n in range(8)]
PAYEES = [f"1{n:09d}" for n in range(500)]
CLINICIANS = [f"2{n:09d}" for n in range(2_000)]
LINES_OF_BUSINESS = (("commercial", 50), ("medicaid", 30), ("medicare_advantage", 20))
REJECTIONS = (["A7:562:85"], ["A7:21:85"], ["A6:145:IL"], ["A3:116"])
DENIALS = (("CO", "29"), ("CO", "197"), ("CO", "27"), ("CO", "16"), ("CO", "96"),
           ("PR", "204"), ("CO", "B7"), ("CO", "50"))
PENDS = (["PRICING"], ["AUTHORIZATION"], ["SUPERVISION"], ["ENGINE-FAULT"])
FIRST_DAY = date(2026, 9, 1)
DAYS = 91
BATCH = 5_000


def templates() -> tuple[str, dict[str, Any], bytes]:
    """A sample claim's parsed JSON, its decision's data and trace (the engine's own)."""
    from edi.front_end import InMemoryClaimNumbers
    from edi.validators.codesets import default_registry
    from edi.validators.compiled import check_stream
    from edi.validators.edits import EditContext
    from fixtures.samples import SAMPLE_DIRECTORY
    from workers.adjudicate import decide_in_memory
    from workers.front_end import run_front_end
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY, load_reference_dir

    path = SAMPLE_DIRECTORY / "demo-small.837"
    day = date(2026, 11, 23)
    with path.open("rb") as stream:
        check = check_stream(stream)
    result = run_front_end(path, check, EditContext(received=day), InMemoryClaimNumbers())
    decisions = decide_in_memory(result.accepted, load_reference_dir(
        SHIPPED_REFERENCE_DIRECTORY), day, day, code_sets=default_registry())
    decision = max(decisions, key=lambda d: len(d.trace))
    claim = dict(result.accepted)[decision.icn]
    data, trace = split_decision(decision)
    data["rules"] = deciding_rules(decision)
    return claim.model_dump_json(), data, trace


def _decision_data(template: dict[str, Any], status: str, codes: list[tuple[str, str]],
                   pend_reason: str | None) -> dict[str, Any]:
    lines = [{**line, "status": status,
              "adjustments": [{"group": g, "carc": c, "amount": line["charge"]}
                              for g, c in codes],
              "rarcs": ["N130"] if status == "denied" and line["line_number"] == 1 else [],
              "pend_reason": pend_reason}
             for line in template["lines"]]
    return {**template, "status": status, "lines": lines,
            "paid": "0.00" if status != "paid" else template["charge"]}


def fill(store: Store, claims: int, seed: int = 12) -> dict[str, str]:
    """Write ``claims`` claims; values that exist, for the pages to filter by."""
    parsed, template, trace = templates()
    rules = template.pop("rules")
    rng = random.Random(seed)
    now = datetime.now(tz=UTC)
    lobs = [lob for lob, weight in LINES_OF_BUSINESS for _ in range(weight)]
    files = max(1, -(-claims // CLAIMS_PER_FILE))
    with store.transaction() as s:
        s.execute(insert(TradingPartner), [
            {"name": f"partner {n}", "sender_qualifier": "ZZ", "sender_id": sender,
             "created_at": now} for n, sender in enumerate(SENDERS)])
        run_id = s.scalars(insert(Run).returning(Run.id), [
            {"run_key": "bench-review", "started_at": now, "finished_at": now,
             "as_of": FIRST_DAY + timedelta(days=DAYS)}]).one()
        received = [FIRST_DAY + timedelta(days=n * DAYS // files) for n in range(files)]
        file_ids = s.scalars(insert(ReceivedFile).returning(
            ReceivedFile.id, sort_by_parameter_order=True), [
            {"sha256": f"{n:064x}", "run_id": run_id, "name": f"bench-{n:04d}.837",
             "size": 3_000_000, "received_at": now, "receipt_date": received[n],
             "status": "done", "outcome": "processed", "ack_kind": "999", "ack_code": "A",
             "ack_text": None, "problems": [], "interchange_numbers": [f"{n:09d}"],
             "accepted_sets": [1], "updated_at": now} for n in range(files)]).all()
        s.execute(insert(Interchange), [
            {"file_id": file_id, "ordinal": 1, "sender_qualifier": "ZZ",
             "sender_id": SENDERS[n % len(SENDERS)], "control_number": f"{n:09d}",
             "accepted": True, "note_code": None, "dedup_key": f"bench:{n}"}
            for n, file_id in enumerate(file_ids)])
        set_ids = s.scalars(insert(TransactionSet).returning(
            TransactionSet.id, sort_by_parameter_order=True), [
            {"file_id": file_id, "ordinal": 1, "accepted": True, "state": "answered",
             "control_number": "0001", "answer": None} for file_id in file_ids]).all()
    variants: dict[tuple[str, int], str] = {}
    indexes = [index for table in (Claim.__table__, DecisionRecord.__table__,
                                   ClaimRenderingNpi.__table__)
               for index in table.indexes]  # type: ignore[attr-defined]
    with store.engine.begin() as connection:  # built once after the load, not row by row
        for index in indexes:
            index.drop(connection)
    for start in range(0, claims, BATCH):
        claim_rows, decision_rows, rendering_rows = [], [], []
        for n in range(start, min(claims, start + BATCH)):
            f = n // CLAIMS_PER_FILE
            roll = rng.random()
            front_end = "rejected" if roll < 0.10 else "accepted"
            icn = None if front_end == "rejected" else f"OBH{n:012d}"
            status = None if icn is None else (
                "denied" if roll < 0.40 else "pended" if roll < 0.48 else "paid")
            subscriber, payee = f"M{rng.randrange(1, 40_000):08d}", rng.choice(PAYEES)
            claim_rows.append({
                "id": n + 1, "file_id": file_ids[f], "set_id": set_ids[f],
                "position": n % CLAIMS_PER_FILE + 1, "patient_control_number": f"P{n:011d}",
                "charge_cents": rng.randrange(2_000, 400_000), "front_end": front_end,
                "state": "closed" if icn is None else "decided",
                "codes": rng.choice(REJECTIONS) if icn is None else [],
                "reasons": ["loop 2010AA, NM109: The billing provider's NPI fails the NPI "
                            "check digit."] if icn is None else [],
                "icn": icn, "fingerprint": None if icn is None else f"{n:064x}",
                "subscriber_id": subscriber, "original_icn": None,
                "receipt_date": received[f], "billing_npi": payee,
                "line_of_business": None if icn is not None else (
                    UNKNOWN if rng.random() < 0.05 else rng.choice(lobs)),
                "decision_status": status,
                "parsed": None if icn is None else parsed})
            rendering_rows += [{"claim_id": n + 1, "npi": npi}
                               for npi in set(rng.sample(CLINICIANS, rng.choice((1, 1, 2))))]
            if icn is None or status is None:
                continue
            pick = rng.randrange(len(DENIALS if status == "denied" else PENDS))
            pend_rules = PENDS[pick % len(PENDS)]
            key = (status, pick)
            if key not in variants:
                codes = [DENIALS[pick]] if status == "denied" else []
                reason = "no fee on file for the procedure" if status == "pended" else None
                variants[key] = orjson.dumps(_decision_data(template, status, codes,
                                                            reason)).decode()
            data = orjson.loads(variants[key])
            data.update(icn=icn, billing_npi=payee,
                        line_of_business=rng.choice(lobs))
            decision_rows.append({
                "claim_id": n + 1, "icn": icn, "version": 1, "current": True,
                "status": status, "paid_cents": 0, "patient_responsibility_cents": 0,
                "member_id": f"{subscriber}-01", "subscriber_id": subscriber,
                "line_of_business": data["line_of_business"], "rule_versions": {},
                "rules": pend_rules if status == "pended" else rules,
                "reference_version": "bench", "data": data, "trace": trace,
                "decided_at": now, "codes": codes_text(data),
                "rule_ids": rule_ids_text(pend_rules if status == "pended" else rules)})
        with store.transaction() as s:
            s.execute(insert(Claim), claim_rows)
            s.execute(insert(ClaimRenderingNpi), rendering_rows)
            if decision_rows:
                s.execute(insert(DecisionRecord), decision_rows)
    with store.engine.begin() as connection:
        for index in indexes:
            index.create(connection)
    if store.postgresql:  # what autovacuum does to a table after a load (PostgreSQL 13+)
        with store.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE claims, decisions, claim_rendering_npis, "
                                    "interchanges, received_files"))
    return _sample(store)


def _sample(store: Store) -> dict[str, str]:
    with store.transaction() as s:
        rendering = s.scalar(text("SELECT npi FROM claim_rendering_npis LIMIT 1"))
    return {"partner": SENDERS[3], "payee": PAYEES[7], "rendering": str(rendering),
            "from": (FIRST_DAY + timedelta(days=30)).isoformat(),
            "to": (FIRST_DAY + timedelta(days=60)).isoformat(),
            "code_rejections": "A7:562", "code_denials": "29", "code_pends": "PRICING"}
