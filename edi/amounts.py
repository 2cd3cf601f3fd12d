"""Money and quantities, once: the engine's one rounding rule and their X12 text.

Every amount the engine computes is rounded half-up to cents by `cents`; every
amount it writes into an X12 element (999 none, 277CA totals, 835 CLP/SVC/CAS/PLB)
is `amount_text`, and every quantity (units) is `quantity_text`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    """Round half-up to cents (the one rounding rule of the engine)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def from_cents(whole_cents: int) -> Decimal:
    """The amount a stored count of cents stands for (``-1250`` is ``-12.50``)."""
    return Decimal(whole_cents).scaleb(-2)


R_DIGITS = 18
"""The most digits an amount element (X12 type R, 1-18) holds, its point and sign not
counted."""


R_LARGEST = Decimal("9" * R_DIGITS)
"""The largest amount an R element can carry."""


def amount_text(amount: Decimal) -> str:
    """An X12 R amount with two decimals: ``150.00``, ``-12.50`` for a reversal; without
    needless zeros when two decimals would not fit `R_DIGITS` (the 277CA echoing a
    rejected claim's charge of 17 digits, which its 837 could carry)."""
    text = str(cents(amount))
    if len(text) <= R_DIGITS + 1 or sum(c.isdigit() for c in text) <= R_DIGITS:
        return text
    return quantity_text(amount)


def quantity_text(value: Decimal) -> str:
    """An X12 R quantity without needless zeros: ``4``, ``1.5``, never ``-0``."""
    text = format(value.normalize(), "f")
    return text if text not in ("-0", "") else "0"


MAX_AMOUNT = Decimal("99999999.99")
"""The largest amount the engine takes, what eight digits of dollars hold: a claim's or
a line's charge (a larger one is rejected on the 277CA, `SNIP3-AMOUNT-FORMAT`), a
reference row's amount, and what a person types (an allowed amount, a release limit,
a charge filter). Any sum the 835 and the 277CA write of such amounts fits their
elements."""


def amount_fits(value: Decimal) -> bool:
    """Whether an amount is a number from 0 to `MAX_AMOUNT` (not NaN, not infinite:
    checked first, as NaN cannot be compared)."""
    return value.is_finite() and 0 <= value <= MAX_AMOUNT


def whole_cents(value: Decimal) -> bool:
    """Whether a typed amount has at most two decimals."""
    return value == value.quantize(CENT)

