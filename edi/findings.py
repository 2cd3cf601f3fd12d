"""Findings are data: where, what code, and a sentence a person can act on.

The implementation-guide check (SNIP 1-2) returns its findings as a tree that
mirrors the 999: interchange -> functional group -> transaction set -> segment ->
element. Renderers (`edi.acks`) turn the tree into TA1 and 999 segments; nothing
here knows about X12 output. Sentences never quote element values (they may be
PHI); a bad value travels only in ``bad_value``, which the 999 echoes back to its
sender in IK404 and nothing logs.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import NamedTuple

MAX_SEGMENT_ERRORS_PER_SET = 100
"""Segment findings (IK3 loops) kept and written for one transaction set, the first
in segment order. A set with more is rejected all the same (IK5 says so) and the
first hundred tell the sender what to fix; the 999 and the memory of the check stay
small whatever the input (100,000 bad segments would otherwise be 100,000 IK3s, and
about 70 MB held until the 999 is written)."""

SEGMENT_FINDINGS_PER_FILE = 10_000
"""Segment findings a file's sets keep with `MAX_SEGMENT_ERRORS_PER_SET` each; a set
that begins after the file's earlier sets kept as many keeps its first finding only, so
every rejected set still names a segment in error. The findings stay in memory until
the 999 is written: without this bound a file of 4,000 sets each with a hundred bad
segments held 300 MB (from 10 MB)."""


def segment_findings_kept(kept_before: int) -> int:
    """How many segment findings a transaction set keeps, when the sets before it in
    its file kept ``kept_before``."""
    return MAX_SEGMENT_ERRORS_PER_SET if kept_before < SEGMENT_FINDINGS_PER_FILE else 1


def _shared(*values: str) -> tuple[str, ...]:
    """``values`` as one copy each of the file's repeated envelope texts (the control
    numbers, each its own, are not passed here)."""
    return tuple(map(sys.intern, values))


@dataclass(frozen=True, slots=True)
class ElementFinding:
    """An IK4: an element of a segment is in error."""

    position: int
    component: int | None
    repeat: int | None
    element_ref: str | None
    code: str
    sentence: str
    bad_value: str | None = None


@dataclass(frozen=True, slots=True)
class SegmentFinding:
    """An IK3: a segment in error, with its element findings."""

    segment_id: str
    position: int
    """Position of the segment in the transaction set, ST = 1."""
    loop_id: str | None
    codes: tuple[str, ...]
    sentences: tuple[str, ...]
    elements: tuple[ElementFinding, ...] = ()
    claim_id: str | None = None
    """CLM01 of the claim the segment belongs to, for the 999 CTX business unit."""


@dataclass(slots=True)
class TransactionSetResult:
    """The verdict on one ST/SE: AK2 + IK3/IK4 + IK5."""

    ordinal: int
    """1-based position of this ST among all transaction sets of the file."""
    set_id: str
    control_number: str
    implementation_reference: str
    ack_code: str = "A"
    syntax_codes: list[str] = field(default_factory=list)
    segments: list[SegmentFinding] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # kept for every set of the file until the 999 is written: the values a file's
        # sets repeat are held once (a file of one-claim sets keeps some 100,000 of these)
        self.set_id, self.implementation_reference = _shared(self.set_id,
                                                             self.implementation_reference)

    @property
    def accepted(self) -> bool:
        return self.ack_code in ("A", "E")

    def add_segment(self, finding: SegmentFinding) -> None:
        """Keep a finding of the check's own, found in segment order, unless the set
        has its `MAX_SEGMENT_ERRORS_PER_SET` already."""
        if len(self.segments) < MAX_SEGMENT_ERRORS_PER_SET:
            self.segments.append(finding)


class _CleanRun:
    """Consecutive transaction sets of a group, each accepted with nothing to say and
    the same ST01 and ST03: their first ordinal, and their control numbers (ST02) packed
    one after the other (about 10 bytes a set, where a `TransactionSetResult` and what
    it holds take about 400). Any text goes back as it came (surrogates included)."""

    __slots__ = ("controls", "ends", "first", "implementation_reference", "set_id")

    def __init__(self, set_id: str, implementation_reference: str, first: int) -> None:
        self.set_id = set_id
        self.implementation_reference = implementation_reference
        self.first = first
        self.controls = bytearray()
        self.ends = array("L")

    @classmethod
    def starting(cls, ts: TransactionSetResult) -> _CleanRun:
        """An empty run that ``ts`` is the first of."""
        return cls(ts.set_id, ts.implementation_reference, ts.ordinal)

    def __len__(self) -> int:
        return len(self.ends)

    def takes(self, ts: TransactionSetResult) -> bool:
        return (ts.ordinal == self.first + len(self.ends) and ts.set_id == self.set_id
                and ts.implementation_reference == self.implementation_reference)

    def add(self, ts: TransactionSetResult) -> None:
        self.controls += ts.control_number.encode("utf-8", "surrogatepass")
        self.ends.append(len(self.controls))

    def __iter__(self) -> Iterator[TransactionSetResult]:
        start = 0
        controls = self.controls
        for ordinal, end in enumerate(self.ends, self.first):
            yield TransactionSetResult(
                ordinal, self.set_id, controls[start:end].decode("utf-8", "surrogatepass"),
                self.implementation_reference)
            start = end


def _clean(ts: TransactionSetResult) -> bool:
    """Accepted with nothing more to say: all its 999 AK2 loop needs is its identity."""
    return ts.ack_code == "A" and not (ts.syntax_codes or ts.segments or ts.sentences)


class SetResults:
    """A group's transaction-set results in file order, used as a list is (append, the
    last with ``[-1]``, iteration, ``len``).

    The check keeps every set's result until the 999 is written. A set it has finished
    (`settle`) that is accepted with nothing to say is kept as its control number in a
    `_CleanRun`, and given back as an equal `TransactionSetResult` when iterated: a
    file of 200,000 one-claim sets holds about 2 MB of them instead of 100 MB. A
    settled set must not change afterwards (iterating gives a copy); only the open
    set, the last, may."""

    __slots__ = ("_count", "_items")

    def __init__(self) -> None:
        self._items: list[TransactionSetResult | _CleanRun] = []
        self._count = 0

    def append(self, ts: TransactionSetResult) -> None:
        self._items.append(ts)
        self._count += 1

    def settle(self, ts: TransactionSetResult) -> None:
        """``ts``, one of the last two appended, is final: kept compact when clean."""
        items = self._items
        at = len(items) - 1 if items and items[-1] is ts else len(items) - 2
        if at < 0 or items[at] is not ts or not _clean(ts):
            return
        before = items[at - 1] if at > 0 else None
        if isinstance(before, _CleanRun) and before.takes(ts):
            del items[at]
            before.add(ts)
            return
        run = _CleanRun.starting(ts)
        run.add(ts)
        items[at] = run

    @classmethod
    def of_run(cls, run: _CleanRun) -> SetResults:
        """The results of a group whose sets are the clean ``run``."""
        results = cls()
        results._items.append(run)
        results._count = len(run)
        return results

    def only_run(self) -> _CleanRun | None:
        """The run, when every set is in one `_CleanRun` (and there is one at least)."""
        items = self._items
        return items[0] if len(items) == 1 and isinstance(items[0], _CleanRun) else None

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[TransactionSetResult]:
        for item in self._items:
            if isinstance(item, _CleanRun):
                yield from item
            else:
                yield item

    def __getitem__(self, index: int) -> TransactionSetResult:
        last = self._items[-1] if self._items else None
        if index == -1 and isinstance(last, TransactionSetResult):
            return last
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError("transaction set index out of range")
        return next(islice(self, index, None))

    def accepted_count(self) -> int:
        return sum(len(item) if isinstance(item, _CleanRun) else item.accepted
                   for item in self._items)

    def accepted_ordinals(self) -> Iterator[int]:
        for item in self._items:
            if isinstance(item, _CleanRun):
                yield from range(item.first, item.first + len(item))
            elif item.accepted:
                yield item.ordinal

    def any_partly_accepted(self) -> bool:
        """Whether a set's IK5 is E (accepted with errors noted)."""
        return any(not isinstance(item, _CleanRun) and item.ack_code == "E"
                   for item in self._items)


@dataclass(slots=True)
class GroupResult:
    """The verdict on one GS/GE: AK1 ... AK9."""

    functional_id: str
    control_number: str
    version: str
    application_sender: str
    application_receiver: str
    transaction_sets: SetResults = field(default_factory=SetResults)
    included: int = 0
    syntax_codes: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.functional_id, self.version, self.application_sender, \
            self.application_receiver = _shared(
                self.functional_id, self.version, self.application_sender,
                self.application_receiver)

    @property
    def received(self) -> int:
        return len(self.transaction_sets)

    @property
    def accepted_count(self) -> int:
        return self.transaction_sets.accepted_count()

    @property
    def ack_code(self) -> str:
        """AK901: A all accepted, P some, R none (or the group itself is in error)."""
        if self.syntax_codes or not self.transaction_sets:
            return "R"
        accepted = self.accepted_count
        if accepted == self.received:
            if self.transaction_sets.any_partly_accepted():
                return "E"
            return "A"
        return "P" if accepted else "R"


@dataclass(slots=True)
class InterchangeResult:
    """The verdict on one ISA/IEA, and the identity its acknowledgments echo."""

    control_number: str
    date: str
    time: str
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    usage: str
    ack_requested: str
    note_code: str = "000"
    """TA105: ``000`` when the envelope is usable."""
    sentences: list[str] = field(default_factory=list)
    groups: list[GroupResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.date, self.time, self.sender_qualifier, self.sender_id, \
            self.receiver_qualifier, self.receiver_id, self.usage, self.ack_requested = \
            _shared(self.date, self.time, self.sender_qualifier, self.sender_id,
                    self.receiver_qualifier, self.receiver_id, self.usage,
                    self.ack_requested)

    @property
    def rejected(self) -> bool:
        return self.note_code != "000"


def interchange_key(sender_qualifier: str, sender_id: str, control_number: str) -> str:
    """What makes an interchange the same as another, so that the second is a duplicate
    (TA1 025) in the same file or a later one: its sender (ISA05, ISA06, without the
    blanks that pad them) and its ISA13, as ``qualifier:id:ISA13``."""
    return f"{sender_qualifier.strip()}:{sender_id.strip()}:{control_number}"


class InterchangeIdentity(NamedTuple):
    """Who sent an interchange, its ISA13 and its TA1 note: what is read of each of a
    file's interchanges without its groups (`Interchanges.identities`)."""

    sender_qualifier: str
    sender_id: str
    control_number: str
    note_code: str

    @property
    def rejected(self) -> bool:
        return self.note_code != "000"

    @property
    def key(self) -> str:
        """`interchange_key`."""
        return interchange_key(self.sender_qualifier, self.sender_id, self.control_number)

    @classmethod
    def of(cls, ic: InterchangeResult) -> InterchangeIdentity:
        return cls(ic.sender_qualifier, ic.sender_id, ic.control_number, ic.note_code)


_MOST_INCLUDED = 0xFFFFFFFF
"""The largest GE01 a packed interchange keeps (in an ``array("I")``); GE01 is at most six
digits, and a group whose count is no such number is not packed."""


def _shared_values(ic: InterchangeResult) -> tuple[str, ...] | None:
    """What an interchange has in common with its neighbours when it can be packed (see
    `_CleanInterchanges`), or None: accepted with nothing to say, one group with nothing
    to say whose sets are all accepted with nothing to say (one `_CleanRun`)."""
    if ic.note_code != "000" or ic.sentences or len(ic.groups) != 1:
        return None
    group = ic.groups[0]
    run = group.transaction_sets.only_run()
    if run is None or group.syntax_codes or group.sentences \
            or not 0 <= group.included <= _MOST_INCLUDED:
        return None
    return (ic.sender_qualifier, ic.sender_id, ic.receiver_qualifier, ic.receiver_id,
            ic.usage, ic.ack_requested, group.functional_id, group.version,
            group.application_sender, group.application_receiver, run.set_id,
            run.implementation_reference)


class _CleanInterchanges:
    """Consecutive interchanges that `_shared_values` finds alike, each with its sets'
    ordinals following on from the one before: the shared values once, then each
    interchange's own as packed text (ISA13, ISA09, ISA10, GS06, then its sets' ST02s)
    and its GE01 (about 75 bytes an interchange, where the results and what they hold
    take about 1.1 KB). Each is given back as an equal `InterchangeResult`."""

    __slots__ = ("ends", "firsts", "included", "shared", "starts", "texts")

    OWN = 4
    """Texts of an interchange's own before its sets' control numbers."""

    def __init__(self, shared: tuple[str, ...]) -> None:
        self.shared = shared
        self.texts = bytearray()
        self.ends = array("L")  # where each text ends in ``texts``
        self.starts = array("L")  # each interchange's first text, in ``ends``
        self.firsts = array("L")  # each interchange's first set ordinal
        self.included = array("I")  # each interchange's GE01, as the check read it

    def __len__(self) -> int:
        return len(self.starts)

    def takes(self, shared: tuple[str, ...], first_ordinal: int) -> bool:
        last = len(self.starts) - 1
        return shared == self.shared and first_ordinal == (
            self.firsts[last] + len(self.ends) - self.starts[last] - self.OWN)

    def add(self, ic: InterchangeResult) -> None:
        group = ic.groups[0]
        run = group.transaction_sets.only_run()
        assert run is not None
        texts, ends = self.texts, self.ends
        self.starts.append(len(ends))
        self.firsts.append(run.first)
        self.included.append(group.included)
        for text in (ic.control_number, ic.date, ic.time, group.control_number):
            texts += text.encode("utf-8", "surrogatepass")
            ends.append(len(texts))
        base = len(texts)
        texts += run.controls
        ends.extend(base + end for end in run.ends)

    def control_number(self, k: int) -> str:
        """The ISA13 of the ``k``-th interchange of the run (0-based)."""
        first = self.starts[k]
        begin = self.ends[first - 1] if first else 0
        return self.texts[begin:self.ends[first]].decode("utf-8", "surrogatepass")

    def at(self, k: int) -> InterchangeResult:
        """The ``k``-th interchange of the run (0-based)."""
        starts, ends = self.starts, self.ends
        first = starts[k]
        last = starts[k + 1] if k + 1 < len(starts) else len(ends)
        begin = ends[first - 1] if first else 0
        own = []
        for end in ends[first:first + self.OWN]:
            own.append(self.texts[begin:end].decode("utf-8", "surrogatepass"))
            begin = end
        (sender_qualifier, sender_id, receiver_qualifier, receiver_id, usage, ack_requested,
         functional_id, version, application_sender, application_receiver, set_id,
         reference) = self.shared
        run = _CleanRun(set_id, reference, self.firsts[k])
        run.controls += self.texts[begin:ends[last - 1]]
        run.ends.extend(end - begin for end in ends[first + self.OWN:last])
        ic = InterchangeResult(
            control_number=own[0], date=own[1], time=own[2], sender_qualifier=sender_qualifier,
            sender_id=sender_id, receiver_qualifier=receiver_qualifier, receiver_id=receiver_id,
            usage=usage, ack_requested=ack_requested)
        ic.groups.append(GroupResult(
            functional_id=functional_id, control_number=own[3], version=version,
            application_sender=application_sender, application_receiver=application_receiver,
            transaction_sets=SetResults.of_run(run), included=self.included[k]))
        return ic


class Interchanges:
    """A file's interchange results in file order, used as a list is (append, ``len``,
    iteration, an index).

    The check keeps every interchange's result until the 999 is written. One it has
    finished (`pack`) that is accepted with nothing to say is kept packed in a
    `_CleanInterchanges`, and given back as an equal `InterchangeResult`: a file of
    200,000 one-claim interchanges holds about 15 MB of them instead of 220. A packed
    one given back is a copy: to change an interchange's verdict after the check (a
    duplicate's TA1), change the one `held` gives."""

    __slots__ = ("_count", "_firsts", "_held", "_items", "_packed")

    def __init__(self) -> None:
        self._items: list[InterchangeResult | _CleanInterchanges] = []
        self._firsts = array("L")  # each item's first index
        self._count = 0
        self._packed = 0  # interchanges before this one were offered to `pack`
        self._held: dict[int, InterchangeResult] = {}

    def append(self, ic: InterchangeResult) -> None:
        self._items.append(ic)
        self._firsts.append(self._count)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[InterchangeResult]:
        held = self._held
        for item, first in zip(self._items, self._firsts, strict=True):
            if isinstance(item, _CleanInterchanges):
                for k in range(len(item)):
                    found = held.get(first + k)
                    yield found if found is not None else item.at(k)
            else:
                yield item

    def with_something_to_say(self) -> Iterator[InterchangeResult]:
        """In file order, every interchange but the packed ones, which are accepted with
        nothing to say anywhere in them (a packed one since changed is held, and given):
        what a reader of sentences needs, without making the packed ones again."""
        held = self._held
        for item, first in zip(self._items, self._firsts, strict=True):
            if not isinstance(item, _CleanInterchanges):
                yield item
            elif held:
                yield from filter(None, map(held.get, range(first, first + len(item))))

    def identities(self) -> Iterator[InterchangeIdentity]:
        """Each interchange's identity in file order, as iteration would give it, without
        making the packed ones again (the 999's senders, the store's interchange rows)."""
        held = self._held
        for item, first in zip(self._items, self._firsts, strict=True):
            if isinstance(item, _CleanInterchanges):
                qualifier, sender = item.shared[0], item.shared[1]
                for k in range(len(item)):
                    found = held.get(first + k)
                    yield InterchangeIdentity.of(found) if found is not None else \
                        InterchangeIdentity(qualifier, sender, item.control_number(k), "000")
            else:
                yield InterchangeIdentity.of(item)

    def __getitem__(self, index: int) -> InterchangeResult:
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError("interchange index out of range")
        if self._held and index in self._held:
            return self._held[index]
        at = bisect_right(self._firsts, index) - 1
        item = self._items[at]
        if isinstance(item, _CleanInterchanges):
            return item.at(index - self._firsts[at])
        return item

    def held(self, index: int) -> InterchangeResult:
        """The result of the ``index``-th interchange that the file's verdict is read
        from: a change made to it is kept (a packed one is unpacked)."""
        found = self[index]
        if index < 0:
            index += self._count
        if isinstance(self._items[bisect_right(self._firsts, index) - 1], _CleanInterchanges):
            self._held[index] = found
        return found

    def pack(self, before: int) -> None:
        """The interchanges up to ``before`` (an index) are final: keep the clean ones
        packed, runs of alike ones together. Only unpacked interchanges follow the
        packed ones, so the item of an index at or after ``_packed`` is found by
        counting back from the end."""
        items, firsts = self._items, self._firsts
        while self._packed < min(before, self._count):
            at = len(items) - (self._count - self._packed)
            self._packed += 1
            ic = items[at]
            assert isinstance(ic, InterchangeResult)
            shared = _shared_values(ic)
            if shared is None:
                continue
            before_it = items[at - 1] if at > 0 else None
            run = ic.groups[0].transaction_sets.only_run()
            assert run is not None
            if isinstance(before_it, _CleanInterchanges) and before_it.takes(shared, run.first):
                before_it.add(ic)
                del items[at], firsts[at]
            else:
                packed = _CleanInterchanges(shared)
                packed.add(ic)
                items[at] = packed


@dataclass(slots=True)
class FileCheck:
    """Everything the implementation-guide check found in one file."""

    interchanges: Interchanges = field(default_factory=Interchanges)
    unreadable: InterchangeResult | None = None
    """Set when bytes could not be read as an interchange at all (before any ISA)."""

    def each_transaction_set(self) -> Iterator[TransactionSetResult]:
        """The file's sets in order, one at a time (a set kept compact is made as it is
        reached: `SetResults`)."""
        for ic in self.interchanges:
            for group in ic.groups:
                yield from group.transaction_sets

    def accepted_ordinals(self) -> frozenset[int]:
        """Ordinals of the transaction sets whose claims go on to the front-end edits.

        A set is accepted when its own IK5 accepts it, its group carries no group-level
        error, and its interchange was not rejected by a TA1.
        """
        return frozenset(
            ordinal
            for ic in self.interchanges
            if not ic.rejected
            for group in ic.groups
            if not group.syntax_codes
            for ordinal in group.transaction_sets.accepted_ordinals()
        )


class CheckCursor:
    """Where a walk over a file is in its `FileCheck`: the last interchange, group and
    transaction set opened (both implementation-guide walks use it)."""

    check: FileCheck

    @property
    def interchange(self) -> InterchangeResult:
        return self.check.interchanges[-1]

    @property
    def group(self) -> GroupResult:
        return self.interchange.groups[-1]

    @property
    def transaction_set(self) -> TransactionSetResult:
        return self.group.transaction_sets[-1]
