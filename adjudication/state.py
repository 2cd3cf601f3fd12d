"""What the decisions earlier in a run changed, as an immutable value.

A run adjudicates claims one after another; each decision can change what the next
one sees: accumulators move, authorization units get used, lines become history for
duplicates and corrections, originals get reversed or voided. `AdjudicationState`
holds exactly that, on top of the reference data (which it never repeats), and
`apply` returns a new state; the old one stays valid, so a run can be replayed.

Applying a decision for an ICN the state already holds (a pend released later in
the same run) first takes back everything the earlier decision for that ICN changed.

The maps share structure between versions (`_Map`), so `apply` costs the same on
the ten-thousandth claim of a run as on the first.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Generic, TypeVar

from adjudication.decision import ZERO, AccumulatorChange, Decision, LineDecision
from adjudication.reference import LineOfBusiness, PastClaim
from edi.claims import CORRECTION_FREQUENCIES

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_WIDTH = 256


class _Map(Generic[K, V]):
    """A persistent map: `set` copies one bucket of 256, never the whole map."""

    __slots__ = ("_buckets",)

    def __init__(self, buckets: tuple[dict[K, V], ...] | None = None) -> None:
        self._buckets = buckets if buckets is not None else ({},) * _WIDTH

    def get(self, key: K) -> V | None:
        return self._buckets[hash(key) % _WIDTH].get(key)

    def set(self, key: K, value: V) -> _Map[K, V]:
        index = hash(key) % _WIDTH
        bucket = dict(self._buckets[index])
        bucket[key] = value
        return _Map((*self._buckets[:index], bucket, *self._buckets[index + 1:]))

    def remove(self, key: K) -> _Map[K, V]:
        index = hash(key) % _WIDTH
        if key not in self._buckets[index]:
            return self
        bucket = {k: v for k, v in self._buckets[index].items() if k != key}
        return _Map((*self._buckets[:index], bucket, *self._buckets[index + 1:]))

    def items(self) -> Iterator[tuple[K, V]]:
        for bucket in self._buckets:
            yield from bucket.items()


@dataclass(frozen=True)
class DecidedClaim:
    """One claim decided in this run, as later claims need to see it."""

    icn: str
    member_id: str
    billing_npi: str | None
    line_of_business: LineOfBusiness | None
    status: str
    received: date
    lines: tuple[LineDecision, ...]
    accumulator_changes: tuple[AccumulatorChange, ...]
    own_accumulator_changes: tuple[AccumulatorChange, ...]
    reverses: str | None
    """The original ICN this claim reversed (a replacement or a void that took effect)."""
    refused_correction: bool = False
    """A replacement or void that reversed nothing (denied CO-16 M47, N257, CO-29...): it
    never stood for a service, its original does."""

    @property
    def authorization_units(self) -> tuple[tuple[str, Decimal], ...]:
        return tuple((line.authorization, line.paid_units) for line in self.lines
                     if line.status == "paid" and line.authorization is not None)

    def past_claims(self, pcn: str) -> tuple[PastClaim, ...]:
        """The claim's lines as later claims see them (duplicates, units a day): none for
        a correction that was refused. Before 2026-12-01 its lines counted as an earlier
        service, so the valid replacement after a mistyped one, the pended original
        released after its refused replacement, and a member's genuine claim after
        another member's refused void were each denied OA-18, a duplicate of a claim
        that paid nothing."""
        if self.line_of_business is None or self.refused_correction:
            return ()
        return tuple(PastClaim(
            effective=self.received, icn=self.icn, patient_control_number=pcn,
            member_id=self.member_id, billing_npi=self.billing_npi or "",
            rendering_npi=line.rendering_npi or self.billing_npi or "",
            line_number=line.line_number, service_date=line.service_date,
            procedure_code=line.procedure_code, modifiers=line.modifiers, charge=line.charge,
            units=line.units, status=line.status, paid=line.paid,
            patient_responsibility=line.patient_responsibility, remittance_date=None,
            line_of_business=self.line_of_business,
            adjustments=" ".join(f"{a.code}:{a.amount}" for a in line.adjustments),
        ) for line in self.lines)


AccumulatorKey = tuple[str, str, int]


@dataclass(frozen=True)
class AdjudicationState:
    """Accumulator moves, authorization units used, decided lines and closed ICNs of a run."""

    _claims: _Map[str, DecidedClaim] = field(default_factory=_Map)
    _past: _Map[str, tuple[PastClaim, ...]] = field(default_factory=_Map)
    _member_icns: _Map[str, tuple[str, ...]] = field(default_factory=_Map)
    _member_days: _Map[tuple[str, date], tuple[str, ...]] = field(default_factory=_Map)
    """The ICNs with a line of the member on the day, in the order they were decided."""
    _closed: _Map[str, str] = field(default_factory=_Map)
    _accumulators: _Map[AccumulatorKey, tuple[Decimal, Decimal]] = field(default_factory=_Map)
    _auth_used: _Map[str, Decimal] = field(default_factory=_Map)
    _remitted: _Map[str, date] = field(default_factory=_Map)
    """The day each claim the store says was remitted was paid in an 835 (BPR16)."""

    # questions the engine asks ----------------------------------------------------------
    def claim(self, icn: str) -> DecidedClaim | None:
        """The claim decided in this run under this ICN, if any."""
        return self._claims.get(icn)

    def closed(self, icn: str) -> str | None:
        """``reversed`` or ``voided`` when a claim of this run took the ICN back."""
        return self._closed.get(icn)

    def remitted_on(self, icn: str) -> date | None:
        """The day the claim decided under ``icn`` was remitted, when it was
        (`with_remittance`); None when no 835 has carried it yet."""
        return self._remitted.get(icn)

    def lines_for_member(self, member_id: str) -> tuple[PastClaim, ...]:
        """The member's lines decided in this run, statuses as they stand now."""
        return tuple(row for icn in self._member_icns.get(member_id) or ()
                     for row in self._as_now(icn))

    def lines_for_member_on(self, member_id: str, service_date: date) -> tuple[PastClaim, ...]:
        """The member's lines of one date of service decided in this run, statuses as
        they stand now: `lines_for_member`'s with that date, in the same order, found
        without going through the member's other days (a member with thousands of
        claims in a run made each line's duplicate and same-day checks go through all
        of them: quadratic)."""
        return tuple(row for icn in self._member_days.get((member_id, service_date)) or ()
                     for row in self._as_now(icn) if row.service_date == service_date)

    def _as_now(self, icn: str) -> Iterator[PastClaim]:
        """The lines decided under ``icn``, reversed or voided when a later claim of the
        run took it back."""
        closed = self._closed.get(icn)
        for row in self._past.get(icn) or ():
            yield row.model_copy(update={"status": closed}) if closed else row

    def accumulator_delta(self, member_id: str, plan_id: str,
                          benefit_year: int) -> tuple[Decimal, Decimal]:
        """(deductible, out-of-pocket) this run added on top of the reference row."""
        return self._accumulators.get((member_id, plan_id, benefit_year)) or (ZERO, ZERO)

    def authorization_units_used(self, auth_number: str) -> Decimal:
        return self._auth_used.get(auth_number) or ZERO

    # the state as plain values (the store keeps decisions, from which a batch's state
    # is built again: `workers.history.state_for`) -------------------------------------
    @property
    def accumulators(self) -> dict[AccumulatorKey, tuple[Decimal, Decimal]]:
        return dict(sorted(self._accumulators.items()))

    @property
    def decided_lines(self) -> tuple[PastClaim, ...]:
        """The run's lines as history rows (pended lines are not decided: left out)."""
        members = sorted(member for member, _ in self._member_icns.items())
        return tuple(line for member in members for line in self.lines_for_member(member)
                     if line.status != "pended")

    def with_remittance(self, icn: str, day: date) -> AdjudicationState:
        """This state, knowing the claim decided under ``icn`` was remitted on ``day``
        (the store's `workers.history.state_for` says so from its 835s): a correction's
        window is counted from that day."""
        return replace(self, _remitted=self._remitted.set(icn, day))

    # the one way to change it -----------------------------------------------------------
    def apply(self, decision: Decision) -> AdjudicationState:
        """The state after ``decision``: a new value; this one is unchanged."""
        if decision.member_id is None:
            return self
        state = self
        earlier = self._claims.get(decision.icn)
        if earlier is not None:
            state = state._effects(earlier, -1)
        record = DecidedClaim(
            icn=decision.icn, member_id=decision.member_id, billing_npi=decision.billing_npi,
            line_of_business=decision.line_of_business, status=decision.status,
            received=decision.received, lines=decision.lines,
            accumulator_changes=decision.accumulator_changes,
            own_accumulator_changes=decision.own_accumulator_changes,
            reverses=decision.reversal.original_icn if decision.reversal else None,
            refused_correction=(decision.frequency_code in CORRECTION_FREQUENCIES
                                and decision.reversal is None),
        )
        state = replace(
            state, _claims=state._claims.set(record.icn, record),
            _past=state._past.set(record.icn, record.past_claims(decision.patient_control_number)),
        )
        if earlier is None:
            icns = (state._member_icns.get(record.member_id) or ()) + (record.icn,)
            state = replace(state, _member_icns=state._member_icns.set(record.member_id, icns))
        days = state._member_days
        for day in dict.fromkeys(line.service_date for line in record.lines):
            key = (record.member_id, day)
            on_day = days.get(key) or ()
            if record.icn not in on_day:
                days = days.set(key, (*on_day, record.icn))
        state = replace(state, _member_days=days)
        return state._effects(record, +1)

    def _effects(self, record: DecidedClaim, sign: int) -> AdjudicationState:
        """Add (+1) or take back (-1) what one decided claim changed."""
        accumulators = self._accumulators
        for change in record.accumulator_changes:
            ded, oop = accumulators.get(change.key) or (ZERO, ZERO)
            accumulators = accumulators.set(change.key, (ded + sign * change.deductible,
                                                         oop + sign * change.out_of_pocket))
        auth_used = _add_units(self._auth_used, record.authorization_units, sign)
        closed = self._closed
        if record.reverses is not None:
            kind = "voided" if record.status == "voided" else "reversed"
            closed = closed.set(record.reverses, kind) if sign > 0 else closed.remove(
                record.reverses)
            original = self._claims.get(record.reverses)
            if original is not None:
                auth_used = _add_units(auth_used, original.authorization_units, -sign)
        return replace(self, _accumulators=accumulators, _auth_used=auth_used, _closed=closed)


def _add_units(used: _Map[str, Decimal], units: tuple[tuple[str, Decimal], ...],
               sign: int) -> _Map[str, Decimal]:
    for auth, count in units:
        used = used.set(auth, (used.get(auth) or ZERO) + sign * count)
    return used
