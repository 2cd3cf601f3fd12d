"""`claims status`: what the store holds, by state, and the oldest step not finished."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from store.engine import Store
from store.models import Claim, DecisionRecord, DuplicateReceipt, Event, ReceivedFile, Run
from workers.delivery import undelivered_files, undelivered_remittances

STEP_AFTER = {"received": "acknowledge", "acknowledged": "front end (277CA records)",
              "answered": "adjudicate", "adjudicated": "277CA"}


def status_counts(store: Store) -> dict[str, dict[str, int]]:
    """Counts per state: files, claims (front end and state), current decisions."""
    with store.transaction() as s:
        def grouped(column: object, *where: object) -> dict[str, int]:
            rows = s.execute(select(column, func.count()).where(*where)  # type: ignore[call-overload]
                             .group_by(column))
            return {str(key): count for key, count in rows}

        counts = {
            "files": grouped(ReceivedFile.status),
            "file outcomes": grouped(ReceivedFile.outcome),
            "claims (front end)": grouped(Claim.front_end),
            "claims (state)": grouped(Claim.state),
            "decisions (current)": grouped(DecisionRecord.status,
                                           DecisionRecord.current.is_(True)),
            "duplicate receipts": {"duplicate": s.scalar(
                select(func.count()).select_from(DuplicateReceipt)) or 0},
            "engine faults": {"logged": s.scalar(
                select(func.count()).select_from(Event).where(Event.kind == "engine.fault"))
                or 0},
            "service": {kind: s.scalar(select(func.count()).select_from(Event)
                                       .where(Event.kind == kind)) or 0
                        for kind in ("file.dead", "delivery.failed", "file.delivered",
                                     "remit.failed", "remittance.delivered", "remittance.held")},
        }
    counts["not delivered (claims redeliver)"] = {
        "files": len(undelivered_files(store)), "835s": undelivered_remittances(store)}
    return counts


def oldest_unfinished(store: Store) -> str | None:
    with store.transaction() as s:
        row = s.execute(select(ReceivedFile.sha256, ReceivedFile.status, ReceivedFile.updated_at)
                        .where(ReceivedFile.status.not_in(("done", "dead")))
                        .order_by(ReceivedFile.updated_at).limit(1)).first()
        runs = s.scalar(select(func.count()).select_from(Run).where(Run.finished_at.is_(None)))
    if row is None:
        return None if not runs else f"{runs} run(s) not finished"
    sha, state, at = row
    return (f"file {sha[:12]}: {state} since {at:%Y-%m-%d %H:%M}, next step "
            f"{STEP_AFTER.get(state, state)}")


def print_status(console: Console, store: Store) -> None:
    table = Table(title="The store by state")
    for column in ("what", "state", "count"):
        table.add_column(column, justify="right" if column == "count" else "left")
    for what, counts in status_counts(store).items():
        for state, count in sorted(counts.items()):
            table.add_row(what, state, str(count))
    console.print(table)
    oldest = oldest_unfinished(store)
    console.print(f"Oldest unfinished step: {oldest or 'none, everything is done'}")
