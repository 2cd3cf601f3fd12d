"""Read 835 files (005010X221A1) into the amounts and counts their balance depends on.

The reader is the project's own, used to prove an 835 before it is released
(`remittance.balance`) and to report on other payers' files: it keeps what the
balancing rules need (BPR, TRN, payee, every CLP with its claim- and line-level CAS,
every SVC, PLB) and the envelope counts (ST/SE, GS/GE, ISA/IEA), in file order, and
never raises on a bad file: an amount that is not a number, a segment where none
belongs, a missing trailer become `problems` of the transaction or interchange.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from edi.tokenizer import Segment, iter_segments


@dataclass
class CasRead:
    group: str
    reason: str
    amount: Decimal


@dataclass
class ServiceRead:
    procedure: str
    charge: Decimal
    paid: Decimal
    adjustments: list[CasRead] = field(default_factory=list)
    segment: int = 0
    """The SVC's ordinal in the file (1-based)."""
    line_item_control_number: str = ""
    """REF*6R."""


@dataclass
class ClaimRead:
    patient_control_number: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_control_number: str
    adjustments: list[CasRead] = field(default_factory=list)
    services: list[ServiceRead] = field(default_factory=list)
    original_claim_number: str = ""
    segment: int = 0


@dataclass
class ProviderAdjustmentRead:
    reason: str
    reference: str
    amount: Decimal


@dataclass
class TransactionRead:
    control_number: str
    """ST02."""
    handling_code: str = ""
    amount: Decimal = Decimal(0)
    credit_debit: str = ""
    method: str = ""
    trace_number: str = ""
    payer_id: str = ""
    payee_npi: str = ""
    payee_tax_id: str = ""
    claims: list[ClaimRead] = field(default_factory=list)
    provider_adjustments: list[ProviderAdjustmentRead] = field(default_factory=list)
    segments: int = 0
    """Segments counted from ST to SE, both included."""
    trailer_count: str | None = None
    """SE01 as written; None when the SE is missing."""
    trailer_control_number: str | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class GroupRead:
    control_number: str
    version: str
    transactions: list[TransactionRead] = field(default_factory=list)
    trailer: tuple[str, str] | None = None
    """(GE01 count, GE02 control number)."""


@dataclass
class InterchangeRead:
    control_number: str
    groups: list[GroupRead] = field(default_factory=list)
    trailer: tuple[str, str] | None = None
    """(IEA01 count, IEA02 control number)."""
    problems: list[str] = field(default_factory=list)


def read_835(stream: BinaryIO) -> list[InterchangeRead]:
    """Every interchange of an 835 file, in order (a file of other transactions reads
    as interchanges with no 835 in them)."""
    return _Reader().read(iter_segments(stream))


class _Reader:
    def __init__(self) -> None:
        self.interchanges: list[InterchangeRead] = []
        self.group: GroupRead | None = None
        self.ts: TransactionRead | None = None
        self.claim: ClaimRead | None = None
        self.service: ServiceRead | None = None

    def read(self, segments: Iterable[Segment]) -> list[InterchangeRead]:
        try:
            for segment in segments:
                self._segment(segment)
        except Exception as exc:  # the tokenizer refuses what is not X12 at all
            if not self.interchanges:
                self.interchanges.append(InterchangeRead(""))
            self.interchanges[-1].problems.append(
                f"the file cannot be read past this point ({type(exc).__name__})")
        return self.interchanges

    def _amount(self, segment: Segment, position: int) -> Decimal:
        value = segment.get(position)
        try:
            return Decimal(value) if value else Decimal(0)
        except InvalidOperation:
            if self.ts is not None:
                self.ts.problems.append(
                    f"{segment.id}{position:02d} at segment {segment.index} is not a number")
            return Decimal(0)

    def _segment(self, s: Segment) -> None:
        sid = s.id
        if sid == "ISA":
            self.interchanges.append(InterchangeRead(s.get(13)))
        elif sid == "IEA" and self.interchanges:
            self.interchanges[-1].trailer = (s.get(1), s.get(2))
        elif sid == "GS" and self.interchanges:
            self.group = GroupRead(s.get(6), s.get(8))
            self.interchanges[-1].groups.append(self.group)
        elif sid == "GE" and self.group is not None:
            self.group.trailer = (s.get(1), s.get(2))
            self.group = None
        elif sid == "ST":
            self.ts = TransactionRead(s.get(2), segments=1)
            self.claim = self.service = None
            if self.group is not None and s.get(1) == "835":
                self.group.transactions.append(self.ts)
        elif self.ts is not None:
            self.ts.segments += 1
            self._body(s)

    def _body(self, s: Segment) -> None:
        ts = self.ts
        assert ts is not None
        sid = s.id
        if sid == "SE":
            ts.trailer_count, ts.trailer_control_number = s.get(1), s.get(2)
            self.ts = self.claim = self.service = None
        elif sid == "BPR":
            ts.handling_code, ts.amount = s.get(1), self._amount(s, 2)
            ts.credit_debit, ts.method = s.get(3), s.get(4)
        elif sid == "TRN" and not ts.trace_number:
            ts.trace_number = s.get(2)
        elif sid == "REF" and s.get(1) == "2U" and not ts.claims:
            ts.payer_id = s.get(2)
        elif sid == "N1" and s.get(1) == "PE":
            ts.payee_npi = s.get(4) if s.get(3) == "XX" else ""
            ts.payee_tax_id = s.get(4) if s.get(3) == "FI" else ts.payee_tax_id
        elif sid == "REF" and s.get(1) == "TJ" and not ts.claims:
            ts.payee_tax_id = s.get(2)
        elif sid == "CLP":
            self.service = None
            self.claim = ClaimRead(s.get(1), s.get(2), self._amount(s, 3), self._amount(s, 4),
                                   self._amount(s, 5), s.get(7), segment=s.index)
            ts.claims.append(self.claim)
        elif sid == "SVC" and self.claim is not None:
            self.service = ServiceRead(s.component(1, 2), self._amount(s, 2),
                                       self._amount(s, 3), segment=s.index)
            self.claim.services.append(self.service)
        elif sid == "CAS" and self.claim is not None:
            target = self.service.adjustments if self.service else self.claim.adjustments
            for position in range(2, min(len(s), 19) + 1, 3):
                if s.get(position):
                    target.append(CasRead(s.get(1), s.get(position),
                                          self._amount(s, position + 1)))
        elif sid == "REF" and s.get(1) == "6R" and self.service is not None:
            self.service.line_item_control_number = s.get(2)
        elif sid == "REF" and s.get(1) == "F8" and self.claim is not None:
            self.claim.original_claim_number = s.get(2)
        elif sid == "PLB":
            self.claim = self.service = None
            for position in range(3, min(len(s), 14) + 1, 2):
                if s.get(position):
                    ts.provider_adjustments.append(ProviderAdjustmentRead(
                        s.component(position, 1), s.component(position, 2),
                        self._amount(s, position + 1)))
