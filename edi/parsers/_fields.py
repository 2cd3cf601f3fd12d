"""Element readers for the 837P parser: one typed value per segment, checked first.

Every check raises `Bad` with a fixed reason naming element positions only; the
parser turns it into `edi.errors.ParseError` with the segment's position. A segment
whose elements the models cannot carry (data in an element the guide does not use)
is refused rather than silently trimmed, so a typed round trip never loses data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import lru_cache, wraps
from typing import TypeVar

from edi import bounds
from edi.claims import (
    DatePeriod,
    Demographics,
    Diagnosis,
    EntityName,
    HierarchicalLevel,
    PatientInformation,
    ProviderTaxonomy,
    ReferenceId,
)
from edi.tokenizer import Segment

_DECIMAL = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
READ_KEPT = 4_096
"""Amounts and dates are read once per text and remembered (a file repeats them
thousands of times; `Decimal` and `date` are immutable), at most this many of each, as
are the names, taxonomies, service dates and diagnoses `remembered` keeps: hostile input
can name endless distinct ones. No text with an element longer than `bounds.VALUE` is
kept (NM109, the longest element the reader remembers, takes 80), so 4,096 texts of
64 KB cannot be held."""

Read = TypeVar("Read")
Reader = Callable[[Segment], Read]
Memo = dict[tuple[str, ...], Read]
"""Values read from segments, by a segment's component separator and elements."""
_NAMES: Memo[EntityName] = {}
_TAXONOMIES: Memo[ProviderTaxonomy] = {}
_PERIODS: Memo[DatePeriod] = {}
_DIAGNOSES: Memo[tuple[Diagnosis, ...]] = {}


def remembered(memo: Memo[Read]) -> Callable[[Reader[Read]], Reader[Read]]:
    """A segment's reading remembered in ``memo`` by the segment's component separator and
    elements: a file repeats its providers' names and taxonomies, service dates and
    diagnoses claim after claim, and the models read are immutable, so shared. At most
    `READ_KEPT` are kept, then all forgotten at once; a refusal, or a segment with an
    element longer than `bounds.VALUE`, is never remembered."""

    def decorate(read: Reader[Read]) -> Reader[Read]:
        @wraps(read)
        def reading(seg: Segment) -> Read:
            key = (seg.delimiters.component, *seg.elements)
            found = memo.get(key)
            if found is None:
                found = read(seg)
                if bounds.short(key):
                    bounds.remember(memo, key, found, READ_KEPT)
            return found

        return reading

    return decorate


Street = tuple[str | None, str | None]
"""N301, N302."""
Place = tuple[str | None, str | None, str | None, str | None, str | None]
"""N401, N402, N403, N404, N407."""


class Bad(Exception):
    """A reason to refuse the current segment (or the loop that starts at ``position``)."""

    def __init__(
        self, reason: str, *, position: int | None = None, segment_id: str | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.position = position
        self.segment_id = segment_id


def opt(seg: Segment, position: int) -> str | None:
    """Element ``position`` or None when empty."""
    return seg.get(position) or None


class Used:
    """The element positions 005010X222A1 uses in one segment."""

    __slots__ = ("pad", "top", "unused")

    def __init__(self, *positions: int) -> None:
        self.top = max(positions)
        self.unused = tuple(p for p in range(1, self.top) if p not in positions)
        self.pad = [""] * (self.top + 1)

    def elements(self, seg: Segment) -> list[str]:
        """The elements padded to the highest used position, after refusing data in
        any position the guide does not use."""
        els = seg.elements
        count = len(els)
        if count > self.top + 1:
            for position in range(self.top + 1, count):
                if els[position]:
                    raise Bad(f"{els[0]}{position:02d} is not used by 005010X222A1")
        for position in self.unused:
            if position < count and els[position]:
                raise Bad(f"{els[0]}{position:02d} is not used by 005010X222A1")
        return els + self.pad[count:] if count <= self.top else els


def composite(seg: Segment, position: int, most: int) -> list[str]:
    """Components of an element, trailing empty ones dropped, at most ``most`` of them."""
    value = seg.elements[position] if position < len(seg.elements) else ""
    if not value:
        return []
    parts = value.split(seg.delimiters.component)
    while parts and not parts[-1]:
        parts.pop()
    if len(parts) > most:
        raise Bad(f"{seg.id}{position:02d} has more components than 005010X222A1 uses")
    return parts


def ccyymmdd(value: str, what: str) -> date:
    day = _date_of(value) if len(value) == 8 else "is not a CCYYMMDD date"
    if isinstance(day, str):
        raise Bad(f"{what} {day}")
    return day


@lru_cache(maxsize=READ_KEPT)
def _date_of(value: str) -> date | str:
    """The date a CCYYMMDD text names, or why it names none."""
    # ASCII digits first: fromisoformat would also take ISO week dates like 2025W011.
    if len(value) != 8 or not (value.isascii() and value.isdigit()):
        return "is not a CCYYMMDD date"
    try:
        return date.fromisoformat(value)
    except ValueError:
        return "is not a calendar date"


def decimal(value: str, what: str) -> Decimal:
    number = _decimal_of(value) if len(value) <= bounds.VALUE else _decimal_text(value)
    if number is None:
        raise Bad(f"{what} is not a decimal number")
    return number


def _decimal_text(value: str) -> Decimal | None:
    """The exact number a text names (its exponent kept), or None when it names none."""
    return Decimal(value) if _DECIMAL.fullmatch(value) else None


_decimal_of = lru_cache(maxsize=READ_KEPT)(_decimal_text)


def integer(value: str, what: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise Bad(f"{what} is not a whole number")
    return int(value)


NM1 = Used(*range(1, 10))
N3 = Used(1, 2)
N4 = Used(1, 2, 3, 4, 7)
PRV = Used(1, 2, 3)
REF = Used(1, 2)
DMG = Used(1, 2, 3)
PAT = Used(1, 5, 6, 7, 8, 9)
HL = Used(1, 2, 3, 4)
DTP = Used(1, 2, 3)


PATIENT_NAMES = frozenset({"IL", "QC"})
"""NM101 of a subscriber and of a patient: their names and member IDs are read each time,
never remembered (a worker keeps no patient's name from file to file, and each is read
once or twice a file anyway)."""


def entity_name(seg: Segment) -> EntityName:
    """NM101-NM109 (NM110-NM112 are not used in 837P); a provider's, payer's or
    submitter's name is remembered, a subscriber's or patient's is not."""
    elements = seg.elements
    if len(elements) > 1 and elements[1] in PATIENT_NAMES:
        return _entity_name(seg)
    return _party_name(seg)


def _entity_name(seg: Segment) -> EntityName:
    e = NM1.elements(seg)
    return EntityName(
        entity_identifier_code=e[1], entity_type_qualifier=e[2] or None,
        last_or_organization_name=e[3] or None, first_name=e[4] or None,
        middle_name=e[5] or None, name_prefix=e[6] or None, name_suffix=e[7] or None,
        identification_code_qualifier=e[8] or None, identification_code=e[9] or None,
    )


_party_name = remembered(_NAMES)(_entity_name)


def street(seg: Segment) -> Street:
    e = N3.elements(seg)
    return e[1] or None, e[2] or None


def place(seg: Segment) -> Place:
    e = N4.elements(seg)
    return e[1] or None, e[2] or None, e[3] or None, e[4] or None, e[7] or None


@remembered(_TAXONOMIES)
def taxonomy(seg: Segment) -> ProviderTaxonomy:
    e = PRV.elements(seg)
    return ProviderTaxonomy(
        provider_code=e[1], reference_identification_qualifier=e[2] or None,
        taxonomy_code=e[3] or None,
    )


def reference(seg: Segment) -> ReferenceId:
    e = REF.elements(seg)
    return ReferenceId(qualifier=e[1], value=e[2] or None)


def reference_value(seg: Segment) -> str:
    return REF.elements(seg)[2]


def demographics(seg: Segment) -> Demographics:
    e = DMG.elements(seg)
    if e[1] != "D8":
        raise Bad("DMG01 must be D8")
    return Demographics(
        birth_date=ccyymmdd(e[2], "DMG02") if e[2] else None, gender_code=e[3] or None
    )


def patient_information(seg: Segment) -> PatientInformation:
    e = PAT.elements(seg)
    if bool(e[5]) != bool(e[6]) or e[5] not in ("", "D8"):
        raise Bad("PAT05 must be D8 exactly when PAT06 is present")
    return PatientInformation(
        individual_relationship_code=e[1] or None,
        death_date=ccyymmdd(e[6], "PAT06") if e[6] else None,
        unit_or_basis_for_measurement_code=e[7] or None,
        patient_weight=decimal(e[8], "PAT08") if e[8] else None,
        pregnancy_indicator=e[9] or None,
    )


def hierarchical_level(seg: Segment) -> HierarchicalLevel:
    e = HL.elements(seg)
    if not e[1] or not e[3]:
        raise Bad("HL01 and HL03 are required")
    return HierarchicalLevel(
        id=e[1], parent_id=e[2] or None, level_code=e[3], child_code=e[4] or None
    )


def date_period(seg: Segment) -> tuple[str, date, date | None]:
    """DTP01 qualifier with a D8 date or an RD8 range."""
    _, qualifier, form, value = DTP.elements(seg)[:4]
    if not qualifier:
        raise Bad("DTP01 is required")
    if form == "D8":
        return qualifier, ccyymmdd(value, "DTP03"), None
    if form == "RD8":
        start, dash, end = value.partition("-")
        if not dash:
            raise Bad("DTP03 is not a CCYYMMDD-CCYYMMDD range")
        return qualifier, ccyymmdd(start, "DTP03"), ccyymmdd(end, "DTP03")
    raise Bad("DTP02 must be D8 or RD8")


NOT_DIAGNOSIS_HI = frozenset(("BG", "BP", "BO", "ABR", "BBR", "ABJ", "BJ"))
"""First HI qualifiers that mark condition, anesthesia or other non-diagnosis HIs."""


def is_diagnosis_hi(seg: Segment) -> bool:
    return seg.component(1, 1) not in NOT_DIAGNOSIS_HI


@remembered(_PERIODS)
def date_model(seg: Segment) -> DatePeriod:
    """The DTP as a `DatePeriod` (`date_period`)."""
    qualifier, start, end = date_period(seg)
    return DatePeriod(qualifier=qualifier, start=start, end=end)


@remembered(_DIAGNOSES)
def diagnoses(seg: Segment) -> tuple[Diagnosis, ...]:
    """HI01-HI12: qualifier and code of each composite, in order (ICD-9 BK/BF kept)."""
    elements = seg.elements
    last = len(elements) - 1
    while last > 0 and not elements[last]:
        last -= 1
    if last > 12:
        raise Bad("HI carries more than 12 diagnosis codes")
    found = []
    for position in range(1, last + 1):
        parts = composite(seg, position, 2)
        parts += [""] * (2 - len(parts))
        found.append(Diagnosis(qualifier=parts[0], code=parts[1]))
    return tuple(found)
