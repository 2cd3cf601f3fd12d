"""The rule machinery: what a rule sees, what it may conclude, and how it leaves a trace.

A `LineRule` is a small named check with an id and a version. It reads a `LineWork`
(the line's facts, the claim's context, and what earlier rules found), may write
what it found back (the coverage, the price, ...) and returns ``None`` to let the
next rule look, or an `Outcome`: `Deny` (a CAS group and CARC, with RARCs) or `Pend`
(a reason for a person). Every rule that looks writes one `TraceStep`.

A `Ledger` carries what changes from one line to the next within a claim: the
accumulators met so far and the authorization units this claim has used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property

from adjudication.decision import (
    ZERO,
    AccumulatorChange,
    Group,
    LineDecision,
    TraceStep,
    cents,
)
from adjudication.policy import EnginePolicy, default_supervision
from adjudication.reference import (
    Coverage,
    LineOfBusiness,
    Member,
    OutOfNetworkBenefit,
    Plan,
    Provider,
    ReferenceData,
    SupervisionPolicy,
)
from adjudication.state import AdjudicationState
from edi.claims import ParsedClaim, ServiceLine
from edi.validators.codesets import CodeSetRegistry


@dataclass(frozen=True)
class LineFacts:
    """One 2400 service line as the rules need it, with the claim-level fall-backs."""

    number: int
    procedure_code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal
    start: date | None
    through: date | None
    billing_npi: str
    rendering_npi: str
    """2420A, else 2310B, else the billing provider (2010AA)."""
    supervising_npi: str | None
    supervisor_named: bool
    """A 2420D or 2310D loop is present (with or without an NPI)."""
    authorization_numbers: tuple[str, ...]
    place_of_service: str | None = None
    """SV105, else CLM05-1."""
    diagnoses: tuple[str, ...] = ()
    """The claim's principal diagnosis, then those the line's pointers (SV107) name that
    are not it, in pointer order (the codes as billed)."""

    @classmethod
    def of(cls, claim: ParsedClaim, line: ServiceLine) -> LineFacts:
        c = claim.claim
        dates = line.service_date or c.date("472")
        billing = claim.billing_provider.npi or ""
        supervising = line.supervising or c.supervising
        cited = line.prior_authorization_numbers + (
            (c.prior_authorization_number,) if c.prior_authorization_number else ())
        listed = c.diagnoses
        pointed = [listed[p - 1].code for p in line.diagnosis_code_pointers
                   if 0 < p <= len(listed)]
        diagnoses = tuple(dict.fromkeys(([listed[0].code] if listed else []) + pointed))
        return cls(
            number=line.assigned_number, procedure_code=line.procedure_code,
            modifiers=line.procedure_modifiers, charge=line.line_item_charge_amount,
            units=line.service_unit_count if line.service_unit_count is not None else Decimal(1),
            start=dates.start if dates else None, through=dates.through if dates else None,
            billing_npi=billing,
            rendering_npi=claim.rendering_npi(line) or billing,
            supervising_npi=supervising.name.npi if supervising else None,
            supervisor_named=supervising is not None, authorization_numbers=cited,
            place_of_service=line.place_of_service_code or c.place_of_service_code,
            diagnoses=diagnoses,
        )


@dataclass(frozen=True)
class Original:
    """The claim a replacement or void points at (REF*F8), from history or this run."""

    icn: str
    member_id: str
    billing_npi: str
    line_of_business: LineOfBusiness | None
    status: str
    """``paid`` / ``denied`` / ``pended``, or ``reversed`` / ``voided`` when closed."""
    remittance_date: date | None
    first_service_date: date
    lines: tuple[LineDecision, ...]
    give_back: tuple[AccumulatorChange, ...]
    """What the original added to accumulators, negated."""
    first_received: date | None = None
    """The day the first claim of its chain (the original and the claims it replaced) was
    received: the receipt of the initial claim, which a correction's receipt window
    counts from (history: the rows' earliest ``effective``; history keeps no chain)."""
    refused_correction: bool = False
    """A replacement or void of this run that reversed nothing: it never stood for a
    claim, so it is no original a later correction can stand on."""
    decided_in_run: bool = False
    """Decided by this engine (`AdjudicationState`), not read from history: only such an
    original may be not remitted yet."""
    filed: tuple[tuple[date, date], ...] = ()
    """(first date of service, the day the claim's chain first received it) for each
    date its lines bill: the chain is the original and the claims it replaced, and a
    date counts from the earliest of them that billed it (`TIMELY-FILING`)."""

    def filed_on(self, day: date) -> date | None:
        """The day the chain first received a line of first date of service ``day``;
        None when the original bills no line of that date."""
        return next((filed for service, filed in self.filed if service == day), None)


@dataclass(frozen=True)
class ClaimContext:
    """Everything about the claim every line rule may read."""

    claim: ParsedClaim
    icn: str
    member: Member
    reference: ReferenceData
    state: AdjudicationState
    policy: EnginePolicy
    as_of: date
    received: date
    overrides: Mapping[int, Decimal]
    code_sets: CodeSetRegistry
    """The ICD-10-CM releases loaded (DIAGNOSIS-CODE-SET)."""
    original: Original | None = None
    """Set for a replacement whose original stands: its lines are reversed."""

    @cached_property
    def line_facts(self) -> tuple[LineFacts, ...]:
        """Every line's facts, in claim order, made once a claim: the same-day checks of
        each line read all the claim's lines (made again for each line, a 50-line claim
        made 7,500 of them)."""
        return tuple(LineFacts.of(self.claim, line) for line in self.claim.claim.lines)

    @property
    def not_history(self) -> frozenset[str]:
        """ICNs never counted as earlier services: this claim and the one it replaces."""
        return frozenset({self.icn} | ({self.original.icn} if self.original else set()))


@dataclass(frozen=True)
class Deny:
    group: Group
    carc: str
    rarcs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pend:
    reason: str


Outcome = Deny | Pend


@dataclass
class LineWork:
    """One line being decided: its facts and what the rules found so far (mutable)."""

    ctx: ClaimContext
    facts: LineFacts
    earlier: tuple[LineFacts, ...]
    """The lines of this claim before this one (for duplicates within the claim)."""
    trace: list[TraceStep] = field(default_factory=list)
    coverage: Coverage | None = None
    plan: Plan | None = None
    provider: Provider | None = None
    license_key: str = ""
    authorization: str | None = None
    authorized_units: Decimal | None = None
    """Units a partial authorization covers (fewer than billed); None: every unit."""
    rate_percent: Decimal = Decimal(100)
    """Percent of the fee schedule paid: a telehealth facility rate, else 100."""
    out_of_network: OutOfNetworkBenefit | None = None
    """The plan's out-of-network benefit, when an out-of-network clinician's line is
    paid under it (priced at its percent, its cost share, the rest PR-45)."""
    allowed: Decimal | None = None
    patient_share: tuple[tuple[str, Decimal], ...] = ()
    """(CARC, amount) for PR-1 deductible, PR-3 copay, PR-2 coinsurance."""
    prior_payer_impact: Decimal = ZERO
    """OA-23: the part of the allowed amount the payers before us account for (a
    secondary or tertiary claim; `adjudication.rules.coordination`)."""
    balance_bill_covered: Decimal = ZERO
    """The part of the PR-45 balance bill the payers before us already paid (a
    secondary or tertiary out-of-network line): the member no longer owes it, so it
    is OA-23 with the rest of their impact (`adjudication.rules.coordination`)."""

    @property
    def balance_billed(self) -> bool:
        """Whether the charge above allowed is the member's (PR-45): only on a line
        priced on an out-of-network benefit (no contract), and never for a Medicaid
        member, whom no provider may bill beyond the plan's payment (42 CFR 447.15);
        otherwise it is a CO-45 write-off."""
        return self.out_of_network is not None and self.lob is not LineOfBusiness.MEDICAID

    @property
    def balance_bill(self) -> Decimal:
        """PR-45 before coordination of benefits: the payable charge above allowed when
        the member may be billed it (`balance_billed`), else zero."""
        if not self.balance_billed or self.allowed is None:
            return ZERO
        return max(ZERO, self.payable_charge - self.allowed)

    @property
    def payable_units(self) -> Decimal:
        """The units pricing pays for: those a partial authorization covers, else all."""
        return self.facts.units if self.authorized_units is None else self.authorized_units

    @property
    def payable_charge(self) -> Decimal:
        """The part of the charge for the payable units (the charge per unit times the
        units covered, to cents); the rest is what a partial authorization denies."""
        if self.authorized_units is None:
            return self.facts.charge
        return cents(self.facts.charge * self.authorized_units / self.facts.units)

    @property
    def day(self) -> date:
        """The date of service that decides eligibility, benefits, fees and licensing."""
        assert self.facts.start is not None
        return self.facts.start

    @property
    def lob(self) -> LineOfBusiness:
        assert self.coverage is not None
        return self.coverage.line_of_business

    def supervision(self) -> SupervisionPolicy:
        """The supervision policy for the line's coverage (LOB and state) on the DOS."""
        assert self.coverage is not None
        state = self.coverage.state
        return (self.ctx.reference.supervision_policy(self.lob, state, self.day)
                or default_supervision(self.lob, state))

    @property
    def supervised(self) -> bool:
        """2310D/2420D present, modifier U5, or an associate-level rendering clinician."""
        return (self.facts.supervisor_named
                or self.ctx.policy.supervision_modifier in self.facts.modifiers
                or (self.provider is not None and self.provider.license_level is not None
                    and self.provider.license_level == self.ctx.policy.associate_license_key))

    def note(self, rule: LineRule, conclusion: str, **inputs: object) -> None:
        self.trace.append(TraceStep(
            rule_id=rule.id, version=rule.version, line_number=self.facts.number,
            inputs=tuple(inputs.items()),
            conclusion=conclusion))

    def pend_without_category(self, rule: LineRule, unknown: str,
                              **inputs: object) -> Pend:
        """The line pends: its procedure has no service category in force on the date
        of service, so what the rule reads by category (``unknown``: a sentence's end,
        what cannot be told) cannot be told; noted in the trace with ``inputs``."""
        code = self.facts.procedure_code
        self.note(rule, "pended: no service category on file for the procedure",
                  procedure_code=code, date_of_service=self.day, **inputs)
        return Pend(f"no service category on file for {code} on {self.day} "
                    f"(service_categories.csv): {unknown}")


class Ledger:
    """Accumulators and authorization units as they move line by line within a claim."""

    def __init__(self, ctx: ClaimContext) -> None:
        self._ctx = ctx
        self._given_back: dict[tuple[str, str, int], tuple[Decimal, Decimal]] = {}
        self._changes: dict[tuple[str, str, int], tuple[Decimal, Decimal]] = {}
        self._units: dict[str, Decimal] = {}

    def give_back(self, changes: tuple[AccumulatorChange, ...]) -> None:
        """Take a reversed original's amounts off before this claim's lines are priced."""
        for change in changes:
            ded, oop = self._given_back.get(change.key, (ZERO, ZERO))
            self._given_back[change.key] = (ded + change.deductible, oop + change.out_of_pocket)

    def met(self, plan_id: str, benefit_year: int) -> tuple[Decimal, Decimal]:
        """(deductible, out-of-pocket) met: reference row as of ``as_of``, run, claim."""
        return self._met(self._ctx.member.member_id, plan_id, benefit_year)

    def family_met(self, plan_id: str, benefit_year: int) -> tuple[Decimal, Decimal]:
        """The same, summed over the member's family: every member the reference data
        knows under the member's subscriber ID (the member among them)."""
        ctx = self._ctx
        family = {m.member_id for m in ctx.reference.members_with_subscriber(
            ctx.member.subscriber_id)} | {ctx.member.member_id}
        ded = oop = ZERO
        for member_id in sorted(family):
            member_ded, member_oop = self._met(member_id, plan_id, benefit_year)
            ded, oop = ded + member_ded, oop + member_oop
        return ded, oop

    def _met(self, member_id: str, plan_id: str, benefit_year: int) -> tuple[Decimal, Decimal]:
        ctx = self._ctx
        row = ctx.reference.accumulator(member_id, plan_id, benefit_year, ctx.as_of)
        ded, oop = (row.deductible_met, row.out_of_pocket_met) if row else (ZERO, ZERO)
        run_ded, run_oop = ctx.state.accumulator_delta(member_id, plan_id, benefit_year)
        key = (member_id, plan_id, benefit_year)
        back_ded, back_oop = self._given_back.get(key, (ZERO, ZERO))
        claim_ded, claim_oop = self._changes.get(key, (ZERO, ZERO))
        return (ded + run_ded + back_ded + claim_ded, oop + run_oop + back_oop + claim_oop)

    def add(self, change: AccumulatorChange) -> None:
        ded, oop = self._changes.get(change.key, (ZERO, ZERO))
        self._changes[change.key] = (ded + change.deductible, oop + change.out_of_pocket)

    def changes(self) -> tuple[AccumulatorChange, ...]:
        """This claim's own accumulator changes, in the order the keys were first met."""
        return tuple(AccumulatorChange(m, p, y, ded, oop)
                     for (m, p, y), (ded, oop) in self._changes.items() if ded or oop)

    def units_used(self, auth_number: str) -> Decimal:
        return self._units.get(auth_number, ZERO)

    def use_units(self, auth_number: str, units: Decimal) -> None:
        self._units[auth_number] = self.units_used(auth_number) + units


LineCheck = Callable[["LineRule", LineWork, Ledger], Outcome | None]


@dataclass(frozen=True)
class LineRule:
    """One named line rule and the codes it may answer with."""

    id: str
    version: int
    title: str
    answers: tuple[str, ...]
    """Group-CARC (+RARC) values or ``pend`` this rule can conclude with (for docs)."""
    check: LineCheck

    def run(self, work: LineWork, ledger: Ledger) -> Outcome | None:
        return self.check(self, work, ledger)
