"""The fuzz suite in `make test`: 2,000 seeded mutations of the samples and the public
corpus with planted markers, every oracle of `workers.fuzz` holding (no traceback, an
acknowledgment for every file, every 999/TA1/277CA valid, no planted PHI in problems,
reasons or exceptions, no case slower than its bound). `make fuzz N=100000` is the
long run."""

from __future__ import annotations

import random

from edi.acks import CountingControlNumbers, Responder, acknowledge
from edi.validators.outbound import outbound_problems
from fixtures.fuzz import MUTATIONS, PLANTED, mutate, plant
from tests.paths import ACK_FIXTURES
from workers.fuzz import WHEN, report, run


def test_two_thousand_mutated_files_hold_every_oracle() -> None:
    outcomes = run(2000, seed=20261128)
    failing = [(o.mutations, o.failures) for o in outcomes if o.failures]
    assert failing == [], report(outcomes)
    # the draw covered every kind of mutation
    assert {name for o in outcomes for name in o.mutations} == set(MUTATIONS)


def test_planting_replaces_names_ids_and_birth_dates() -> None:
    planted = plant((ACK_FIXTURES / "valid-two-claims.837").read_bytes())
    assert all(marker.encode() in planted for marker in PLANTED)
    assert b"OBH000001" not in planted  # the sample's member id is gone


def test_the_same_seed_gives_the_same_bytes() -> None:
    data = (ACK_FIXTURES / "valid-two-claims.837").read_bytes()
    assert mutate(data, random.Random(5)) == mutate(data, random.Random(5))


def test_a_group_count_too_long_to_echo_is_replaced_by_the_sets_counted() -> None:
    """Found by the fuzz suite: GE01 of 1000000000 was echoed into AK902 (6 digits)."""
    import io

    from edi.validators.implementation_guide import EnvelopePolicy, check_stream

    data = (ACK_FIXTURES / "valid-two-claims.837").read_bytes().replace(
        b"GE*1*", b"GE*1000000000*", 1)
    ack = acknowledge(check_stream(io.BytesIO(data), EnvelopePolicy()),
                      Responder(when=WHEN, control=CountingControlNumbers()))
    ak9 = next(s.strip() for s in ack.text.split("~") if s.strip().startswith("AK9"))
    assert ak9.split("*")[2] == "1" and outbound_problems(ack.text) == []
