"""Streaming 837P (005010X222A1) reader: segments in, typed claims out.

    iter_claims(segments)        one `ParsedClaim` at a time; memory stays flat
    read_transactions(segments)  one whole `Transaction837` (ST to SE) at a time

Both walk any number of interchanges (ISA), functional groups (GS) and transaction
sets (ST). Bad input raises `ParseError` with the segment position and ID; no other
exception escapes, except `EdiError`s raised by the segment source itself (the
tokenizer's `X12SyntaxError`) and `OSError` from reading it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from edi.claims import Envelope, ParsedClaim, Transaction837
from edi.errors import EdiError, ParseError
from edi.faults import record_fault
from edi.parsers import _fields as f
from edi.parsers._fields import Bad
from edi.parsers._transaction import TransactionReader
from edi.tokenizer import Segment

__all__ = ["ClaimFeed", "iter_claims", "read_transactions"]

ST = f.Used(1, 2, 3)
SE = f.Used(1, 2)


def iter_claims(segments: Iterable[Segment]) -> Iterator[ParsedClaim]:
    """Yield every claim of every 837P transaction set, in file order."""
    for item in _walk(segments, keep_tree=False):
        if isinstance(item, ParsedClaim):
            yield item


def read_transactions(segments: Iterable[Segment]) -> Iterator[Transaction837]:
    """Yield each transaction set whole: header, billing-provider hierarchy and claims."""
    for item in _walk(segments, keep_tree=True):
        if isinstance(item, Transaction837):
            yield item


class _Envelope:
    """The ISA, GS and ST segments in force, and the reader of the open ST."""

    __slots__ = ("gs", "isa", "reader", "st_index")

    def __init__(self) -> None:
        self.isa: Segment | None = None
        self.gs: Segment | None = None
        self.reader: TransactionReader | None = None
        self.st_index = 0

    def outside(self, seg: Segment, keep_tree: bool) -> None:
        """A segment between transaction sets."""
        sid = seg.elements[0]
        if sid == "ISA":
            self.isa, self.gs = seg, None
        elif sid == "GS" and self.isa is not None:
            self.gs = seg
        elif sid == "ST" and self.gs is not None:
            self.reader = TransactionReader(self._identity(seg), keep_tree)
            self.st_index = seg.index
        elif sid == "GE" and self.gs is not None:
            self.gs = None
        elif sid == "IEA" and self.isa is not None:
            self.isa = None
        else:
            raise Bad("the segment is outside the ISA/GS/ST envelope structure")

    def _identity(self, st: Segment) -> Envelope:
        isa, gs = self.isa, self.gs
        assert isa is not None and gs is not None
        ST.elements(st)
        if st.get(1) != "837":
            raise Bad("ST01 must be 837")
        if not st.get(2):
            raise Bad("ST02 is required")
        return Envelope(
            interchange_sender_id_qualifier=isa.get(5),
            interchange_sender_id=isa.get(6).strip(),
            interchange_receiver_id_qualifier=isa.get(7),
            interchange_receiver_id=isa.get(8).strip(),
            interchange_control_number=isa.get(13),
            component_element_separator=isa.delimiters.component,
            application_sender_code=gs.get(2), application_receiver_code=gs.get(3),
            group_control_number=gs.get(6), version_identifier=gs.get(8),
            transaction_set_control_number=st.get(2),
            implementation_convention_reference=f.opt(st, 3),
        )

    def end(self, se: Segment) -> tuple[ParsedClaim | None, Transaction837 | None]:
        reader = self.reader
        assert reader is not None
        SE.elements(se)
        count = f.integer(se.get(1), "SE01")
        if se.get(2) != reader.envelope.transaction_set_control_number:
            raise Bad("SE02 does not match ST02")
        done, transaction = reader.finish()
        self.reader = None
        if transaction is not None:
            transaction = transaction.model_copy(update={"declared_segment_count": count})
        return done, transaction


class ClaimFeed:
    """The reader driven one segment at a time: `push` each segment in file order and
    take back the claim it completed (None when it completed none).

    `iter_claims` and `read_transactions` pull a stream through it; a caller that already
    walks the segments (the one-pass front end, which feeds the 999 check from the same
    tokenizer) pushes them instead. A bad segment raises `ParseError`, after which the
    feed takes nothing more.
    """

    __slots__ = ("_seg", "_state", "keep_tree", "transaction")

    def __init__(self, keep_tree: bool = False) -> None:
        self.keep_tree = keep_tree
        self._state = _Envelope()
        self._seg: Segment | None = None
        self.transaction: Transaction837 | None = None
        """With ``keep_tree``: the set the last SE closed (until the next SE)."""

    def push(self, seg: Segment) -> ParsedClaim | None:
        state = self._state
        self._seg = seg
        try:
            reader = state.reader
            if reader is None:
                state.outside(seg, self.keep_tree)
                return None
            if seg.elements[0] == "SE":
                done, self.transaction = state.end(seg)
                return done
            return reader.add(seg, seg.index - state.st_index + 1)
        except Bad as bad:
            raise _error(bad.reason, seg, state, bad.position, bad.segment_id) from None
        except EdiError:
            raise
        except Exception as exc:  # an engine bug: the set is rejected, and the bug is counted
            record_fault("837p-reader", exc)
            raise _error("the segment cannot be read", seg, state, None, None) from None

    def finish(self) -> None:
        """The segments are over: `ParseError` if they ended inside a transaction set."""
        if self._state.reader is not None:
            raise _error("the data ends inside a transaction set", self._seg, self._state,
                         None, None)


def _walk(segments: Iterable[Segment], keep_tree: bool) -> Iterator[ParsedClaim | Transaction837]:
    feed = ClaimFeed(keep_tree)
    for seg in segments:
        done = feed.push(seg)
        if done is not None:
            yield done
        if feed.transaction is not None:
            yield feed.transaction
            feed.transaction = None
    feed.finish()


def _error(
    reason: str, seg: Segment | None, state: _Envelope, position: int | None,
    segment_id: str | None,
) -> ParseError:
    """A `ParseError` at ``seg`` (or at the loop start named by ``position``)."""
    file_position = seg.index if seg is not None else 0
    # a broken line can start with a name: `ParseError` keeps the ID only if X12 has it
    raw_id = segment_id or (seg.elements[0] if seg is not None and seg.elements else "")
    in_transaction = state.reader is not None
    if in_transaction and position is not None:
        file_position = state.st_index + position - 1
    elif in_transaction:
        position = file_position - state.st_index + 1
    else:
        position = file_position
    return ParseError(
        reason, position=position, segment_id=raw_id, file_position=file_position,
        in_transaction_set=in_transaction,
    )
