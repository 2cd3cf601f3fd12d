"""Reference data the adjudication engine decides from, effective-dated, as typed rows.

Every row carries ``effective`` and ``termination`` (inclusive; None = open ended), so
a decision can be replayed as of any date: `ReferenceData` answers each question "as
of" a date and ignores rows not in force on it. The rows arrive from a CSV directory
(`adjudication.reference_csv`, documented in docs/reference-data.md) or, later, from
the store; the engine only sees this module's types.

Money is `Decimal`, percentages are `Decimal` fractions of 100 (``20`` = 20 %).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict


class LineOfBusiness(StrEnum):
    COMMERCIAL = "commercial"
    MEDICAID = "medicaid"
    MEDICARE_ADVANTAGE = "medicare_advantage"


class LicenseLevel(StrEnum):
    """License tiers that price and supervision rules distinguish (DOMAIN.md 8.7)."""

    MD = "MD"  # MD/DO psychiatrist
    NP = "NP"  # psychiatric nurse practitioner / CNS
    PHD = "PhD"  # PhD/PsyD psychologist
    LICSW = "LICSW"
    LCSW = "LCSW"
    LMHC = "LMHC"
    LMFT = "LMFT"
    LPC = "LPC"
    BCBA = "BCBA"
    ASSOCIATE = "associate"  # pre-licensed, works under supervision


INDEPENDENT_LICENSES = frozenset(set(LicenseLevel) - {LicenseLevel.ASSOCIATE})


class Row(BaseModel):
    """An effective-dated reference row."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    effective: date
    termination: date | None = None

    def in_force(self, day: date) -> bool:
        return self.effective <= day and (self.termination is None or day <= self.termination)


class Member(Row):
    """A person the payer covers; dependents share their subscriber's ``subscriber_id``."""

    member_id: str
    subscriber_id: str
    """The ID on the card, sent in 837P 2010BA NM109."""
    relationship: str
    """``self``, ``spouse``, ``child`` or ``other``."""
    last_name: str
    first_name: str
    birth_date: date
    gender: str


class Coverage(Row):
    """A span of coverage: which plan, line of business and state a member has."""

    member_id: str
    plan_id: str
    line_of_business: LineOfBusiness
    state: str
    """Plan situs / member state: decides state rules (filing windows, supervision)."""


class Plan(Row):
    """One plan's benefits for one benefit year (calendar year)."""

    plan_id: str
    benefit_year: int
    line_of_business: LineOfBusiness
    name: str
    deductible: Decimal
    coinsurance_percent: Decimal
    out_of_pocket_max: Decimal
    out_of_network_covered: bool
    family_deductible: Decimal | None = None
    """The in-network deductible the whole family (the members of one subscriber ID) meets
    together; a member's own ``deductible`` still caps what they pay toward it (an
    embedded deductible). None: no family limit."""
    family_out_of_pocket_max: Decimal | None = None
    """The family's in-network out-of-pocket maximum, likewise."""


class OutOfNetworkBenefit(Row):
    """A plan's out-of-network benefit for one benefit year (plans that cover it).

    The out-of-network allowed amount is ``allowed_percent`` of the in-network fee
    schedule amount; the charge above it is the member's (PR-45, balance billing).
    Deductible, coinsurance and out-of-pocket maximum are the out-of-network ones,
    accumulated apart from the in-network ones (`oon_accumulator_plan`)."""

    plan_id: str
    benefit_year: int
    allowed_percent: Decimal
    deductible: Decimal
    coinsurance_percent: Decimal
    out_of_pocket_max: Decimal
    source: str
    """Where the values come from (the plan document, a contract; the trace shows it)."""
    verified: bool
    """False: the values were not checked against the plan's benefit documents."""


def oon_accumulator_plan(plan_id: str) -> str:
    """The accumulator key of a plan's out-of-network deductible and out-of-pocket:
    accumulators.csv rows and accumulator changes name it instead of the plan id."""
    return f"{plan_id}:OON"


class Copay(Row):
    plan_id: str
    benefit_year: int
    service_category: str
    copay: Decimal


class ServiceCategory(Row):
    """Which service category a procedure code belongs to (copays, prior auth)."""

    procedure_code: str
    service_category: str
    """e.g. ``evaluation``, ``psychotherapy``, ``family_therapy``, ``group_therapy``,
    ``testing``, ``aba``, ``iop``, ``php``, ``residential_sud``, ``medication_management``,
    ``crisis``, ``preventive``."""


class PriorAuthRequirement(Row):
    """A service category that needs prior authorization under a plan (``*`` = all plans)."""

    plan_id: str
    service_category: str


class Provider(Row):
    npi: str
    tin: str | None
    name: str
    entity_type: str
    """``1`` person, ``2`` organisation."""
    license_level: LicenseLevel | None
    """None for organisations."""
    state: str
    network_status: str
    """``in`` or ``out``."""
    medicaid_enrolled: bool
    supervisor_npi: str | None = None


class PayeeAccount(Row):
    """Where a payee (billing NPI and TIN) takes its payments by ACH (CCD+): a bank
    account on file. A payee with none in force on the payment date is paid by check."""

    npi: str
    tin: str
    routing: str
    """ABA routing number, nine digits."""
    account: str
    account_type: str = "DA"
    """``DA`` checking, ``SG`` savings."""


class Fee(Row):
    """Allowed amount per unit for a procedure, by line of business.

    ``modifier`` and ``license_level`` empty mean any; the most specific row wins.
    """

    line_of_business: LineOfBusiness
    procedure_code: str
    modifier: str = ""
    license_level: str = ""
    allowed_per_unit: Decimal


class LicenseFactor(Row):
    """Percent of the fee schedule paid for a license tier (``supervised`` for U5 lines)."""

    line_of_business: LineOfBusiness
    license_level: str
    percent: Decimal


class TelehealthPolicy(Row):
    """How one line of business pays telehealth at one place of service (02 or 10) with
    one telehealth modifier (95, GT, 93, FQ; empty: none)."""

    line_of_business: LineOfBusiness
    place_of_service: str
    modifier: str
    procedure_codes: tuple[str, ...]
    """The codes that may be billed this way; empty: any (audio-only rows list them)."""
    rate: str
    """``office`` (the fee schedule) or ``facility``."""
    rate_percent: Decimal
    """Percent of the fee schedule paid (100 at the office rate)."""
    source: str
    verified: bool


class UnitLimit(Row):
    """The most units of a procedure one clinician bills for one member on one day (the
    CMS practitioner MUE value, date-of-service kind): more is CO-151."""

    procedure_code: str
    max_units_per_day: Decimal
    source: str
    verified: bool
    """False: the value was not checked against the current published file."""


class AddOnCode(Row):
    """An add-on code and the primary procedures it is billed with (same day, same
    clinician); without one of them the add-on is CO-107."""

    add_on_code: str
    primary_codes: tuple[str, ...]
    source: str
    verified: bool


class ProcedurePair(Row):
    """Two procedures one clinician may not bill for one member on one day (an NCCI
    procedure-to-procedure edit): the column 2 code is denied CO-236, unless
    ``modifier_allowed`` and it carries a bypass modifier (59, XE, XS, XP, XU)."""

    column1_code: str
    column2_code: str
    modifier_allowed: bool
    source: str
    verified: bool


class Authorization(Row):
    auth_number: str
    member_id: str
    provider_npi: str
    procedure_codes: tuple[str, ...]
    start: date
    end: date
    units: Decimal


FILING_LIMIT_KINDS = ("initial", "correction", "correction_receipt", "secondary")


class FilingLimit(Row):
    """How many days a claim or a correction may take to arrive.

    ``kind`` ``initial``: from the date of service; ``correction``: from the original's
    remittance date; ``correction_receipt``: from the original's receipt date (none
    shipped: applied only where a row says so); ``secondary``: from the day the payer
    before us adjudicated a
    secondary or later claim (an alternative to ``initial``, whichever ends later).
    ``state`` ``*`` applies to every state without a row of its own.
    """

    line_of_business: LineOfBusiness
    state: str
    kind: str
    days: int


class SupervisionPolicy(Row):
    """How a line of business and state treats services billed under supervision."""

    line_of_business: LineOfBusiness
    state: str
    """``*`` for every state without a row of its own."""
    allowed: bool
    requires_supervisor: bool
    """The supervising provider must be named (2310D or 2420D)."""
    requires_modifier: str
    """A modifier each supervised line must carry (``U5``), or empty."""
    requires_medicaid_enrollment: bool


class PastClaim(Row):
    """A claim line already decided (history for duplicates and corrections)."""

    icn: str
    patient_control_number: str
    member_id: str
    billing_npi: str
    rendering_npi: str
    line_number: int
    service_date: date
    procedure_code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal
    status: str
    """``paid``, ``denied``, ``reversed`` (replaced) or ``voided``."""
    paid: Decimal
    patient_responsibility: Decimal
    remittance_date: date | None
    line_of_business: LineOfBusiness
    adjustments: str = ""
    """Optional: the line's CAS as decided, ``GROUP-CARC:amount`` separated by spaces
    (``CO-45:20.00 PR-1:30.00``). Lets a reversal repeat the original's adjustments and
    give back exactly the deductible it met; empty when unknown."""

    def cas(self) -> tuple[tuple[str, str, Decimal], ...]:
        """``adjustments`` parsed as (group, CARC, amount) triplets."""
        out = []
        for item in self.adjustments.split():
            code, _, amount = item.partition(":")
            group, _, carc = code.partition("-")
            out.append((group, carc, Decimal(amount)))
        return tuple(out)


class CobMethodType(StrEnum):
    """How a line of business pays when it is not the primary payer (2000B SBR01 S/T)."""

    STANDARD = "standard"
    """The lesser of the normal benefit (allowed less the member's cost share) and the
    balance after the prior payers (allowed less what they paid)."""
    PAYER_OF_LAST_RESORT = "payer_of_last_resort"
    """Allowed less what the prior payers paid, never below zero; no cost share."""


class CobMethod(Row):
    """The coordination-of-benefits method of one line of business."""

    line_of_business: LineOfBusiness
    method: CobMethodType
    source: str
    verified: bool
    """False: the method was not checked against a contract or regulation text."""


class OtherCoverage(Row):
    """Another payer covering a member, as this payer's records know it."""

    member_id: str
    other_payer_name: str
    other_payer_sequence: str
    """That payer's place in the order: ``P`` it pays before us (we are secondary),
    ``S`` or ``T`` it pays after us."""


class Accumulator(Row):
    """A member's deductible and out-of-pocket met so far in a benefit year."""

    member_id: str
    plan_id: str
    benefit_year: int
    deductible_met: Decimal
    out_of_pocket_met: Decimal


class ClaimHistory(Protocol):
    """Past claims of the system before this engine, for duplicates and corrections:
    reference rows (`past_claims.csv`, or the store's reference tables once loaded).
    What this engine decided itself is asked of `AdjudicationState` instead."""

    def by_icn(self, icn: str) -> Sequence[PastClaim]: ...

    def same_service(self, member_id: str, service_date: date,
                     procedure_code: str) -> Sequence[PastClaim]: ...


R = TypeVar("R", bound=Row)
K = TypeVar("K")


def _in_force(rows: Iterable[R], day: date) -> list[R]:
    return [row for row in rows if row.in_force(day)]


def _group(rows: Iterable[R], key: Callable[[R], K]) -> dict[K, list[R]]:
    """Rows by key, each list in the rows' own order (so lookups answer as a scan would)."""
    groups: dict[K, list[R]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return groups


class ReferenceData:
    """All reference rows, answering questions as of a date. Pure and immutable."""

    def __init__(
        self, *, members: Sequence[Member] = (), coverage: Sequence[Coverage] = (),
        plans: Sequence[Plan] = (), copays: Sequence[Copay] = (),
        service_categories: Sequence[ServiceCategory] = (),
        prior_auth: Sequence[PriorAuthRequirement] = (), providers: Sequence[Provider] = (),
        fees: Sequence[Fee] = (), license_factors: Sequence[LicenseFactor] = (),
        authorizations: Sequence[Authorization] = (), filing_limits: Sequence[FilingLimit] = (),
        supervision: Sequence[SupervisionPolicy] = (), past_claims: Sequence[PastClaim] = (),
        accumulators: Sequence[Accumulator] = (),
        payee_accounts: Sequence[PayeeAccount] = (),
        unit_limits: Sequence[UnitLimit] = (), add_on_codes: Sequence[AddOnCode] = (),
        procedure_pairs: Sequence[ProcedurePair] = (),
        oon_benefits: Sequence[OutOfNetworkBenefit] = (),
        telehealth: Sequence[TelehealthPolicy] = (),
        cob_methods: Sequence[CobMethod] = (), other_coverage: Sequence[OtherCoverage] = (),
    ) -> None:
        self.plans = tuple(plans)
        self.copays = tuple(copays)
        self.service_categories = tuple(service_categories)
        self.prior_auth = tuple(prior_auth)
        self.providers = tuple(providers)
        self.fees = tuple(fees)
        self.license_factors = tuple(license_factors)
        self.filing_limits = tuple(filing_limits)
        self.supervision = tuple(supervision)
        self.payee_accounts = tuple(payee_accounts)
        self.unit_limits = tuple(unit_limits)
        self.add_on_codes = tuple(add_on_codes)
        self.procedure_pairs = tuple(procedure_pairs)
        self.oon_benefits = tuple(oon_benefits)
        self.telehealth = tuple(telehealth)
        self._telehealth = _group(self.telehealth,
                                  lambda t: (t.line_of_business, t.place_of_service))
        self._oon_by_plan = _group(self.oon_benefits, lambda b: (b.plan_id, b.benefit_year))
        self.cob_methods = tuple(cob_methods)
        self._unit_limits = _group(self.unit_limits, lambda u: u.procedure_code)
        self._add_ons = _group(self.add_on_codes, lambda a: a.add_on_code)
        self._pairs_by_code: dict[str, list[ProcedurePair]] = defaultdict(list)
        for pair in self.procedure_pairs:
            self._pairs_by_code[pair.column1_code].append(pair)
            self._pairs_by_code[pair.column2_code].append(pair)
        # indexes that keep each lookup from scanning every row (same answers, same order)
        self._providers = _group(self.providers, lambda p: p.npi)
        self._fees = _group(self.fees, lambda f: (f.line_of_business, f.procedure_code))
        self._plans_by_id = _group(self.plans, lambda p: p.plan_id)
        self._copays_by_plan = _group(self.copays, lambda c: c.plan_id)
        self._categories_by_code = _group(self.service_categories, lambda s: s.procedure_code)
        self._filing_by_lob = _group(self.filing_limits, lambda f: f.line_of_business)
        self._supervision_by_lob = _group(self.supervision, lambda s: s.line_of_business)
        self._index_member_rows(members, coverage, authorizations, past_claims, accumulators,
                                other_coverage)

    def _index_member_rows(
        self, members: Sequence[Member], coverage: Sequence[Coverage],
        authorizations: Sequence[Authorization], past_claims: Sequence[PastClaim],
        accumulators: Sequence[Accumulator], other_coverage: Sequence[OtherCoverage] = (),
    ) -> None:
        """The tables that grow with the membership, and their indexes."""
        self.members = tuple(members)
        self.coverage = tuple(coverage)
        self.authorizations = tuple(authorizations)
        self.past_claims = tuple(past_claims)
        self.accumulators = tuple(accumulators)
        self._members_by_subscriber = _group(self.members, lambda m: m.subscriber_id)
        self._past_by_icn = _group(self.past_claims, lambda c: c.icn)
        self._past_by_member = _group(self.past_claims, lambda c: c.member_id)
        self._past_by_service = _group(
            self.past_claims, lambda c: (c.member_id, c.service_date, c.procedure_code))
        self._coverage_by_member = _group(self.coverage, lambda c: c.member_id)
        self._auths_by_member = _group(self.authorizations, lambda a: a.member_id)
        self._accumulators_by_member = _group(self.accumulators, lambda a: a.member_id)
        self.other_coverage = tuple(other_coverage)
        self._other_coverage_by_member = _group(self.other_coverage, lambda o: o.member_id)

    def with_member_rows(
        self, *, members: Sequence[Member] = (), coverage: Sequence[Coverage] = (),
        authorizations: Sequence[Authorization] = (), past_claims: Sequence[PastClaim] = (),
        accumulators: Sequence[Accumulator] = (), other_coverage: Sequence[OtherCoverage] = (),
    ) -> ReferenceData:
        """This data's plans, fees, providers and policies (indexes shared, not rebuilt)
        with other member rows: what a store hands the engine for one batch of claims."""
        other = copy.copy(self)
        other._index_member_rows(members, coverage, authorizations, past_claims, accumulators,
                                 other_coverage)
        return other

    # members and coverage -------------------------------------------------------------
    def members_for(self, subscriber_id: str, day: date) -> list[Member]:
        return _in_force(self._members_by_subscriber.get(subscriber_id, ()), day)

    def members_with_subscriber(self, subscriber_id: str) -> list[Member]:
        """Every member ever known under a subscriber ID (any date)."""
        return list(self._members_by_subscriber.get(subscriber_id, ()))

    def coverage_for(self, member_id: str, day: date) -> Coverage | None:
        spans = [c for c in self._coverage_by_member.get(member_id, ()) if c.in_force(day)]
        return spans[0] if spans else None

    def coverage_spans(self, member_id: str) -> list[Coverage]:
        return sorted(self._coverage_by_member.get(member_id, ()), key=lambda c: c.effective)

    def other_coverage_for(self, member_id: str, day: date) -> list[OtherCoverage]:
        """The member's other payers on file, in force on ``day``."""
        return _in_force(self._other_coverage_by_member.get(member_id, ()), day)

    def cob_method(self, lob: LineOfBusiness, day: date) -> CobMethod | None:
        rows = [m for m in self.cob_methods if m.line_of_business == lob and m.in_force(day)]
        return rows[0] if rows else None

    # plans ------------------------------------------------------------------------------
    def plan(self, plan_id: str, benefit_year: int, day: date) -> Plan | None:
        rows = [p for p in self._plans_by_id.get(plan_id, ())
                if p.benefit_year == benefit_year and p.in_force(day)]
        return rows[0] if rows else None

    def telehealth_rows(self, lob: LineOfBusiness, place_of_service: str,
                        day: date) -> list[TelehealthPolicy]:
        """The telehealth policy rows of a line of business and place, in force."""
        return _in_force(self._telehealth.get((lob, place_of_service), ()), day)

    def oon_benefit(self, plan_id: str, benefit_year: int,
                    day: date) -> OutOfNetworkBenefit | None:
        rows = _in_force(self._oon_by_plan.get((plan_id, benefit_year), ()), day)
        return rows[0] if rows else None

    def copay(self, plan_id: str, benefit_year: int, category: str, day: date) -> Decimal:
        rows = [c for c in self._copays_by_plan.get(plan_id, ())
                if c.benefit_year == benefit_year and c.service_category == category
                and c.in_force(day)]
        return rows[0].copay if rows else Decimal(0)

    def has_copays(self, plan_id: str, benefit_year: int, day: date) -> bool:
        """Whether the plan charges a copay for any service category that year."""
        return any(c.benefit_year == benefit_year and c.in_force(day)
                   for c in self._copays_by_plan.get(plan_id, ()))

    def unit_limit(self, procedure_code: str, day: date) -> UnitLimit | None:
        rows = _in_force(self._unit_limits.get(procedure_code, ()), day)
        return rows[0] if rows else None

    def add_on(self, procedure_code: str, day: date) -> AddOnCode | None:
        """The add-on row of ``procedure_code`` in force, if it is an add-on code."""
        rows = _in_force(self._add_ons.get(procedure_code, ()), day)
        return rows[0] if rows else None

    def pairs_with(self, procedure_code: str, day: date) -> tuple[ProcedurePair, ...]:
        """Every pair edit in force that names ``procedure_code`` in either column."""
        return tuple(_in_force(self._pairs_by_code.get(procedure_code, ()), day))

    def service_category(self, procedure_code: str, day: date) -> str | None:
        rows = _in_force(self._categories_by_code.get(procedure_code, ()), day)
        return rows[0].service_category if rows else None

    def prior_auth_categories(self, plan_id: str, day: date) -> frozenset[str]:
        """The service categories the plan requires prior authorization for on ``day``
        (its own rows and the ``*`` rows in force)."""
        return frozenset(r.service_category for r in self.prior_auth
                         if r.plan_id in (plan_id, "*") and r.in_force(day))

    # providers and prices -----------------------------------------------------------------
    def provider(self, npi: str, day: date) -> Provider | None:
        rows = _in_force(self._providers.get(npi, ()), day)
        return rows[0] if rows else None

    def payee_account(self, npi: str, tin: str, day: date) -> PayeeAccount | None:
        """The payee's bank account in force on the payment date, if any."""
        rows = [a for a in self.payee_accounts if a.npi == npi and a.tin == tin
                and a.in_force(day)]
        return rows[0] if rows else None

    def fee(self, lob: LineOfBusiness, procedure_code: str, modifiers: Sequence[str],
            license_level: str, day: date) -> Fee | None:
        """The most specific fee row in force: modifier and license match beat 'any'."""
        best: tuple[int, Fee] | None = None
        for f in self._fees.get((lob, procedure_code), ()):
            if not f.in_force(day):
                continue
            if f.modifier and f.modifier not in modifiers:
                continue
            if f.license_level and f.license_level != license_level:
                continue
            score = (2 if f.modifier else 0) + (1 if f.license_level else 0)
            if best is None or score > best[0]:
                best = (score, f)
        return best[1] if best else None

    def license_factor(self, lob: LineOfBusiness, license_level: str,
                       day: date) -> Decimal | None:
        """The percent of the fee paid at ``license_level``; None without a row in force
        (never a guess: the line pends)."""
        rows = [f for f in self.license_factors if f.line_of_business == lob
                and f.license_level == license_level and f.in_force(day)]
        return rows[0].percent if rows else None

    def authorizations_for(self, member_id: str, day: date) -> list[Authorization]:
        return [a for a in self._auths_by_member.get(member_id, ())
                if a.start <= day <= a.end and a.in_force(day)]

    # policies -------------------------------------------------------------------------------
    def filing_limit(self, lob: LineOfBusiness, state: str, kind: str, day: date) -> int | None:
        rows = [f for f in self._filing_by_lob.get(lob, ()) if f.kind == kind
                and f.in_force(day)]
        specific = [f for f in rows if f.state == state]
        chosen = specific or [f for f in rows if f.state == "*"]
        return chosen[0].days if chosen else None

    def supervision_policy(self, lob: LineOfBusiness, state: str,
                           day: date) -> SupervisionPolicy | None:
        rows = [s for s in self._supervision_by_lob.get(lob, ()) if s.in_force(day)]
        specific = [s for s in rows if s.state == state]
        chosen = specific or [s for s in rows if s.state == "*"]
        return chosen[0] if chosen else None

    def accumulator(self, member_id: str, plan_id: str, benefit_year: int,
                    day: date) -> Accumulator | None:
        rows = [a for a in self._accumulators_by_member.get(member_id, ())
                if a.plan_id == plan_id and a.benefit_year == benefit_year and a.in_force(day)]
        return rows[0] if rows else None

    # history (the ClaimHistory port, answered from the CSV rows) ------------------------
    def by_icn(self, icn: str) -> Sequence[PastClaim]:
        return tuple(self._past_by_icn.get(icn, ()))

    def same_service(self, member_id: str, service_date: date,
                     procedure_code: str) -> Sequence[PastClaim]:
        return tuple(self._past_by_service.get((member_id, service_date, procedure_code), ()))

    def past_claims_for(self, member_id: str) -> Sequence[PastClaim]:
        """Every past claim line of one member (for authorization units already used)."""
        return tuple(self._past_by_member.get(member_id, ()))
