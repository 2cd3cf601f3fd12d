"""The engine's faster paths through pyx12 find exactly what pyx12's own paths find."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings

from edi import bounds
from edi.findings import FileCheck
from edi.validators import implementation_guide as ig
from tests.paths import ACK_FIXTURES, FIXTURES, corpus_837p
from tests.test_robustness import mutated


def _everything(check: FileCheck) -> list[object]:
    return [
        (ic.note_code, tuple(ic.sentences),
         [(g.ack_code, tuple(g.syntax_codes),
           [(ts.ack_code, tuple(ts.syntax_codes), tuple(ts.segments)) for ts in g.transaction_sets])
          for g in ic.groups])
        for ic in check.interchanges
    ]


def _both_ways(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    policy = ig.EnvelopePolicy(receiver_ids=None)
    monkeypatch.setattr(ig, "FAST_PATHS", True)
    fast = _everything(ig.check_stream(io.BytesIO(data), policy))
    monkeypatch.setattr(ig, "FAST_PATHS", False)
    plain = _everything(ig.check_stream(io.BytesIO(data), policy))
    return fast, plain


FILES = [*sorted(ACK_FIXTURES.glob("*.837")), *sorted((FIXTURES / "837p").glob("*.837")),
         *corpus_837p()]


@pytest.mark.parametrize("source", FILES, ids=lambda p: p.name)
def test_fast_paths_find_the_same_as_pyx12s_own_on_every_sample(
    source: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, plain = _both_ways(source.read_bytes(), monkeypatch)  # type: ignore[attr-defined]
    assert fast == plain


@settings(max_examples=60, deadline=None)
@given(mutated())
def test_fast_paths_find_the_same_as_pyx12s_own_on_mutated_files(data: bytes) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, plain = _both_ways(data, monkeypatch)
    assert fast == plain


def test_the_element_check_memo_remembers_no_long_segment() -> None:
    """The memo is keyed by input text: a long segment (here a 50,000-character name)
    is checked but not remembered, so a long run's memory does not grow with its
    input (it grew by megabytes per thousand fuzzed files)."""
    data = (ACK_FIXTURES / "valid-two-claims.837").read_bytes().replace(
        b"NM1*IL*1*", b"NM1*IL*1*" + b"X" * 50_000, 1)
    ig._ELEMENT_CHECKS.clear()
    ig.check_stream(io.BytesIO(data), ig.EnvelopePolicy())
    assert ig._ELEMENT_CHECKS  # the short segments are remembered
    assert max(len(key[4]) for key in ig._ELEMENT_CHECKS) <= bounds.LINE
