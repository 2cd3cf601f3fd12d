"""Timely filing of an initial claim: days from the line's first date of service to receipt.

The clock starts on the line's *first* date of service (DTP*472 from-date, else the
claim's), so every day of a date span must be billed within the limit of that day
(the 90 days run "from the date of service": a span's first day is the earliest
service billed). It runs to ``received``, the file's receipt date in the payer's
business time zone, never the run date. The limit is the FilingLimit ``initial`` row
for the line of business and state in force on the receipt date, else
`EnginePolicy.initial_filing_days` (90). Day 90 is in time, day 91 is late. A late
line is the provider's write-off (CO-29), never the patient's. A replacement
(CLM05-3 = 7) is held to the correction window instead.

A secondary or later claim (2000B SBR01 S, T, ...) cannot be filed before the payers
ahead of us have decided it, so it is also in time when it arrives within the
FilingLimit ``secondary`` row's days of the day the last of them adjudicated the line
(2430 DTP*573, else 2330B DTP*573), whichever limit ends later. Without a
``secondary`` row, or without a prior adjudication date, only the initial limit
applies (nothing extends the clock unchecked).
"""

from __future__ import annotations

from adjudication.context import Deny, Ledger, LineRule, LineWork, Outcome
from adjudication.decision import Group
from adjudication.rules.coordination import our_place, prior_adjudication_date


def _timely_filing(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    ctx = work.ctx
    assert work.coverage is not None and work.facts.start is not None
    if ctx.original is not None:
        work.note(rule, "in time: a replacement is held to the correction window",
                  original_icn=ctx.original.icn)
        return None
    limit = ctx.reference.filing_limit(work.lob, work.coverage.state, "initial", ctx.received)
    days_allowed = limit if limit is not None else ctx.policy.initial_filing_days
    days = (ctx.received - work.facts.start).days
    inputs = {"first_date_of_service": work.facts.start, "received": ctx.received,
              "days": days, "limit_days": days_allowed,
              "limit_from": "reference" if limit is not None else "engine default"}
    if days <= days_allowed:
        work.note(rule, "in time", **inputs)
        return None
    if our_place(ctx.claim) > 1:
        adjudicated = prior_adjudication_date(ctx.claim, work.facts.number)
        after = ctx.reference.filing_limit(work.lob, work.coverage.state, "secondary",
                                           ctx.received)
        inputs |= {"prior_payer_adjudicated": adjudicated or "not reported",
                   "secondary_limit_days": after if after is not None else "none on file"}
        if adjudicated is not None and after is not None:
            since = (ctx.received - adjudicated).days
            inputs["days_since_prior_payer"] = since
            if since <= after:
                work.note(rule, f"in time: received {since} days after the prior payer "
                                f"adjudicated it, secondary limit {after}", **inputs)
                return None
    work.note(rule, f"late: received {days} days after the service, limit "
                    f"{days_allowed}", **inputs)
    return Deny(Group.CO, "29")


TIMELY_FILING = LineRule(
    "TIMELY-FILING", 3, "The claim arrived within the initial filing limit of the service "
    "(a secondary claim: or within the secondary limit of its prior payer's adjudication)",
    ("CO-29",), _timely_filing)
