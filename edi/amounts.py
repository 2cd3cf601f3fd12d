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


def amount_text(amount: Decimal) -> str:
    """An X12 R amount with two decimals: ``150.00``, ``-12.50`` for a reversal."""
    return str(cents(amount))


def quantity_text(value: Decimal) -> str:
    """An X12 R quantity without needless zeros: ``4``, ``1.5``, never ``-0``."""
    text = format(value.normalize(), "f")
    return text if text not in ("-0", "") else "0"


MAX_TYPED = Decimal("99999999.99")
"""The largest amount a person may type (an allowed amount, a release limit, a charge
filter): what eight digits of dollars hold."""


def amount_fits(value: Decimal) -> bool:
    """Whether a typed amount is a number from 0 to `MAX_TYPED` (not NaN, not infinite:
    checked first, as NaN cannot be compared)."""
    return value.is_finite() and 0 <= value <= MAX_TYPED


def whole_cents(value: Decimal) -> bool:
    """Whether a typed amount has at most two decimals."""
    return value == value.quantize(CENT)

