"""Shapes of procedure codes and modifiers (2400 SV101-2, SV101-3 to SV101-6).

These checks are about form only: whether a string can be a CPT or HCPCS code or a
modifier at all. Whether the code exists, is covered or needs authorization is data
the payer licenses (CPT is an AMA product) and is checked elsewhere.

Procedure codes (SV101-1 qualifier ``HC``, HCPCS, whose Level I is CPT), five
characters, upper case:

- CPT Category I: five digits (``90837``, ``00100``).
- CPT Category I Proprietary Laboratory Analyses: four digits and ``U`` (``0001U``),
  and Multianalyte Assays with Algorithmic Analyses: four digits and ``M`` (``0002M``).
  Not named in the brief; accepted because they are CPT codes a professional claim
  may carry, and rejecting them would reject valid claims.
- CPT Category II (performance measurement): four digits and ``F`` (``1040F``).
- CPT Category III (emerging technology): four digits and ``T`` (``0591T``).
- HCPCS Level II: one letter and four digits (``H0031``, ``G0444``, ``T1017``). CMS
  uses the letters A-V except four: ``I`` and ``O`` are never used (they read as 1
  and 0), and there is no ``F`` or ``N`` section. So the first letter is one of
  ``A B C D E G H J K L M P Q R S T U V``.

Modifiers (SV101-3 to SV101-6): exactly two upper-case letters or digits, e.g. ``25``,
``59``, ``95``, ``HO``, ``U5``, ``GT``, ``XU``. X12 code values are case sensitive, so
``ho`` is not well formed.
"""

from __future__ import annotations

import re
from enum import StrEnum


class ProcedureCodeKind(StrEnum):
    """Which family a well-formed procedure code belongs to."""

    CPT_CATEGORY_I = "CPT Category I"
    CPT_PLA = "CPT Proprietary Laboratory Analyses"
    CPT_MAAA = "CPT Multianalyte Assays with Algorithmic Analyses"
    CPT_CATEGORY_II = "CPT Category II"
    CPT_CATEGORY_III = "CPT Category III"
    HCPCS_LEVEL_II = "HCPCS Level II"


HCPCS_LEVEL_II_LETTERS = frozenset("ABCDEGHJKLMPQRSTUV")

_CPT_SUFFIX_KIND = {
    "U": ProcedureCodeKind.CPT_PLA,
    "M": ProcedureCodeKind.CPT_MAAA,
    "F": ProcedureCodeKind.CPT_CATEGORY_II,
    "T": ProcedureCodeKind.CPT_CATEGORY_III,
}
_DIGITS = frozenset("0123456789")
_FOUR_DIGITS = re.compile(r"[0-9]{4}")
_MODIFIER = re.compile(r"[A-Z0-9]{2}")


def procedure_code_kind(code: str) -> ProcedureCodeKind | None:
    """The family ``code`` has the shape of, or None when it has none of them."""
    if len(code) != 5:
        return None
    if _FOUR_DIGITS.fullmatch(code, 1) is not None:
        if code[0] in HCPCS_LEVEL_II_LETTERS:
            return ProcedureCodeKind.HCPCS_LEVEL_II
        if code[0] in _DIGITS:
            return ProcedureCodeKind.CPT_CATEGORY_I
        return None
    if _FOUR_DIGITS.fullmatch(code, 0, 4) is not None:
        return _CPT_SUFFIX_KIND.get(code[4])
    return None


def is_well_formed_procedure(code: str) -> bool:
    """Whether ``code`` has the shape of a CPT or HCPCS Level II code."""
    return procedure_code_kind(code) is not None


def is_well_formed_modifier(modifier: str) -> bool:
    """Whether ``modifier`` is two upper-case ASCII letters or digits."""
    return _MODIFIER.fullmatch(modifier) is not None
