"""Every 277CA the engine writes is valid for pyx12, and its counts always add up."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi.ack277 import render_277ca
from edi.acks import CountingControlNumbers, Responder
from edi.front_end import InMemoryClaimNumbers
from edi.tokenizer import segments_from_bytes
from edi.validators.edits import EditContext
from edi.validators.implementation_guide import EnvelopePolicy, check_stream
from edi.validators.outbound import outbound_problems
from fixtures.generator import generate_837_text
from tests.paths import FIXTURES, corpus_837p
from workers.front_end import FrontEndResult, run_front_end

WHEN = datetime(2026, 11, 23, 12, 0)
ALL_837 = [*sorted(FIXTURES.glob("**/*.837")), *corpus_837p()]


def _front_end(path: Path) -> FrontEndResult:
    with path.open("rb") as stream:
        check = check_stream(stream, EnvelopePolicy(receiver_ids=None))
    return run_front_end(path, check, EditContext(received=date(2026, 11, 23)),
                         InMemoryClaimNumbers())


@pytest.mark.parametrize("source", ALL_837, ids=lambda p: p.name)
def test_the_277ca_for_every_fixture_and_public_837p_is_valid_for_pyx12(source: Path) -> None:
    result = _front_end(source)
    if not result.answered:
        # no transaction set passed the 999: nothing for a 277CA to answer
        assert all(c.front_end == "not_reached" for c in result.claims)
        return
    text = render_277ca(result.answered, Responder(when=WHEN, control=CountingControlNumbers()))
    assert outbound_problems(text) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=1, max_value=10_000),
       claims=st.integers(min_value=1, max_value=12),
       noise=st.integers(min_value=0, max_value=2**32))
def test_277ca_counts_and_amounts_add_up_for_random_generated_files(
    seed: int, claims: int, noise: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Given a generated file in which some claims are broken at random
    text = generate_837_text(claims, seed)
    rng = random.Random(noise)
    broken = text.replace("PI*87726~", "PI*99999~", rng.randrange(0, claims + 1))
    path = tmp_path_factory.mktemp("gen") / "file.837"
    path.write_text(broken)
    # When the front end answers it
    result = _front_end(path)
    reply = render_277ca(result.answered, Responder(when=WHEN, control=CountingControlNumbers()))
    # Then the 277CA is valid and each level's counts and amounts match its claims
    assert outbound_problems(reply) == []
    claims_by_result = Counter(c.front_end for c in result.claims)
    amounts = {k: sum((Decimal(c.charge) for c in result.claims if c.front_end == k),
                      Decimal(0)) for k in ("accepted", "rejected")}
    receiver, providers = _totals(reply)
    assert receiver == providers, "the billing-provider levels add up to the receiver level"
    assert receiver["QTY90"] == claims_by_result["accepted"]
    assert receiver["QTYAA"] == claims_by_result["rejected"]
    assert receiver["AMTYU"] == amounts["accepted"]
    assert receiver["AMTYY"] == amounts["rejected"]
    assert claims_by_result["accepted"] + claims_by_result["rejected"] == claims


def _totals(text: str) -> tuple[Counter[str], Counter[str]]:
    """QTY/AMT summed at the receiver (2000B) and at the billing providers (2000C)."""
    receiver: Counter[str] = Counter()
    providers: Counter[str] = Counter()
    as_receiver = {"QTY90": "QTY90", "QTYAA": "QTYAA", "AMTYU": "AMTYU", "AMTYY": "AMTYY"}
    as_provider = {"QTYQA": "QTY90", "QTYQC": "QTYAA", "AMTYU": "AMTYU", "AMTYY": "AMTYY"}
    level = ""
    for seg in segments_from_bytes(text.encode()):
        if seg.id == "HL":
            level = seg.get(3)
        elif seg.id in ("QTY", "AMT"):
            key = f"{seg.id}{seg.get(1)}"
            target, names = (receiver, as_receiver) if level == "21" else (providers, as_provider)
            if level in ("21", "19") and key in names:
                target[names[key]] += Decimal(seg.get(2))  # type: ignore[assignment]
    return receiver, providers
