"""NPI check digit: the CMS worked example and properties of the Luhn scheme."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edi.validators.npi import is_valid_npi, npi_check_digit

bases = st.from_regex(r"[12][0-9]{8}", fullmatch=True)


def luhn_valid_with_health_prefix(npi: str) -> bool:
    """Reference check written the long way: the full Luhn test over 80840 + NPI."""
    digits = [int(c) for c in "80840" + npi]
    total = 0
    for offset, digit in enumerate(reversed(digits)):
        if offset % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def test_the_cms_worked_example_has_check_digit_3() -> None:
    # Given the base from the CMS check-digit document
    # When its check digit is computed
    # Then it is 3, and the full number is valid
    assert npi_check_digit("123456789") == "3"
    assert is_valid_npi("1234567893")


@given(bases)
def test_every_generated_npi_is_valid(base: str) -> None:
    # Given any nine-digit base starting with 1 or 2
    # When the check digit is appended
    npi = base + npi_check_digit(base)
    # Then the number validates, and agrees with the long-hand Luhn test over 80840 + NPI
    assert is_valid_npi(npi)
    assert luhn_valid_with_health_prefix(npi)


@given(bases, st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=9))
def test_any_single_digit_change_to_a_valid_npi_fails(base: str, position: int, shift: int) -> None:
    # Given a valid NPI
    npi = base + npi_check_digit(base)
    # When exactly one digit is changed to another digit
    changed_digit = str((int(npi[position]) + shift) % 10)
    changed = npi[:position] + changed_digit + npi[position + 1:]
    # Then the changed number is not a valid NPI
    assert changed != npi
    assert not is_valid_npi(changed)


@given(bases)
def test_a_valid_check_digit_does_not_rescue_a_first_digit_other_than_1_or_2(base: str) -> None:
    # Given a base whose first digit is replaced by 3..9 or 0, with its own check digit
    for first in "0345679":
        other = first + base[1:]
        # When the full number is checked
        # Then it fails on the first digit alone
        assert not is_valid_npi(other + npi_check_digit(other))


@pytest.mark.parametrize(
    "value",
    ["", "123456789", "12345678930", "123456789O", "12345 7893", "１２３４５６７８９３",
     "-234567893", "1234567893\n"],
)
def test_non_digits_and_wrong_lengths_fail(value: str) -> None:
    # Given a value that is not ten ASCII digits
    # When it is checked
    # Then it is not a valid NPI
    assert not is_valid_npi(value)


@pytest.mark.parametrize("base", ["", "12345678", "1234567890", "12345678a", "１２３４５６７８９"])
def test_a_check_digit_needs_exactly_nine_digits(base: str) -> None:
    # Given a base that is not nine ASCII digits
    # When a check digit is asked for
    # Then the call refuses it
    with pytest.raises(ValueError):
        npi_check_digit(base)


def test_a_long_text_is_not_an_npi_and_is_never_remembered() -> None:
    """An NM109 can hold 64 KB: only ten-character texts are remembered (4,096 of 64 KB
    would be 256 MB)."""
    from edi.validators.npi import _is_valid_ten

    kept = _is_valid_ten.cache_info().currsize
    assert not is_valid_npi("1" * 70_000)
    assert not is_valid_npi("123456789")
    assert _is_valid_ten.cache_info().currsize == kept
    assert is_valid_npi("1234567893")  # the CMS worked example
