"""The engine's one rounding rule and its X12 text (edi.amounts), worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adjudication.decision import cents as engine_cents
from adjudication.decision import money
from edi.amounts import amount_text, cents, quantity_text


@pytest.mark.parametrize(("amount", "rounded"), [
    ("0.005", "0.01"),     # half-up: half-even would give 0.00
    ("2.675", "2.68"),
    ("2.665", "2.67"),     # half-even would give 2.66
    ("-0.005", "-0.01"),   # half away from zero on a reversal too
    ("10", "10.00"),
    ("-12.5", "-12.50"),
    ("99.994", "99.99"),
])
def test_amounts_round_half_up_to_cents_and_write_two_decimals(amount: str,
                                                               rounded: str) -> None:
    assert amount_text(Decimal(amount)) == rounded
    assert cents(Decimal(amount)) == Decimal(rounded)


@pytest.mark.parametrize(("units", "text"), [
    ("4.00", "4"), ("1.50", "1.5"), ("-0", "0"), ("0.000", "0"), ("1E+1", "10"),
    ("0.25", "0.25"),
])
def test_quantities_are_written_without_needless_zeros(units: str, text: str) -> None:
    assert quantity_text(Decimal(units)) == text


def test_adjudication_uses_the_same_rule() -> None:
    assert engine_cents is cents
    assert money(Decimal("2.665")) == "2.67"


@pytest.mark.parametrize(("stored", "amount"), [(-1250, "-12.50"), (5, "0.05"), (0, "0.00"),
                                                (123456, "1234.56")])
def test_stored_cents_read_back_as_amounts(stored: int, amount: str) -> None:
    from edi.amounts import from_cents

    assert from_cents(stored) == Decimal(amount)
    assert amount_text(from_cents(stored)) == amount


@pytest.mark.parametrize(("amount", "text"), [
    ("9999999999999999.99", "9999999999999999.99"),   # 18 digits: two decimals fit
    ("-9999999999999999.99", "-9999999999999999.99"),
    ("99999999999999999", "99999999999999999"),       # 19 with two decimals: not written
    ("199999999999999998", "199999999999999998"),
    ("12345678901234567.5", "12345678901234567.5"),
])
def test_an_amount_two_decimals_would_take_past_18_digits_is_written_without_them(
        amount: str, text: str) -> None:
    # an X12 R element holds 18 digits; the 277CA echoes a rejected CLM02 of 17 digits
    # (which the 837 may carry) and its totals, where "…99.00" was invalid X12
    assert amount_text(Decimal(amount)) == text
    assert sum(c.isdigit() for c in text) <= 18
