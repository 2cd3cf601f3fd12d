"""A payment cycle: decided claims grouped into one 835 per payee and payment.

Pure. The caller (the store's cycle step) hands in the decided claims not yet
remitted, in receipt order, each already turned into the `ClaimPayment` it is paid
as, and for a replacement or void the original as it was remitted; the balances each
payee still owes from earlier cycles; the payee's bank account; and a source of
trace numbers. Out comes, per payee, the `Remittance` (one BPR/TRN) and what it
remits, the claims held back, and the balances carried to the next cycle.

Rules (DOMAIN.md 8.1, 8.5, 8.6):

- a pended claim is never remitted (the step leaves it out until it is released);
- a replacement (frequency 7) is remitted as the reversal of its original (CLP02 22,
  the original as remitted, negated) followed by its own claim with REF*F8; a void
  (frequency 8) as the reversal alone. An original not yet remitted holds the pair
  back: it stays waiting, unremitted, until a cycle has remitted the original;
- the payment is the claims' paid amounts less provider adjustments (PLB), never
  below zero: when reversals take back more than the cycle pays, the shortfall is a
  forward balance (``FB``, negative: carried to a later 835) with the reversed
  claim's number as its reference, and the payee's next cycles recover it first
  (``WO`` overpayment recovery, positive, same reference) up to what they pay, the
  oldest six balances a cycle at most, so an 835 has one PLB segment (pyx12's walk
  refuses a second one, which the guide allows) and the rest wait a cycle;
- a payment of zero is a notification: BPR01 H, BPR04 NON; otherwise ACH (CCD+) to
  the payee's account on file, or a check when there is none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from adjudication.decision import Decision
from edi.claims import ParsedClaim
from edi.remit835 import (
    MAX_PLB_PAIRS,
    BankAccount,
    ClaimPayment,
    Method,
    Payee,
    Payer,
    ProviderAdjustment,
    Remittance,
)
from remittance.claims import claim_payment, payee_of, reversal_of

ZERO = Decimal("0.00")
RECOVERY = "WO"
FORWARD_BALANCE = "FB"


@dataclass(frozen=True)
class Waiting:
    """A decided claim waiting to be remitted."""

    key: int
    """The caller's handle (the decision row)."""
    payee: Payee
    payment: ClaimPayment | None
    """This decision's own claim; None for a void (only its reversal is remitted)."""
    reverses: str | None = None
    """The payer claim control number of the original a replacement or void reverses."""
    original: ClaimPayment | None = None
    """The original as it was remitted; None while it has not been."""


def waiting_of(key: int, decision: Decision, claim: ParsedClaim,
               original: Callable[[str, ClaimPayment], ClaimPayment | None]) -> Waiting:
    """A decided claim (not pended) as a cycle takes it: its `claim_payment` (none for a
    void), and for a replacement or void the claim number it reverses with that claim
    as it was remitted, which ``original`` finds (by claim number, given the payment it
    is the original of), None while no cycle has remitted it (`is_held`)."""
    payment = claim_payment(decision, claim)
    reverses = decision.reversal.original_icn if decision.reversal else None
    return Waiting(key, payee_of(claim), None if decision.status == "voided" else payment,
                   reverses, original(reverses, payment) if reverses else None)


@dataclass(frozen=True)
class Carried:
    """What a payee still owes from an earlier cycle's reversals (positive)."""

    reference: str
    amount: Decimal


@dataclass(frozen=True)
class Remitted:
    """One CLP of a cycle's 835: which waiting claim it came from, and in what role."""

    key: int
    role: str
    """``claim`` (the decision's own) or ``reversal`` (of its original)."""
    payment: ClaimPayment


@dataclass(frozen=True)
class PayeeRemittance:
    remittance: Remittance
    remitted: tuple[Remitted, ...]
    carried: tuple[Carried, ...]
    """The payee's balance after this payment (empty when it owes nothing)."""


@dataclass(frozen=True)
class CyclePlan:
    remittances: tuple[PayeeRemittance, ...]
    held: tuple[int, ...]
    """Keys of replacements and voids whose original is not remitted yet."""


@dataclass
class _Payee:
    payee: Payee
    remitted: list[Remitted] = field(default_factory=list)
    most_taken_back: tuple[Decimal, str] | None = None
    """The reversal that takes back the most, net of its own replacement's payment, and
    its claim number: what a forward balance names."""


def plan_cycle(waiting: Sequence[Waiting], *, payer: Payer,
               carried: Mapping[tuple[str, str], Sequence[Carried]],
               account: Callable[[Payee], BankAccount | None],
               next_trace: Callable[[], str], effective: date, produced: date,
               ) -> CyclePlan:
    """Group the waiting claims by payee (NPI and TIN) into one remittance each, the
    payees in the order their first claim comes (`plan_payee` for each)."""
    payees: dict[tuple[str, str], list[Waiting]] = {}
    held: list[int] = []
    for item in waiting:
        if is_held(item):
            held.append(item.key)
        else:
            payees.setdefault(payee_key(item.payee), []).append(item)
    plans = [plan_payee(items, payer=payer, owed=carried.get(key, ()), account=account,
                        next_trace=next_trace, effective=effective, produced=produced)
             for key, items in payees.items()]
    return CyclePlan(tuple(plans), tuple(held))


def is_held(item: Waiting) -> bool:
    """A replacement or void whose original no cycle has remitted yet: it waits."""
    return item.reverses is not None and item.original is None


def payee_key(payee: Payee) -> tuple[str, str]:
    """What one remittance is per cycle: the payee's NPI and TIN."""
    return payee.npi, payee.tax_id


def plan_payee(items: Sequence[Waiting], *, payer: Payer, owed: Sequence[Carried],
               account: Callable[[Payee], BankAccount | None],
               next_trace: Callable[[], str], effective: date, produced: date,
               ) -> PayeeRemittance:
    """One payee's remittance: ``items`` are its waiting claims in receipt order, none
    held (`is_held`), at least one; ``owed`` its balances from earlier cycles, oldest
    first. A cycle of many payees can plan them one at a time with this, holding one
    payee's claims at once; `plan_cycle` plans them all together the same way."""
    group = _Payee(items[0].payee)
    for item in items:
        if item.original is not None:
            group.remitted.append(Remitted(item.key, "reversal", reversal_of(item.original)))
            taken = item.original.paid - (item.payment.paid if item.payment else ZERO)
            if group.most_taken_back is None or taken > group.most_taken_back[0]:
                group.most_taken_back = (taken, item.original.payer_claim_control_number)
        if item.payment is not None:
            group.remitted.append(Remitted(item.key, "claim", item.payment))
    return _remittance(group, payer, list(owed), account, next_trace, effective, produced)


def _remittance(group: _Payee, payer: Payer, owed: list[Carried],
                account: Callable[[Payee], BankAccount | None],
                next_trace: Callable[[], str], effective: date,
                produced: date) -> PayeeRemittance:
    paid = sum((r.payment.paid for r in group.remitted), ZERO)
    adjustments: list[ProviderAdjustment] = []
    left: list[Carried] = []
    if paid > 0:
        room = paid
        for index, balance in enumerate(owed):  # oldest first, one PLB segment at most
            taken = min(room, balance.amount) if index < MAX_PLB_PAIRS else ZERO
            if taken > 0:
                adjustments.append(ProviderAdjustment(RECOVERY, balance.reference, taken))
                room -= taken
            if balance.amount > taken:
                left.append(Carried(balance.reference, balance.amount - taken))
    else:
        left = list(owed)
        if paid < 0:
            # the claim whose reversal made the shortfall (a void rather than a
            # replacement that pays back nearly all: until 2026-12-01 the first reversal)
            reference = (group.most_taken_back[1] if group.most_taken_back is not None
                         else group.remitted[0].payment.payer_claim_control_number)
            adjustments.append(ProviderAdjustment(FORWARD_BALANCE, reference, paid))
            left.append(Carried(reference, -paid))
    amount = paid - sum((a.amount for a in adjustments), ZERO)
    bank = account(group.payee) if amount > 0 else None
    method: Method = "NON" if amount == 0 else "ACH" if bank is not None else "CHK"
    payee = Payee(group.payee.party, group.payee.npi, group.payee.tax_id, bank)
    remittance = Remittance(
        payer=payer, payee=payee, method=method, amount=amount, trace_number=next_trace(),
        effective=effective, produced=produced,
        claims=tuple(r.payment for r in group.remitted),
        provider_adjustments=tuple(adjustments))
    return PayeeRemittance(remittance, tuple(group.remitted), tuple(left))
