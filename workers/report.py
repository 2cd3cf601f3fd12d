"""Readable tables of a run for people at a terminal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
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


def print_run(console: Console, summary: RunSummary) -> None:
    table = Table(title=f"Files processed (as of {summary.as_of})", show_lines=False)
    for column in ("file", "status", "ack", "code", "claims", "accepted", "rejected",
                   "not reached", "charges accepted"):
        table.add_column(column, justify="right" if column not in ("file", "status") else "left",
                         no_wrap=column == "file")
    for f in summary.files:
        counts = Counter(c.front_end for c in f.claims)
        accepted = sum((Decimal(c.charge) for c in f.claims if c.front_end == "accepted"),
                       Decimal(0))
        table.add_row(
            f.path.rsplit("/", 1)[-1], f.status, f.ack, f.ack_code, str(len(f.claims)),
            str(counts["accepted"]), str(counts["rejected"]), str(counts["not_reached"]),
            f"{accepted:,.2f}",
        )
    console.print(table)
    _print_rejected_claims(console, summary)
    _print_decisions(console, summary)
    problems = [(f.path.rsplit("/", 1)[-1], p) for f in summary.files for p in f.problems[:3]]
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


def _print_rejected_claims(console: Console, summary: RunSummary, limit: int = 60) -> None:
    rows = [(f.path.rsplit("/", 1)[-1], c) for f in summary.files for c in f.claims
            if c.front_end == "rejected"]
    if not rows:
        return
    table = Table(title=f"Claims rejected by the front-end edits (277CA), {len(rows)} in all")
    for column in ("file", "claim", "277CA codes", "where and why"):
        table.add_column(column, no_wrap=column != "where and why")
    for name, claim in rows[:limit]:
        table.add_row(name, claim.patient_control_number, " ".join(claim.front_end_codes),
                      "\n".join(claim.reasons))
    console.print(table)


def _print_decisions(console: Console, summary: RunSummary, limit: int = 40) -> None:
    decided = [(f.path.rsplit("/", 1)[-1], c) for f in summary.files for c in f.claims
               if c.status is not None]
    if not decided:
        return
    by_lob = Table(title="Adjudication by line of business")
    for column in ("line of business", "claims", "paid", "partially paid", "denied", "pended",
                   "voided", "paid amount", "patient responsibility"):
        by_lob.add_column(column, justify="left" if column == "line of business" else "right")
    groups: dict[str, list[ClaimSummary]] = {}
    for _name, claim in decided:
        groups.setdefault(claim.line_of_business or "member not found", []).append(claim)
    for lob, claims in sorted(groups.items()):
        counts: Counter[str] = Counter(c.status or "" for c in claims)
        by_lob.add_row(lob, str(len(claims)), *(str(counts[s]) for s in (
            "paid", "partially_paid", "denied", "pended", "voided")),
            f"{sum((Decimal(c.paid or 0) for c in claims), Decimal(0)):,.2f}",
            f"{sum((Decimal(c.patient_responsibility or 0) for c in claims), Decimal(0)):,.2f}")
    console.print(by_lob)
    _print_situations(console, groups)
    notable = [(n, c) for n, c in decided if c.status in ("denied", "pended", "partially_paid",
                                                          "voided")]
    if not notable:
        return
    table = Table(title=f"Denied, pended, partly paid and voided claims ({len(notable)}; "
                        "explain any with `claims explain ICN --out DIR`)")
    for column in ("file", "claim number", "status", "adjustments", "RARC", "decided by"):
        table.add_column(column)
    for name, claim in notable[:limit]:
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


def situation_counts(claims: Iterable[ClaimSummary]) -> Counter[str]:
    """Claims per situation (a claim may count under several)."""
    counts: Counter[str] = Counter()
    for claim in claims:
        counts.update(situations_of(claim))
    return counts


def _print_situations(console: Console, groups: dict[str, list[ClaimSummary]]) -> None:
    """Per situation the rules single out, the claims it touched in each line of
    business (a row per situation, a column per line of business)."""
    lobs = sorted(groups)
    counts = {lob: situation_counts(groups[lob]) for lob in lobs}
    table = Table(title="Situations by line of business (claims; one claim may show several)")
    for column in ("situation", *lobs):
        table.add_column(column, justify="left" if column == "situation" else "right")
    table.add_row("claims decided", *(str(len(groups[lob])) for lob in lobs))
    for situation in SITUATIONS:
        table.add_row(situation, *(str(counts[lob][situation]) for lob in lobs))
    console.print(table)
