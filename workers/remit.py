"""The payment cycle step: decided claims to released 835s, in one transaction.

    claims remit --as-of DATE [--db URL] --out DIR      (and at the end of claims process)

One transaction reads the current decisions of claims received by the as-of date
that no cycle has remitted (pended ones wait for their release), plans one 835 per
payee (`remittance.cycle`), writes each, reads it back with the project's own 835
reader and proves it balances (`remittance.balance`), and checks it with pyx12's
X221A1 map. Only when every 835 of the cycle passes is anything recorded as
remitted: the 835s (in the archive, by sha256), what each remitted, the balances
carried; otherwise the cycle is recorded as refused with the rules broken and
nothing is remitted. Claim rows are never re-read from files, and a claim remitted
once (unique per claim and role) is never remitted again, so running a cycle again
releases nothing twice. On PostgreSQL a cycle takes an advisory lock: two cycles
never plan from the same claims; and it takes its 835s' ISA13 and GS06 outside its
transaction (`store.sequences.CommittedControlNumbers`), so no file's 999 waits for it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import ColumnElement, exists, select, text
from sqlalchemy.orm import Session

from adjudication.reference import ReferenceData
from edi.acks import ControlNumbers, Responder
from edi.amounts import from_cents
from edi.claims import ParsedClaim
from edi.parsers.remit835 import read_835
from edi.payer import PAYER_ID
from edi.remit835 import BankAccount, ClaimPayment, Payee, Payer, Remittance, write_835
from edi.validators.outbound import outbound_problems
from remittance.balance import prove_interchanges
from remittance.claims import claim_payment, original_from_history, payee_of
from remittance.cycle import Carried, PayeeRemittance, Waiting, plan_cycle
from remittance.payer import DEFAULT_PAYER
from store.codec import from_json, to_json
from store.engine import Store
from store.models import (
    Claim,
    DecisionRecord,
    Event,
    PayeeBalance,
    PaymentCycle,
    RemittanceRecord,
    RemittedClaim,
)
from store.sequences import CommittedControlNumbers, StoredControlNumbers, take
from workers.archive import archive_text
from workers.decisions import decision_from_record, to_cents
from workers.reference_store import ReferenceSource


@dataclass(frozen=True)
class RemittanceOutcome:
    """One 835 of a cycle, as `summary.json` lists it."""

    payee_npi: str
    payee_tin: str
    payment: str
    method: str
    trace: str
    claims: list[str]
    balanced: bool
    sha256: str | None = None
    """The 835 in the archive (released cycles only)."""
    html_sha256: str | None = None


@dataclass(frozen=True)
class CycleOutcome:
    cycle_id: int
    outcome: str
    """released | refused | empty."""
    remittances: list[RemittanceOutcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)


def run_cycle(store: Store, archive: Path, *, as_of: date, now: datetime,
              reference: ReferenceSource | None, payer: Payer = DEFAULT_PAYER,
              actor: str = "payment-cycle",
              render_html: Callable[[Remittance], str] | None = None,
              audit: Callable[[Session, CycleOutcome], None] | None = None) -> CycleOutcome:
    """Plan, prove and (when every 835 balances) release one payment cycle.

    ``audit`` writes its record of the outcome in the cycle's own transaction: the
    release and the record of who released it commit together, or neither does."""
    with store.transaction() as s:
        outcome = _cycle(s, archive, as_of=as_of, now=now, reference=reference, payer=payer,
                         actor=actor, render_html=render_html, postgresql=store.postgresql,
                         control=(CommittedControlNumbers(store) if store.postgresql
                                  else StoredControlNumbers(s)))
        if audit is not None:
            audit(s, outcome)
        return outcome


def _cycle(s: Session, archive: Path, *, as_of: date, now: datetime,
           reference: ReferenceSource | None, payer: Payer, actor: str,
           render_html: Callable[[Remittance], str] | None,
           postgresql: bool, control: ControlNumbers) -> CycleOutcome:
    """The cycle inside ``s``: planned, written, proven, then released or refused. The
    835s' ISA13 and GS06 come from ``control`` (`store.sequences`: on PostgreSQL outside
    ``s``, so no acknowledgment waits for the cycle)."""
    if postgresql:
        s.execute(text("SELECT pg_advisory_xact_lock(hashtext('payment-cycle'))"))
    shared = (reference.for_claims(s, (), _originals_named(s, as_of))
              if reference is not None else ReferenceData())
    waiting, facts = _waiting(s, as_of, shared)
    icns = {key: icn for key, (icn, _claim_id) in facts.items()}
    carried = _carried(s)

    def account(payee: Payee) -> BankAccount | None:
        row = shared.payee_account(payee.npi, payee.tax_id, as_of)
        return (BankAccount(row.routing, row.account, row.account_type)
                if row is not None else None)

    def next_trace() -> str:
        return f"{PAYER_ID}{take(s, 'trace'):010d}"

    plan = plan_cycle(waiting, payer=payer, carried=carried, account=account,
                      next_trace=next_trace, effective=as_of, produced=now.date())
    held = [icns[key] for key in plan.held]
    if not plan.remittances:
        cycle = PaymentCycle(as_of=as_of, run_at=now, outcome="empty", problems=[],
                             held=held)
        s.add(cycle)
        s.flush()
        return CycleOutcome(cycle.id, "empty", held=held)
    responder = Responder(when=now, control=control)
    written: list[tuple[PayeeRemittance, str, list[str]]] = []
    for planned in plan.remittances:
        document = io.StringIO()
        write_835(planned.remittance, responder, document)
        x12 = document.getvalue()
        problems = [str(p) for p in prove_interchanges(read_835(
            io.BytesIO(x12.encode("latin-1"))))]
        problems += [f"pyx12: {p}" for p in outbound_problems(x12)]
        written.append((planned, x12, problems))
    problems = [f"{p.remittance.trace_number}: {problem}"
                for p, _x12, found in written for problem in found]
    outcomes = [_outcome(p, [icns[r.key] for r in p.remitted], not found)
                for p, _x12, found in written]
    if problems:
        cycle = PaymentCycle(as_of=as_of, run_at=now, outcome="refused",
                             problems=problems, held=held)
        s.add(cycle)
        s.flush()
        s.add(Event(at=now, kind="cycle.refused", actor=actor, subject=str(cycle.id),
                    detail={"problems": len(problems)}))
        return CycleOutcome(cycle.id, "refused", outcomes, problems, held)
    cycle = PaymentCycle(as_of=as_of, run_at=now, outcome="released", problems=[],
                         held=held)
    s.add(cycle)
    s.flush()
    released = []
    for (planned, x12, _found), outcome in zip(written, outcomes, strict=True):
        released.append(_release(s, archive, cycle.id, planned, x12, outcome,
                                 facts=facts, render_html=render_html))
    _store_balances(s, plan.remittances, now)
    s.add(Event(at=now, kind="cycle.released", actor=actor, subject=str(cycle.id),
                detail={"remittances": len(released),
                        "traces": [r.trace for r in released]}))
    return CycleOutcome(cycle.id, "released", released, [], held)


def waiting_for_a_cycle(as_of: date | None) -> tuple[ColumnElement[bool], ...]:
    """The conditions on a claim (joined to its decisions) that the next cycle as of
    ``as_of`` pays: its current decision is not a pend, no cycle has remitted it, and
    it was received by ``as_of`` (any receipt date when None: the payments overview)."""
    conditions = (DecisionRecord.current.is_(True), DecisionRecord.status != "pended",
                  ~exists().where(RemittedClaim.claim_id == Claim.id))
    return conditions if as_of is None else (*conditions, Claim.receipt_date <= as_of)


def _waiting(s: Session, as_of: date, shared: ReferenceData
             ) -> tuple[list[Waiting], dict[int, tuple[str, int]]]:
    """The decided claims no cycle has remitted, in receipt order, keyed by decision
    id, with each key's (claim number, claim row id)."""
    rows = s.execute(
        select(DecisionRecord.id, DecisionRecord.data, Claim.parsed, Claim.id)
        .join(Claim, Claim.id == DecisionRecord.claim_id)
        .where(*waiting_for_a_cycle(as_of))
        .order_by(Claim.id).execution_options(yield_per=500))
    waiting, facts = [], {}
    for decision_id, data, parsed, claim_id in rows:
        decision = decision_from_record(data)
        claim = ParsedClaim.model_validate_json(parsed or "")
        payment = claim_payment(decision, claim)
        reverses = decision.reversal.original_icn if decision.reversal else None
        original = _original(s, reverses, payment, shared) if reverses else None
        facts[decision_id] = (decision.icn, claim_id)
        waiting.append(Waiting(decision_id, payee_of(claim),
                               None if decision.status == "voided" else payment,
                               reverses, original))
    return waiting, facts


def _originals_named(s: Session, as_of: date) -> list[str]:
    """The originals the waiting corrections name that no cycle of this engine remitted:
    their lines come from the reference history (the system before this one)."""
    return list(s.scalars(
        select(Claim.original_icn).distinct()
        .join(DecisionRecord, DecisionRecord.claim_id == Claim.id)
        .where(*waiting_for_a_cycle(as_of), Claim.original_icn.is_not(None),
               ~exists().where(RemittedClaim.icn == Claim.original_icn,
                               RemittedClaim.role == "claim"))))


def _original(s: Session, icn: str, like: ClaimPayment,
              shared: ReferenceData) -> ClaimPayment | None:
    """The original as it was remitted: by this engine (its stored CLP), else by the
    system before it (reference past claims, when they say exactly what was paid)."""
    stored = s.scalar(select(RemittedClaim.payment).where(
        RemittedClaim.icn == icn, RemittedClaim.role == "claim"))
    if stored is not None:
        return from_json(ClaimPayment, stored)
    return original_from_history(list(shared.by_icn(icn)), like)


def _carried(s: Session) -> dict[tuple[str, str], list[Carried]]:
    carried: dict[tuple[str, str], list[Carried]] = {}
    for row in s.scalars(select(PayeeBalance).where(PayeeBalance.amount_cents > 0)
                         .order_by(PayeeBalance.id)):
        carried.setdefault((row.payee_npi, row.payee_tin), []).append(
            Carried(row.reference, from_cents(row.amount_cents)))
    return carried


def _store_balances(s: Session, planned: tuple[PayeeRemittance, ...], now: datetime) -> None:
    for p in planned:
        payee = p.remittance.payee
        existing = {row.reference: row for row in s.scalars(select(PayeeBalance).where(
            PayeeBalance.payee_npi == payee.npi, PayeeBalance.payee_tin == payee.tax_id))}
        left = {c.reference: to_cents(c.amount) for c in p.carried}
        for reference, row in existing.items():
            row.amount_cents, row.updated_at = left.pop(reference, 0), now
        for reference, cents in left.items():
            s.add(PayeeBalance(payee_npi=payee.npi, payee_tin=payee.tax_id,
                               reference=reference, amount_cents=cents, updated_at=now))


def _release(s: Session, archive: Path, cycle_id: int, planned: PayeeRemittance, x12: str,
             outcome: RemittanceOutcome, *, facts: dict[int, tuple[str, int]],
             render_html: Callable[[Remittance], str] | None) -> RemittanceOutcome:
    r = planned.remittance
    sha, _written = archive_text(archive, lambda out: out.write(x12))
    html_sha = None
    if render_html is not None:
        page = render_html(r)
        html_sha, _written = archive_text(archive, lambda out: out.write(page))
    record = RemittanceRecord(
        cycle_id=cycle_id, payee_npi=r.payee.npi, payee_tin=r.payee.tax_id,
        trace_number=r.trace_number, method=r.method, amount_cents=to_cents(r.amount),
        effective=r.effective, sha256=sha, html_sha256=html_sha,
        claim_count=len(planned.remitted))
    s.add(record)
    s.flush()
    for item in planned.remitted:
        icn, claim_id = facts[item.key]
        s.add(RemittedClaim(
            remittance_id=record.id, claim_id=claim_id, decision_id=item.key, icn=icn,
            role=item.role,
            reverses_icn=item.payment.payer_claim_control_number
            if item.role == "reversal" else None,
            paid_cents=to_cents(item.payment.paid), payment=to_json(item.payment)))
    return replace(outcome, sha256=sha, html_sha256=html_sha)


def _outcome(p: PayeeRemittance, icns: list[str], balanced: bool) -> RemittanceOutcome:
    r = p.remittance
    return RemittanceOutcome(payee_npi=r.payee.npi, payee_tin=r.payee.tax_id,
                             payment=f"{r.amount:.2f}", method=r.method,
                             trace=r.trace_number, claims=list(dict.fromkeys(icns)),
                             balanced=balanced)
