"""Counters that never hand out a number twice: taken inside the step's transaction.

The row is locked for the rest of the transaction (``FOR UPDATE`` on PostgreSQL; on
SQLite the writer already holds the database lock from ``BEGIN IMMEDIATE``), so two
processes never read the same value, and a step that rolls back gives its numbers
back with everything else it did.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.models import ControlSequence


def take(session: Session, name: str, count: int = 1, start: int = 1) -> int:
    """Reserve ``count`` consecutive values of sequence ``name``; returns the first."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(ControlSequence).values(name=name, next_value=start)
                    .on_conflict_do_nothing(index_elements=["name"]))
    row = session.execute(select(ControlSequence).where(ControlSequence.name == name)
                          .with_for_update()).scalar_one()
    first = row.next_value
    row.next_value = first + count
    session.flush()
    return first


class StoredControlNumbers:
    """Outbound ISA13 and GS06 for one receiver (`edi.acks.ControlNumbers`), in a step."""

    def __init__(self, session: Session, receiver: str) -> None:
        self._session = session
        self._receiver = receiver

    def next_interchange(self) -> int:
        return take(self._session, f"isa13:{self._receiver}")

    def next_group(self) -> int:
        return take(self._session, f"gs06:{self._receiver}")
