"""Counters that never hand out a number twice (the control numbers: not within
999,999,999, after which they start again at 1): taken inside the step's transaction.

The row is locked for the rest of the transaction (``FOR UPDATE`` on PostgreSQL; on
SQLite the writer already holds the database lock from ``BEGIN IMMEDIATE``), so two
processes never read the same value, and a step that rolls back gives its numbers
back with everything else it did.

Lock order: a received file's row before a number. The steps that lock a file's row
for update (acknowledge, finish) take numbers while they hold it, so a step that
writes a row referring to a file (a foreign key takes a key-share lock on the file's
row) locks that row before it takes its number; otherwise each waits for the other
(two runs of one file: the first acknowledging it, the second answering it as a
duplicate). The steps that lock other rows for update (adjudication, pend review)
take no numbers.

A payment cycle holds its transaction long (it writes, reads back and checks every 835
before it commits): on PostgreSQL it takes its 835s' ISA13 and GS06 through
`CommittedControlNumbers`, each in a short transaction of its own, so the files'
acknowledgments, which take the same sequences, never wait for a cycle. A file's 277CA
reserves its numbers in a short transaction before it is rendered and keeps them on
the file's row (`ReservedControlNumbers`, `workers.finish_step.finish_file`); a transaction
set reserves its block of claim numbers the same way before its claims are inserted
(`workers.steps._reserve_claim_numbers`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from edi.acks import next_control_number
from store.engine import Store, is_postgresql
from store.models import ControlSequence


def take(session: Session, name: str, count: int = 1, start: int = 1) -> int:
    """Reserve ``count`` consecutive values of sequence ``name``; returns the first."""
    row = _locked(session, name, start)
    first = row.next_value
    row.next_value = first + count
    session.flush()
    return first


def take_control(session: Session, name: str) -> int:
    """The next value of control-number sequence ``name`` (``isa13``, ``gs06``): 1 to
    `edi.acks.MAX_CONTROL_NUMBER`, then 1 again."""
    row = _locked(session, name)
    value = _control(row)
    session.flush()
    return value


def _control(row: ControlSequence) -> int:
    """A control-number sequence's next value, counted on its locked row."""
    value = row.next_value
    row.next_value = next_control_number(value)
    return value


def _locked(session: Session, name: str, start: int = 1) -> ControlSequence:
    """Sequence ``name``'s row (made, starting at ``start``, if it is new), locked for the
    rest of the transaction."""
    insert = postgresql.insert if is_postgresql(session.get_bind()) else sqlite.insert
    session.execute(insert(ControlSequence).values(name=name, next_value=start)
                    .on_conflict_do_nothing(index_elements=["name"]))
    return session.execute(select(ControlSequence).where(ControlSequence.name == name)
                           .with_for_update()).scalar_one()


class StoredControlNumbers:
    """Outbound ISA13 and GS06 (`edi.acks.ControlNumbers`).

    One sequence of each serves every receiver: a number is then unique for each
    sender/receiver pair, as X12 requires, and also across all our outbound files, so
    a response that answers two senders of one received file (two interchanges in one
    file) never repeats an ISA13 within the file, which validators reject.

    A sequence's row stays locked from the first number this transaction takes from it
    (the step's one transaction: an instance serves only the session's current one), so
    the next numbers are counted on the row without statements of their own: a file
    of 2,500 one-group interchanges took three statements for each of its 999 groups.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._rows: dict[str, ControlSequence] = {}

    def next_interchange(self, receiver: str) -> int:
        return self._next("isa13")

    def next_group(self, receiver: str) -> int:
        return self._next("gs06")

    def _next(self, name: str) -> int:
        row = self._rows.get(name)
        if row is None:
            row = self._rows[name] = _locked(self._session, name)
        return _control(row)  # flushed with the step's other writes, in its transaction


class CommittedControlNumbers:
    """Outbound ISA13 and GS06 (`edi.acks.ControlNumbers`), each taken in a transaction
    of its own and committed at once: for a step whose own transaction stays open a
    long time (a payment cycle on PostgreSQL). A number taken for a step that then
    rolls back is never used: a gap, which X12 allows (it asks only that a number not
    repeat). Not for SQLite, where the step's open transaction holds the database's
    one writer lock: another transaction could not commit before it."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def next_interchange(self, receiver: str) -> int:
        with self._store.transaction() as s:
            return take_control(s, "isa13")

    def next_group(self, receiver: str) -> int:
        with self._store.transaction() as s:
            return take_control(s, "gs06")


class ReservedControlNumbers:
    """Outbound ISA13 and GS06 (`edi.acks.ControlNumbers`) reserved earlier and kept,
    handed out in order: ``pairs`` holds one ``[isa13, gs06]`` per interchange. A file's
    277CA takes its numbers this way (`workers.finish_step.finish_file`): they are taken and
    kept in a short transaction before the 277CA is rendered. Asking for more numbers
    than were reserved is an engine fault (the count of interchanges was wrong)."""

    def __init__(self, pairs: list[list[int]]) -> None:
        self._pairs = pairs
        self._interchanges = 0
        self._groups = 0

    def next_interchange(self, receiver: str) -> int:
        self._interchanges += 1
        return self._nth(self._interchanges, 0)

    def next_group(self, receiver: str) -> int:
        self._groups += 1
        return self._nth(self._groups, 1)

    def _nth(self, count: int, which: int) -> int:
        if count > len(self._pairs):
            raise RuntimeError(f"{len(self._pairs)} interchange(s) reserved, "
                               f"control number {count} asked for")
        return self._pairs[count - 1][which]
