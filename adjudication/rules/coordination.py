"""Coordination of benefits: what we pay when other payers came first (secondary, tertiary).

The claim's place in the order is 2000B SBR01: ``P`` primary, ``S`` secondary, ``T``
tertiary, ``A``-``H`` payers four to eleven (paid like tertiary). The payers before us
are the 2320 loops whose SBR01 comes earlier in that order (``U`` unknown counts when
it reports a payment); each names itself in 2330B NM109.

Claim level, before any line (`check_claim`):

- OTHER-COVERAGE: a Medicare Advantage or Medicaid claim billed to us as primary while
  `OtherCoverage` has a primary payer (``P``) for the member on the first date of
  service: every line CO-22 with MA04 (bill the primary first).
- PRIOR-PAYER-REPORTED: a claim billed to us as secondary or later needs a 2320 loop
  for each earlier place in the order, each reporting its adjudication (AMT*D, which
  may be 0.00 after a denial, or 2430 lines naming it in SVD01); else every line
  CO-16 with MA04.

Line level, after the line's pack and before it is paid (`COORDINATION`), by the
`CobMethod` of the line's line of business on its date of service (none: pend):

- what the prior payers paid for the line: their 2430 SVD02 for it when that payer
  reported lines, else its claim AMT*D apportioned across the lines by charge;
- ``standard``: we pay the lesser of the normal benefit (allowed less the member's
  cost share) and the balance after the prior payers (allowed less what they paid,
  not below zero); the member owes what is left of the allowed amount, at most the
  cost share (deductible, then copay, then coinsurance);
- ``payer_of_last_resort``: we pay allowed less what the prior payers paid, not below
  zero, and the member owes nothing;
- out of network, the member's whole bill (cost share and the PR-45 balance bill)
  is at most what the charge leaves after the prior payers' payments and ours; the
  part of the balance bill the prior payers already paid is OA-23 too (42 CFR
  411.33(a)(1), the NAIC model's "all plans together": adjudication/README.md);
- the rest of the allowed amount is OA-23 (impact of prior payers), so the line still
  balances: charge = paid + CO-45 + PR + OA-23 (+ CO-198 of a partial authorization).

The deductible stays credited as if we were primary (the usual COB contract wording;
unverified); out-of-pocket is credited with what the member still owes. Sources and
what is verified: adjudication/README.md, "Coordination of benefits".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from adjudication.context import Deny, Ledger, LineRule, LineWork, Outcome, Pend
from adjudication.decision import ZERO, AccumulatorChange, Group, TraceStep, cents
from adjudication.reference import (
    CobMethodType,
    Coverage,
    LineOfBusiness,
    ReferenceData,
    oon_accumulator_plan,
)
from edi.claims import OtherSubscriber, ParsedClaim

OTHER_COVERAGE_RULE_ID = "OTHER-COVERAGE"
PRIOR_PAYER_RULE_ID = "PRIOR-PAYER-REPORTED"
PRIOR_PAYER_RARC = "MA04"
"""Secondary payment cannot be considered without the identity of or payment
information from the primary payer (X12 RARC list; adjudication README)."""
CHECKED_FOR_OTHER_COVERAGE = frozenset({LineOfBusiness.MEDICARE_ADVANTAGE,
                                        LineOfBusiness.MEDICAID})
"""Lines of business whose primary claims are turned back to a primary payer on file."""

_ORDER = {code: rank for rank, code in enumerate("PSTABCDEFGH", start=1)}
"""SBR01 place in the order (``U`` unknown has none)."""


def place(code: str | None) -> int | None:
    """1 primary, 2 secondary, 3 tertiary, 4-11 for A-H; None for U or nothing."""
    return _ORDER.get(code or "")


def our_place(claim: ParsedClaim) -> int:
    """Our place in the order: 2000B SBR01 (missing or unknown: primary)."""
    return place(claim.subscriber.payer_responsibility_sequence_number_code) or 1


def claim_status_code(claim: ParsedClaim) -> str:
    """CLP02 of a claim whose member we recognise: ``1`` processed as primary, ``2`` as
    secondary, ``3`` as tertiary (payers four to eleven too: the 835 has no later code)."""
    return str(min(our_place(claim), 3))


def prior_payers(claim: ParsedClaim) -> tuple[OtherSubscriber, ...]:
    """The 2320 loops of payers before us (and unknown ones that report a payment)."""
    ours = our_place(claim)

    def before_us(other: OtherSubscriber) -> bool:
        rank = place(other.payer_responsibility_sequence_number_code)
        return other.payer_paid_amount is not None if rank is None else rank < ours

    return tuple(other for other in claim.claim.other_subscribers if before_us(other))


def _reports_lines(claim: ParsedClaim, payer_id: str | None) -> bool:
    return payer_id is not None and any(
        a.other_payer_primary_identifier == payer_id
        for line in claim.claim.lines for a in line.adjudications)


# -- claim level -----------------------------------------------------------------------------
def check_claim(claim: ParsedClaim, coverage: Coverage | None, reference: ReferenceData,
                day: date | None) -> tuple[Deny | None, TraceStep | None]:
    """The claim-level coordination rules; (None, None) for a primary claim with no
    primary payer on file."""
    ours = our_place(claim)
    if ours == 1:
        return _other_coverage(claim, coverage, reference, day)
    places = {place(o.payer_responsibility_sequence_number_code) for o in prior_payers(claim)}
    missing = [code for code, rank in _ORDER.items() if rank < ours and rank not in places]
    silent = [o.payer_responsibility_sequence_number_code for o in prior_payers(claim)
              if o.payer_paid_amount is None and not _reports_lines(claim, o.other_payer_id)]
    inputs: tuple[tuple[str, object], ...] = (
        ("sequence", claim.subscriber.payer_responsibility_sequence_number_code),
        ("prior_payers", tuple(o.payer_responsibility_sequence_number_code
                               for o in prior_payers(claim))),
        ("missing", tuple(missing)), ("without_adjudication", tuple(silent)))
    if missing or silent:
        what = (f"no 2320 loop for payer {', '.join(missing)}" if missing
                else f"payer {', '.join(silent)} reports no AMT*D and no 2430 line")
        return Deny(Group.CO, "16", (PRIOR_PAYER_RARC,)), TraceStep(
            PRIOR_PAYER_RULE_ID, 1, None, inputs,
            f"denied CO-16 {PRIOR_PAYER_RARC}: billed as payer {ours} with {what}")
    return None, TraceStep(PRIOR_PAYER_RULE_ID, 1, None, inputs,
                           "every prior payer reports its adjudication")


def _other_coverage(claim: ParsedClaim, coverage: Coverage | None, reference: ReferenceData,
                    day: date | None) -> tuple[Deny | None, TraceStep | None]:
    if coverage is None or day is None or coverage.line_of_business not in (
            CHECKED_FOR_OTHER_COVERAGE):
        return None, None
    primary = [o for o in reference.other_coverage_for(coverage.member_id, day)
               if o.other_payer_sequence == "P"]
    if not primary:
        return None, None
    step = TraceStep(
        OTHER_COVERAGE_RULE_ID, 1, None,
        (("sequence", claim.subscriber.payer_responsibility_sequence_number_code or "P"),
         ("line_of_business", coverage.line_of_business), ("date_of_service", day),
         ("primary_on_file", primary[0].other_payer_name)),
        f"denied CO-22 {PRIOR_PAYER_RARC}: billed to us as primary while "
        f"{primary[0].other_payer_name} is the member's primary payer on file")
    return Deny(Group.CO, "22", (PRIOR_PAYER_RARC,)), step


# -- line level ------------------------------------------------------------------------------
@dataclass(frozen=True)
class PriorPaid:
    """What the payers before us paid for one line, and how we know it."""

    amount: Decimal
    basis: tuple[str, ...]
    """Per payer: ``P 2430 SVD02`` or ``P AMT*D apportioned by charge``."""


def prior_paid(claim: ParsedClaim, line_number: int) -> PriorPaid:
    """The prior payers' payment for one line: 2430 SVD02 where the payer reported
    lines, else its AMT*D apportioned by charge (cumulative, half-up, so the shares add
    up to AMT*D exactly)."""
    lines = claim.claim.lines
    index = next(i for i, line in enumerate(lines) if line.assigned_number == line_number)
    total = Decimal(0)
    basis = []
    for other in prior_payers(claim):
        code = other.payer_responsibility_sequence_number_code
        payer_id = other.other_payer_id
        if _reports_lines(claim, payer_id):
            total += sum((a.service_line_paid_amount for a in lines[index].adjudications
                          if a.other_payer_primary_identifier == payer_id), Decimal(0))
            basis.append(f"{code} 2430 SVD02")
        else:
            total += _apportioned(other.payer_paid_amount or Decimal(0),
                                  [line.line_item_charge_amount for line in lines], index)
            basis.append(f"{code} AMT*D apportioned by charge")
    return PriorPaid(total, tuple(basis))


def prior_adjudication_date(claim: ParsedClaim, line_number: int) -> date | None:
    """When the last payer before us adjudicated this line: the latest 2430 DTP*573 of
    the line among the prior payers that reported lines, else their 2330B DTP*573;
    None for a primary claim or when no prior payer dated its adjudication."""
    lines = claim.claim.lines
    line = next((x for x in lines if x.assigned_number == line_number), None)
    days = []
    for other in prior_payers(claim):
        payer_id = other.other_payer_id
        dated = [a.adjudication_date for a in (line.adjudications if line else ())
                 if a.other_payer_primary_identifier == payer_id and a.adjudication_date]
        days += dated or ([other.adjudication_date] if other.adjudication_date else [])
    return max(days, default=None)


def _apportioned(amount: Decimal, charges: list[Decimal], index: int) -> Decimal:
    whole = sum(charges, Decimal(0))
    if whole <= 0:
        return ZERO
    before = sum(charges[:index], Decimal(0))
    return cents(amount * (before + charges[index]) / whole) - cents(amount * before / whole)


@dataclass(frozen=True)
class Split:
    """How one line's charge divides between us, the member and prior payers: the
    allowed amount (liability + member + prior impact), and an out-of-network line's
    balance bill above it (what the member still owes of it + what the prior payers
    already paid of it)."""

    normal_benefit: Decimal
    balance: Decimal
    liability: Decimal
    member: Decimal
    """The member's cost share still owed (deductible, copay, coinsurance)."""
    prior_impact: Decimal
    """The part of the allowed amount the prior payers account for."""
    balance_bill_owed: Decimal = ZERO
    """PR-45 the member still owes: at most what the charge leaves after the prior
    payers, us and the cost share."""
    balance_bill_covered: Decimal = ZERO
    """The rest of the balance bill, already paid by the prior payers (OA-23)."""

    @property
    def member_total(self) -> Decimal:
        """Everything the member owes on the line (every PR group, PR-45 included)."""
        return self.member + self.balance_bill_owed


def split(method: CobMethodType, allowed: Decimal, cost_share: Decimal,
          paid_before: Decimal, balance_bill: Decimal = ZERO) -> Split:
    """Our liability by ``method``; member + liability + prior impact = allowed, and
    balance bill owed + covered = ``balance_bill`` (PR-45 before coordination).

    The member never owes more than what is left of the charge (allowed + balance
    bill) after the prior payers' payments and ours: out of network, a primary that
    paid more than our allowed amount has paid part of the balance bill too."""
    normal = allowed - cost_share
    balance = max(ZERO, allowed - paid_before)
    if method is CobMethodType.PAYER_OF_LAST_RESORT:
        liability, member = min(allowed, balance), ZERO
    else:
        liability = min(normal, balance)
        member = max(ZERO, min(cost_share, allowed - paid_before - liability))
    left = max(ZERO, allowed + balance_bill - paid_before - liability - member)
    owed = min(balance_bill, left)
    return Split(normal, balance, liability, member, allowed - liability - member,
                 owed, balance_bill - owed)


def _coordinate(rule: LineRule, work: LineWork, ledger: Ledger) -> Outcome | None:
    claim = work.ctx.claim
    if our_place(claim) == 1:
        return None
    assert work.allowed is not None and work.plan is not None
    row = work.ctx.reference.cob_method(work.lob, work.day)
    sequence = claim.subscriber.payer_responsibility_sequence_number_code
    if row is None:
        work.note(rule, "pended: no coordination-of-benefits method on file",
                  sequence=sequence, line_of_business=work.lob, date_of_service=work.day)
        return Pend(f"no coordination-of-benefits method for {work.lob} on {work.day}")
    paid = prior_paid(claim, work.facts.number)
    cost_share = sum((amount for _, amount in work.patient_share), ZERO)
    s = split(row.method, work.allowed, cost_share, paid.amount, work.balance_bill)
    work.patient_share = _capped(work.patient_share, s.member)
    work.prior_payer_impact = s.prior_impact
    work.balance_bill_covered = s.balance_bill_covered
    if s.member != cost_share:  # out-of-pocket counts only what the member still owes
        plan_id = work.plan.plan_id  # the accumulator COST-SHARE moved
        key = plan_id if work.out_of_network is None else oon_accumulator_plan(plan_id)
        ledger.add(AccumulatorChange(work.ctx.member.member_id, key, work.day.year, ZERO,
                                     s.member - cost_share))
    work.note(rule, f"we pay {s.liability} as payer {our_place(claim)} ({row.method}); "
                    f"member {s.member_total}, OA-23 "
                    f"{s.prior_impact + s.balance_bill_covered}",
              sequence=sequence, method=row.method, prior_paid=paid.amount,
              prior_paid_from=paid.basis, allowed=work.allowed, cost_share=cost_share,
              normal_benefit=s.normal_benefit, balance_after_prior=s.balance,
              our_liability=s.liability, balance_bill=work.balance_bill,
              balance_bill_owed=s.balance_bill_owed, source=row.source,
              verified=row.verified)
    return None


def _capped(shares: tuple[tuple[str, Decimal], ...],
            most: Decimal) -> tuple[tuple[str, Decimal], ...]:
    """The member's shares in their order (deductible, copay, coinsurance) up to ``most``."""
    out = []
    left = most
    for carc, amount in shares:
        kept = min(amount, left)
        left -= kept
        if kept:
            out.append((carc, kept))
    return tuple(out)


COORDINATION = LineRule(
    "COORDINATION-OF-BENEFITS", 2,
    "Secondary and tertiary claims: our liability after the prior payers (OA-23)",
    ("OA-23", "pend"), _coordinate)
"""Runs after the line's pack (it needs the allowed amount and the cost share)."""
