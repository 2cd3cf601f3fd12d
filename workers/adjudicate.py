"""Adjudication without the store: claims decided one after another in memory.

The pipeline decides claims through the store (`workers.adjudication_step.adjudicate_batch`),
which reads the state each batch needs from the decided claims. This loop threads
the same `AdjudicationState` from claim to claim in memory: what benchmarks compare
the store against, and what tests use to check both decide alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from adjudication.decision import Decision
from adjudication.engine import DEFAULT_POLICY, EnginePolicy, adjudicate
from adjudication.reference import ReferenceData
from adjudication.state import AdjudicationState
from edi.claims import ParsedClaim
from edi.validators.codesets import CodeSetRegistry


def decide_in_memory(claims: Iterable[tuple[str, ParsedClaim]], reference: ReferenceData,
                     as_of: date, received: date, policy: EnginePolicy = DEFAULT_POLICY, *,
                     code_sets: CodeSetRegistry) -> list[Decision]:
    """Each (claim number, claim) decided in order, each seeing the decisions before it."""
    return list(decided(claims, reference, as_of, received, policy, code_sets=code_sets))


def decided(claims: Iterable[tuple[str, ParsedClaim]], reference: ReferenceData,
            as_of: date, received: date, policy: EnginePolicy = DEFAULT_POLICY, *,
            code_sets: CodeSetRegistry) -> Iterator[Decision]:
    """`decide_in_memory` one decision at a time (what it carries on is the state, not
    the decisions made)."""
    state = AdjudicationState()
    for icn, claim in claims:
        decision = adjudicate(claim, icn=icn, reference=reference, code_sets=code_sets,
                              as_of=as_of, received=received, state=state, policy=policy)
        state = state.apply(decision)
        yield decision
