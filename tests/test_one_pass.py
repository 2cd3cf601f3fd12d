"""The one-pass front end (`workers.front_end.front_pass`) finds what the two passes find.

The engine checks a file and parses its sets over one reading (the check taps each
segment to `SetCollector`); the two-pass way it replaces (`compiled.check_stream`,
then `set_outcomes` reading the file again with the 999's accepted sets) stays as the
oracle here and as the fallback when a set's spooled outcome is missing. Every public
837P, every fixture and seeded mutants must give the same verdict and, set by set, the
same reading, 277CA records, fingerprints, kept claims and rendering clinicians.
"""

from __future__ import annotations

import io
import os
import random
from datetime import date
from pathlib import Path

import pytest

from edi.validators import implementation_guide as ig
from edi.validators.compiled import check_stream
from edi.validators.edits import EditContext
from fixtures import fuzz
from tests.paths import ACK_FIXTURES, FIXTURES, ROOT, corpus_837p
from workers.front_end import Outcomes, SetOutcome, front_pass, set_outcomes

SAMPLES = [*sorted(ACK_FIXTURES.glob("*.837")), *sorted((FIXTURES / "837p").glob("*.837")),
           *sorted((FIXTURES / "edits").glob("*.837")),
           *sorted((ROOT / "tests" / "data").rglob("*.837")), *corpus_837p()]
POLICY = ig.EnvelopePolicy(receiver_ids=None)
CONTEXT = EditContext(received=date(2026, 6, 1))
FIRST = sorted((FIXTURES / "837p").glob("*.837"))[0]
CASES = int(os.environ.get("EDI_ONE_PASS_CASES", "300"))


def view(outcome: SetOutcome) -> object:
    r = outcome.reading
    error = r.parse_error
    return (r.ordinal, r.control_number, r.accepted, r.clm_segments,
            None if error is None else (str(error), error.position),
            r.sender_qualifier, r.sender_id, r.application_sender, r.batch_reference,
            r.submitter_name, r.submitter_id, r.usage_indicator,
            list(outcome.edited), outcome.kept_count)


Seen = tuple[frozenset[int], list[object]]


def both(path: Path, policy: ig.EnvelopePolicy = POLICY) -> tuple[Seen, Seen]:
    """(one pass, two passes): the accepted sets and every set's outcome."""
    kept = Outcomes()
    with path.open("rb") as stream:
        check = front_pass(stream, policy, CONTEXT, kept)
    accepted = check.accepted_ordinals()
    passed = kept.sets
    with path.open("rb") as stream:
        oracle = check_stream(stream, policy).accepted_ordinals()
    return ((accepted, [view(o.settle(accepted)) for o in passed]),
            (oracle, [view(o) for o in set_outcomes(path, oracle, CONTEXT)]))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_reads_the_same_in_one_pass(path: Path) -> None:
    one, two = both(path)
    assert one == two


@pytest.mark.parametrize(("segments", "characters"), [(1, 1 << 20), (7, 1 << 20), (4_096, 90)])
def test_the_collector_reads_the_same_whatever_its_batches(
        segments: int, characters: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The samples fit in one batch of the default size: here batches of one segment,
    of seven (sets, claims and the envelope straddle them) and of about 90 characters
    end all over the files, and every sample (ta1-truncated.837 ends inside a segment)
    still reads as the two passes read it."""
    from workers import front_end

    monkeypatch.setattr(front_end, "BATCH_SEGMENTS", segments)
    monkeypatch.setattr(front_end, "BATCH_CHARACTERS", characters)
    assert ACK_FIXTURES / "ta1-truncated.837" in SAMPLES
    for path in SAMPLES:
        one, two = both(path)
        assert one == two, path.name


def test_the_samples_hold_accepted_claims_and_sets_the_check_rejects() -> None:
    """The comparison is not empty: the samples do hold parsed claims, and sets the
    999 rejects (parsed in the pass, then settled as not reached)."""
    claims = rejected = 0
    for path in SAMPLES:
        kept = Outcomes()
        with path.open("rb") as stream:
            accepted = front_pass(stream, POLICY, CONTEXT, kept).accepted_ordinals()
        for outcome in kept.sets:
            outcome.settle(accepted)
            claims += len(list(outcome.edited))
            rejected += not outcome.reading.accepted
    assert claims > 50
    assert rejected > 3


def test_seeded_mutants_read_the_same_in_one_pass(tmp_path: Path) -> None:
    samples = [p.read_bytes() for p in SAMPLES if p.stat().st_size < 200_000]
    rng = random.Random(20261129)
    differ = []
    for case in range(CASES):
        data, names = fuzz.mutate(rng.choice(samples), rng)
        path = tmp_path / f"{case}.837"
        path.write_bytes(data)
        one, two = both(path)
        if one != two:
            differ.append((case, names))
        path.unlink()
    assert not differ


def test_a_policy_the_tables_do_not_cover_reads_the_file_again() -> None:
    """pyx12's path taps nothing: the sets are read after its check, with its verdict."""
    policy = ig.EnvelopePolicy(receiver_ids=None,
                               groups={**ig.CLAIM_GROUPS, **ig.OUTBOUND_GROUPS})
    path = FIRST
    one, two = both(path, policy)
    assert one == two
    assert one[1]


def test_an_engine_fault_in_the_pass_makes_the_set_unreadable_not_a_crash(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from edi.faults import FAULTS
    from workers import front_end

    def broken(claim: object, context: EditContext) -> None:
        raise RuntimeError("an engine bug")

    monkeypatch.setattr(front_end.EditedClaim, "of", broken)
    path = FIRST
    before = FAULTS["front-end-pass"]
    kept = Outcomes()
    with path.open("rb") as stream:
        check = front_pass(stream, POLICY, CONTEXT, kept)
    passed = kept.sets
    assert check.accepted_ordinals()
    assert passed and all(o.reading.parse_error is not None for o in passed)
    assert FAULTS["front-end-pass"] > before
    settled = passed[0].settle(check.accepted_ordinals())
    assert not settled.readable
    assert len(settled.unprocessable_statuses()) == len(settled.reading.clm_segments) > 0


def test_the_pass_reads_a_stream_once() -> None:
    """The file is read by one tokenizer: a stream that cannot seek back is enough."""

    class Once(io.BytesIO):
        def seek(self, *args: object) -> int:
            raise AssertionError("the file was read again")

    kept = Outcomes()
    check = front_pass(Once(FIRST.read_bytes()), POLICY, CONTEXT, kept)
    assert check.accepted_ordinals() and kept.sets[0].edited


def test_a_kept_claim_reads_back_as_the_claim_parsed() -> None:
    """The stored JSON leaves out fields at their defaults; reading it gives them back."""
    from edi.errors import ParseError, X12SyntaxError
    from edi.parsers.claim837 import iter_claims
    from edi.tokenizer import iter_segments
    from workers.front_end import KeptClaim

    compared = 0
    for path in SAMPLES:
        with path.open("rb") as stream:
            try:
                for claim in iter_claims(iter_segments(stream)):
                    kept = KeptClaim.of(claim)
                    assert kept.parsed() == claim
                    assert len(kept.json) < len(claim.model_dump_json())
                    compared += 1
            except (ParseError, X12SyntaxError):  # a sample the reader rejects ends early
                continue
    assert compared > 50
