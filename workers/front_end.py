"""The front end of a received file, one transaction set at a time.

`front_pass` reads the file once: the 999 check (`compiled.check_stream`) taps each
segment to a `SetCollector`, which parses and edits every transaction set as its
segments go by and hands each claim found (`EditedClaim`: its 277CA record with no
number yet, its fingerprint, the parsed claim adjudication will read when no edit
rejects it) to a `SetSink` (the steps' on-disk `workers.set_spool.SetSpool`; `Outcomes`
in memory). Once the 999 is decided, `SetOutcome.settle` keeps the claims of the sets
it accepted. Numbering and keeping the outcome is the caller's step (the store's one
transaction per set; `run_front_end` in memory for tests and benchmarks).

`set_outcomes` is the same front end after the check, reading the file again: the
fallback when a spooled set is missing, the path for a policy the compiled tables do
not cover, and the oracle `tests/test_one_pass.py` holds the pass to.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import repeat
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol

import structlog

from adjudication.rules.member import PatientKey
from edi.ack277 import findings_of
from edi.claim_status import ClaimStatus, Provider277, TransactionStatus
from edi.claims import ParsedClaim
from edi.errors import ParseError
from edi.faults import record_fault
from edi.findings import FileCheck
from edi.front_end import (
    ClaimNumbers,
    examine,
    fingerprint,
    numbered,
    rejects,
    transaction_status,
    unprocessable,
)
from edi.parsers.claim837 import ClaimFeed
from edi.pickled import ByFields
from edi.tokenizer import RawSegment, Segment
from edi.validators import implementation_guide as ig
from edi.validators.compiled import check_stream as compiled_check
from edi.validators.compiled.check import compiled_map
from edi.validators.compiled.compiler import CLAIM_MAP
from edi.validators.edits import EditContext
from workers.collector import collect_young, cyclic_gc_held_off
from workers.summary import ClaimSummary
from workers.transaction_sets import NOTED, SetReading, note, open_reading, read_sets

log = structlog.get_logger("claims.front_end")
UNKNOWN_PROVIDER = Provider277("2", "UNKNOWN", None, None, None)


@dataclass(frozen=True, slots=True)
class KeptClaim(ByFields):
    """An accepted claim as the store keeps it: JSON, and the keys adjudication reads by.

    A set of 5,000 claims is held this way (a few KB each), never as parsed objects."""

    json: str
    subscriber_id: str | None
    original_icn: str | None

    @classmethod
    def of(cls, claim: ParsedClaim) -> KeptClaim:
        # fields at their defaults are left out (a third of the text: a set of 5,000
        # claims is 10 MB less in memory, and the store's rows as much smaller); reading
        # it back gives them their defaults again, the same claim
        return cls(claim.model_dump_json(exclude_defaults=True), claim.subscriber.member_id,
                   claim.claim.payer_claim_control_number)

    def parsed(self) -> ParsedClaim:
        return ParsedClaim.model_validate_json(self.json)


class EditedClaim(NamedTuple):
    """What the front end keeps of one parsed claim after the edits."""

    status: ClaimStatus
    fingerprint: str
    kept: KeptClaim | None
    """The claim as the store keeps it; None when an edit rejects it."""
    rendering_npis: tuple[str, ...]
    patient: PatientKey | None = None
    """A rejected claim's member-identification inputs, from which its line of business
    is named when it is answered (`workers.line_of_business`); None for an accepted
    claim (adjudication names it) and when they could not be read."""

    @classmethod
    def of(cls, claim: ParsedClaim, context: EditContext) -> EditedClaim:
        status = examine(claim, context)
        rejected = rejects(status)
        return cls(status, fingerprint(claim), None if rejected else KeptClaim.of(claim),
                   claim.rendering_npis(), _patient_key(claim) if rejected else None)


def _patient_key(claim: ParsedClaim) -> PatientKey | None:
    """The key, or None after an engine fault: it only names a line of business, and
    never costs the claim its 277CA answer."""
    try:
        return PatientKey.of(claim)
    except Exception as exc:
        record_fault("line-of-business", exc)
        return None


@dataclass
class SetOutcome:
    """One transaction set as the front end found it, before any claim is numbered:
    its reading and each claim as the edits left it, in file order: a list, or the
    spool's claims read one at a time while they are taken (`workers.set_spool`)."""

    reading: SetReading
    edited: Iterable[EditedClaim] = field(default_factory=list)
    kept_count: int = 0
    """How many of the claims the edits accept (those numbered when it is answered)."""

    @property
    def readable(self) -> bool:
        return self.reading.accepted and self.reading.parse_error is None

    def take(self, claim: EditedClaim) -> None:
        assert isinstance(self.edited, list), "a spooled set's claims are read, not taken"
        self.edited.append(claim)
        self.kept_count += claim.kept is not None

    def settle(self, accepted: frozenset[int]) -> SetOutcome:
        """The outcome as the 999 decided it: a set parsed before the check's verdict and
        then not accepted keeps only its reading (its claims are not reached)."""
        reading = self.reading
        reading.accepted = reading.ordinal in accepted
        if not reading.accepted:
            self.edited, self.kept_count = [], 0
            reading.parse_error = None
        _log_unreadable(reading)
        return self

    def to_number(self) -> int:
        """How many claim numbers answering the set takes."""
        return self.kept_count if self.readable else 0

    def unprocessable_statuses(self) -> list[ClaimStatus]:
        """A set the reader could not finish: every claim is returned unprocessable."""
        first = next(iter(self.edited), None)
        provider = first.status.billing_provider if first is not None else UNKNOWN_PROVIDER
        return [unprocessable(pcn, amount(charge), provider)
                for pcn, charge in self.reading.clm_segments]

    def answer(self, statuses: list[ClaimStatus], received: date) -> TransactionStatus:
        """The set's 277CA header, with ``statuses`` as its claims."""
        r = self.reading
        return transaction_status(
            submitter_name=r.submitter_name, submitter_id=r.submitter_id,
            sender_qualifier=r.sender_qualifier, sender_id=r.sender_id,
            application_sender=r.application_sender, control_number=r.control_number,
            batch_reference=r.batch_reference, received=received, claims=statuses,
            usage_indicator=r.usage_indicator)


class AnsweredClaim(NamedTuple):
    """One claim of a set as the set's answer gives it."""

    summary: ClaimSummary
    status: ClaimStatus | None
    """Its 277CA record, numbered when accepted; None when the 999 rejected the set."""
    edited: EditedClaim | None
    """What the edits kept of it; None when the set was not read to its end (rejected
    by the 999, or the reader stopped: the answer then comes from its CLM segments)."""

    @property
    def kept(self) -> KeptClaim | None:
        """The claim to store and adjudicate: accepted by the edits, else None."""
        return self.edited.kept if self.edited is not None else None


def answered_claims(outcome: SetOutcome, numbers: ClaimNumbers, received: date
                    ) -> Iterator[AnsweredClaim]:
    """The set's claims answered one at a time, in file order: the accepted ones numbered
    as they come, so a set is never held whole to answer it."""
    reading = outcome.reading
    if not reading.accepted:
        for pcn, charge in reading.clm_segments:
            yield AnsweredClaim(ClaimSummary(
                patient_control_number=pcn, front_end="not_reached",
                charge=money_text(charge), transaction_set=reading.control_number), None, None)
    elif reading.parse_error is not None:
        for status in outcome.unprocessable_statuses():
            yield AnsweredClaim(_summary(reading, status), status, None)
    else:
        test = reading.is_test
        for claim in outcome.edited:
            status = numbered(claim.status, claim.fingerprint, numbers, received)
            summary = _summary(reading, status)
            if test:
                # answered as production would be, never kept: not adjudicated, not
                # paid, its fingerprint not taken (a production copy is no duplicate)
                if summary.front_end == "accepted":
                    summary.reasons.append(TEST_CLAIM)
                claim = claim._replace(kept=None)
            yield AnsweredClaim(summary, status, claim)


TEST_CLAIM = ("The interchange is a test (ISA15 T): the claim was checked and answered, "
              "and is not adjudicated or paid.")
"""The reason an accepted claim of a test interchange gives in `summary.json`: a test
interchange asks for test processing (X12.5; X12 RFI 34), so its claims get their 999
and 277CA (in a test interchange) and nothing more."""


def _summary(reading: SetReading, status: ClaimStatus) -> ClaimSummary:
    findings = findings_of(status)
    return ClaimSummary(
        patient_control_number=status.patient_control_number,
        front_end="rejected" if findings else "accepted",
        front_end_codes=[f.codes for f in findings],
        charge=money_text(str(status.total_charge)), transaction_set=reading.control_number,
        payer_claim_control_number=status.payer_claim_control_number,
        reasons=[f"{f.location}: {f.sentence}" for f in findings])


def set_outcomes(path: Path, accepted: frozenset[int], context: EditContext
                 ) -> Iterator[SetOutcome]:
    """The front end's findings per transaction set, read again after the check (only
    the sets in ``accepted`` are parsed)."""
    with path.open("rb") as stream:
        yield from _outcomes(stream, accepted, context)


def _outcomes(stream: BinaryIO, accepted: frozenset[int], context: EditContext
              ) -> Iterator[SetOutcome]:
    kept = Outcomes()
    for _reading in read_into(stream, accepted, context, kept):
        yield kept.sets.pop()  # one set held at a time


def read_into(stream: BinaryIO, parsed: frozenset[int], context: EditContext, sink: SetSink,
              wanted: Callable[[int], bool] = lambda ordinal: True) -> Iterator[SetReading]:
    """The front end read again after the check: each ``wanted`` set put into ``sink``
    claim by claim as it is parsed and edited (only the sets in ``parsed`` are parsed),
    its reading yielded once the set is in the sink."""
    begun: list[SetReading] = []

    def begin(reading: SetReading) -> None:
        if not begun or begun[0] is not reading:
            begun[:] = [reading]
            sink.begin(reading)

    def on_claim(reading: SetReading, claim: ParsedClaim) -> None:
        if wanted(reading.ordinal):
            begin(reading)
            sink.claim(EditedClaim.of(claim, context))

    for reading in read_sets(stream, parsed, on_claim):
        _log_unreadable(reading)
        if wanted(reading.ordinal):
            begin(reading)
            sink.end(reading)
            yield reading


def _log_unreadable(reading: SetReading) -> None:
    if reading.accepted and reading.parse_error is not None:
        log.warning("transaction_set.unreadable", transaction_set=reading.control_number,
                    position=reading.parse_error.position)


class SetSink(Protocol):
    """Where the one pass puts each set as it reads it: ``begin`` at its ST, ``claim``
    for each claim edited, ``end`` at its SE (or where the file ends) with its reading
    complete. The spool (`workers.set_spool.SetSpool`) writes them to disk as they
    come, so no set is held whole; `Outcomes` keeps them in memory."""

    def begin(self, reading: SetReading) -> None: ...
    def claim(self, claim: EditedClaim) -> None: ...
    def end(self, reading: SetReading) -> None: ...


class Outcomes:
    """A `SetSink` that keeps every set's outcome in memory (tests, small files)."""

    def __init__(self) -> None:
        self.sets: list[SetOutcome] = []

    def begin(self, reading: SetReading) -> None:
        self.sets.append(SetOutcome(reading))

    def claim(self, claim: EditedClaim) -> None:
        self.sets[-1].take(claim)

    def end(self, reading: SetReading) -> None:
        pass


class SetSizes:
    """A `SetSink` in front of another that notes how many CLM segments each set holds,
    by ordinal, as its end goes by (4 bytes a set): the acknowledge step keeps them on
    the sets' rows, and the service groups small sets into one message by them."""

    def __init__(self, sink: SetSink) -> None:
        self._sink = sink
        self._sizes = array("i")  # -1: a set whose end did not go by

    def begin(self, reading: SetReading) -> None:
        self._sink.begin(reading)

    def claim(self, claim: EditedClaim) -> None:
        self._sink.claim(claim)

    def end(self, reading: SetReading) -> None:
        self._sink.end(reading)
        at, sizes = reading.ordinal - 1, self._sizes
        if at >= len(sizes):
            sizes.extend(repeat(-1, at + 1 - len(sizes)))
        sizes[at] = len(reading.clm_segments)

    def of(self, ordinal: int) -> int | None:
        """Set ``ordinal``'s CLM count; None when its end did not go by."""
        at = ordinal - 1
        size = self._sizes[at] if 0 <= at < len(self._sizes) else -1
        return size if size >= 0 else None


BATCH_SEGMENTS = 4_096
BATCH_CHARACTERS = 1 << 20
"""The collector takes the tapped segments in batches of at most `BATCH_SEGMENTS` (or
about `BATCH_CHARACTERS` of text, a segment being at most 64 KB): the check walks a
batch, then the reader and the edits take it, each running over thousands of segments
in a row. Taking turns segment by segment cost the pass about a seventh of its time
(the CPU's caches), for the same work."""


class SetCollector:
    """The front end's half of the one pass: `compiled.check_stream` taps each segment
    to it as the tokenizer reads it, and each transaction set is parsed and edited as
    its segments go by (in batches: `BATCH_SEGMENTS`), before the 999 says whether it is
    accepted; what it finds goes to the sink as it is found. `SetOutcome.settle` applies
    the verdict afterwards.

    The sets are counted and read the way `read_sets` reads them (every ST, the ISA and
    GS in force in front of it, a `ParseError` ending that set's parse only), so an
    outcome equals what `set_outcomes` gives for the same set.
    """

    def __init__(self, context: EditContext, sink: SetSink) -> None:
        self._context = context
        self._sink = sink
        self._index = 0
        self._ordinal = 0
        self._isa: Segment | None = None
        self._gs: Segment | None = None
        self._open: SetReading | None = None
        self._feed: ClaimFeed | None = None
        self._batch: list[RawSegment] = []
        self._characters = 0

    def __call__(self, raw: RawSegment) -> None:
        batch = self._batch
        batch.append(raw)
        self._characters += len(raw.text)
        if len(batch) >= BATCH_SEGMENTS or self._characters >= BATCH_CHARACTERS:
            self._drain()

    def _drain(self) -> None:
        """Each segment of the batch, in one loop (this is the pass's innermost one: a
        call less per segment is about 1 % of it)."""
        batch, self._batch, self._characters = self._batch, [], 0
        index = self._index
        for raw in batch:
            index += 1
            seg = Segment(raw.text.lstrip().split(raw.delimiters.element), raw.delimiters,
                          index, raw.cut)
            reading = self._open
            sid = seg.elements[0]
            if reading is None:
                if sid == "ISA":
                    self._isa, self._gs = seg, None
                elif sid == "GS":
                    self._gs = seg
                elif sid == "ST":
                    self._start(seg)
                continue
            if sid in NOTED:
                note(reading, seg)
            if self._feed is not None:
                self._push(reading, seg)
            if sid == "SE":
                self._close(reading)
        self._index = index

    def _start(self, st: Segment) -> None:
        self._ordinal += 1
        isa, gs = self._isa, self._gs
        reading = self._open = open_reading(self._ordinal, st, isa, gs, False)
        self._sink.begin(reading)
        self._feed = None
        if isa is not None and gs is not None:
            self._feed = ClaimFeed()
            for seg in (isa, gs, st):
                self._push(reading, seg)

    def _push(self, reading: SetReading, seg: Segment) -> None:
        feed = self._feed
        if feed is None:
            return
        try:
            claim = feed.push(seg)
            if claim is not None:
                self._sink.claim(EditedClaim.of(claim, self._context))
        except ParseError as exc:
            reading.parse_error = exc
            self._feed = None
        except Exception as exc:  # an engine bug: the set's claims go back unprocessable
            record_fault("front-end-pass", exc)
            reading.parse_error = ParseError(
                "the set could not be read", position=seg.index, segment_id=seg.elements[0],
                file_position=seg.index)
            self._feed = None

    def _close(self, reading: SetReading) -> None:
        self._open, self._feed = None, None
        self._sink.end(reading)
        collect_young()  # what the set left behind (`front_pass` holds the collector off)

    def finish(self) -> None:
        """The file is over: the last batch is taken, and a set still open ends here, as
        `read_sets` ends it."""
        self._drain()
        reading = self._open
        if reading is None:
            return
        if self._feed is not None:
            try:
                self._feed.finish()
            except ParseError as exc:
                reading.parse_error = exc
        self._close(reading)


def front_pass(stream: BinaryIO, policy: ig.EnvelopePolicy, context: EditContext,
               sink: SetSink) -> FileCheck:
    """The 999 check and every set's parse and edits over one reading of the file; the
    check's verdict, with each set's outcome (not yet settled) put into ``sink`` in file
    order. A policy the compiled 837P tables do not cover is checked on pyx12's path and
    its sets read again after the check (`set_outcomes`)."""
    if compiled_map(policy) != CLAIM_MAP:
        check = ig.check_stream(stream, policy)
        stream.seek(0)
        for _reading in read_into(stream, check.accepted_ordinals(), context, sink):
            pass  # each set put into the sink claim by claim
        return check
    collector = SetCollector(context, sink)
    # the pass builds some hundred thousand acyclic objects a set (segments, parsed
    # claims, findings) that reference counting frees: the cyclic collector walking them
    # cost it about 6 %; it is held off, and each set's young objects collected at its SE
    with cyclic_gc_held_off():
        check = compiled_check(stream, policy, tap=collector)
        collector.finish()
    return check


@dataclass
class FrontEndResult:
    claims: list[ClaimSummary] = field(default_factory=list)
    answered: list[TransactionStatus] = field(default_factory=list)
    accepted: list[tuple[str, ParsedClaim]] = field(default_factory=list)
    """(claim number, parsed claim) of every accepted claim, in receipt order."""


def run_front_end(path: Path, check: FileCheck, context: EditContext, numbers: ClaimNumbers,
                  on_set: Callable[[SetOutcome], None] | None = None) -> FrontEndResult:
    """The whole front end in memory (tests, benchmarks): numbered, answered, summarised."""
    return front_end_result(set_outcomes(path, check.accepted_ordinals(), context), numbers,
                            context.received, on_set)


def front_end_result(outcomes: Iterable[SetOutcome], numbers: ClaimNumbers, received: date,
                     on_set: Callable[[SetOutcome], None] | None = None) -> FrontEndResult:
    """Settled set outcomes numbered, answered and summarised, in memory."""
    result = FrontEndResult()
    for outcome in outcomes:
        if on_set is not None:
            on_set(outcome)
        answered = list(answered_claims(outcome, numbers, received))
        statuses = [one.status for one in answered if one.status is not None]
        if statuses:
            result.answered.append(outcome.answer(statuses, received))
        result.claims += [one.summary for one in answered]
        result.accepted += [(one.status.payer_claim_control_number or "", kept.parsed())
                            for one in answered
                            if one.status is not None and (kept := one.kept) is not None]
    return result


def amount(value: str) -> Decimal:
    try:
        parsed = Decimal(value)
    except (InvalidOperation, ValueError):
        return Decimal(0)
    return parsed if parsed.is_finite() else Decimal(0)


def money_text(value: str) -> str:
    return f"{amount(value):.2f}"
