"""Timely filing of an initial claim: days from the line's first date of service to receipt.

The clock starts on the line's *first* date of service (DTP*472 from-date, else the
claim's), so every day of a date span must be billed within the limit of that day
(the 90 days run "from the date of service": a span's first day is the earliest
service billed). It runs to ``received``, the file's receipt date in the payer's
business time zone, never the run date. The limit is the FilingLimit ``initial`` row
for the line of business and state in force on the receipt date, else
`EnginePolicy.initial_filing_days` (90). Day 90 is in time, day 91 is late. A late
line is the provider's write-off (CO-29), never the patient's.

A replacement (CLM05-3 = 7) cannot restart the clock: its line runs to the day the
first claim of its chain (the original and the claims it replaced) that billed the
line's date of service was received, and the limit is the one in force then; it is
held to the correction window as well. Version 3 did not time a replacement at all,
so a claim filed late and denied for something else first (no coverage on file,
another payer's adjudication missing) was paid when replaced. A line on a date of
service its original did not bill (a new line, or one moved to another date) was
first received with the replacement and runs to its receipt (version 5 gave it the
chain's first receipt, so a date billed late on a replacement was paid).
A replacement's line on a date of service its original's line was denied CO-29 for
keeps that verdict (CORRECTION-FILING), whatever the clock says: each date is judged
on its own, so the replacement's other lines are decided on their merits (until
version 5 a replacement of an original with any late line was denied on every line).

A secondary or later claim (2000B SBR01 S, T, ...) cannot be filed before the payers
ahead of us have decided it, so it is also in time when it arrives within the
FilingLimit ``secondary`` row's days of the day the last of them adjudicated the line
(2430 DTP*573, else 2330B DTP*573), whichever limit ends later. Without a
``secondary`` row, or without a prior adjudication date, only the initial limit
applies (nothing extends the clock unchecked).
"""

from __future__ import annotations

from datetime import date

from adjudication.context import Deny, Ledger, LineRule, LineWork, Outcome
from adjudication.decision import Group
from adjudication.rules.coordination import our_place, prior_adjudication_date
from adjudication.rules.corrections import late_service_dates


def _filed(work: LineWork) -> tuple[date, dict[str, object]]:
    """The day the line's clock runs to, and what the trace says of it: the file's
    receipt, or for a replacement the day its chain first received the line's date of
    service (a date the original did not bill: the replacement's own receipt)."""
    ctx = work.ctx
    original = ctx.original
    if original is None:
        return ctx.received, {}
    filed = original.filed_on(work.day) or ctx.received
    return filed, {"original_icn": original.icn, "replacement_received": ctx.received}


def _timely_filing(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    ctx = work.ctx
    assert work.coverage is not None and work.facts.start is not None
    received, chain = _filed(work)
    if ctx.original is not None and work.day in late_service_dates(ctx.original):
        work.note(rule, "late: the original's line of this date of service was denied for "
                        "timely filing (CO-29), and a replacement keeps that verdict",
                  first_date_of_service=work.day, **chain)
        return Deny(Group.CO, "29")
    limit = ctx.reference.filing_limit(work.lob, work.coverage.state, "initial", received)
    days_allowed = limit if limit is not None else ctx.policy.initial_filing_days
    days = (received - work.facts.start).days
    inputs = {"first_date_of_service": work.facts.start, "received": received,
              "days": days, "limit_days": days_allowed,
              "limit_from": "reference" if limit is not None else "engine default", **chain}
    if days <= days_allowed:
        work.note(rule, "in time", **inputs)
        return None
    if our_place(ctx.claim) > 1:
        adjudicated = prior_adjudication_date(ctx.claim, work.facts.number)
        after = ctx.reference.filing_limit(work.lob, work.coverage.state, "secondary",
                                           received)
        inputs |= {"prior_payer_adjudicated": adjudicated or "not reported",
                   "secondary_limit_days": after if after is not None else "none on file"}
        if adjudicated is not None and after is not None:
            since = (received - adjudicated).days
            inputs["days_since_prior_payer"] = since
            if since <= after:
                work.note(rule, f"in time: received {since} days after the prior payer "
                                f"adjudicated it, secondary limit {after}", **inputs)
                return None
    work.note(rule, f"late: received {days} days after the service, limit "
                    f"{days_allowed}", **inputs)
    return Deny(Group.CO, "29")


TIMELY_FILING = LineRule(
    "TIMELY-FILING", 6, "The claim arrived within the initial filing limit of the service "
    "(a secondary claim: or within the secondary limit of its prior payer's adjudication; "
    "a replacement: counted to the day its chain first billed the service, and late on a "
    "date its original's line was denied CO-29)",
    ("CO-29",), _timely_filing)
