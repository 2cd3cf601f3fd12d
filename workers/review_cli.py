"""`claims explain` and `claims pends`: read and act on the decisions in the store.

The review screens (`review/`) release and deny pends through the same functions:
`preview_release`/`release` and `preview_denial`/`deny`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from adjudication.decision import (
    ZERO,
    Adjustment,
    Decision,
    Group,
    InvalidOverride,
    TraceStep,
)
from adjudication.engine import adjudicate
from edi.amounts import amount_fits, whole_cents
from edi.claims import ParsedClaim
from edi.faults import record_fault
from edi.validators.codesets import CodeSetRegistry
from remittance.era import codes
from store.engine import Store
from store.models import Claim, DecisionRecord, Event, PendRelease
from workers.adjudication_step import decision_record, lock_members, mark_decided
from workers.decisions import (
    decision_from_record,
    summary_fields,
)
from workers.files import is_utf8
from workers.history import state_for
from workers.reference_store import ReferenceSource

DENIAL_RULE = "REVIEW-DENIAL"
"""The trace step a reviewer's denial of a pend adds."""
NOT_FOR_DENIAL = frozenset({"1", "2", "3", "23", "45"})
"""CARCs that share or price a payment (deductible, coinsurance, copay, prior payers,
the fee schedule): never the reason a whole line is denied."""
DENIAL_GROUPS = {"18": Group.OA}
"""The group a CARC's X12 usage note requires (18, an exact duplicate: OA only;
DOMAIN.md 8.3); a reviewer's denial with any other CARC is CO (the provider's
write-off)."""


def denial_group(carc: str) -> Group:
    """The group a reviewer's denial with ``carc`` goes out in (`DENIAL_GROUPS`, else CO)."""
    return DENIAL_GROUPS.get(carc, Group.CO)


NEEDS_REMARK = frozenset({"16", "96", "234", "252"})
"""CARCs whose X12 text requires at least one remark code (RARC) beside them (DOMAIN.md
8.3): a denial with one of them names its RARC."""


class ReviewError(Exception):
    """A review command cannot be carried out (unknown claim, not pended, bad amount);
    its text is a sentence for the person who asked, on the command line or a screen."""


class AllowedAmountError(ReviewError):
    """A reviewer's allowed amount cannot be taken (the command line names its option,
    the release screen its line's field)."""


class ReviewerError(ReviewError):
    """The name a release or denial is recorded under is not a user name (the command
    line names --reviewer)."""


class NoteError(ReviewError):
    """A reviewer's note cannot be kept as text (the command line names --note)."""


MAX_NOTE = 2000
"""The longest note a release or denial keeps, in characters."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_reviewer(reviewer: str, note: str) -> None:
    """Refuse (`ReviewerError`, `NoteError`) what the audit trail cannot record as said:
    a reviewer not named as a user is (`review.auth.NAME`: an empty or blank name
    released money before 2026-12-01), a note over `MAX_NOTE` characters, with control
    characters, or with text that is no UTF-8 (a command-line byte no encoding names)."""
    from review.auth import NAME

    if not NAME.fullmatch(reviewer):
        raise ReviewerError("a reviewer is named as a user of the review screens is: 1-80 "
                            "letters, digits, '.', '_', '@' or '-', starting with a letter "
                            "or digit")
    if len(note) > MAX_NOTE:
        raise NoteError(f"a note has at most {MAX_NOTE:,} characters")
    if _CONTROL.search(note) or not is_utf8(note):
        raise NoteError("a note is plain text: no control characters, and UTF-8 only")


def _claim_number(icn: str) -> str:
    """``icn`` when it can be a claim number (printable ASCII, at most 50 characters, as
    CLP07 carries it); `ReviewError` otherwise, never quoting it (a byte of argv no
    encoding decoded made the store's lookup a traceback)."""
    if not (0 < len(icn) <= 50 and icn.isascii() and icn.isprintable()):
        raise ReviewError("not a claim number: the engine's are printable ASCII of at most "
                          "50 characters, such as OBH263270000001")
    return icn


def _current(store: Store, icn: str) -> tuple[Decision, list[str]]:
    """The claim's current decision with its trace, and its deciding rules."""
    _claim_number(icn)
    with store.transaction() as s:
        row = s.execute(select(DecisionRecord.data, DecisionRecord.trace, DecisionRecord.rules)
                        .where(DecisionRecord.icn == icn, DecisionRecord.current.is_(True))
                        ).first()
    if row is None:
        raise ReviewError(f"no decision for claim number {icn}")
    data, trace, rules = row
    return decision_from_record(data, trace), list(rules)


def explain(console: Console, store: Store, icn: str) -> None:
    d, rules = _current(store, icn)
    fields = summary_fields(d, rules)
    console.print(f"[bold]{icn}[/] claim {d.patient_control_number}: {d.status}, "
                  f"paid {d.paid:.2f}, patient responsibility {d.patient_responsibility:.2f} "
                  f"({d.line_of_business}, plan {d.plan_id}, state {d.state}); "
                  f"decided by {', '.join(fields['rules'])}")
    lines = Table(title="Lines")
    for column in ("line", "procedure", "charge", "allowed", "paid", "status", "adjustments",
                   "RARC"):
        lines.add_column(column)
    for line in d.lines:
        lines.add_row(str(line.line_number), ":".join([line.procedure_code, *line.modifiers]),
                      f"{line.charge:.2f}", f"{line.allowed:.2f}", f"{line.paid:.2f}",
                      line.status + (f" ({line.pend_reason})" if line.pend_reason else ""),
                      " ".join(f"{a.group}-{a.carc} {a.amount:.2f}" for a in line.adjustments),
                      " ".join(line.rarcs))
    console.print(lines)
    table = Table(title="Trace: every rule that ran, its inputs and what it concluded")
    for column in ("rule", "v", "line", "inputs", "conclusion"):
        table.add_column(column)
    for step in d.trace:
        table.add_row(step.rule_id, str(step.version),
                      "" if step.line_number is None else str(step.line_number),
                      "; ".join(f"{k}={v}" for k, v in step.shown), step.conclusion)
    console.print(table)


def pended(store: Store) -> list[Decision]:
    with store.transaction() as s:
        rows = s.scalars(select(DecisionRecord.data).where(
            DecisionRecord.current.is_(True), DecisionRecord.status == "pended")
            .order_by(DecisionRecord.id))
        return [decision_from_record(data) for data in rows]


def list_pends(console: Console, store: Store) -> None:
    table = Table(title="Pended claims")
    for column in ("claim number", "claim", "charge", "reasons"):
        table.add_column(column)
    for d in pended(store):
        table.add_row(d.icn, d.patient_control_number, f"{d.charge:.2f}",
                      "\n".join(d.pend_reasons))
    console.print(table)


def parse_overrides(values: list[str]) -> dict[int, Decimal]:
    """``LINE=AMOUNT`` values: a line number and a finite, non-negative amount in cents
    (`AllowedAmountError` otherwise)."""
    overrides: dict[int, Decimal] = {}
    for value in values:
        line, _, amount = value.partition("=")
        line = line.strip()
        if not (line.isascii() and line.isdigit() and len(line) <= 4):
            raise AllowedAmountError("an allowed amount is written LINE=AMOUNT, a claim line "
                                     "number and an amount (e.g. 1=120.00)")
        number = int(line)
        try:
            allowed = Decimal(amount.strip())
        except InvalidOperation:
            raise AllowedAmountError(f"the allowed amount for line {number} is not an amount "
                                     "in dollars and cents (e.g. 120.00)") from None
        if not amount_fits(allowed):
            raise AllowedAmountError(
                f"the allowed amount for line {number} must be from 0 to the line's charge")
        if not whole_cents(allowed):
            raise AllowedAmountError(f"the allowed amount for line {number} must be in "
                                     "dollars and cents (two decimals)")
        if number in overrides:
            raise AllowedAmountError(f"line {number} is given two allowed amounts")
        overrides[number] = allowed
    return overrides


def preview_release(store: Store, icn: str, overrides: dict[int, Decimal],
                    source: ReferenceSource,
                    code_sets: CodeSetRegistry) -> tuple[Decision, Decision]:
    """The pended decision and the one a release with these amounts would make (nothing
    is written): what a reviewer confirms."""
    with store.transaction() as s:
        current = _pended(s, icn, lock=False)
        return decision_from_record(current.data), _redecided(s, current, overrides, source,
                                                              code_sets)


def release(store: Store, icn: str, overrides: dict[int, Decimal], reviewer: str, note: str,
            source: ReferenceSource, now: datetime | None = None, *,
            code_sets: CodeSetRegistry,
            approve: Callable[[Decision], None] | None = None,
            audit: Callable[[Session, Decision], None] | None = None) -> Decision:
    """Re-adjudicate a pended claim with the allowed amounts a person entered.

    The claim is the one the store keeps under this number (never re-read from a
    file); the new decision, the release and its audit event commit together, with
    what ``audit`` writes (the review screens' audit row) in the same transaction.
    ``approve`` sees the new decision before anything is written and raises
    `ReviewError` to refuse it (a reviewer's release limit). ``code_sets`` are the
    ICD-10-CM releases loaded now (a line pended for want of one is decided once it is).
    """
    check_reviewer(reviewer, note)
    now = now or datetime.now(tz=UTC)
    with store.transaction() as s:
        _lock_members_of(s, icn)  # before the row: a batch holding them may write it
        current = _pended(s, icn, lock=True)
        decision = _redecided(s, current, overrides, source, code_sets)
        if decision.status == "pended":
            raise StillPended(still_pended(decision))
        if approve is not None:
            approve(decision)
        _replace(s, current, decision, reference_version=source.version, at=now)
        s.add(PendRelease(icn=icn, reviewer=reviewer, note=note,
                          overrides={str(k): str(v) for k, v in overrides.items()},
                          from_version=current.version, to_version=current.version + 1,
                          released_at=now))
        s.add(Event(at=now, kind="pend.released", actor=reviewer, subject=icn,
                    detail={"status": decision.status, "from_version": current.version}))
        if audit is not None:
            audit(s, decision)
    return decision


class StillPended(ReviewError):
    """A claim decided again pends again: nothing is written. Before 2026-12-01 a
    release that could only pend again wrote a new pended version and a release row."""


def still_pended(decision: Decision) -> str:
    """Why a release would leave ``decision``'s claim pended: a sentence for the
    reviewer, who may deny it or load what it waits for."""
    reasons = "; ".join(decision.pend_reasons) or "a line is still held"
    return (f"claim number {decision.icn} would pend again ({reasons}); nothing was "
            f"released: deny it, or load what it waits for and decide it again")


@dataclass(frozen=True)
class Redecided:
    """What `redecide_pends` did: claims now decided (claim number, status), claims that
    still pend, and claims the engine could not decide (claim number, sentence)."""

    decided: tuple[tuple[str, str], ...]
    still_pended: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]


def redecide_pends(store: Store, icns: Iterable[str], reviewer: str, note: str,
                   source: ReferenceSource, *, code_sets: CodeSetRegistry,
                   now: datetime | None = None,
                   approve: Callable[[Decision], None] | None = None,
                   audit: Callable[[Session, Decision], None] | None = None) -> Redecided:
    """Each pended claim decided again as it stands, with no allowed amount from a
    person: what an operator runs after loading what the pends waited for (reference
    data, an ICD-10-CM release). A claim that is now decided is released as `release`
    releases it (its own transaction, audited under ``reviewer``, with what ``audit``
    writes); one that would pend again is left as it is, with nothing written, and so
    is one ``approve`` refuses (`ReviewError`: a reviewer's release limit), which is
    reported with the refusal's sentence."""
    check_reviewer(reviewer, note)
    decided: list[tuple[str, str]] = []
    still: list[str] = []
    refused: list[tuple[str, str]] = []
    for icn in icns:
        try:
            decision = release(store, icn, {}, reviewer, note, source, now,
                               code_sets=code_sets, approve=approve, audit=audit)
        except StillPended:
            still.append(icn)
        except ReviewError as exc:  # refused, no longer pended, or an engine fault (logged)
            refused.append((icn, str(exc)))
        else:
            decided.append((icn, decision.status))
    return Redecided(tuple(decided), tuple(still), tuple(refused))


def denial(pended_decision: Decision, carc: str, rarc: str = "") -> Decision:
    """A reviewer's denial of a pended claim: every pended line (and every line held
    with it) denied ``carc`` for its whole charge, in the group its usage requires
    (`DENIAL_GROUPS`, else CO), with ``rarc`` as the line's remark code (required for
    `NEEDS_REMARK`); denials already made stand."""
    known = codes()
    if carc not in known["carc"] or carc in NOT_FOR_DENIAL:
        raise ReviewError(f"{carc} is not a claim adjustment reason code a denial can give")
    if rarc and rarc not in known["rarc"]:
        raise ReviewError(f"{rarc} is not a remark code (RARC) a denial can give")
    if carc in NEEDS_REMARK and not rarc:
        raise ReviewError(f"a denial with CARC {carc} needs a remark code (RARC) that says "
                          "why: choose one")
    group = denial_group(carc)
    remarks = (rarc,) if rarc else ()
    lines = tuple(
        replace(line, status="denied", allowed=ZERO, paid=ZERO, pend_reason=None,
                adjustments=(Adjustment(group, carc, line.charge),), rarcs=remarks,
                units_paid=None)
        if line.status == "pended" else line for line in pended_decision.lines)
    said = f"{group}-{carc}" + (f" with {rarc}" if rarc else "")
    step = TraceStep(DENIAL_RULE, 2, None,
                     (("group", str(group)), ("carc", carc), *((("rarc", rarc),) if rarc else ())),
                     f"denied by a reviewer: {said}")
    return replace(pended_decision, status="denied", lines=lines, paid=ZERO,
                   patient_responsibility=ZERO, accumulator_changes=(),
                   trace=(*pended_decision.trace, step))


def preview_denial(store: Store, icn: str, carc: str,
                   rarc: str = "") -> tuple[Decision, Decision]:
    """The pended decision and the denial a reviewer is about to confirm."""
    with store.transaction() as s:
        current = _pended(s, icn, lock=False)
        before = decision_from_record(current.data, current.trace)
    return before, denial(before, carc, rarc)


def deny(store: Store, icn: str, carc: str, reviewer: str, note: str,
         now: datetime | None = None, *, rarc: str = "",
         audit: Callable[[Session, Decision], None] | None = None) -> Decision:
    """Deny a pended claim with a reason code (and remark code): a new decision
    version, the release row (``{"deny": "<group>-<carc>"}``, and ``"rarc"``), its
    ``pend.denied`` event and what ``audit`` writes commit together."""
    check_reviewer(reviewer, note)
    now = now or datetime.now(tz=UTC)
    with store.transaction() as s:
        current = _pended(s, icn, lock=True)
        decision = denial(decision_from_record(current.data, current.trace), carc, rarc)
        _replace(s, current, decision, reference_version=current.reference_version, at=now)
        said = {"deny": f"{denial_group(carc)}-{carc}", **({"rarc": rarc} if rarc else {})}
        s.add(PendRelease(icn=icn, reviewer=reviewer, note=note, overrides=said,
                          from_version=current.version, to_version=current.version + 1,
                          released_at=now))
        s.add(Event(at=now, kind="pend.denied", actor=reviewer, subject=icn,
                    detail={"carc": carc, **({"rarc": rarc} if rarc else {}),
                            "from_version": current.version}))
        if audit is not None:
            audit(s, decision)
    return decision


def _lock_members_of(s: Session, icn: str) -> None:
    """The locks a batch of a file takes for the claim's member and the original it
    corrects (`workers.adjudication_step.lock_members`): a release decides the claim
    again against the member's state, which a batch deciding another claim of the
    member (a second replacement of the same original) must not change meanwhile.
    Before 2026-12-01 a release took none: a replacement released while another was
    decided reversed the same original twice, and every later payment cycle failed on
    the store's key for it, for every payee."""
    _claim_number(icn)  # never looked up unless it can be one
    row = s.execute(select(Claim.subscriber_id, Claim.original_icn)
                    .where(Claim.icn == icn)).first()
    if row is not None:
        lock_members(s, [key for key in row if key])


def _pended(s: Session, icn: str, *, lock: bool) -> DecisionRecord:
    """The claim's current decision, which must be a pend (locked when ``lock``)."""
    _claim_number(icn)
    query = select(DecisionRecord).where(DecisionRecord.icn == icn,
                                         DecisionRecord.current.is_(True))
    current = s.scalar(query.with_for_update() if lock else query)
    if current is None or current.status != "pended":
        raise ReviewError(f"claim number {icn} is not pended")
    return current


def _redecided(s: Session, current: DecisionRecord, overrides: dict[int, Decimal],
               source: ReferenceSource, code_sets: CodeSetRegistry) -> Decision:
    """The claim kept in the store decided again with the reviewer's allowed amounts."""
    icn = current.icn
    claim_row = s.get(Claim, current.claim_id)
    assert claim_row is not None and claim_row.parsed is not None
    claim = ParsedClaim.model_validate_json(claim_row.parsed)
    charges = {line.assigned_number: line.line_item_charge_amount
               for line in claim.claim.lines}
    original = decision_from_record(current.data)
    # only a pended line takes a person's amount: on a decided (denied) line it changed
    # nothing, yet the release and its audit recorded "line 3 allowed 300.00"
    decided = {line.line_number: line.status for line in original.lines
               if line.status != "pended"}
    for number, allowed in overrides.items():
        if number not in charges:
            raise AllowedAmountError(
                f"an allowed amount is given for line {number}, which the claim does not have")
        if number in decided:
            raise AllowedAmountError(
                f"an allowed amount is given for line {number}, which is not pended (it "
                f"was {decided[number].replace('_', ' ')}): only a pended line takes one")
        if allowed > charges[number]:
            raise AllowedAmountError(
                f"the allowed amount for line {number} is above the line's charge")
    subscriber = claim.subscriber.member_id or ""
    original_icn = claim.claim.payer_claim_control_number
    originals = [original_icn] if original_icn else []
    reference = source.for_claims(s, [subscriber], originals)
    members = {m.member_id for m in reference.members_with_subscriber(subscriber)}
    state = state_for(s, [subscriber], members, originals)
    try:
        return adjudicate(claim, icn=icn, reference=reference, code_sets=code_sets,
                          as_of=original.as_of, received=original.received, state=state,
                          overrides=overrides)
    except InvalidOverride as exc:
        raise ReviewError(str(exc)) from None
    except Exception as exc:  # an engine bug: logged and counted, the pend stands
        record_fault("pend-release", exc)
        raise ReviewError("the engine could not decide this claim; the fault is logged "
                          "and the claim stays pended") from None


def _replace(s: Session, current: DecisionRecord, decision: Decision, *,
             reference_version: str, at: datetime) -> None:
    """The new decision version becomes current; the pend stays as history."""
    current.current = False
    s.flush()
    s.execute(insert(DecisionRecord), [decision_record(
        decision, claim_id=current.claim_id, version=current.version + 1,
        subscriber_id=current.subscriber_id or "", reference_version=reference_version,
        at=at)])
    mark_decided(s, {current.claim_id: decision.status})
