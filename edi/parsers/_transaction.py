"""One ST/SE transaction set read segment by segment: header, HL levels and claims.

HL parents are found through HL02. When HL02 is empty or names no earlier level
(real senders reuse HL IDs and leave dangling parents; the implementation-guide
check reports that), the level is attached to the nearest preceding level of the
kind the guide requires (20 above 22, 22 above 23). An HL02 that names a level of
the wrong kind is refused, and so, while streaming, is one that names a billing
provider or subscriber level more than `PARENT_WINDOW` levels of its kind back.
"""

from __future__ import annotations

from collections import deque

from edi.claims import (
    BillingProvider,
    BillingProviderLevel,
    Claim,
    Envelope,
    ParsedClaim,
    Patient,
    PatientLevel,
    Subscriber,
    SubscriberLevel,
    Transaction837,
    TransactionHeader,
)
from edi.parsers import _fields as f
from edi.parsers import _loops as loops
from edi.parsers._claim import ClaimBuilder
from edi.parsers._fields import Bad
from edi.tokenizer import Segment

MAX_HELD_SEGMENTS = 50_000
"""Segments the reader takes between two HL or CLM segments (one level's loops, or one
claim with its lines) before it refuses the set. A claim with every loop of the guide
at its limit (50 lines, each with a 2440 form) holds about 22,500; a claim of a
million made-up lines would otherwise be held whole before the 999 rejects its set
(about 1.4 KB a segment)."""
PARENT_WINDOW = 1024
"""How many billing provider (or subscriber) levels back an HL02 may reach while
streaming (`iter_claims`): a set of any size is read holding at most this many of each."""
_NAMES = {"20": "billing provider", "22": "subscriber"}
LEVEL_LOOPS = {"20": "2000A", "22": "2000B", "23": "2000C"}
PARENT_LEVEL = {"22": "20", "23": "22"}
ENVELOPE_IDS = frozenset(("ISA", "GS", "ST", "GE", "IEA", "TA1"))
KNOWN_IDS = frozenset((
    "BHT", "NM1", "PER", "HL", "PRV", "CUR", "N3", "N4", "REF", "SBR", "PAT", "DMG",
    "CLM", "DTP", "PWK", "CN1", "AMT", "K3", "NTE", "CR1", "CR2", "CRC", "HI", "HCP",
    "CAS", "OI", "MOA", "LX", "SV1", "SV5", "CR3", "QTY", "MEA", "PS1", "LIN", "CTP",
    "SVD", "LQ", "FRM",
))
"""Segment IDs of 005010X222A1 between ST and SE."""
CLAIM_IDS = KNOWN_IDS - {"HL", "CLM"}


class Level:
    """One HL level while its transaction set is read."""

    __slots__ = ("builder", "children", "claims", "code", "model", "parent")

    def __init__(self, code: str, parent: Level | None, builder: loops.LoopBuilder) -> None:
        self.code = code
        self.parent = parent
        self.builder: loops.LoopBuilder | None = builder
        self.model: BillingProvider | Subscriber | Patient | None = None
        self.children: list[Level] = []
        self.claims: list[Claim] = []


_CODE_BYTES = {code: n for n, code in enumerate(LEVEL_LOOPS, 1)}
_BYTE_CODES = {n: code for code, n in _CODE_BYTES.items()}


class LevelCodes:
    """HL01 -> HL03 of every level of a set (an ID used again: its latest level). HL01
    counts 1, 2, 3... (the guide's rule): such an ID is kept as one byte at its place in
    a row, any other in a dict, so a set of 200,000 claims keeps about half a megabyte,
    not 50 MB."""

    def __init__(self) -> None:
        self._counted = bytearray()
        self._other: dict[str, str] = {}

    def put(self, hl_id: str, code: str) -> None:
        place = self._place(hl_id)
        if place is not None and place <= len(self._counted):
            if place == len(self._counted):
                self._counted.append(_CODE_BYTES[code])
            else:
                self._counted[place] = _CODE_BYTES[code]
        else:
            self._other[hl_id] = code

    def get(self, hl_id: str) -> str | None:
        place = self._place(hl_id)
        if place is not None and place < len(self._counted):
            return _BYTE_CODES[self._counted[place]]
        return self._other.get(hl_id)

    @staticmethod
    def _place(hl_id: str) -> int | None:
        """0 for HL01 ``1``, and so on; None for an ID not written as a count."""
        if hl_id.isdigit() and hl_id.isascii() and hl_id[0] != "0":
            return int(hl_id) - 1
        return None


class TransactionReader:
    """Feeds one transaction set's segments; hands back each claim as it completes.

    With ``keep_tree`` the levels and claims are kept to build a `Transaction837`;
    without it only the levels that may still be named as parents are kept.
    """

    def __init__(self, envelope: Envelope, keep_tree: bool) -> None:
        self.envelope = envelope
        self.keep_tree = keep_tree
        self.header_builder: loops.LoopBuilder | None = loops.LoopBuilder("HEADER", 1, "ST")
        self.header: TransactionHeader | None = None
        self.level: Level | None = None
        self.claim: ClaimBuilder | None = None
        self.claim_position = 0
        self.codes = LevelCodes()
        """HL03 of every HL01 seen, to tell a dangling HL02 from a wrong one."""
        self.by_id: dict[str, Level] = {}
        self.recent: dict[str, deque[tuple[str, Level]]] = {"20": deque(), "22": deque()}
        self.latest: dict[str, Level] = {}
        self.roots: list[Level] = []
        self.held = 0
        """Segments since the last HL or CLM (`MAX_HELD_SEGMENTS`)."""

    def add(self, seg: Segment, position: int) -> ParsedClaim | None:
        sid = seg.elements[0]
        self.held += 1
        if self.held > MAX_HELD_SEGMENTS:
            raise Bad(f"more than {MAX_HELD_SEGMENTS:,} segments follow one HL or CLM (no "
                      "level or claim of 005010X222A1 holds that many)")
        claim = self.claim
        if claim is not None and sid in CLAIM_IDS:
            claim.add(seg, position)
            return None
        if sid == "HL" or sid == "CLM":
            self.held = 0
            done = self._close_claim()
            self._close_level()
            if sid == "HL":
                self._open_level(seg, position)
            else:
                self._open_claim(seg, position)
            return done
        if sid not in KNOWN_IDS:
            if sid in ENVELOPE_IDS:
                raise Bad("an envelope segment appears inside the transaction set")
            raise Bad("the segment ID is not part of 005010X222A1")
        if self.claim is not None:
            self.claim.add(seg, position)
        elif self.level is not None and self.level.builder is not None:
            self._level_segment(self.level, seg, position)
        elif self.header_builder is not None:
            loops.header_segment(self.header_builder, seg, position)
        return None

    def finish(self) -> tuple[ParsedClaim | None, Transaction837 | None]:
        """Close the open loops at SE; the transaction set when keeping the tree."""
        done = self._close_claim()
        self._close_level()
        header = self._close_header()
        if not self.keep_tree:
            return done, None
        return done, Transaction837(
            envelope=self.envelope, header=header,
            billing_providers=tuple(_provider_level(root) for root in self.roots),
        )

    def _close_header(self) -> TransactionHeader:
        if self.header is None:
            assert self.header_builder is not None
            self.header = loops.build_header(self.header_builder)
            self.header_builder = None
        return self.header

    def _level_segment(self, level: Level, seg: Segment, position: int) -> None:
        assert level.builder is not None
        if level.code == "20":
            loops.billing_provider_segment(level.builder, seg, position)
        else:
            loops.person_segment(level.builder, seg, position)

    def _open_level(self, seg: Segment, position: int) -> None:
        self._close_header()
        hl = f.hierarchical_level(seg)
        code = hl.level_code
        if code not in LEVEL_LOOPS:
            raise Bad("HL03 must be 20, 22 or 23")
        parent = self._parent(code, hl.parent_id)
        builder = loops.LoopBuilder(LEVEL_LOOPS[code], position)
        builder.put("HL", hl)
        level = Level(code, parent, builder)
        if self.keep_tree:
            (parent.children if parent is not None else self.roots).append(level)
        self.codes.put(hl.id, code)
        self.latest[code] = self.level = level
        if code != "23":  # a patient level is never a parent
            self.by_id[hl.id] = level
            if not self.keep_tree:
                self._keep_recent(code, hl.id, level)

    def _keep_recent(self, code: str, hl_id: str, level: Level) -> None:
        """Streaming keeps the last `PARENT_WINDOW` billing provider and subscriber
        levels: memory stays flat however many of them a transaction set holds."""
        recent = self.recent[code]
        recent.append((hl_id, level))
        if len(recent) > PARENT_WINDOW:
            old_id, old = recent.popleft()
            if self.by_id.get(old_id) is old:
                del self.by_id[old_id]

    def _parent(self, code: str, parent_id: str | None) -> Level | None:
        if code == "20":
            if parent_id:
                raise Bad("HL02 must be empty at a billing provider level")
            return None
        wanted = PARENT_LEVEL[code]
        if not parent_id:
            raise Bad("HL02 (the parent level) is required below a billing provider level")
        named_code = self.codes.get(parent_id)
        if named_code is None:  # never attached to a guessed level: the claim would move
            raise Bad("HL02 names a parent level that does not exist before this one")
        if named_code != wanted:
            raise Bad("HL02 names a level that cannot be this level's parent")
        assert parent_id is not None
        named = self.by_id.get(parent_id)
        if named is None:
            raise Bad(f"HL02 names a {_NAMES[wanted]} level too far back to attach while "
                      "streaming")
        return named

    def _close_level(self) -> None:
        level = self.level
        if level is None or level.builder is None:
            return
        b = level.builder
        if level.code == "20":
            level.model = loops.build_billing_provider(b)
        elif level.code == "22":
            level.model = loops.build_subscriber(b)
        else:
            level.model = loops.build_patient(b)
        level.builder = None

    def _open_claim(self, seg: Segment, position: int) -> None:
        if self.level is None or self.level.code == "20":
            raise Bad("a claim must follow a subscriber (22) or patient (23) level")
        self.claim = ClaimBuilder(seg, position)
        self.claim_position = position

    def _close_claim(self) -> ParsedClaim | None:
        if self.claim is None:
            return None
        claim, level = self.claim.build(), self.level
        self.claim = None
        assert level is not None and self.header is not None
        if self.keep_tree:
            level.claims.append(claim)
            return None
        patient = level.model if isinstance(level.model, Patient) else None
        subscriber_level = level.parent if patient is not None else level
        assert subscriber_level is not None and subscriber_level.parent is not None
        subscriber, provider = subscriber_level.model, subscriber_level.parent.model
        assert isinstance(subscriber, Subscriber) and isinstance(provider, BillingProvider)
        return ParsedClaim(
            envelope=self.envelope, header=self.header, billing_provider=provider,
            subscriber=subscriber, patient=patient, claim=claim,
            position=self.claim_position,
        )


def _provider_level(level: Level) -> BillingProviderLevel:
    assert isinstance(level.model, BillingProvider)
    return BillingProviderLevel(
        billing_provider=level.model,
        subscribers=tuple(_subscriber_level(child) for child in level.children),
    )


def _subscriber_level(level: Level) -> SubscriberLevel:
    assert isinstance(level.model, Subscriber)
    patients = []
    for child in level.children:
        assert isinstance(child.model, Patient)
        patients.append(PatientLevel(patient=child.model, claims=tuple(child.claims)))
    return SubscriberLevel(
        subscriber=level.model, claims=tuple(level.claims), patients=tuple(patients)
    )
