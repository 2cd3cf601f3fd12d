"""What adjudication decided about one claim: immutable values the 835 is written from.

    Decision                 one claim: status, CLP02, totals, lines, trace, accumulators
     ├── LineDecision        one service line: paid / denied / pended, CAS adjustments, RARCs
     │    └── Adjustment     one CAS triplet: group (CO, PR, OA, PI), CARC, amount
     ├── TraceStep           one rule that looked at the claim or a line, and what it concluded
     ├── AccumulatorChange   a signed change to a member's deductible / out-of-pocket met
     └── Reversal            an earlier claim this one reverses (replacement or void)

Every amount is a `Decimal`; `to_dict()` gives a stable, JSON-friendly dict with money
as ``"123.45"`` strings, so the same decision always serialises to the same bytes.

The one error, `InvalidOverride`, is a caller's mistake; claims are decided, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from adjudication.reference import LineOfBusiness
from edi.amounts import CENT, cents
from edi.amounts import amount_text as money

__all__ = ["CENT", "cents", "money"]  # the engine's rounding, defined in edi.amounts

ZERO = Decimal("0.00")

LineStatus = Literal["paid", "denied", "pended"]
ClaimStatus = Literal["paid", "partially_paid", "denied", "pended", "voided"]


class InvalidOverride(ValueError):
    """A reviewer's allowed amount is negative or names a line the claim does not have.

    A caller's mistake, never a claim problem (claims are decided, not raised)."""




class Group(StrEnum):
    """CAS01 claim adjustment group code (5010 allows only these four)."""

    CO = "CO"  # contractual obligation: the provider writes it off
    PR = "PR"  # patient responsibility
    OA = "OA"  # other adjustment
    PI = "PI"  # payer-initiated reduction


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS triplet: group, claim adjustment reason code (CARC) and amount."""

    group: Group
    carc: str
    amount: Decimal

    @property
    def code(self) -> str:
        """``CO-45`` style: group and CARC."""
        return f"{self.group}-{self.carc}"

    def to_dict(self) -> dict[str, Any]:
        return {"group": str(self.group), "carc": self.carc, "amount": money(self.amount)}


def text(value: object) -> str:
    """A trace input as people read it: dates ISO, booleans yes/no, None empty, a
    sequence its items separated by spaces."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list | frozenset):
        return " ".join(text(v) for v in value)
    return str(value)


@dataclass(frozen=True, slots=True, eq=False)
class TraceStep:
    """One rule's look at the claim (``line_number`` None) or a line, with its inputs.

    ``inputs`` keep the values the rule saw, typed (str, int, Decimal, date, bool,
    None, enums, tuples of these): some 26 steps a claim are made and most are only
    ever stored, so a value becomes text only when someone reads it (`shown`,
    `to_dict`). A step read back from the store holds the JSON forms of the same
    values (a date as its ISO string, a tuple as a list), which read the same: two
    steps are equal when they read the same."""

    rule_id: str
    version: int
    line_number: int | None
    inputs: tuple[tuple[str, object], ...]
    conclusion: str

    @property
    def shown(self) -> tuple[tuple[str, str], ...]:
        """The inputs as text, as `claims explain` and summaries show them."""
        return tuple((name, text(value)) for name, value in self.inputs)

    def _read(self) -> tuple[object, ...]:
        return (self.rule_id, self.version, self.line_number, self.shown, self.conclusion)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TraceStep):
            return NotImplemented
        return self._read() == other._read()

    def __hash__(self) -> int:
        return hash(self._read())

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "version": self.version,
                "line_number": self.line_number,
                "inputs": [[name, value] for name, value in self.shown],
                "conclusion": self.conclusion}


@dataclass(frozen=True, slots=True)
class LineDecision:
    """One service line as decided. ``charge - sum(adjustments) == paid`` unless pended."""

    line_number: int
    procedure_code: str
    modifiers: tuple[str, ...]
    service_date: date
    """The line's first date of service (DTP*472, else the claim's)."""
    charge: Decimal
    units: Decimal
    status: LineStatus
    allowed: Decimal
    paid: Decimal
    adjustments: tuple[Adjustment, ...] = ()
    rarcs: tuple[str, ...] = ()
    pend_reason: str | None = None
    rendering_npi: str | None = None
    """The clinician who rendered the line (2420A, else 2310B, else the billing NPI)."""
    authorization: str | None = None
    """The prior authorization whose units this line used (paid lines only)."""
    units_paid: Decimal | None = None
    """Units the payment covers when fewer than billed (the rest denied CO-198 by a
    partial authorization); None when it covers every unit billed."""

    @property
    def paid_units(self) -> Decimal:
        return self.units if self.units_paid is None else self.units_paid

    @property
    def patient_responsibility(self) -> Decimal:
        return sum((a.amount for a in self.adjustments if a.group is Group.PR), ZERO)

    def amount(self, group: Group, carc: str) -> Decimal:
        """The total adjusted under one group and CARC (``PR``, ``1``: deductible)."""
        return sum((a.amount for a in self.adjustments
                    if a.group is group and a.carc == carc), ZERO)

    def to_dict(self) -> dict[str, Any]:
        return {"line_number": self.line_number, "procedure_code": self.procedure_code,
                "modifiers": list(self.modifiers),
                "service_date": self.service_date.isoformat(), "charge": money(self.charge),
                "units": str(self.units), "status": self.status, "allowed": money(self.allowed),
                "paid": money(self.paid),
                "adjustments": [a.to_dict() for a in self.adjustments],
                "rarcs": list(self.rarcs), "pend_reason": self.pend_reason,
                "rendering_npi": self.rendering_npi, "authorization": self.authorization,
                "units_paid": None if self.units_paid is None else str(self.units_paid)}


@dataclass(frozen=True, slots=True)
class AccumulatorChange:
    """A signed change to what a member has met in one plan's benefit year."""

    member_id: str
    plan_id: str
    benefit_year: int
    deductible: Decimal
    out_of_pocket: Decimal

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.member_id, self.plan_id, self.benefit_year)

    def to_dict(self) -> dict[str, Any]:
        return {"member_id": self.member_id, "plan_id": self.plan_id,
                "benefit_year": self.benefit_year, "deductible": money(self.deductible),
                "out_of_pocket": money(self.out_of_pocket)}


@dataclass(frozen=True, slots=True)
class Reversal:
    """An earlier claim whose payment this decision takes back (CLP02 22 on the 835).

    ``lines`` are the original's lines with their amounts as originally decided
    (positive); the 835 negates them. ``accumulator_changes`` give back what the
    original added to the member's deductible and out-of-pocket (negative deltas);
    they are also the first entries of the decision's own ``accumulator_changes``.
    """

    original_icn: str
    lines: tuple[LineDecision, ...]
    accumulator_changes: tuple[AccumulatorChange, ...] = ()

    @property
    def paid(self) -> Decimal:
        return sum((line.paid for line in self.lines), ZERO)

    def to_dict(self) -> dict[str, Any]:
        return {"original_icn": self.original_icn,
                "lines": [line.to_dict() for line in self.lines],
                "accumulator_changes": [c.to_dict() for c in self.accumulator_changes]}


@dataclass(frozen=True, slots=True)
class Decision:
    """One claim as adjudicated: what the 835 says about it, and why."""

    icn: str
    patient_control_number: str
    billing_npi: str | None
    member_id: str | None
    line_of_business: LineOfBusiness | None
    plan_id: str | None
    state: str | None
    status: ClaimStatus
    claim_status_code: str
    """CLP02: ``1``, ``2`` or ``3`` processed as primary, secondary or tertiary (2000B
    SBR01: P, S, T; A-H count as 3), denied lines included; ``4`` denied, the member is
    not recognised. ``22`` (reversal) is written by the 835 for the ``reversal``."""
    frequency_code: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    lines: tuple[LineDecision, ...]
    claim_adjustments: tuple[Adjustment, ...]
    rarcs: tuple[str, ...]
    trace: tuple[TraceStep, ...]
    accumulator_changes: tuple[AccumulatorChange, ...]
    reversal: Reversal | None
    received: date
    as_of: date

    @property
    def pend_reasons(self) -> tuple[str, ...]:
        return tuple(f"line {line.line_number}: {line.pend_reason}" for line in self.lines
                     if line.pend_reason is not None)

    @property
    def own_accumulator_changes(self) -> tuple[AccumulatorChange, ...]:
        """What this claim's own lines added (the changes after the reversal's give-back)."""
        given_back = len(self.reversal.accumulator_changes) if self.reversal else 0
        return self.accumulator_changes[given_back:]

    def to_dict(self, *, with_trace: bool = True) -> dict[str, Any]:
        """The decision as JSON-friendly values; ``with_trace=False`` leaves the trace
        out (a store keeps it apart, encoded straight from the `TraceStep` values)."""
        return {
            "icn": self.icn, "patient_control_number": self.patient_control_number,
            "billing_npi": self.billing_npi,
            "member_id": self.member_id,
            "line_of_business": str(self.line_of_business) if self.line_of_business else None,
            "plan_id": self.plan_id, "state": self.state, "status": self.status,
            "claim_status_code": self.claim_status_code, "frequency_code": self.frequency_code,
            "charge": money(self.charge), "paid": money(self.paid),
            "patient_responsibility": money(self.patient_responsibility),
            "lines": [line.to_dict() for line in self.lines],
            "claim_adjustments": [a.to_dict() for a in self.claim_adjustments],
            "rarcs": list(self.rarcs),
            **({"trace": [step.to_dict() for step in self.trace]} if with_trace else {}),
            "accumulator_changes": [c.to_dict() for c in self.accumulator_changes],
            "reversal": self.reversal.to_dict() if self.reversal else None,
            "received": self.received.isoformat(), "as_of": self.as_of.isoformat(),
        }
