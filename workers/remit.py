"""The payment cycle step: decided claims to released 835s, in one transaction.

    claims remit --as-of DATE [--db URL] --out DIR      (and at the end of claims process)

One transaction reads the current decisions of claims received by the as-of date
that no cycle has remitted (pended ones wait for their release), plans one 835 per
payee (`remittance.cycle.plan_payee`), writes each, reads it back with the project's
own 835 reader and proves it balances (`remittance.balance`), and checks it on the
compiled tables of pyx12's X221A1 map. It goes payee by payee: the waiting claims,
and each 835 with the rows that would record it, wait on disk (`workers.cycle_spool`),
so the cycle holds one payee's claims at a time. Only when every 835 of the cycle
passes is anything recorded as remitted: the 835s (in the archive, by sha256),
what each remitted, the balances carried; otherwise the cycle is recorded as refused
with the rules broken and nothing is remitted. Claim rows are never re-read from
files, and a claim remitted once (unique per claim and role) is never remitted again,
so running a cycle again releases nothing twice. On PostgreSQL a cycle takes an
advisory lock: two cycles never plan from the same claims; and it takes its 835s'
ISA13 and GS06 outside its transaction (`store.sequences.CommittedControlNumbers`),
so no file's 999 waits for it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, exists, insert, select, text
from sqlalchemy.orm import Session

from adjudication.reference import ReferenceData
from edi.acks import ControlNumbers, Responder
from edi.amounts import from_cents
from edi.claims import ParsedClaim
from edi.parsers.remit835 import InterchangeRead, read_835
from edi.payer import PAYER_ID
from edi.remit835 import BankAccount, ClaimPayment, Payee, Payer, Remittance, write_835
from edi.validators.outbound import outbound_problems
from remittance.balance import Imbalance, prove_interchanges
from remittance.claims import original_from_history
from remittance.cycle import (
    Carried,
    PayeeRemittance,
    Waiting,
    is_held,
    payee_key,
    plan_payee,
    waiting_of,
)
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
from workers.archive import archive_copy
from workers.cycle_spool import Region, Spooled, Staging, WaitingSpool, cycle_files
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


def released_cycle(s: Session, cycle_id: int) -> CycleOutcome:
    """A released cycle as `run_cycle` returned it, read back from what it stored: its
    835s in the order it released them, each with its claims in CLP order."""
    cycle = s.get(PaymentCycle, cycle_id)
    if cycle is None or cycle.outcome != "released":
        raise LookupError(f"payment cycle {cycle_id} released nothing")
    remittances = []
    for r in s.scalars(select(RemittanceRecord).where(RemittanceRecord.cycle_id == cycle_id)
                       .order_by(RemittanceRecord.id)):
        icns = s.scalars(select(RemittedClaim.icn).where(RemittedClaim.remittance_id == r.id)
                         .order_by(RemittedClaim.id))
        remittances.append(RemittanceOutcome(
            payee_npi=r.payee_npi, payee_tin=r.payee_tin,
            payment=f"{from_cents(r.amount_cents):.2f}", method=r.method,
            trace=r.trace_number, claims=list(dict.fromkeys(icns)), balanced=True,
            sha256=r.sha256, html_sha256=r.html_sha256))
    return CycleOutcome(cycle.id, cycle.outcome, remittances, list(cycle.problems),
                        list(cycle.held))


def run_cycle(store: Store, archive: Path, *, as_of: date, now: datetime,
              reference: ReferenceSource | None, payer: Payer = DEFAULT_PAYER,
              actor: str = "payment-cycle",
              render_html: Callable[[Remittance], str] | None = None,
              audit: Callable[[Session, CycleOutcome], None] | None = None,
              check: Callable[[Session], None] | None = None) -> CycleOutcome:
    """Plan, prove and (when every 835 balances) release one payment cycle.

    ``audit`` writes its record of the outcome in the cycle's own transaction: the
    release and the record of who released it commit together, or neither does.
    ``check`` sees the transaction once it holds the cycle lock, before anything is
    planned, and raises to refuse the cycle with nothing written (the review screen's:
    what its preview showed still waits)."""
    with store.transaction() as s:
        outcome = _cycle(s, archive, as_of=as_of, now=now, reference=reference, payer=payer,
                         actor=actor, render_html=render_html, postgresql=store.postgresql,
                         control=(CommittedControlNumbers(store) if store.postgresql
                                  else StoredControlNumbers(s)), check=check)
        if audit is not None:
            audit(s, outcome)
        return outcome


def _cycle(s: Session, archive: Path, *, as_of: date, now: datetime,
           reference: ReferenceSource | None, payer: Payer, actor: str,
           render_html: Callable[[Remittance], str] | None,
           postgresql: bool, control: ControlNumbers,
           check: Callable[[Session], None] | None = None) -> CycleOutcome:
    """The cycle inside ``s``: planned, written, proven, then released or refused. The
    835s' ISA13 and GS06 come from ``control`` (`store.sequences`: on PostgreSQL outside
    ``s``, so no acknowledgment waits for the cycle). The waiting claims and what each
    payee's 835 would record wait on disk (`workers.cycle_spool`): the cycle holds one
    payee's claims at a time."""
    if postgresql:
        s.execute(text("SELECT pg_advisory_xact_lock(hashtext('payment-cycle'))"))
    if check is not None:  # after the lock: a cycle released meanwhile is seen here
        check(s)
    shared = (reference.for_claims(s, (), _originals_named(s, as_of))
              if reference is not None else ReferenceData())
    with cycle_files(archive) as (spool, staging):
        held = _waiting(s, as_of, shared, spool)
        if not len(spool):
            return CycleOutcome(_recorded(s, as_of, now, "empty", [], held), "empty",
                                held=held)
        staged = _stage(s, spool, staging, as_of=as_of, now=now, shared=shared, payer=payer,
                        render_html=render_html, control=control)
        problems = [f"{p.trace}: {problem}" for p in staged for problem in p.problems]
        if problems:
            cycle_id = _recorded(s, as_of, now, "refused", problems, held)
            s.add(Event(at=now, kind="cycle.refused", actor=actor, subject=str(cycle_id),
                        detail={"problems": len(problems)}))
            return CycleOutcome(cycle_id, "refused", [p.outcome for p in staged], problems,
                                held)
        cycle_id = _recorded(s, as_of, now, "released", [], held)
        released = [_release(s, archive, cycle_id, p, staging) for p in staged]
    _store_balances(s, staged, now)
    s.add(Event(at=now, kind="cycle.released", actor=actor, subject=str(cycle_id),
                detail={"remittances": len(released),
                        "traces": [r.trace for r in released]}))
    return CycleOutcome(cycle_id, "released", released, [], held)


def _recorded(s: Session, as_of: date, now: datetime, outcome: str, problems: list[str],
              held: list[str]) -> int:
    """The cycle's row: its outcome, the problems that refused it, the claims held."""
    cycle = PaymentCycle(as_of=as_of, run_at=now, outcome=outcome, problems=problems,
                         held=held)
    s.add(cycle)
    s.flush()
    return cycle.id


@dataclass(frozen=True)
class _Staged:
    """One payee's 835, planned, written and proven, waiting for the cycle's verdict:
    what the release records of it, and where its documents and rows are staged."""

    record: dict[str, Any]
    """The `RemittanceRecord`'s columns but the cycle and the archived documents."""
    payee: Payee
    carried: tuple[Carried, ...]
    outcome: RemittanceOutcome
    problems: list[str]
    x12: Region
    html: Region | None
    rows: Region

    @property
    def trace(self) -> str:
        return self.outcome.trace


def _stage(s: Session, spool: WaitingSpool, staging: Staging, *, as_of: date, now: datetime,
           shared: ReferenceData, payer: Payer,
           render_html: Callable[[Remittance], str] | None,
           control: ControlNumbers) -> list[_Staged]:
    """Each payee in turn: planned (`plan_payee`), its 835 written, read back and
    proven to balance, checked on the X221A1 tables, and staged."""
    carried = _carried(s)

    def account(payee: Payee) -> BankAccount | None:
        row = shared.payee_account(payee.npi, payee.tax_id, as_of)
        return (BankAccount(row.routing, row.account, row.account_type)
                if row is not None else None)

    def next_trace() -> str:
        return f"{PAYER_ID}{take(s, 'trace'):010d}"

    def plan(items: list[Waiting]) -> PayeeRemittance:
        return plan_payee(items, payer=payer, owed=carried.get(payee_key(items[0].payee), ()),
                          account=account, next_trace=next_trace, effective=as_of,
                          produced=now.date())

    responder = Responder(when=now, control=control)
    return [_stage_payee(claims, plan, responder, staging, render_html)
            for claims in spool.payees()]


class Checked835(NamedTuple):
    """An 835 as a cycle checks it before release: read back, proven, and checked on
    the X221A1 guide."""

    read: list[InterchangeRead]
    imbalances: list[Imbalance]
    """What `remittance.balance.prove_interchanges` finds in what was read back."""
    refused: list[str]
    """What `outbound_problems` (the X221A1 guide) objects to."""

    def problems(self) -> list[str]:
        return [str(p) for p in self.imbalances] + [f"pyx12: {p}" for p in self.refused]


def check_835(x12: str) -> Checked835:
    """The check every 835 of a cycle passes before release."""
    read = read_835(io.BytesIO(x12.encode("latin-1")))
    return Checked835(read, prove_interchanges(read), outbound_problems(x12))


def _stage_payee(claims: list[Spooled], plan: Callable[[list[Waiting]], PayeeRemittance],
                 responder: Responder, staging: Staging,
                 render_html: Callable[[Remittance], str] | None) -> _Staged:
    """One payee's claims planned, written, proven, checked and staged; nothing of
    them is kept but what the release needs."""
    planned = plan([c.waiting for c in claims])
    r = planned.remittance
    document = io.StringIO()
    write_835(r, responder, document)
    x12 = document.getvalue()
    problems = check_835(x12).problems()
    named = {c.waiting.key: c for c in claims}
    rows = [{"claim_id": named[item.key].claim_id, "decision_id": item.key,
             "icn": named[item.key].icn, "role": item.role,
             "reverses_icn": item.payment.payer_claim_control_number
             if item.role == "reversal" else None,
             "paid_cents": to_cents(item.payment.paid), "payment": to_json(item.payment)}
            for item in planned.remitted]
    return _Staged(
        record={"payee_npi": r.payee.npi, "payee_tin": r.payee.tax_id,
                "trace_number": r.trace_number, "method": r.method,
                "amount_cents": to_cents(r.amount), "effective": r.effective,
                "claim_count": len(planned.remitted)},
        payee=r.payee, carried=planned.carried,
        outcome=_outcome(planned, [named[item.key].icn for item in planned.remitted],
                         not problems),
        problems=problems, x12=staging.document(x12),
        html=staging.document(render_html(r)) if render_html is not None else None,
        rows=staging.rows(rows))


def waiting_for_a_cycle(as_of: date | None) -> tuple[ColumnElement[bool], ...]:
    """The conditions on a claim (joined to its decisions) that the next cycle as of
    ``as_of`` pays: its current decision is not a pend, no cycle has remitted it, and
    it was received by ``as_of`` (any receipt date when None: the payments overview)."""
    conditions = (DecisionRecord.current.is_(True), DecisionRecord.status != "pended",
                  ~exists().where(RemittedClaim.claim_id == Claim.id))
    return conditions if as_of is None else (*conditions, Claim.receipt_date <= as_of)


def _waiting(s: Session, as_of: date, shared: ReferenceData, spool: WaitingSpool
             ) -> list[str]:
    """The decided claims no cycle has remitted, in receipt order, into ``spool``
    (keyed by decision id); the claim numbers of those held back: a correction whose
    original is not remitted yet (`is_held`), and one whose original another correction
    reversed already (in an earlier cycle or earlier in this one), which no cycle pays
    and a person must look at. Before 2026-12-01 such a second reversal (two
    replacements decided at once) failed every cycle, for every payee, on the store's
    key for it, with no cycle recorded."""
    rows = s.execute(
        select(DecisionRecord.id, DecisionRecord.data, Claim.parsed, Claim.id)
        .join(Claim, Claim.id == DecisionRecord.claim_id)
        .where(*waiting_for_a_cycle(as_of))
        .order_by(Claim.id).execution_options(yield_per=500))
    held = []
    reversing: set[str] = set()
    for decision_id, data, parsed, claim_id in rows:
        decision = decision_from_record(data)
        claim = ParsedClaim.model_validate_json(parsed or "")
        waiting = waiting_of(decision_id, decision, claim,
                             lambda icn, like: _original(s, icn, like, shared))
        original = waiting.reverses
        if original is not None and (original in reversing or _reversed(s, original)):
            held.append(decision.icn)  # listed on every cycle's row until a person acts
        elif is_held(waiting):
            held.append(decision.icn)
        else:
            spool.add(Spooled(waiting, decision.icn, claim_id))
            if original is not None:
                reversing.add(original)
    return held


def _reversed(s: Session, icn: str) -> bool:
    """Whether a cycle has remitted a reversal of ``icn``."""
    return s.scalar(select(RemittedClaim.id).where(RemittedClaim.reverses_icn == icn)
                    .limit(1)) is not None


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


def _store_balances(s: Session, staged: list[_Staged], now: datetime) -> None:
    for p in staged:
        payee = p.payee
        existing = {row.reference: row for row in s.scalars(select(PayeeBalance).where(
            PayeeBalance.payee_npi == payee.npi, PayeeBalance.payee_tin == payee.tax_id))}
        left = {c.reference: to_cents(c.amount) for c in p.carried}
        for reference, row in existing.items():
            row.amount_cents, row.updated_at = left.pop(reference, 0), now
        for reference, cents in left.items():
            s.add(PayeeBalance(payee_npi=payee.npi, payee_tin=payee.tax_id,
                               reference=reference, amount_cents=cents, updated_at=now))


RELEASE_ROWS = 1_000
"""Rows of `RemittedClaim` inserted per statement by a release."""


def _release(s: Session, archive: Path, cycle_id: int, staged: _Staged,
             staging: Staging) -> RemittanceOutcome:
    """One payee's staged 835 (and advice) into the archive, and what it remits into
    the store (inserted in batches, not kept in the session)."""
    sha, _size, _kept = archive_copy(staging.read_document(staged.x12), archive)
    html_sha = None
    if staged.html is not None:
        html_sha, _size, _kept = archive_copy(staging.read_document(staged.html), archive)
    record = RemittanceRecord(cycle_id=cycle_id, sha256=sha, html_sha256=html_sha,
                              **staged.record)
    s.add(record)
    s.flush()
    for rows in staging.read_rows(staged.rows, RELEASE_ROWS):
        s.execute(insert(RemittedClaim), [{**row, "remittance_id": record.id}
                                          for row in rows])
    return replace(staged.outcome, sha256=sha, html_sha256=html_sha)


def _outcome(p: PayeeRemittance, icns: list[str], balanced: bool) -> RemittanceOutcome:
    r = p.remittance
    return RemittanceOutcome(payee_npi=r.payee.npi, payee_tin=r.payee.tax_id,
                             payment=f"{r.amount:.2f}", method=r.method,
                             trace=r.trace_number, claims=list(dict.fromkeys(icns)),
                             balanced=balanced)
