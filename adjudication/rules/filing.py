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
"""

from __future__ import annotations

from adjudication.context import Deny, Ledger, LineRule, LineWork, Outcome
from adjudication.decision import Group


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
    if days > days_allowed:
        work.note(rule, f"late: received {days} days after the service, limit "
                        f"{days_allowed}", **inputs)
        return Deny(Group.CO, "29")
    work.note(rule, "in time", **inputs)
    return None


TIMELY_FILING = LineRule(
    "TIMELY-FILING", 2, "The claim arrived within the initial filing limit of the service",
    ("CO-29",), _timely_filing)
