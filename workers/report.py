"""Readable tables of a run for people at a terminal."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from rich.console import Console
from rich.table import Table

from workers.summary import ClaimSummary, RunSummary


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
