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
import zstandard
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
from store import migrate
from store.engine import Store
from store.models import Claim, ReceivedFile, TransactionSet
from tests.paths import ACK_FIXTURES, FIXTURES
from tests.stepping import acknowledged, step_context
from workers import finish_step, set_spool, steps
from workers.front_end import KeptClaim
from workers.reference_store import ReferenceSource
from workers.set_spool import (
    VERSION,
    SetSpool,
    SpoolDamaged,
    SpooledClaims,
    _Outcomes,
    end_frame,
    packed,
)
from workers.transaction_sets import ClaimHeads

FILES = [FIXTURES / "837p" / "demo-multi-st.837", ACK_FIXTURES / "two-sets-one-bad.837"]


def _context(tmp_path: Path, reference: ReferenceSource | None = None) -> steps.StepContext:
    tmp_path.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    migrate.upgrade(url)
    return step_context(url, tmp_path / "archive", reference)


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
        file_id = acknowledged(ctx, path)
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


def test_the_spool_reads_its_codes_back_whatever_the_311_release_pickles_enums_as(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Some Python 3.11 releases (3.11.2, Debian 12's) pickle an enumeration member as
    ``getattr(class, name)``, a call the spool's reader refuses: with that behaviour put
    in place here, the rejected claims' findings (status categories and entities) still
    come back from the spool, and the file is not read again."""
    import enum

    path = FIXTURES / "edits" / "payer-billing-npi.837"  # every claim rejected
    again = _answered(tmp_path / "again", path, lambda ctx, spool: spool.remove())
    monkeypatch.setattr(enum.Enum, "__reduce_ex__",
                        lambda member, protocol: (getattr, (type(member), member._name_)))
    from adjudication.decision import Group  # an enumeration the spool never holds

    assert b"getattr" in pickle.dumps(Group.CO)  # the behaviour is in place
    monkeypatch.setattr(steps, "set_outcomes", None)  # reading the file would fail
    spooled = _answered(tmp_path / "spooled", path)
    assert spooled == again
    assert all(claim[5] for claim in spooled[0])  # each claim's codes came back


def _assert_sealed(spool: SetSpool) -> None:
    assert spool.sets() is not None and spool.sets() > 1  # type: ignore[operator]
    assert spool.get(1) is not None


@pytest.fixture(params=["packed", "own-files"])
def layout(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The pass's sets in packs (these files' sets are small), or each in a file of its
    own (as a set passing `PACK_BELOW` is)."""
    if request.param == "own-files":
        monkeypatch.setattr(set_spool, "PACK_BELOW", 0)
    return str(request.param)


def _place(spool: SetSpool, ordinal: int) -> tuple[Path, tuple[int, int] | None]:
    """Where set ``ordinal`` lies: a file of its own, or its span in a pack."""
    places = list(SetSpool(spool.directory, spool.key)._places(ordinal))
    assert len(places) == 1, places
    return places[0]


def _set_bytes(spool: SetSpool, ordinal: int) -> bytes:
    path, span = _place(spool, ordinal)
    whole = path.read_bytes()
    return whole if span is None else whole[span[0]:span[1]]


def _replace_set(spool: SetSpool, ordinal: int, data: bytes) -> None:
    """Set ``ordinal``'s bytes replaced with ``data`` where they lie (its pack written
    again with the others as they were)."""
    path, span = _place(spool, ordinal)
    if span is None:
        path.write_bytes(data)
        return
    sets = {one: _set_bytes(spool, one) for one in SetSpool(spool.directory, spool.key)
            ._pack_index(path.name)}
    sets[ordinal] = data
    pack = set_spool._Pack(spool.directory)
    for one, written in sorted(sets.items()):
        pack.add(one, memoryview(written))
    assert pack.close(spool.directory)[2] == path.name


def _damaged(ctx: steps.StepContext, spool: SetSpool) -> None:
    _replace_set(spool, 1, b"not a pickle")


def _packed(records: bytes) -> bytes:
    """``records`` as the spool compresses a set file."""
    out = io.BytesIO()
    zipped = packed(out)
    zipped.write(records)
    end_frame(zipped)
    return out.getvalue()


class _Foreign:
    """A pickle naming a callable: loading it would run a command."""

    def __reduce__(self) -> tuple[object, ...]:
        import os

        return os.system, ("touch /tmp/spool-pickle-ran",)


def _foreign(ctx: steps.StepContext, spool: SetSpool) -> None:
    """A file the spool would read, as far as the header, then a callable's record."""
    records = pickle.dumps((VERSION, spool.key, 2)) + pickle.dumps(_Foreign())
    _replace_set(spool, 2, _packed(records))


def _other_day(ctx: steps.StepContext, spool: SetSpool) -> None:
    elsewhere = spool.directory.parent / "another-day"
    written_for_another_day = SetSpool(elsewhere, "2026-05-31|" + spool.key.split("|")[1],
                                       packing=False)
    outcome = spool.get(1)
    assert outcome is not None
    written_for_another_day.begin(outcome.reading)  # set 1 as the one pass puts it
    for claim in outcome.edited:
        written_for_another_day.claim(claim)
    written_for_another_day.end(outcome.reading)
    _replace_set(spool, 1, (elsewhere / f"{1:07d}.set").read_bytes())


@pytest.mark.parametrize("meddle", [_damaged, _foreign, _other_day],
                         ids=["damaged", "foreign", "another-receipt-date"])
def test_a_set_the_spool_cannot_serve_is_read_again_from_the_file(
        tmp_path: Path, meddle: Callable[[steps.StepContext, SetSpool], None], layout: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = FILES[0]
    Path("/tmp/spool-pickle-ran").unlink(missing_ok=True)
    reference = _answered(tmp_path / "reference", path)
    assert any(claim[4] == "accepted" for claim in reference[0])
    read_again: list[int] = []
    reread = steps._reread

    def counted(ctx: steps.StepContext, row: ReceivedFile, wanted: Callable[[int], bool],
                accepted: frozenset[int]) -> object:
        read_again.extend(ordinal for ordinal in range(1, 5) if wanted(ordinal))
        return reread(ctx, row, wanted, accepted)

    monkeypatch.setattr(steps, "_reread", counted)
    assert _answered(tmp_path / "meddled", path, meddle) == reference
    assert read_again == [{"_damaged": 1, "_foreign": 2, "_other_day": 1}[meddle.__name__]]
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


def test_a_set_without_its_end_record_is_read_again_from_the_file(
        tmp_path: Path, layout: str) -> None:
    """The record of a set's end is written last: a set without it (cut short after its
    claims, or anywhere in its end record or the offset after it) is not trusted."""
    reference = _answered(tmp_path / "reference", FILES[0])

    def endless(ctx: steps.StepContext, spool: SetSpool) -> None:
        whole = _set_bytes(spool, 2)
        assert spool.get(2) is not None
        (start,) = struct.unpack("<Q", whole[-8:])
        for cut in (start, start + 1, len(whole) - 9, len(whole) - 1):
            _replace_set(spool, 2, whole[:cut])
            assert SetSpool(spool.directory, spool.key).get(2) is None, cut
        _replace_set(spool, 2, whole[:start] + b"\0" + whole[start:])  # offset off by one
        again = SetSpool(spool.directory, spool.key)
        assert again.get(2) is None and again.get(1) is not None

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
        file_id = acknowledged(ctx, FILES[0])
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
        spool.forget(3)
        assert spool.sets() is None

    assert _answered(tmp_path / "unsealed", FILES[0], unseal) == reference


def test_one_set_answered_on_its_own_is_taken_from_the_spool(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The service's per-set step (`answer_set`) reads its one set from the spool."""
    ctx = _context(tmp_path)
    try:
        file_id = acknowledged(ctx, FILES[0])
        monkeypatch.setattr(steps, "set_outcomes", None)  # reading the file would fail
        steps.answer_set(ctx, file_id, 3)
        with ctx.store.transaction() as s:
            states = {t.ordinal: t.state for t in s.scalars(
                select(TransactionSet).where(TransactionSet.file_id == file_id))}
        assert states == {1: "pending", 2: "pending", 3: "answered", 4: "pending"}
    finally:
        ctx.store.dispose()


def test_a_spool_that_cannot_be_written_leaves_the_check_and_the_answers_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str) -> None:
    """A full disk under the spool: the 999 is still made, and the sets are read again
    (set 1, written before, is in its own file; in a pack, it went with the pack)."""
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
        assert (spool.get(1) is not None) == (layout == "own-files")
        assert spool.get(2) is None and spool.get(3) is None
        assert not [p for p in spool.directory.iterdir() if p.name.startswith(".writing-")]

    assert _answered(tmp_path / "full", FILES[0], unsealed) == reference


def test_a_set_end_that_cannot_be_written_leaves_no_half_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str) -> None:
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
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str) -> None:
    """Set 2's file (or the pack) written whole but not moved to its name (a failing
    rename): its temporary file is removed, and the sets are read again from the file."""
    reference = _answered(tmp_path / "reference", FILES[0])
    replace = os.replace
    renamed: list[str] = []

    def failing(source: str, target: object) -> None:
        if str(target).endswith(("0000002.set", ".pack")):
            renamed.append(Path(str(target)).name)
            raise OSError(5, "Input/output error")
        replace(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", failing)

    def unsealed(ctx: steps.StepContext, spool: SetSpool) -> None:
        assert renamed == ["0000001-0000004.pack" if layout == "packed" else "0000002.set"]
        assert spool.sets() is None and spool.get(2) is None
        assert (spool.get(1) is not None) == (layout == "own-files")
        assert not [p for p in spool.directory.iterdir() if p.name.startswith(".writing-")]

    assert _answered(tmp_path / "full", FILES[0], unsealed) == reference


def test_a_late_second_pass_over_a_file_answered_meanwhile_leaves_no_spool(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers took the same file; the first acknowledged and answered it while the
    second was still reading it: the second's spool is removed, nothing else changes."""
    ctx = _context(tmp_path)
    try:
        file_id = acknowledged(ctx, FILES[0])
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


def _one_claim_sets(tmp_path: Path, sets: int) -> Path:
    from fixtures.generator import write_837

    path = tmp_path / "one-claim-sets.837"
    with path.open("w", newline="") as out:
        write_837(out, claims=sets, seed=sets, claims_per_transaction=1)
    return path


def _spooled(path: Path, spool: SetSpool) -> tuple[frozenset[int], list[object]]:
    """The one pass into ``spool``, sealed: the accepted sets, and every set as the spool
    gives it back (`tests.test_one_pass.view`)."""
    from tests.test_one_pass import CONTEXT, POLICY, view
    from workers.front_end import front_pass

    with path.open("rb") as stream:
        accepted = front_pass(stream, POLICY, CONTEXT, spool).accepted_ordinals()
    spool.seal()
    sets = spool.sets()
    assert sets is not None
    outcomes = [spool.get(ordinal) for ordinal in range(1, sets + 1)]
    return accepted, [view(o.settle(accepted)) if o is not None else None for o in outcomes]


def test_small_sets_are_packed_and_read_back_as_the_file_gives_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Eleven one-claim sets, packs of four sets: three packs (1-4, 5-8, 9-11), no file a
    set, and every set read back from them as reading the file again gives it."""
    from tests.test_one_pass import CONTEXT, view
    from workers.front_end import set_outcomes

    monkeypatch.setattr(set_spool, "PACK_SETS", 4)
    path = _one_claim_sets(tmp_path, 11)
    spool = SetSpool(tmp_path / "spool", "key")
    accepted, spooled = _spooled(path, spool)
    assert sorted(p.name for p in spool.directory.iterdir()) == [
        "0000001-0000004.pack", "0000005-0000008.pack", "0000009-0000011.pack",
        "complete.json"]
    assert len(accepted) == 11
    assert spooled == [view(o) for o in set_outcomes(path, accepted, CONTEXT)]


def test_a_set_passing_the_pack_size_is_a_file_of_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A set whose bytes pass `PACK_BELOW` as they are written leaves memory for a file
    of its own; the sets around it still go into the pack, and all read back alike."""
    packed_only = SetSpool(tmp_path / "packed", "key")
    reference = _spooled(FILES[0], packed_only)
    assert sorted(p.suffix for p in packed_only.directory.iterdir()) == [".json", ".pack"]
    sizes = {ordinal: len(_set_bytes(packed_only, ordinal))
             for ordinal in range(1, len(reference[1]) + 1)}
    largest = max(sizes, key=sizes.__getitem__)
    assert len(sizes) > 1 and sorted(sizes.values())[-2] < sizes[largest] - 1
    monkeypatch.setattr(set_spool, "PACK_BELOW", sizes[largest] - 1)
    mixed = SetSpool(tmp_path / "mixed", "key")
    assert _spooled(FILES[0], mixed) == reference
    assert sorted(p.name for p in mixed.directory.iterdir() if p.suffix != ".json") == sorted(
        [f"{largest:07d}.set", f"{1:07d}-{len(sizes):07d}.pack"])
    assert not [p for p in mixed.directory.iterdir() if p.name.startswith(".writing-")]


def test_a_set_read_while_its_pack_is_filled_closes_the_pack(tmp_path: Path) -> None:
    """A spool read before its seal (as a set read again is, at once): the pack holding
    the set is renamed into place first, and the sets written after go into a new one."""
    from tests.test_one_pass import CONTEXT
    from workers.front_end import read_into

    path = _one_claim_sets(tmp_path, 3)
    spool = SetSpool(tmp_path / "spool", "key")
    read: list[int] = []
    with path.open("rb") as stream:
        for reading in read_into(stream, frozenset({1, 2, 3}), CONTEXT, spool):
            outcome = spool.get(reading.ordinal)
            assert outcome is not None and len(list(outcome.edited)) == 1
            read.append(reading.ordinal)
    assert read == [1, 2, 3]
    assert sorted(p.name for p in spool.directory.iterdir()) == [
        "0000001-0000001.pack", "0000002-0000002.pack", "0000003-0000003.pack"]


def test_a_damaged_pack_serves_none_of_its_sets_and_is_forgotten_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pack whose index is damaged serves none of its sets (the other packs still
    serve theirs); forgetting one of its sets removes the pack."""
    monkeypatch.setattr(set_spool, "PACK_SETS", 2)
    spool = SetSpool(tmp_path / "spool", "key")
    _accepted, reference = _spooled(_one_claim_sets(tmp_path, 4), spool)
    assert None not in reference
    damaged = spool.directory / "0000003-0000004.pack"
    whole = damaged.read_bytes()
    # the last byte of its index (before the index's offset and CRC-32)
    damaged.write_bytes(whole[:-13] + bytes([whole[-13] ^ 0xFF]) + whole[-12:])
    again = SetSpool(spool.directory, "key")
    assert [again.get(ordinal) is None for ordinal in range(1, 5)] == [False, False, True, True]
    again.forget(3)
    assert not damaged.exists() and (spool.directory / "0000001-0000002.pack").exists()
    again.forget(1)
    assert sorted(p.name for p in spool.directory.iterdir()) == ["complete.json"]


def test_a_pack_left_by_a_pass_for_another_day_does_not_hide_this_passes_sets(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Packs of two passes written for different receipt dates and cut differently
    overlap: each set is served from the pack written for this spool's key."""
    path = _one_claim_sets(tmp_path, 5)
    monkeypatch.setattr(set_spool, "PACK_SETS", 2)
    _spooled(path, SetSpool(tmp_path / "spool", "another day"))
    monkeypatch.setattr(set_spool, "PACK_SETS", 3)
    spool = SetSpool(tmp_path / "spool", "key")
    reference = _spooled(path, spool)
    assert sorted(p.name for p in spool.directory.iterdir() if p.suffix == ".pack") == [
        "0000001-0000002.pack", "0000001-0000003.pack", "0000003-0000004.pack",
        "0000004-0000005.pack", "0000005-0000005.pack"]
    assert None not in reference[1]
    assert _spooled(path, SetSpool(tmp_path / "spool", "key")) == reference


def test_small_sets_answered_together_store_what_one_set_at_a_time_stores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Twelve one-claim sets: answered in one transaction (`SMALL_SETS_CLAIMS`), one block
    of claim numbers, and the same claims, numbers, records and totals as when each set
    is answered on its own."""
    path = _one_claim_sets(tmp_path, 12)
    blocks: list[int] = []
    take = steps.take

    def counted_take(session: object, name: str, count: int = 1, start: int = 1) -> int:
        if name == "claim-number":
            blocks.append(count)
        return take(session, name, count, start)  # type: ignore[arg-type]

    monkeypatch.setattr(steps, "take", counted_take)
    together = _answered(tmp_path / "together", path)
    numbers_together = _numbers(tmp_path / "together")
    assert blocks == [12]
    monkeypatch.setattr(steps, "SMALL_SETS_CLAIMS", 0)
    blocks.clear()
    alone = _answered(tmp_path / "alone", path)
    assert blocks == [1] * 12
    assert together == alone and len(together[1]) == 12
    assert numbers_together == _numbers(tmp_path / "alone")
    assert len({icn for icn, _npis in numbers_together}) == 12  # type: ignore[misc]
    assert all(npis for _icn, npis in numbers_together)  # type: ignore[misc]


def _numbers(tmp_path: Path) -> list[object]:
    """Each claim's number, and the rendering clinicians stored for it, in claim order."""
    from store.models import ClaimRenderingNpi

    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with store.transaction() as s:
            npis: dict[int, list[str]] = {}
            for claim_id, npi in s.execute(select(ClaimRenderingNpi.claim_id, ClaimRenderingNpi.npi)
                                           .order_by(ClaimRenderingNpi.claim_id,
                                                     ClaimRenderingNpi.npi)):
                npis.setdefault(claim_id, []).append(npi)
            return [(icn, npis.get(claim_id, [])) for claim_id, icn in s.execute(
                select(Claim.id, Claim.icn).order_by(Claim.id))]
    finally:
        store.dispose()


def test_a_damaged_set_among_small_sets_answered_together_is_read_again_alone(
        tmp_path: Path, layout: str) -> None:
    """A byte of set 2's spooled claims changed behind a sound end record: its frame's
    checksum finds it as the claims are read (packed, or in a file of its own), the
    batch's transaction rolls back, each set is answered on its own, set 2 from the
    file."""
    path = _one_claim_sets(tmp_path, 4)
    reference = _answered(tmp_path / "reference", path)

    def damaged_claims(ctx: steps.StepContext, spool: SetSpool) -> None:
        whole = _set_bytes(spool, 2)
        (start,) = struct.unpack("<Q", whole[-8:])
        middle = start // 2
        _replace_set(spool, 2, whole[:middle] + bytes([whole[middle] ^ 0xFF]) + whole[middle + 1:])
        outcome = SetSpool(spool.directory, spool.key).get(2)
        assert outcome is not None  # its end record is sound
        with pytest.raises(SpoolDamaged):
            list(outcome.edited)

    assert _answered(tmp_path / "damaged", path, damaged_claims) == reference


def test_ending_a_frame_keeps_nothing_and_writes_one_frame() -> None:
    """`set_spool.end_frame`, as the spool ends each set's frame: 2,000 frames leave
    next to nothing allocated (zstandard 0.25's ``close`` kept 28 bytes a frame: a file of
    200,000 one-claim sets held 5.6 MB more), and each is one frame, read back whole."""
    import hashlib
    import tracemalloc

    from workers.set_spool import unpacked

    class Frame:
        """Where a frame goes: its digest, not its bytes (which tracemalloc would count)."""

        def __init__(self) -> None:
            self.digest = hashlib.sha256()

        def write(self, data: bytes) -> int:
            self.digest.update(data)
            return len(data)

        def flush(self) -> None:
            pass

    payload = os.urandom(3_000)  # compressed, more than 256 bytes: a number not cached
    outs = [Frame() for _ in range(2_001)]
    kept = io.BytesIO()
    for out in (outs[-1], kept):  # warm, and the frame to compare with
        zipped = packed(out)  # type: ignore[arg-type]
        zipped.write(payload)
        end_frame(zipped)
    def held(snapshot: tracemalloc.Snapshot) -> int:
        """What the spool's code allocated under this test's own calls and still holds
        (a thread another test left running is not counted). Frames: the oldest first."""
        return sum(trace.size for trace in snapshot.traces
                   if trace.traceback[-1].filename == set_spool.__file__
                   and any(f.filename == __file__ for f in trace.traceback))

    tracemalloc.start(32)
    try:
        held_at = []
        for half in (outs[:1_000], outs[1_000:-1]):
            for out in half:
                zipped = packed(out)  # type: ignore[arg-type]
                zipped.write(payload)
                end_frame(zipped)
            del zipped
            held_at.append(held(tracemalloc.take_snapshot()))
    finally:
        tracemalloc.stop()
    # what the second 1,000 frames add (a block allocated once, as the first frames
    # warm a pool, is not a leak): next to nothing; the leak held over 28 bytes a frame
    assert held_at[1] - held_at[0] < 10 * 1_000, held_at
    assert held_at[1] < 40 * 2_000, held_at
    frame = kept.getvalue()
    assert len(frame) > 256
    assert {out.digest.hexdigest() for out in outs} == {hashlib.sha256(frame).hexdigest()}
    assert unpacked(io.BytesIO(frame)).read() == payload
    single = zstandard.ZstdDecompressor().decompressobj()
    assert single.decompress(frame) == payload and single.eof and not single.unused_data


@pytest.mark.parametrize("per_insert", [1, 3, steps.ROWS_PER_STATEMENT])
def test_the_acknowledge_step_stores_a_row_for_every_set_in_file_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, per_insert: int) -> None:
    """The set rows go in by statements of `ROWS_PER_STATEMENT` (not as ORM objects,
    which held about 2 KB a set until the commit): every set once, in file order,
    accepted as the 999 says, with the claims the pass found in it (a set the 999
    rejects too), whatever the statements' size."""
    monkeypatch.setattr(steps, "ROWS_PER_STATEMENT", per_insert)
    rows = []
    for at, path in enumerate(FILES):
        ctx = _context(tmp_path / str(at))
        try:
            file_id = acknowledged(ctx, path)
            with ctx.store.transaction() as s:
                rows.append([(t.ordinal, t.accepted, t.state, t.control_number, t.claims)
                             for t in s.scalars(select(TransactionSet).where(
                                 TransactionSet.file_id == file_id).order_by(TransactionSet.id))])
        finally:
            ctx.store.dispose()
    assert rows[0] == [(n, True, "pending", f"{n:04d}", 5) for n in range(1, 5)]
    assert rows[1] == [(1, True, "pending", "0001", 2), (2, False, "pending", "0002", 2)]


def test_a_277ca_reads_runs_of_small_sets_together_and_says_the_same(tmp_path: Path) -> None:
    """`finish_step._answers` reads consecutive small sets' 277CA records with two statements
    a run: the same 277CA as each set read alone (`finish_step._answer`), for sets of one
    claim, a set whose size was not kept (before revision 0012) and larger sets."""
    from sqlalchemy import event, update

    from edi.ack277 import write_277ca_by_sender
    from edi.acks import CountingControlNumbers, Responder
    from fixtures.generator import write_837

    ctx = _context(tmp_path)
    try:
        source = tmp_path / "mixed.837"
        with source.open("w") as out:
            write_837(out, claims=150, seed=21, claims_per_transaction=1)
        one_claim = acknowledged(ctx, source)
        large = acknowledged(ctx, FIXTURES / "837p" / "demo-multi-st.837")  # 4 sets of 5
        for file_id in (one_claim, large):
            assert steps.answer_sets(ctx, file_id)
        with ctx.store.transaction() as s:
            s.execute(update(TransactionSet).where(TransactionSet.file_id == one_claim,
                                                   TransactionSet.ordinal == 40)
                      .values(claims=None))
        statements: list[str] = []
        event.listen(ctx.store.engine, "before_cursor_execute",
                     lambda _c, _cursor, statement, *_rest: statements.append(statement))

        def rendered(file_id: int, together: bool) -> tuple[str, int]:
            statements.clear()
            out = io.StringIO()
            with ctx.store.transaction() as s:
                senders = finish_step._senders(s, file_id)
                answers = [(sender, finish_step._answers(s, sets) if together else
                            (finish_step._answer(s, set_id) for set_id, _claims in sets))
                           for sender, sets in senders.items()]
                write_277ca_by_sender(answers, Responder(
                    when=datetime(2026, 6, 2, 8, tzinfo=UTC), control=CountingControlNumbers()),
                    out)
            return out.getvalue(), len(statements)

        alone, alone_statements = rendered(one_claim, together=False)
        together, together_statements = rendered(one_claim, together=True)
        assert together == alone and alone.count("ST*277*") == 150
        # 150 sets: two statements each alone; together, runs of at most 100 claims
        # around the set of unknown size (1-39, 40 alone, 41-140, 141-150)
        assert alone_statements >= 300 and together_statements <= 12
        assert rendered(large, together=True)[0] == rendered(large, together=False)[0]
    finally:
        ctx.store.dispose()
