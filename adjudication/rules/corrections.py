"""Replacements and voids (CLM05-3 = 7 / 8): the original they name, and its window.

The original is looked up by REF*F8 among the claims decided earlier in this run
(`AdjudicationState`), then in history (`ReferenceData.by_icn`). It must exist, be
the same member's, come from the same billing provider, and still stand (not
already reversed or voided, not still pended, not itself a correction that was
refused and so reversed nothing); otherwise the claim is denied CO-16 with RARC M47
(the original claim number is missing or invalid). The correction must also carry
the TIN its original was paid under (CORRECTION-PAYEE), else CO-16 with N257, and
nothing is reversed.

The window runs from the original's remittance date to ``received`` (the receipt
date): the FilingLimit ``correction`` row for the original's line of business and
the member's state, in force on the receipt date, else 180 days (commercial, MA) /
365 (Medicaid). Day 180 is in time, day 181 is late: CO-29. An original decided by
this engine is remitted on the day the state says (`AdjudicationState.remitted_on`:
the store's 835s); one no 835 has carried yet is in time. Before 2026-12-01 every
original this engine had decided was taken as not remitted, so its window was never
counted. A history original was remitted before it was history: one with a line
without a remittance date pends the correction for a person (version 1 took one with
none as in time; version 2 counted from the latest date its other lines had, never
asking whether the line without one was remitted, or when). With every line's date on
file, the window counts from the latest.

A second window, from the receipt of the initial claim (the first claim of the
original's chain: a replacement of a replacement counts from the claim the chain
began with), applies only where a FilingLimit ``correction_receipt`` row is in force
(DOMAIN.md 1 row 4: corrections "should be made within 90 days of receipt of the
initial claim"; open question 3 keeps that wording as guidance, so no such row
ships): past it, CO-29 as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from adjudication.context import Deny, Original
from adjudication.decision import (
    ZERO,
    AccumulatorChange,
    Adjustment,
    Group,
    LineDecision,
    TraceStep,
    text,
)
from adjudication.policy import EnginePolicy
from adjudication.reference import (
    LineOfBusiness,
    Member,
    PastClaim,
    ReferenceData,
    oon_accumulator_plan,
)
from adjudication.state import AdjudicationState, DecidedClaim
from edi.claims import ParsedClaim

ORIGINAL_RULE = ("CORRECTION-ORIGINAL", 2)
WINDOW_RULE = ("CORRECTION-WINDOW", 3)
RECEIPT_WINDOW_RULE = ("CORRECTION-RECEIPT-WINDOW", 2)
FILING_RULE = ("CORRECTION-FILING", 2)
PAYEE_RULE = ("CORRECTION-PAYEE", 1)
CLOSED = ("reversed", "voided")
NO_REMITTANCE_REASON = ("a line of the original claim has no remittance date on file: "
                        "its correction window cannot be counted")


@dataclass(frozen=True)
class CorrectionCheck:
    """The original a replacement or void stands on, or why it is denied."""

    original: Original | None
    denial: Deny | None
    trace: tuple[TraceStep, ...]
    pend: str | None = None
    """Why a person must decide it (nothing reversed, nothing paid)."""


def find_original(icn: str, reference: ReferenceData, state: AdjudicationState,
                  seen: frozenset[str] = frozenset()) -> Original | None:
    """The claim decided under ``icn``: this run's decision first, else history.
    ``seen``: the claims later in its chain, already looked up (never looked up again)."""
    record = state.claim(icn)
    if record is not None:
        earlier = (find_original(record.reverses, reference, state, seen | {icn})
                   if record.reverses is not None and record.reverses not in seen | {icn}
                   else None)
        before = dict(earlier.filed) if earlier is not None else {}
        filed = {line.service_date: before.get(line.service_date, record.received)
                 for line in record.lines}
        first = earlier.first_received if earlier is not None else None
        return _from_run(record, state.closed(icn), state.remitted_on(icn),
                         tuple(sorted(filed.items())), first or record.received)
    rows = sorted(reference.by_icn(icn), key=lambda r: r.line_number)
    if not rows:
        return None
    filed = {}
    for row in rows:
        filed[row.service_date] = min(row.effective, filed.get(row.service_date, row.effective))
    closed = state.closed(icn) or next((r.status for r in rows if r.status in CLOSED), None)
    # every line's remittance date, or None when a line has none (fail closed: pend)
    dates = [r.remittance_date for r in rows if r.remittance_date is not None]
    remitted = max(dates) if len(dates) == len(rows) else None
    return Original(
        icn=icn, member_id=rows[0].member_id, billing_npi=rows[0].billing_npi,
        line_of_business=rows[0].line_of_business,
        status=closed or ("paid" if any(r.status == "paid" for r in rows) else "denied"),
        remittance_date=remitted,
        first_service_date=min(r.service_date for r in rows),
        lines=tuple(_line_from_history(r) for r in rows),
        give_back=_history_give_back(rows, reference),
        first_received=min(r.effective for r in rows), filed=tuple(sorted(filed.items())),
    )


def _from_run(record: DecidedClaim, closed: str | None, remitted: date | None,
              filed: tuple[tuple[date, date], ...], first_received: date) -> Original:
    return Original(
        icn=record.icn, member_id=record.member_id, billing_npi=record.billing_npi or "",
        line_of_business=record.line_of_business, status=closed or record.status,
        remittance_date=remitted,
        first_service_date=min((line.service_date for line in record.lines),
                               default=record.received),
        lines=record.lines, decided_in_run=True,
        give_back=tuple(AccumulatorChange(c.member_id, c.plan_id, c.benefit_year,
                                          -c.deductible, -c.out_of_pocket)
                        for c in record.own_accumulator_changes),
        first_received=first_received, refused_correction=record.refused_correction,
        filed=filed,
    )


def _line_from_history(row: PastClaim) -> LineDecision:
    """A history line as a decision; without recorded CAS, the write-off shows as CO-45
    and the patient's share as PR-2 (the split was not recorded)."""
    cas = row.cas()
    if cas:
        adjustments = tuple(Adjustment(Group(g), carc, amount) for g, carc, amount in cas)
    else:
        write_off = row.charge - row.paid - row.patient_responsibility
        adjustments = tuple(a for a in (Adjustment(Group.CO, "45", write_off),
                                        Adjustment(Group.PR, "2", row.patient_responsibility))
                            if a.amount)
    paid = row.status == "paid"
    return LineDecision(
        line_number=row.line_number, procedure_code=row.procedure_code,
        modifiers=row.modifiers, service_date=row.service_date, charge=row.charge,
        units=row.units, status="paid" if paid else "denied",
        allowed=row.paid + row.patient_responsibility if paid else ZERO, paid=row.paid,
        adjustments=adjustments, rendering_npi=row.rendering_npi,
    )


def _history_give_back(rows: Sequence[PastClaim],
                       reference: ReferenceData) -> tuple[AccumulatorChange, ...]:
    """What history lines added to the member's accumulators, negated, per accumulator
    and plan year.

    A line whose recorded CAS has PR-45 was priced on the out-of-network benefit (the
    charge above the out-of-network allowed amount is the member's): it gives back to
    the plan's out-of-network accumulator (`oon_accumulator_plan`), and its PR-45 never
    counted towards the out-of-pocket maximum, so only PR-1, PR-2 and PR-3 are given
    back. A line without recorded CAS gives its whole patient responsibility back to
    the in-network accumulator (nothing tells the two apart).
    """
    totals: dict[tuple[str, str, int], tuple[Decimal, Decimal]] = {}
    for row in rows:
        if row.status != "paid" or not row.patient_responsibility:
            continue
        coverage = reference.coverage_for(row.member_id, row.service_date)
        if coverage is None:
            continue
        cas = row.cas()
        share = {carc: sum((a for g, c, a in cas if g == "PR" and c == carc), ZERO)
                 for carc in ("1", "2", "3", "45")}
        out_of_network = bool(share["45"])
        key = (row.member_id,
               oon_accumulator_plan(coverage.plan_id) if out_of_network else coverage.plan_id,
               row.service_date.year)
        counted = share["1"] + share["2"] + share["3"] if cas else row.patient_responsibility
        ded, oop = totals.get(key, (ZERO, ZERO))
        totals[key] = (ded - share["1"], oop - counted)
    return tuple(AccumulatorChange(m, p, y, ded, oop) for (m, p, y), (ded, oop) in totals.items())


def check_correction(claim: ParsedClaim, member: Member, reference: ReferenceData,
                     state: AdjudicationState, policy: EnginePolicy,
                     received: date) -> CorrectionCheck:
    """Find and vet the original of a replacement or void, then its correction window."""
    icn = claim.claim.payer_claim_control_number
    original = find_original(icn, reference, state) if icn else None
    problem = _original_problem(icn, original, member, claim.billing_provider.npi)
    step = TraceStep(*ORIGINAL_RULE, None, (
        ("frequency_code", claim.claim.claim_frequency_type_code or ""),
        ("original_icn", icn or ""), ("found", text(original is not None)),
        ("original_status", original.status if original else "")),
        f"denied: {problem}" if problem else f"replaces or voids {icn}")
    if problem or original is None:
        return CorrectionCheck(None, Deny(Group.CO, "16", ("M47",)), (step,))
    payee = _payee_step(claim, original, reference)
    if payee is not None:
        return CorrectionCheck(None, Deny(Group.CO, "16", ("N257",)), (step, payee))
    filing_step = _filing_step(original, claim.claim.claim_frequency_type_code)
    step_pair = (step,) if filing_step is None else (step, filing_step)
    lob, member_state = _line_and_state(original, member, reference)
    verdict, window_step = _window(original, lob, member_state, reference, policy, received)
    steps = (*step_pair, window_step)
    if verdict is None:
        return CorrectionCheck(None, None, steps, pend=NO_REMITTANCE_REASON)
    late = verdict
    if not late:
        receipt = _receipt_window(original, lob, member_state, reference, received)
        if receipt is not None:
            late, receipt_step = receipt
            steps = (*steps, receipt_step)
    return CorrectionCheck(None if late else original,
                           Deny(Group.CO, "29") if late else None, steps)


def _line_and_state(original: Original, member: Member, reference: ReferenceData
                    ) -> tuple[LineOfBusiness | None, str]:
    """The line of business a correction window is counted by (the original's, else the
    member's coverage on its first date of service) and the member's state (``*``
    without coverage)."""
    coverage = reference.coverage_for(member.member_id, original.first_service_date)
    lob = original.line_of_business or (coverage.line_of_business if coverage else None)
    return lob, coverage.state if coverage else "*"


def _receipt_window(original: Original, lob: LineOfBusiness | None, state: str,
                    reference: ReferenceData, received: date) -> tuple[bool, TraceStep] | None:
    """Whether the correction came after the ``correction_receipt`` limit (counted from
    the receipt of the initial claim: the first of the original's chain, found by the
    walk `find_original` makes for TIMELY-FILING), with its step; None where no such row
    is in force for the original's line of business and the member's state (the
    default). Version 1 counted from the original's own receipt, so each replacement
    in a chain restarted the window."""
    limit = (reference.filing_limit(lob, state, "correction_receipt", received)
             if lob is not None else None)
    if limit is None:
        return None
    first = original.first_received
    if first is None:  # a limit in force and nothing to count from: fail closed
        raise ValueError(f"original {original.icn} has no receipt date")
    days = (received - first).days
    late = days > limit
    return late, TraceStep(*RECEIPT_WINDOW_RULE, None, (
        ("line_of_business", str(lob)), ("state", state),
        ("first_received", text(first)), ("received", text(received)),
        ("days", str(days)), ("limit_days", str(limit))),
        f"late: {days} days after the first claim of its chain was received, limit {limit}"
        if late else "in time")


def late_service_dates(original: Original) -> tuple[date, ...]:
    """The first dates of service of the original's lines denied for timely filing
    (CO-29): its filing verdict, which a replacement's lines of those dates keep
    (`TIMELY-FILING`)."""
    return tuple(sorted({line.service_date for line in original.lines if any(
        a.group == Group.CO and a.carc == "29" for a in line.adjustments)}))


def _filing_step(original: Original, frequency: str | None) -> TraceStep | None:
    """What the original's filing verdict means for a replacement: its lines on a date
    of service the original's CO-29 line had are late too (each date its own verdict;
    `TIMELY-FILING` denies them), the others are decided on their merits. A void is not
    held to it: it only closes the original (a void of a denied original reverses it
    with nothing paid). Version 1 denied every line of the replacement CO-29 when any
    line of the original was late, and reversed nothing, so a timely line of the
    original could never be corrected."""
    late = late_service_dates(original)
    inputs = (("original_icn", original.icn), ("original_status", original.status),
              ("original_dates_denied_co29", text(late) or "none"))
    if frequency != "7":
        if not late:
            return None
        return TraceStep(*FILING_RULE, None, inputs,
                         "a void closes the late original; nothing is paid")
    if late:
        return TraceStep(*FILING_RULE, None, inputs,
                         f"the replacement's lines of {text(late)} keep the CO-29 of the "
                         "original's lines of those dates")
    return TraceStep(*FILING_RULE, None, inputs,
                     "in time: the original was not denied for timely filing")


def _payee_step(claim: ParsedClaim, original: Original,
                reference: ReferenceData) -> TraceStep | None:
    """The step that denies a correction sent under another TIN than the one its
    original was paid to (the provider file's TIN for the billing NPI on the original's
    first date of service, which BILLING-PROVIDER held the original to); None when the
    TINs agree. Before 2026-12-01 only the NPI was compared: a void under another TIN
    reversed the original into a payee never paid, whose balance was never recovered."""
    sent = claim.billing_provider.tax_id or ""
    provider = reference.provider(original.billing_npi, original.first_service_date)
    paid_to = provider.tin if provider is not None else None
    if paid_to is not None and sent == paid_to:
        return None
    return TraceStep(*PAYEE_RULE, None, (
        ("original_icn", original.icn), ("billing_npi", original.billing_npi),
        ("original_first_service_date", text(original.first_service_date)),
        ("tin_on_file", text(paid_to is not None)), ("tin_matches", "false")),
        "denied: the claim's billing TIN (2010AA REF) is not the one its original was "
        "paid under" if paid_to is not None else
        "denied: the original's billing provider is not on the provider file, so the "
        "payee it was paid to cannot be told")


def _original_problem(icn: str | None, original: Original | None, member: Member,
                      billing_npi: str | None) -> str | None:
    if not icn:
        return "no original claim number (REF*F8)"
    if original is None:
        return f"original claim {icn} is not on file"
    if original.member_id != member.member_id:
        return f"original claim {icn} is another member's"
    if original.billing_npi and billing_npi != original.billing_npi:
        return f"original claim {icn} was billed by another provider"
    if original.status in CLOSED:
        return f"original claim {icn} was already {original.status}"
    if original.status == "pended":
        return f"original claim {icn} is still pended"
    if original.refused_correction:  # version 1 took its denied lines for the claim
        return f"original claim {icn} is a correction that was refused (it reversed nothing)"
    return None


def _window(original: Original, lob: LineOfBusiness | None, state: str,
            reference: ReferenceData, policy: EnginePolicy,
            received: date) -> tuple[bool | None, TraceStep]:
    """Whether the correction came after its window (counted from the original's
    remittance), with the step that says so; None when it cannot be told (a history
    original with a line without a remittance date: the claim pends). An original of this engine
    not remitted yet is in time whatever its line of business; a remitted one always
    has one (history rows carry it), and one without would be an engine fault (the
    claim pends for a person: `engine.pend_after_engine_fault`), never a window left
    unchecked."""
    remitted = original.remittance_date
    if remitted is None and not original.decided_in_run:
        return None, TraceStep(*WINDOW_RULE, None, (
            ("line_of_business", str(lob) if lob else "unknown"), ("state", state),
            ("remittance_date", ""), ("received", text(received))),
            "pended: a line of the original in history has no remittance date")
    if remitted is None:
        return False, TraceStep(*WINDOW_RULE, None, (
            ("line_of_business", str(lob) if lob else "unknown"), ("state", state),
            ("remittance_date", ""), ("received", text(received))),
            "in time: the original is not remitted yet")
    if lob is None:
        raise ValueError(f"remitted original {original.icn} has no line of business")
    limit = reference.filing_limit(lob, state, "correction", received)
    days_allowed = limit if limit is not None else policy.correction_filing_days[lob]
    days = (received - remitted).days
    late = days > days_allowed
    conclusion = (f"late: {days} days after the original's remittance, limit {days_allowed}"
                  if late else "in time")
    return late, TraceStep(*WINDOW_RULE, None, (
        ("line_of_business", str(lob)), ("state", state),
        ("remittance_date", text(remitted)), ("received", text(received)),
        ("days", str(days)), ("limit_days", str(days_allowed)),
        ("limit_from", "reference" if limit is not None else "engine default")), conclusion)
