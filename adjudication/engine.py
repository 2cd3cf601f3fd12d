"""Adjudicate one accepted 837P claim: pure, deterministic, every rule in the trace.

    adjudicate(claim, icn=..., reference=..., as_of=..., received=..., state=...)

Which date each rule reads reference data on:

    date of service (line's first)  member identification (else ``as_of``), eligibility,
                                    plan benefits, copays, service categories, prior-auth
                                    requirements and authorizations, provider licensing,
                                    network and enrolment, supervision policy, fees and
                                    license factors; the benefit year is its calendar year
    line's first date of service    start of the timely-filing clock (a span's from-date)
    ``received`` (file receipt)     timely filing and correction windows (the limits in
                                    force on it, and the day the clock stops; a
                                    replacement's line: the day its chain first
                                    received the line's date of service)
    ``as_of`` (the replay date)     accumulator rows (deductible / out-of-pocket met), and
                                    member identification when no date of service matches

Same inputs give the same `Decision`, byte for byte in ``to_dict()``: nothing here
reads a clock, the environment or a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from adjudication.context import (
    ClaimContext,
    Deny,
    Ledger,
    LineFacts,
    LineWork,
    Original,
    Outcome,
    Pend,
)
from adjudication.decision import (
    ZERO,
    AccumulatorChange,
    Adjustment,
    ClaimStatus,
    Decision,
    Group,
    InvalidOverride,
    LineDecision,
    LineStatus,
    Reversal,
    TraceStep,
)
from adjudication.packs import CHARGEABLE_RULE, GATE, PACKS
from adjudication.policy import DEFAULT_POLICY, EnginePolicy
from adjudication.reference import Coverage, LineOfBusiness, Member, ReferenceData
from adjudication.rules.coordination import COORDINATION, check_claim, claim_status_code
from adjudication.rules.corrections import check_correction
from adjudication.rules.member import PatientKey, find_member, identify_member, service_days
from adjudication.state import AdjudicationState
from edi.claims import CORRECTION_FREQUENCIES, ParsedClaim
from edi.validators.codesets import CodeSetRegistry

__all__ = ["DEFAULT_POLICY", "ENGINE_FAULT_REASON", "EnginePolicy", "adjudicate",
           "line_of_business", "pend_after_engine_fault"]

ENGINE_FAULT_REASON = "the engine could not decide this claim; a person must review it"


@dataclass(frozen=True)
class _Header:
    """The claim-level fields every decision repeats."""

    claim: ParsedClaim
    icn: str
    member: Member | None
    coverage: Coverage | None
    received: date
    as_of: date

    def decision(self, *, status: ClaimStatus, lines: Sequence[LineDecision],
                 trace: Sequence[TraceStep], changes: Sequence[AccumulatorChange] = (),
                 reversal: Reversal | None = None, code: str | None = None,
                 claim_adjustments: tuple[Adjustment, ...] = (), rarcs: tuple[str, ...] = (),
                 charge: Decimal | None = None) -> Decision:
        c = self.claim.claim
        if charge is None:
            charge = (sum((line.charge for line in lines), ZERO) if lines
                      else c.total_claim_charge_amount)
        return Decision(
            icn=self.icn, patient_control_number=c.patient_control_number,
            billing_npi=self.claim.billing_provider.npi,
            member_id=self.member.member_id if self.member else None,
            line_of_business=self.coverage.line_of_business if self.coverage else None,
            plan_id=self.coverage.plan_id if self.coverage else None,
            state=self.coverage.state if self.coverage else None,
            status=status,
            claim_status_code=code if code is not None else claim_status_code(self.claim),
            frequency_code=c.claim_frequency_type_code or "1", charge=charge,
            paid=sum((line.paid for line in lines), ZERO),
            patient_responsibility=sum((line.patient_responsibility for line in lines), ZERO),
            lines=tuple(lines), claim_adjustments=claim_adjustments, rarcs=rarcs,
            trace=tuple(trace), accumulator_changes=tuple(changes), reversal=reversal,
            received=self.received, as_of=self.as_of,
        )


def adjudicate(claim: ParsedClaim, *, icn: str, reference: ReferenceData,
               code_sets: CodeSetRegistry, as_of: date, received: date,
               state: AdjudicationState, policy: EnginePolicy = DEFAULT_POLICY,
               overrides: Mapping[int, Decimal] | None = None) -> Decision:
    """Decide every line of ``claim`` (ICN ``icn``), received on ``received``.

    ``code_sets`` are the ICD-10-CM releases loaded, which the line's diagnoses are
    checked against on its date of service. ``overrides`` maps a line number to the
    allowed amount a person entered when releasing the claim's pend.
    """
    overrides = _checked(claim, overrides or {})
    days = service_days(claim)
    member, step = identify_member(claim, reference, days[0] if days else None, as_of)
    coverage = _claim_coverage(member, days, reference) if member else None
    header = _Header(claim, icn, member, coverage, received, as_of)
    trace: list[TraceStep] = [step]
    if member is None:
        return _all_denied(header, trace, Deny(Group.CO, "31"), code="4")
    if not claim.claim.lines:
        return header.decision(status="denied", lines=(), trace=trace, rarcs=("MA130",),
                               claim_adjustments=(Adjustment(
                                   Group.CO, "16", claim.claim.total_claim_charge_amount),))
    purpose = claim.header.bht.transaction_type_code
    if purpose not in (None, "CH"):  # not a request for payment: never paid unchecked
        reason = NOT_CHARGEABLE_REASON.format(code=purpose)
        trace.append(TraceStep(CHARGEABLE_RULE, 1, None, (("transaction_type_code", purpose),),
                               f"pended: {reason}"))
        return header.decision(status="pended", lines=_all_pended(claim, reason), trace=trace)
    original: Original | None = None
    if claim.claim.claim_frequency_type_code in CORRECTION_FREQUENCIES:
        check = check_correction(claim, member, reference, state, policy, received)
        trace.extend(check.trace)
        if check.pend is not None:
            return header.decision(status="pended", lines=_all_pended(claim, check.pend),
                                   trace=trace)
        if check.denial is not None or check.original is None:
            return _all_denied(header, trace, check.denial or Deny(Group.CO, "16", ("M47",)))
        original = check.original
        if claim.claim.claim_frequency_type_code == "8":
            reversal = Reversal(original.icn, original.lines, original.give_back)
            return header.decision(status="voided", lines=(), trace=trace, charge=ZERO,
                                   changes=original.give_back, reversal=reversal)
    denial, cob_step = check_claim(claim, coverage, reference, days[0] if days else None)
    trace.extend([cob_step] if cob_step is not None else [])
    if denial is not None:
        return _all_denied(header, trace, denial)
    ctx = ClaimContext(claim=claim, icn=icn, member=member, reference=reference, state=state,
                       policy=policy, as_of=as_of, received=received, overrides=overrides,
                       code_sets=code_sets, original=original)
    return _decide_lines(header, ctx, trace)


NOT_CHARGEABLE_REASON = ("the file is not a request for payment (BHT06 {code}: RP an "
                         "encounter report, 31 a subrogation demand); a person decides")


def pend_after_engine_fault(claim: ParsedClaim, *, icn: str, received: date,
                            as_of: date) -> Decision:
    """The decision for a claim the engine raised on (a bug its caller logs and counts):
    every line pended for a person, nothing paid, nothing accumulated (fails closed)."""
    header = _Header(claim, icn, None, None, received, as_of)
    step = TraceStep("ENGINE-FAULT", 1, None, (),
                     "the engine raised while deciding this claim; pended for review")
    return header.decision(status="pended", lines=_all_pended(claim, ENGINE_FAULT_REASON),
                           trace=[step])


def _all_pended(claim: ParsedClaim, reason: str) -> list[LineDecision]:
    """Every line of ``claim`` pended for a person with ``reason``, nothing priced."""
    return [_line(LineFacts.of(claim, line), status="pended", pend_reason=reason)
            for line in claim.claim.lines]


def _decide_lines(header: _Header, ctx: ClaimContext, trace: list[TraceStep]) -> Decision:
    ledger = Ledger(ctx)
    original = ctx.original
    if original is not None:
        ledger.give_back(original.give_back)
    lines: list[LineDecision] = []
    every = ctx.line_facts
    for index, facts in enumerate(every):
        work = LineWork(ctx, facts, every[:index])
        lines.append(_decide_line(work, ledger))
        trace.extend(work.trace)
    if any(line.status == "pended" for line in lines):
        return header.decision(status="pended", lines=_held(lines), trace=trace)
    give_back = original.give_back if original else ()
    reversal = Reversal(original.icn, original.lines, give_back) if original else None
    return header.decision(status=_status(lines), lines=lines, trace=trace,
                           changes=give_back + ledger.changes(), reversal=reversal)


def _decide_line(work: LineWork, ledger: Ledger) -> LineDecision:
    if work.facts.start is None:
        return _closed(work, Pend("the line has no date of service"))
    for rule in GATE:
        outcome = rule.run(work, ledger)
        if outcome is not None:
            return _closed(work, outcome)
    for rule in (*PACKS[work.lob].rules, COORDINATION):
        outcome = rule.run(work, ledger)
        if outcome is not None:
            return _closed(work, outcome)
    return _priced(work)


def _line(facts: LineFacts, *, status: LineStatus, allowed: Decimal = ZERO,
          paid: Decimal = ZERO, adjustments: tuple[Adjustment, ...] = (),
          rarcs: tuple[str, ...] = (), pend_reason: str | None = None,
          authorization: str | None = None) -> LineDecision:
    return LineDecision(
        line_number=facts.number, procedure_code=facts.procedure_code,
        modifiers=facts.modifiers, service_date=facts.start or date.min, charge=facts.charge,
        units=facts.units, status=status, allowed=allowed, paid=paid, adjustments=adjustments,
        rarcs=rarcs, pend_reason=pend_reason, rendering_npi=facts.rendering_npi,
        authorization=authorization,
    )


def _closed(work: LineWork, outcome: Outcome) -> LineDecision:
    """A line a rule denied (all of the charge under its group and CARC) or pended."""
    if isinstance(outcome, Pend):
        return _line(work.facts, status="pended", pend_reason=outcome.reason)
    return _line(work.facts, status="denied",
                 adjustments=(Adjustment(outcome.group, outcome.carc, work.facts.charge),),
                 rarcs=outcome.rarcs)


def _priced(work: LineWork) -> LineDecision:
    """A paid line: the units beyond a partial authorization CO-198 for their share of
    the charge, the rest of the charge above allowed CO-45 (in network, and any Medicaid
    line) or PR-45 (out of network, less what the payers before us already paid of it),
    then the patient's share, then OA-23 what the payers before us account for (a
    secondary or tertiary claim)."""
    assert work.allowed is not None
    charge = work.payable_charge
    adjustments = []
    if charge < work.facts.charge:
        adjustments.append(Adjustment(Group.CO, "198", work.facts.charge - charge))
    if not work.balance_billed and charge > work.allowed:
        adjustments.append(Adjustment(Group.CO, "45", charge - work.allowed))
    owed = work.balance_bill - work.balance_bill_covered
    if owed:  # no contract out of network: the member may be billed it
        adjustments.append(Adjustment(Group.PR, "45", owed))
    adjustments += [Adjustment(Group.PR, carc, amount) for carc, amount in work.patient_share]
    if work.prior_payer_impact + work.balance_bill_covered:
        adjustments.append(Adjustment(Group.OA, "23",
                                      work.prior_payer_impact + work.balance_bill_covered))
    share = sum((amount for _, amount in work.patient_share), ZERO)
    paid = work.allowed - share - work.prior_payer_impact
    line = _line(work.facts, status="paid", allowed=work.allowed, paid=paid,
                 adjustments=tuple(adjustments), authorization=work.authorization)
    return replace(line, units_paid=work.authorized_units)


def _held(lines: Sequence[LineDecision]) -> tuple[LineDecision, ...]:
    """A pended claim pays nothing: lines that would pay wait with it (denials stand)."""
    pended = ", ".join(str(line.line_number) for line in lines if line.status == "pended")
    return tuple(
        LineDecision(line.line_number, line.procedure_code, line.modifiers, line.service_date,
                     line.charge, line.units, "pended", line.allowed, ZERO,
                     pend_reason=f"held with the claim: line {pended} is pended",
                     rendering_npi=line.rendering_npi)
        if line.status == "paid" else line
        for line in lines)


def _status(lines: Sequence[LineDecision]) -> ClaimStatus:
    statuses = {line.status for line in lines}
    if statuses == {"denied"}:
        return "denied"
    return "paid" if statuses == {"paid"} else "partially_paid"


def _all_denied(header: _Header, trace: list[TraceStep], denial: Deny,
                code: str | None = None) -> Decision:
    lines = [_line(facts, status="denied", rarcs=denial.rarcs,
                   adjustments=(Adjustment(denial.group, denial.carc, facts.charge),))
             for facts in (LineFacts.of(header.claim, line) for line in header.claim.claim.lines)]
    if not lines:
        return header.decision(status="denied", lines=(), trace=trace, code=code,
                               rarcs=denial.rarcs, claim_adjustments=(Adjustment(
                                   denial.group, denial.carc,
                                   header.claim.claim.total_claim_charge_amount),))
    return header.decision(status="denied", lines=lines, trace=trace, code=code)


def _checked(claim: ParsedClaim, overrides: Mapping[int, Decimal]) -> Mapping[int, Decimal]:
    numbers = {line.assigned_number for line in claim.claim.lines}
    for number, amount in overrides.items():
        if number not in numbers:
            raise InvalidOverride(f"the claim has no line {number}")
        if amount < 0:
            raise InvalidOverride(f"line {number}: an allowed amount cannot be negative")
    return dict(overrides)


def line_of_business(key: PatientKey, reference: ReferenceData,
                     as_of: date) -> LineOfBusiness | None:
    """The line of business `adjudicate` would report the claim ``key`` was read from
    under (`Decision.line_of_business`): its member, then the coverage the claim is
    reported under. None when no member matches or the member has no coverage on file.
    For a claim the front end rejected, which is never adjudicated (the review queue
    of rejections filters by it)."""
    member = find_member(key, reference, as_of)
    coverage = _claim_coverage(member, key.service_days, reference) if member else None
    return coverage.line_of_business if coverage else None


def _claim_coverage(member: Member, days: Sequence[date],
                    reference: ReferenceData) -> Coverage | None:
    """The coverage the claim is reported under: the first line's that has one, else the
    member's span nearest before the first service (else the first span on file)."""
    for day in days:
        coverage = reference.coverage_for(member.member_id, day)
        if coverage is not None:
            return coverage
    spans = reference.coverage_spans(member.member_id)
    before = [s for s in spans if days and s.effective <= days[0]]
    return before[-1] if before else (spans[0] if spans else None)
