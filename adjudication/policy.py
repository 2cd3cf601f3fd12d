"""Engine settings that are not reference data: thresholds and fall-backs, passed in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from adjudication.reference import LineOfBusiness, SupervisionPolicy

_DEFAULT_CORRECTION_DAYS = MappingProxyType({
    LineOfBusiness.COMMERCIAL: 180,
    LineOfBusiness.MEDICARE_ADVANTAGE: 180,
    LineOfBusiness.MEDICAID: 365,
})


@dataclass(frozen=True)
class EnginePolicy:
    """Thresholds of the engine, and what it assumes when reference data has no row."""

    pend_charge_ratio: Decimal = Decimal(10)
    """A line charging more than this many times its fee-schedule amount pends."""
    initial_filing_days: int = 90
    """Timely filing when no FilingLimit ``initial`` row applies (DOMAIN.md §1 row 2)."""
    correction_filing_days: Mapping[LineOfBusiness, int] = field(
        default_factory=lambda: _DEFAULT_CORRECTION_DAYS)
    """Correction window when no FilingLimit ``correction`` row applies (§1 row 6)."""
    supervision_modifier: str = "U5"
    """The modifier that marks a line billed under supervision."""
    supervised_license_key: str = "supervised"
    """The LicenseFactor ``license_level`` a compliant supervised (U5) line is priced at."""
    associate_license_key: str = "associate"
    pair_bypass_modifiers: frozenset[str] = frozenset({"59", "XE", "XS", "XP", "XU"})
    """Modifiers that mark a distinct service where a pair edit allows one (NCCI: 59
    and its X{EPSU} subsets)."""


DEFAULT_POLICY = EnginePolicy()


def default_supervision(lob: LineOfBusiness, state: str) -> SupervisionPolicy:
    """The supervision policy of a line of business when the data has no row for it.

    Medicare Advantage never permits supervisory billing (DOMAIN.md §1 row 11); the
    other lines allow it without extra requirements (priced at the clinician's level).
    """
    return SupervisionPolicy(
        effective=date.min, line_of_business=lob, state=state,
        allowed=lob is not LineOfBusiness.MEDICARE_ADVANTAGE, requires_supervisor=False,
        requires_modifier="", requires_medicaid_enrollment=False,
    )
