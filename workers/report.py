"""Readable tables of a run for people at a terminal."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from rich.console import Console
from rich.table import Table

from adjudication.rules.telehealth import TELEHEALTH_MODIFIERS
from workers.summary import ClaimSummary, RunSummary

SITUATIONS = ("secondary", "secondary after a primary paid nothing",
              "other plan pays first (CO-22)", "telehealth", "telehealth outside the policy",
              "out of network", "partial authorization", "units over the limit (CO-151)",
              "add-on without its primary (CO-107)", "same-day pair denied (CO-236)",
              "same-day pair with a bypass modifier", "supervisor not on file (CO-16 N297)",
              "supervisor an associate or out of network (CO-185)", "suspect duplicate",
              "late replacement")
"""What the situation table counts, in its row order (see `situations_of`)."""


REJECTED_SHOWN = 60
"""Rejected claims listed by name (all are counted)."""
NOTABLE_SHOWN = 40
"""Denied, pended, partly paid and voided claims listed by name (all are counted)."""


class _FileTally:
    __slots__ = ("accepted_charge", "claims", "front_end")

    def __init__(self) -> None:
        self.claims = 0
        self.front_end: Counter[str] = Counter()
        self.accepted_charge = Decimal(0)


class _LineOfBusiness:
    __slots__ = ("claims", "paid", "patient_responsibility", "situations", "statuses")

    def __init__(self) -> None:
        self.claims = 0
        self.statuses: Counter[str] = Counter()
        self.paid = Decimal(0)
        self.patient_responsibility = Decimal(0)
        self.situations: Counter[str] = Counter()


class RunTally:
    """What the run's tables say, taken one claim at a time (`add`): counts and sums,
    and only the claims the tables list by name, so a run of any size is reported in
    flat memory (`pipeline.RunOptions.on_claim` feeds it as ``summary.json`` is
    written, `claims process`)."""

    def __init__(self) -> None:
        self.files: dict[int, _FileTally] = {}
        """By the file's place in the run's summary."""
        self.rejected: list[tuple[str, ClaimSummary]] = []
        self.rejected_count = 0
        self.decided: dict[str, _LineOfBusiness] = {}
        self.notable: list[tuple[str, ClaimSummary]] = []
        self.notable_count = 0

    def add(self, file: int, path: str, claim: ClaimSummary) -> None:
        """A claim of the run's ``file``-th file (from 0), at ``path``."""
        name = _name(path)
        tally = self.files.setdefault(file, _FileTally())
        tally.claims += 1
        tally.front_end[claim.front_end] += 1
        if claim.front_end == "accepted":
            tally.accepted_charge += Decimal(claim.charge)
        if claim.front_end == "rejected":
            self.rejected_count += 1
            if len(self.rejected) < REJECTED_SHOWN:
                self.rejected.append((name, claim))
        if claim.status is None:
            return
        lob = self.decided.setdefault(claim.line_of_business or "member not found",
                                      _LineOfBusiness())
        lob.claims += 1
        lob.statuses[claim.status] += 1
        lob.paid += Decimal(claim.paid or 0)
        lob.patient_responsibility += Decimal(claim.patient_responsibility or 0)
        lob.situations.update(situations_of(claim))
        if claim.status in ("denied", "pended", "partially_paid", "voided"):
            self.notable_count += 1
            if len(self.notable) < NOTABLE_SHOWN:
                self.notable.append((name, claim))

    @classmethod
    def of(cls, summary: RunSummary) -> RunTally:
        """The tally of a summary that kept its claims."""
        tally = cls()
        for index, f in enumerate(summary.files):
            for claim in f.claims:
                tally.add(index, f.path, claim)
        return tally


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def print_run(console: Console, summary: RunSummary, tally: RunTally | None = None) -> None:
    """The run's tables: from ``tally`` when given (the claims fed to it as they were
    written), else from the claims ``summary`` kept."""
    tally = tally if tally is not None else RunTally.of(summary)
    table = Table(title=f"Files processed (as of {summary.as_of})", show_lines=False)
    for column in ("file", "status", "ack", "code", "claims", "accepted", "rejected",
                   "not reached", "charges accepted"):
        table.add_column(column, justify="right" if column not in ("file", "status") else "left",
                         no_wrap=column == "file")
    for index, f in enumerate(summary.files):
        counted = tally.files.get(index, _FileTally())
        counts = counted.front_end
        table.add_row(
            _name(f.path), f.status, f.ack, f.ack_code, str(counted.claims),
            str(counts["accepted"]), str(counts["rejected"]), str(counts["not_reached"]),
            f"{counted.accepted_charge:,.2f}",
        )
    console.print(table)
    _print_rejected_claims(console, tally)
    _print_decisions(console, tally)
    problems = [(_name(f.path), p) for f in summary.files for p in f.problems[:3]]
    if problems:
        detail = Table(title="Why files or transaction sets were rejected (first lines)")
        detail.add_column("file")
        detail.add_column("problem")
        for name, problem in problems:
            detail.add_row(name, problem)
        console.print(detail)
    _print_remittances(console, summary)


def _print_remittances(console: Console, summary: RunSummary) -> None:
    """One line per payee: the payment, its method and trace, the 835."""
    if not summary.remittances and not summary.remittance_problems:
        return
    table = Table(title="Payment cycle: one 835 per payee")
    for column in ("payee NPI", "payment", "method", "trace", "claims", "balanced", "835"):
        table.add_column(column, justify="right" if column in ("payment", "claims") else "left")
    for r in summary.remittances:
        table.add_row(r.payee_npi, r.payment, r.method, r.trace, str(len(r.claims)),
                      "yes" if r.balanced else "NO",
                      r.path.rsplit("/", 1)[-1] if r.path else "not released")
    console.print(table)
    for problem in summary.remittance_problems:
        console.print(f"[bold red]cycle refused:[/] {problem}")


def _print_rejected_claims(console: Console, tally: RunTally) -> None:
    if not tally.rejected_count:
        return
    table = Table(title="Claims rejected by the front-end edits (277CA), "
                        f"{tally.rejected_count} in all")
    for column in ("file", "claim", "277CA codes", "where and why"):
        table.add_column(column, no_wrap=column != "where and why")
    for name, claim in tally.rejected:
        table.add_row(name, claim.patient_control_number, " ".join(claim.front_end_codes),
                      "\n".join(claim.reasons))
    console.print(table)


def _print_decisions(console: Console, tally: RunTally) -> None:
    if not tally.decided:
        return
    by_lob = Table(title="Adjudication by line of business")
    for column in ("line of business", "claims", "paid", "partially paid", "denied", "pended",
                   "voided", "paid amount", "patient responsibility"):
        by_lob.add_column(column, justify="left" if column == "line of business" else "right")
    lobs = sorted(tally.decided.items())
    for name, lob in lobs:
        by_lob.add_row(name, str(lob.claims), *(str(lob.statuses[s]) for s in (
            "paid", "partially_paid", "denied", "pended", "voided")),
            f"{lob.paid:,.2f}", f"{lob.patient_responsibility:,.2f}")
    console.print(by_lob)
    _print_situations(console, lobs)
    if not tally.notable_count:
        return
    table = Table(title=f"Denied, pended, partly paid and voided claims ({tally.notable_count}; "
                        "explain any with `claims explain ICN --out DIR`)")
    for column in ("file", "claim number", "status", "adjustments", "RARC", "decided by"):
        table.add_column(column)
    for name, claim in tally.notable:
        table.add_row(name, claim.payer_claim_control_number or "", claim.status or "",
                      " ".join(f"{a['group']}-{a['carc']} {a['amount']}"
                               for a in claim.adjustments),
                      " ".join(claim.rarc), " ".join(claim.rules))
    console.print(table)


def situations_of(claim: ClaimSummary) -> set[str]:
    """The situations a decided claim shows, as far as its summary tells them.

    secondary: billed to us after another payer (CLP02 2 or 3, or OA-23); after a
    primary paid nothing: a secondary claim we paid lines of with no OA-23 on any line
    (the payers before us paid nothing, AMT*D 0.00: a primary denial, or a primary
    whose whole allowed amount went to its deductible); other plan pays first: billed as
    primary though another plan on file pays first (CO-22);
    telehealth: a line with 95, GT, 93 or FQ, or a line TELEHEALTH decided; outside
    the policy: TELEHEALTH denied a line (CO-4 or CO-5); out of network: priced on the
    out-of-network benefit (PR-45); partial authorization: a line paid for fewer units
    than billed (CO-198 for the rest); coding edits by their codes (CO-151, CO-107,
    CO-236), and a line a bypass modifier (59, XE, XS, XP, XU) let through a pair
    edit (PROCEDURE-PAIR's trace says so: `ClaimSummary.pairs_bypassed`; a modifier
    on a claim whose pair edit never ran, such as a late replacement denied CO-29,
    is not one); supervisor not on file, or an associate or out of network:
    SUPERVISOR-VERIFIED decided a line, with N297 or CO-185; suspect duplicate:
    pended by DUPLICATE (an exact duplicate is OA-18, denied); late replacement: a
    replacement (frequency 7) denied CO-29.
    """
    codes = {f"{a['group']}-{a['carc']}" for a in claim.adjustments}
    found = set()
    if claim.claim_status_code in ("2", "3") or "OA-23" in codes:
        found.add("secondary")
        if claim.status in ("paid", "partially_paid") and "OA-23" not in codes:
            found.add("secondary after a primary paid nothing")
    if "CO-22" in codes:
        found.add("other plan pays first (CO-22)")
    if TELEHEALTH_MODIFIERS & set(claim.modifiers) or "TELEHEALTH" in claim.rules:
        found.add("telehealth")
        if "TELEHEALTH" in claim.rules and codes & {"CO-4", "CO-5"}:
            found.add("telehealth outside the policy")
    if "PR-45" in codes:
        found.add("out of network")
    if claim.lines_partly_authorized:
        found.add("partial authorization")
    for code, situation in (("CO-151", "units over the limit (CO-151)"),
                            ("CO-107", "add-on without its primary (CO-107)"),
                            ("CO-236", "same-day pair denied (CO-236)")):
        if code in codes:
            found.add(situation)
    if claim.pairs_bypassed:
        found.add("same-day pair with a bypass modifier")
    if "SUPERVISOR-VERIFIED" in claim.rules:
        if "N297" in claim.rarc:
            found.add("supervisor not on file (CO-16 N297)")
        if "CO-185" in codes:
            found.add("supervisor an associate or out of network (CO-185)")
    if claim.status == "pended" and "DUPLICATE" in claim.rules and "OA-18" not in codes:
        found.add("suspect duplicate")
    if claim.frequency_code == "7" and "CO-29" in codes:
        found.add("late replacement")
    return found


def _print_situations(console: Console, lobs: list[tuple[str, _LineOfBusiness]]) -> None:
    """Per situation the rules single out, the claims it touched in each line of
    business (a row per situation, a column per line of business)."""
    table = Table(title="Situations by line of business (claims; one claim may show several)")
    for column in ("situation", *(name for name, _lob in lobs)):
        table.add_column(column, justify="left" if column == "situation" else "right")
    table.add_row("claims decided", *(str(lob.claims) for _name, lob in lobs))
    for situation in SITUATIONS:
        table.add_row(situation, *(str(lob.situations[situation]) for _name, lob in lobs))
    console.print(table)
