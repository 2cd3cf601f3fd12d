"""ICD-10-CM code sets keyed by effective date: which codes are billable on a date of service.

A claim's diagnoses are checked against the code set in force on the date of service
(DTP*472), not on the day the claim arrives: a code valid in one fiscal year may be
deleted or expanded in the next (DOMAIN.md section 3).

Releases
    A `CodeSetRelease` is one CMS release: a name, the first date of service it governs,
    and its billable codes (the leaves of the classification, "valid for HIPAA-covered
    transactions"), upper case, without the dot. ICD-10-CM is released per federal
    fiscal year, which starts on October 1, so a release governs dates of service from
    its effective date until the next release takes effect or its fiscal year ends,
    whichever comes first (FY2026, effective 2025-10-01, governs up to 2026-09-30).

In force, or nothing decides
    `CodeSetRegistry.is_billable` answers from the release in force on the date of
    service, and only from it. When no loaded release is in force (a date before the
    oldest release, after the newest one's fiscal year, or in a gap between two),
    nothing can decide: the answer says so (``billable`` None) and the caller fails
    closed. The front end (`edi.validators.edits.code_sets`) then rejects only what
    cannot be an ICD-10-CM code at all (`is_code_shaped`), and adjudication pends the
    line until the release in force is loaded (DIAGNOSIS-CODE-SET): a code deleted
    or new in a release we do not have is neither paid nor refused on a guess.

Known, or not at all
    DOMAIN.md section 3 separates a code that does not exist (the 277CA rejects it,
    A7:254/255) from one valid in another fiscal year but not on the date of service
    (adjudication denies the line CO-146). `CodeSetRegistry.is_known` says whether a
    code is billable in any loaded release.

This module is pure. The releases come from `icd10_files` (the packaged FY2025 and
FY2026 sets, and CMS order files from a directory the caller names).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

from edi import bounds

_ANSWERS_KEPT = 65_536
_KEPT_CODE = 8
"""The longest code `is_billable` remembers an answer for (an ICD-10-CM code with its
dot): a longer text is answered each time, so 65,536 texts of 64 KB cannot be held."""


def normalize_code(code: str) -> str:
    """``code`` as the code sets hold it: no surrounding blanks, no dot, upper case."""
    return code.strip().replace(".", "").upper()


CODE_SHAPE = re.compile(r"[A-Z][0-9][0-9A-Z]{1,5}")
"""An ICD-10-CM code without its dot: a letter, a digit, then one to five letters or
digits (three to seven characters)."""


def is_code_shaped(code: str) -> bool:
    """Whether ``code`` (read as `normalize_code` reads it) has an ICD-10-CM code's shape,
    whether or not any release holds it."""
    return CODE_SHAPE.fullmatch(normalize_code(code)) is not None


def fiscal_year(day: date) -> int:
    """The federal fiscal year of ``day``: FY2027 runs from 2026-10-01 to 2027-09-30."""
    return day.year + 1 if day.month >= 10 else day.year


@dataclass(frozen=True, slots=True)
class CodeSetRelease:
    """One ICD-10-CM release: its billable codes and the first date of service it governs."""

    name: str
    effective: date
    codes: frozenset[str] = field(repr=False)

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def fiscal_year(self) -> int:
        """The fiscal year the release belongs to (an April update belongs to the FY it
        updates: April 2026 is FY2026)."""
        return fiscal_year(self.effective)

    @property
    def fiscal_year_end(self) -> date:
        """The first day after the release's fiscal year (October 1)."""
        return date(self.fiscal_year, 10, 1)


class BillableCheck(NamedTuple):
    """Whether a code is billable on a date, and the release in force that decided.

    ``billable`` and ``release`` are None when no loaded release is in force on the
    date: nothing decided, and the caller must not take that as either answer.
    """

    billable: bool | None
    release: str | None


NOT_DECIDED = BillableCheck(None, None)


class CodeSetRegistry:
    """ICD-10-CM releases ordered by effective date; answers for a date of service."""

    __slots__ = ("_answers", "_effective", "_ends", "_known", "_releases")

    def __init__(self, releases: Iterable[CodeSetRelease]) -> None:
        ordered = tuple(sorted(releases, key=lambda release: release.effective))
        if not ordered:
            raise ValueError("no ICD-10-CM release: diagnoses could not be checked")
        for earlier, later in pairwise(ordered):
            if earlier.effective == later.effective:
                raise ValueError(
                    f"two releases take effect on {later.effective.isoformat()}: "
                    f"{earlier.name!r} and {later.name!r}"
                )
        self._releases = ordered
        self._effective = [release.effective for release in ordered]
        # A release governs until the next one takes effect or its fiscal year ends.
        self._ends = [
            min(release.fiscal_year_end, following.effective)
            for release, following in pairwise(ordered)
        ] + [ordered[-1].fiscal_year_end]
        self._answers: dict[tuple[str, date], BillableCheck] = {}
        """`is_billable`'s answers: a file names few codes and dates, on many claims."""
        self._known: dict[str, bool] = {}
        """`is_known`'s answers, bounded the same way."""

    @property
    def releases(self) -> tuple[CodeSetRelease, ...]:
        """The releases, oldest first."""
        return self._releases

    def release_for(self, service_date: date) -> CodeSetRelease | None:
        """The release in force on ``service_date``, or None when no loaded one is."""
        index = bisect.bisect_right(self._effective, service_date) - 1
        if index >= 0 and service_date < self._ends[index]:
            return self._releases[index]
        return None

    def is_billable(self, code: str, service_date: date) -> BillableCheck:
        """Whether ``code`` is a billable ICD-10-CM code on ``service_date``, by the
        release in force on that date (`NOT_DECIDED` when no loaded release is).

        ``code`` is compared without its dot, in upper case (``F41.1`` is ``F411``).
        """
        answers = self._answers
        answer = answers.get((code, service_date))
        if answer is None:
            release = self.release_for(service_date)
            answer = (NOT_DECIDED if release is None
                      else BillableCheck(normalize_code(code) in release.codes, release.name))
            if len(code) <= _KEPT_CODE:  # bounded: hostile input names endless codes
                bounds.remember(answers, (code, service_date), answer, _ANSWERS_KEPT)
        return answer

    def is_known(self, code: str) -> bool:
        """Whether ``code`` is billable in any loaded release, whatever the date."""
        known = self._known.get(code)
        if known is None:
            normal = normalize_code(code)
            known = any(normal in release.codes for release in self._releases)
            if len(code) <= _KEPT_CODE:
                bounds.remember(self._known, code, known, _ANSWERS_KEPT)
        return known

    @classmethod
    def from_directory(
        cls, directory: Path | str, *, defaults: Iterable[CodeSetRelease] | None = None
    ) -> CodeSetRegistry:
        """The packaged releases plus the CMS order files in ``directory`` (reads files:
        see `icd10_files.registry_from_directory`)."""
        from edi.validators.codesets.icd10_files import registry_from_directory

        return registry_from_directory(directory, defaults=defaults)
