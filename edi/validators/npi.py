"""National Provider Identifier (NPI) check digit.

An NPI is ten digits: nine base digits, the first of them ``1`` or ``2``, and a Luhn
(ISO/IEC 7812) check digit computed as if the number were prefixed by the card issuer
identifier ``80840`` (80 = health, 840 = United States). The prefix adds the constant
24 to the Luhn sum of the nine base digits, so the check digit is
``(10 - (24 + luhn_sum(base)) % 10) % 10``.

Worked example from the CMS check-digit document: base ``123456789`` has check digit
``3``, so ``1234567893`` is a valid NPI.

The entity type (1 = individual, 2 = organisation) is not encoded in the number; it
comes from NPPES or the provider file.
"""

from __future__ import annotations

from functools import lru_cache

NPI_LENGTH = 10
_PREFIX_CONSTANT = 24  # the Luhn contribution of the "80840" prefix


def _luhn_sum_doubling_rightmost(digits: str) -> int:
    """Luhn sum of ``digits`` when the rightmost digit is the first one doubled."""
    total = 0
    for offset, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if offset % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total


def npi_check_digit(base9: str) -> str:
    """The check digit of the nine base digits ``base9``.

    Raises `ValueError` when ``base9`` is not exactly nine ASCII digits.
    """
    if len(base9) != NPI_LENGTH - 1 or not _is_ascii_digits(base9):
        raise ValueError("an NPI base is exactly nine digits")
    total = _PREFIX_CONSTANT + _luhn_sum_doubling_rightmost(base9)
    return str((10 - total % 10) % 10)


def is_valid_npi(value: str) -> bool:
    """True when ``value`` is ten digits, starts with 1 or 2 and its check digit is right."""
    return len(value) == NPI_LENGTH and _is_valid_ten(value)


@lru_cache(maxsize=4096)  # a file names few providers, each on many claims
def _is_valid_ten(value: str) -> bool:
    """`is_valid_npi` of a ten-character text, remembered (only those: 4,096 texts of
    64 KB, which an NM109 can hold, would be 256 MB)."""
    if not _is_ascii_digits(value) or value[0] not in "12":
        return False
    return npi_check_digit(value[:-1]) == value[-1]


def _is_ascii_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()
