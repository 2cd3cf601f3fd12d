"""A payment cycle's spool and staging (`workers.cycle_spool`): what goes to disk comes
back whole, payee by payee, and a cycle through the store holds one payee's claims at
a time."""

from __future__ import annotations

import gc
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import workers.remit
from edi.remit835 import BankAccount
from remittance.claims import claim_payment, payee_of
from remittance.cycle import Waiting
from store import migrate
from store.models import RemittedClaim
from tests.adjudication_builders import World, build_claim, decide, line, past_claim
from tests.test_remittance_store import _count, _process
from workers.archive import archive_copy
from workers.cycle_spool import Spooled, Staging, WaitingSpool, cycle_files

OTHER_BILLING_NPI = "1234567893"
RELEASE_ROWS_IN_TEST = 2


def _spooled() -> list[Spooled]:
    """Claims of two payees, taking turns: paid, a void with its original, a
    replacement, one with a bank account on its payee."""
    paid = build_claim(pcn="PCN-A")
    paid_decision = decide(paid, World().reference(), icn="OBH-A")
    original = claim_payment(paid_decision, paid)
    other = build_claim(pcn="PCN-B", billing_npi=OTHER_BILLING_NPI)
    other_decision = decide(other, World().reference(), icn="OBH-B")
    reference = World().reference(past_claims=[past_claim("OBH-ORIG")])
    void = build_claim(pcn="PCN-O", frequency="8", original_icn="OBH-ORIG")
    correction = build_claim([line(charge="150.00")], pcn="PCN-O", frequency="7",
                             original_icn="OBH-ORIG")
    correction_decision = decide(correction, reference, icn="OBH-R")
    banked = replace(payee_of(other), bank=BankAccount("011000138", "70012340"))
    return [
        Spooled(Waiting(1, payee_of(paid), original), "OBH-A", 11),
        Spooled(Waiting(2, banked, claim_payment(other_decision, other)), "OBH-B", 12),
        Spooled(Waiting(3, payee_of(void), None, "OBH-ORIG", original), "OBH-V", 13),
        Spooled(Waiting(4, payee_of(correction),
                        claim_payment(correction_decision, correction), "OBH-ORIG",
                        original), "OBH-R", 14),
        Spooled(Waiting(5, banked, claim_payment(other_decision, other)), "OBH-B2", 15),
    ]


def test_the_spool_gives_each_payees_claims_back_whole_in_the_order_they_came(
    tmp_path: Path,
) -> None:
    items = _spooled()
    first, second = [items[0], items[2], items[3]], [items[1], items[4]]
    with cycle_files(tmp_path) as (spool, _staging):
        for item in [*items, items[0]]:  # the file ends with the first payee's claim
            spool.add(item)
        assert len(spool) == 2
        # payees in the order of their first claim; each payee's claims in order
        assert list(spool.payees()) == [[*first, items[0]], second]
        # a claim added after a reading (which ended inside the file) goes after the
        # others, not where the reading stopped
        spool.add(items[3])
        assert list(spool.payees()) == [[*first, items[0], items[3]], second]
    # the files had no name: nothing is left in the directory
    assert list(tmp_path.iterdir()) == []


def test_an_empty_spool_has_no_payee() -> None:
    with tempfile.TemporaryFile() as file:
        spool = WaitingSpool(file)
        assert len(spool) == 0 and list(spool.payees()) == []


def test_staged_documents_and_rows_come_back_byte_for_byte_and_in_batches(
    tmp_path: Path,
) -> None:
    # a document larger than the archive's copy block, with text that is not ASCII
    first = "ISA*00*~" + "CLP*PCN-É*1*100.00~" * 10_000
    second = "<!DOCTYPE html><p>Peña</p>"
    rows = [{"icn": f"OBH-{n}", "paid_cents": n * 100, "payment": {"paid": f"{n}.00"}}
            for n in range(7)]
    with tempfile.TemporaryFile() as documents, tempfile.TemporaryFile() as kept:
        staging = Staging(documents, kept)
        one, two = staging.document(first), staging.document(second)
        some, none = staging.rows(rows[:5]), staging.rows([])
        # readings in between move the files' positions
        assert staging.read_document(one).read(8) == b"ISA*00*~"
        assert next(staging.read_rows(some, 1)) == rows[:1]
        more = staging.rows(rows[5:])
        third = staging.document("IEA*1*000000001~")  # written after a reading
        for region, text in ((two, second), (one, first), (third, "IEA*1*000000001~")):
            _sha, size, where = archive_copy(staging.read_document(region), tmp_path)
            assert where.read_bytes() == text.encode("utf-8") and size == len(where.read_bytes())
        assert [len(batch) for batch in staging.read_rows(some, 2)] == [2, 2, 1]
        assert [row for batch in staging.read_rows(some, 2) for row in batch] == rows[:5]
        assert list(staging.read_rows(none, 2)) == []
        assert [row for batch in staging.read_rows(more, 1_000) for row in batch] == rows[5:]


def test_a_cycle_through_the_store_holds_one_payees_claims_at_a_time(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the fixtures' claims, which several payees bill, and a release that
    # inserts what it remits two rows at a time
    planned = workers.remit.plan_payee
    alive: list[tuple[int, int]] = []
    remitted = []

    def counted(items: list[Waiting], **kwargs: Any) -> Any:
        gc.collect()
        alive.append((len(items), sum(isinstance(o, Waiting) for o in gc.get_objects())))
        result = planned(items, **kwargs)
        remitted.append(len(result.remitted))
        return result

    monkeypatch.setattr(workers.remit, "plan_payee", counted)
    monkeypatch.setattr(workers.remit, "RELEASE_ROWS", RELEASE_ROWS_IN_TEST)
    migrate.upgrade(database_url)
    summary = _process(tmp_path, database_url)
    # Then each payee was planned with only its own claims in memory
    assert len(alive) == len(summary["remittances"]) >= 2
    assert all(count == len_items for len_items, count in alive), alive
    # and the release recorded every claim of every 835, as summary.json lists them
    listed = sum(len(r["claims"]) for r in summary["remittances"])
    assert listed == sum(len_items for len_items, _count_ in alive)
    assert _count(database_url, RemittedClaim) == sum(remitted) > RELEASE_ROWS_IN_TEST
    # and the cycle's files are gone: the archive holds folders of documents only
    assert all(p.is_dir() for p in (tmp_path / "out" / "archive").iterdir())

