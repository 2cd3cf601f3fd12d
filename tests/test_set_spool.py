"""The steps answer a file's sets from the one pass's spool, and from the file when the
spool cannot serve.

`acknowledge_file` checks the file and parses and edits its sets in one reading,
spooling each set's outcome; `answer_sets` answers from that spool without reading the
file again. A spool that is absent, damaged, foreign or written for another receipt
date is never trusted: the sets are read again from the archived file, and what is
stored is the same either way.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text

from edi.claim_status import (
    ClaimFinding,
    ClaimStatus,
    Entity,
    LineStatus,
    Location,
    Provider277,
    StatusCategory,
)
from edi.validators.codesets import default_registry
from edi.validators.implementation_guide import EnvelopePolicy
from store import migrate
from store.engine import Store
from store.models import Claim, ReceivedFile, TransactionSet
from tests.paths import ACK_FIXTURES, FIXTURES
from workers import steps
from workers.front_end import KeptClaim
from workers.reference_store import ReferenceSource
from workers.set_spool import (
    VERSION,
    SetSpool,
    SpoolDamaged,
    SpooledClaims,
    _Outcomes,
    packed,
)
from workers.transaction_sets import ClaimHeads

RECEIVED = date(2026, 6, 1)
FILES = [FIXTURES / "837p" / "demo-multi-st.837", ACK_FIXTURES / "two-sets-one-bad.837"]


def _context(tmp_path: Path, reference: ReferenceSource | None = None) -> steps.StepContext:
    tmp_path.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    migrate.upgrade(url)
    return steps.StepContext(store=Store(url), archive=tmp_path / "archive",
                             now=datetime(2026, 6, 1, 12, tzinfo=UTC), as_of=RECEIVED,
                             policy=EnvelopePolicy(), code_sets=default_registry(),
                             reference=reference)


def _acknowledged(ctx: steps.StepContext, path: Path) -> int:
    run_id = steps.begin_run(ctx, "spool-test")
    with path.open("rb") as source:
        sha, size, _archived = steps.archive_copy(source, ctx.archive)
    file_id, _role = steps.receive(ctx, run_id, path.name, sha, size,
                                   datetime(2026, 6, 1, 9, tzinfo=UTC), RECEIVED)
    steps.acknowledge_file(ctx, file_id)
    return file_id


def _spool(ctx: steps.StepContext, file_id: int) -> SetSpool:
    with ctx.store.transaction() as s:
        row = s.get(ReceivedFile, file_id)
        assert row is not None
        return steps.set_spool(ctx, row)


Stored = tuple[Sequence[tuple[object, ...]], Sequence[tuple[object, ...]]]


def _stored(ctx: steps.StepContext, file_id: int) -> Stored:
    """Everything the front end stored, claim numbers aside (they come from a sequence)."""
    with ctx.store.transaction() as s:
        claims = [(c.position, c.patient_control_number, c.charge_cents, c.front_end, c.state,
                   c.codes, c.reasons, c.fingerprint, c.subscriber_id, c.billing_npi,
                   c.line_of_business, c.parsed, c.icn is not None, c.provider_group,
                   {**c.answer, "payer_claim_control_number": None} if c.answer else None)
                  for c in s.scalars(select(Claim).where(Claim.file_id == file_id)
                                     .order_by(Claim.set_id, Claim.position))]
        sets = [(t.ordinal, t.accepted, t.state, t.answer, t.totals)
                for t in s.scalars(select(TransactionSet).where(TransactionSet.file_id == file_id)
                                   .order_by(TransactionSet.ordinal))]
    return claims, sets


def _answered(tmp_path: Path, path: Path,
              meddle: Callable[[steps.StepContext, SetSpool], None] | None = None,
              reference: ReferenceSource | None = None) -> Stored:
    ctx = _context(tmp_path, reference)
    try:
        file_id = _acknowledged(ctx, path)
        spool = _spool(ctx, file_id)
        if meddle is not None:
            meddle(ctx, spool)
        assert steps.answer_sets(ctx, file_id)
        assert not spool.directory.exists()  # answered: the spool has served
        return _stored(ctx, file_id)
    finally:
        ctx.store.dispose()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_sets_are_answered_from_the_spool_without_reading_the_file_again(
        tmp_path: Path, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = _answered(tmp_path / "reference", path,
                          lambda ctx, spool: spool.remove())  # read again from the file

    def read_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was read again")

    monkeypatch.setattr(steps, "set_outcomes", read_again)
    spooled = _answered(tmp_path / "spooled", path,
                        lambda ctx, spool: _assert_sealed(spool))
    assert spooled == reference
    claims, sets = reference
    assert claims and len(sets) > 1


def test_a_rejected_claims_line_of_business_is_named_from_the_spool_as_from_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The spool keeps a rejected claim's member-identification inputs: the answer names
    the same line of business whether the set comes from the spool or the file."""
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY, load_reference_dir
    from workers.reference_store import InMemoryReference

    # received 2026-06-01, every claim's service (2026-11) is still to come: all rejected
    path = FIXTURES / "edits" / "payer-billing-npi.837"
    source = InMemoryReference(load_reference_dir(SHIPPED_REFERENCE_DIRECTORY), "shipped")
    again = _answered(tmp_path / "again", path, lambda ctx, spool: spool.remove(), source)
    monkeypatch.setattr(steps, "set_outcomes", None)  # reading the file would fail
    spooled = _answered(tmp_path / "spooled", path, reference=source)
    assert spooled == again
    # the subscribers' coverage (reference coverage.csv): OBH000001 commercial,
    # OBH000002 medicaid
    assert [(claim[1], claim[3], claim[10]) for claim in spooled[0]] == [
        ("PCN-0001", "rejected", "commercial"), ("PCN-0002", "rejected", "medicaid"),
        ("PCN-0101", "rejected", "commercial"), ("PCN-0102", "rejected", "medicaid")]


def _assert_sealed(spool: SetSpool) -> None:
    assert spool.sets() is not None and spool.sets() > 1  # type: ignore[operator]
    assert spool.get(1) is not None


def _damaged(ctx: steps.StepContext, spool: SetSpool) -> None:
    (spool.directory / f"{1:07d}.set").write_bytes(b"not a pickle")


def _packed(records: bytes) -> bytes:
    """``records`` as the spool compresses a set file."""
    out = io.BytesIO()
    with packed(out) as zipped:
        zipped.write(records)
    return out.getvalue()


class _Foreign:
    """A pickle naming a callable: loading it would run a command."""

    def __reduce__(self) -> tuple[object, ...]:
        import os

        return os.system, ("touch /tmp/spool-pickle-ran",)


def _foreign(ctx: steps.StepContext, spool: SetSpool) -> None:
    """A file the spool would read, as far as the header, then a callable's record."""
    records = pickle.dumps((VERSION, spool.key, 2)) + pickle.dumps(_Foreign())
    (spool.directory / f"{2:07d}.set").write_bytes(_packed(records))


def _other_day(ctx: steps.StepContext, spool: SetSpool) -> None:
    written_for_another_day = SetSpool(spool.directory, "2026-05-31|" + spool.key.split("|")[1])
    outcome = spool.get(1)
    assert outcome is not None
    written_for_another_day.begin(outcome.reading)  # set 1 as the one pass puts it
    for claim in outcome.edited:
        written_for_another_day.claim(claim)
    written_for_another_day.end(outcome.reading)


@pytest.mark.parametrize("meddle", [_damaged, _foreign, _other_day],
                         ids=["damaged", "foreign", "another-receipt-date"])
def test_a_set_the_spool_cannot_serve_is_read_again_from_the_file(
        tmp_path: Path, meddle: Callable[[steps.StepContext, SetSpool], None]) -> None:
    path = FILES[0]
    Path("/tmp/spool-pickle-ran").unlink(missing_ok=True)
    reference = _answered(tmp_path / "reference", path)
    assert any(claim[4] == "accepted" for claim in reference[0])
    assert _answered(tmp_path / "meddled", path, meddle) == reference
    assert not Path("/tmp/spool-pickle-ran").exists()


def test_a_set_read_again_from_the_file_is_spooled_and_answered_a_claim_at_a_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A spool that is gone: the sets are read again from the file into the spool, claim
    by claim, and answered from it, not held in memory (`set_outcomes` would fail)."""
    reference = _answered(tmp_path / "reference", FILES[0])
    monkeypatch.setattr(steps, "set_outcomes", None)
    assert _answered(tmp_path / "again", FILES[0], lambda ctx, spool: spool.remove()) \
        == reference


def test_a_set_read_again_onto_a_full_disk_is_answered_from_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The spool is gone and the disk is full: each set read again is held in memory."""
    reference = _answered(tmp_path / "reference", FILES[0])

    def full(self: SetSpool, record: object) -> None:
        raise OSError(28, "No space left on device")

    def gone_and_full(ctx: steps.StepContext, spool: SetSpool) -> None:
        spool.remove()
        monkeypatch.setattr(SetSpool, "_dump", full)

    assert _answered(tmp_path / "full", FILES[0], gone_and_full) == reference


def test_a_set_without_its_end_record_is_read_again_from_the_file(tmp_path: Path) -> None:
    """The record of a set's end is written last: a set file without it (cut short after
    its claims, or anywhere in its end record or the offset after it) is not trusted."""
    reference = _answered(tmp_path / "reference", FILES[0])

    def endless(ctx: steps.StepContext, spool: SetSpool) -> None:
        path = spool.directory / f"{2:07d}.set"
        whole = path.read_bytes()
        (start,) = struct.unpack("<Q", whole[-8:])
        for cut in (start, start + 1, len(whole) - 9, len(whole) - 1):
            path.write_bytes(whole[:cut])
            assert spool.get(2) is None, cut
        path.write_bytes(whole[:start] + b"\0" + whole[start:])  # the offset off by one
        assert spool.get(2) is None and spool.get(1) is not None

    assert _answered(tmp_path / "endless", FILES[0], endless) == reference


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_set_answered_a_claim_at_a_time_is_stored_as_one_answered_at_once(
        tmp_path: Path, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A set is read from the spool, numbered and inserted in chunks (`ANSWER_CHUNK`):
    chunks of one claim store the same rows, records and totals as one chunk."""
    whole = _answered(tmp_path / "whole", path)
    assert sum(1 for claim in whole[0] if claim[14] is not None) > 1  # records to compare
    monkeypatch.setattr(steps, "ANSWER_CHUNK", 1)
    assert _answered(tmp_path / "chunked", path) == whole


def test_revision_0011_moves_the_records_of_sets_answered_before_it(tmp_path: Path) -> None:
    """Sets answered before revision 0011 kept their claims' 277CA records in the set's
    answer: the revision moves them onto the claims, with their provider groups and the
    set's totals, as the engine now writes them; its downgrade moves them back."""
    ctx = _context(tmp_path)
    try:
        file_id = _acknowledged(ctx, FILES[0])
        assert steps.answer_sets(ctx, file_id)
        written = _stored(ctx, file_id)
        url = str(ctx.store.engine.url)
        migrate.downgrade(url, "0010")
        with ctx.store.engine.connect() as connection:
            kept = [len(json.loads(answer)["claims"]) for (answer,) in connection.execute(
                text("SELECT answer FROM transaction_sets WHERE answer IS NOT NULL "
                     "ORDER BY ordinal"))]
        assert sum(kept) == sum(1 for claim in written[0] if claim[14] is not None) > 1
        migrate.upgrade(url)
        assert _stored(ctx, file_id) == written
    finally:
        ctx.store.dispose()


def test_an_unsealed_spool_is_not_trusted(tmp_path: Path) -> None:
    """A pass that died before its seal left some sets: the file is read again."""
    reference = _answered(tmp_path / "reference", FILES[0])

    def unseal(ctx: steps.StepContext, spool: SetSpool) -> None:
        (spool.directory / "complete.json").unlink()
        (spool.directory / f"{3:07d}.set").unlink()
        assert spool.sets() is None

    assert _answered(tmp_path / "unsealed", FILES[0], unseal) == reference


def test_one_set_answered_on_its_own_is_taken_from_the_spool(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The service's per-set step (`answer_set`) reads its one set from the spool."""
    ctx = _context(tmp_path)
    try:
        file_id = _acknowledged(ctx, FILES[0])
        monkeypatch.setattr(steps, "set_outcomes", None)  # reading the file would fail
        steps.answer_set(ctx, file_id, 3)
        with ctx.store.transaction() as s:
            states = {t.ordinal: t.state for t in s.scalars(
                select(TransactionSet).where(TransactionSet.file_id == file_id))}
        assert states == {1: "pending", 2: "pending", 3: "answered", 4: "pending"}
    finally:
        ctx.store.dispose()


def test_a_spool_that_cannot_be_written_leaves_the_check_and_the_answers_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk under the spool: the 999 is still made, and the sets are read again."""
    reference = _answered(tmp_path / "reference", FILES[0])
    dump = SetSpool._dump
    dumped: list[object] = []

    def full(self: SetSpool, record: object) -> None:
        dumped.append(record)
        if record == (VERSION, self.key, 2):  # set 2's first record: the disk is full
            raise OSError(28, "No space left on device")
        dump(self, record)

    monkeypatch.setattr(SetSpool, "_dump", full)

    def unsealed(ctx: steps.StepContext, spool: SetSpool) -> None:
        assert spool.sets() is None
        assert spool.get(1) is not None and spool.get(2) is None and spool.get(3) is None
        assert not [p for p in spool.directory.iterdir() if p.name.startswith(".writing-")]

    assert _answered(tmp_path / "full", FILES[0], unsealed) == reference


def test_a_set_end_that_cannot_be_written_leaves_no_half_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk as set 2's end record is written: no temporary file is left, and the
    sets are read again from the file."""
    reference = _answered(tmp_path / "reference", FILES[0])
    dump = pickle.dump

    def full(value: object, *args: object, **kwargs: object) -> None:
        if isinstance(value, tuple) and value and value[0] == (VERSION, value[0][1], 2):
            raise OSError(28, "No space left on device")
        dump(value, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pickle, "dump", full)

    def unsealed(ctx: steps.StepContext, spool: SetSpool) -> None:
        assert spool.sets() is None
        assert not [p for p in spool.directory.iterdir() if p.name.startswith(".writing-")]

    assert _answered(tmp_path / "full", FILES[0], unsealed) == reference


def test_a_set_file_that_cannot_be_renamed_leaves_no_half_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Set 2's file written whole but not moved to its name (a failing rename): its
    temporary file is removed, and the sets are read again from the file."""
    reference = _answered(tmp_path / "reference", FILES[0])
    replace = os.replace

    def failing(source: str, target: object) -> None:
        if str(target).endswith("0000002.set"):
            raise OSError(5, "Input/output error")
        replace(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", failing)

    def unsealed(ctx: steps.StepContext, spool: SetSpool) -> None:
        assert spool.sets() is None and spool.get(1) is not None and spool.get(2) is None
        assert not [p for p in spool.directory.iterdir() if p.name.startswith(".writing-")]

    assert _answered(tmp_path / "full", FILES[0], unsealed) == reference


def test_a_late_second_pass_over_a_file_answered_meanwhile_leaves_no_spool(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers took the same file; the first acknowledged and answered it while the
    second was still reading it: the second's spool is removed, nothing else changes."""
    ctx = _context(tmp_path)
    try:
        file_id = _acknowledged(ctx, FILES[0])
        assert steps.answer_sets(ctx, file_id)
        spool = _spool(ctx, file_id)
        before = _stored(ctx, file_id)
        file_in = steps._file_in

        def stale(ctx: steps.StepContext, file_id: int, status: str) -> object:
            if status == "received":  # the second worker read the row before the first
                with ctx.store.transaction() as s:
                    return s.get(ReceivedFile, file_id)
            return file_in(ctx, file_id, status)

        monkeypatch.setattr(steps, "_file_in", stale)
        steps.acknowledge_file(ctx, file_id)
        assert not spool.directory.exists()
        assert _stored(ctx, file_id) == before
    finally:
        ctx.store.dispose()


def test_the_spool_refuses_to_build_anything_but_the_outcome_types(tmp_path: Path) -> None:
    """The restricted unpickler itself: a callable named in a record is an error before
    anything is built."""
    records = pickle.dumps((VERSION, "key", 1)) + pickle.dumps(_Foreign())
    (tmp_path / f"{1:07d}.set").write_bytes(_packed(records))
    with pytest.raises(SpoolDamaged) as raised:
        list(SpooledClaims(tmp_path / f"{1:07d}.set", (VERSION, "key", 1), 1))
    assert isinstance(raised.value.__cause__, pickle.UnpicklingError)
    assert "not a spooled type" in str(raised.value.__cause__)


def test_the_spooled_records_pickle_as_their_class_and_field_values() -> None:
    """`edi.pickled.ByFields`: each record type is rebuilt by its own constructor (no
    per-call field lookup), equal to what was written, and only from its own fields."""
    where = Location("2400", "SV1", "SV102", 2)
    finding = ClaimFinding("E", 1, 3, StatusCategory.INVALID, ("583",), Entity.BILLING, where,
                           "The line charge must be a non-negative amount.", "FY2026")
    line = LineStatus(2, "90837", ("95",), Decimal("-1"), None, date(2026, 1, 5), None, None,
                      (finding,))
    status = ClaimStatus("PCN1", Decimal("10"), date(2026, 1, 5), date(2026, 1, 5), "DOE", None,
                         "M1", Provider277("2", "CLINIC", None, "1234567893", "123456789"),
                         findings=(finding,), lines=(line,))
    kept = KeptClaim('{"position":3}', "M1", None)
    for record in (where, finding, line, status, kept):
        cls, values = record.__reduce__()
        assert cls is type(record) and values == tuple(
            getattr(record, f.name) for f in fields(record))
        assert pickle.loads(pickle.dumps(record, protocol=5)) == record


def test_a_sets_clm_list_is_kept_packed_and_reads_back_as_written() -> None:
    """`ClaimHeads`: CLM01/CLM02 pairs in one buffer, whatever their text, rebuilt by the
    spool's unpickler from two byte strings."""
    written = [("PCN-0001", "150.00"), ("", ""), ("ÉLAN\udcff", "1e3"), ("x" * 70_000, "0")]
    heads = ClaimHeads()
    for pcn, charge in written:
        heads.append(pcn, charge)
    assert list(heads) == written and len(heads) == 4
    again = _Outcomes(io.BytesIO(pickle.dumps(heads, protocol=5))).load()
    assert isinstance(again, ClaimHeads) and again == heads and list(again) == written
    assert again != ClaimHeads() and len(ClaimHeads()) == 0
