"""Adjudication state for a batch of claims, read from the decided claims in the store.

The engine asks the run state about members (their decided lines, accumulators,
authorization units used) and about claim numbers (originals a correction names).
Instead of replaying all of history, a batch reads only the decisions that can
answer for its claims: those of the same subscribers (dependents share the card's
subscriber ID), of the members the reference data knows under those subscriber IDs,
of the originals its corrections name, and of the members of those originals: two
indexed queries per batch, whatever the size of the history.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from adjudication.state import AdjudicationState
from store.models import DecisionRecord, RemittanceRecord, RemittedClaim
from workers.decisions import decision_from_record


def state_for(session: Session, subscriber_ids: Iterable[str], member_ids: Iterable[str],
              original_icns: Iterable[str]) -> AdjudicationState:
    """The state after every stored decision that concerns these subscribers or originals,
    applied in the order they were made (a release after the pend it replaces)."""
    subscribers = sorted(set(subscriber_ids))
    originals = sorted(set(original_icns))
    members = set(member_ids)
    if originals:
        members |= {m for m in session.scalars(
            select(DecisionRecord.member_id).where(DecisionRecord.icn.in_(originals))) if m}
    conditions = []
    if subscribers:
        conditions.append(DecisionRecord.subscriber_id.in_(subscribers))
    if originals:
        conditions.append(DecisionRecord.icn.in_(originals))
    if members:
        conditions.append(DecisionRecord.member_id.in_(sorted(members)))
    state = AdjudicationState()
    if not conditions:
        return state
    rows = session.execute(select(DecisionRecord.data).where(or_(*conditions))
                           .order_by(DecisionRecord.id))
    for (data,) in rows:
        state = state.apply(decision_from_record(data))
    if originals:  # the day each original was paid in an 835: its correction window
        remitted = session.execute(
            select(RemittedClaim.icn, func.min(RemittanceRecord.effective))
            .join(RemittanceRecord, RemittanceRecord.id == RemittedClaim.remittance_id)
            .where(RemittedClaim.icn.in_(originals), RemittedClaim.role == "claim")
            .group_by(RemittedClaim.icn))
        for icn, day in remitted:
            state = state.with_remittance(icn, day)
    return state
