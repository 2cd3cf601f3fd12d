"""How long a pended claim has waited, against the prompt-payment clocks.

DOMAIN.md section 10 gives the clocks a payer is held to, counted from receipt:
Medicare Advantage plans pay 95 % of clean claims from non-contracted providers
within 30 days (42 CFR 422.520(a); contracted providers per contract), and Medicaid
managed care 90 % of clean claims within 30 days and 99 % within 90 (42 CFR 447.45(d),
through 447.46). Commercial claims follow state prompt-pay laws, which were not
collected, so no clock is shown for them. A pend waits for a person, so the pends
queue shows each claim's days since receipt and, where a clock is known, the day it
runs out: what the analyst works first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from adjudication.reference import LineOfBusiness

PROMPT_PAY_DAYS: dict[str, int] = {LineOfBusiness.MEDICARE_ADVANTAGE: 30,
                                   LineOfBusiness.MEDICAID: 30}
"""Days from receipt to the first prompt-payment mark, by line of business."""


@dataclass(frozen=True)
class Age:
    """A claim's wait: days since receipt, and the prompt-payment day when one is known."""

    days: int
    due: date | None
    overdue: bool


def age(received: date, line_of_business: str | None, today: date) -> Age:
    """How long a claim received on ``received`` has waited by ``today``."""
    limit = PROMPT_PAY_DAYS.get(line_of_business or "")
    due = received + timedelta(days=limit) if limit is not None else None
    return Age((today - received).days, due, due is not None and today > due)
