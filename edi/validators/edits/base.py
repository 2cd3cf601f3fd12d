"""Front-end edits as data: a small named rule with an id, a version and a SNIP level.

An edit reads one parsed claim and yields zero or more `ClaimFinding`s; a claim with
any finding is rejected as a whole on the 277CA, and the other claims of the file go
on. Edits are pure: what they need beyond the claim (the file's receipt date, the
code sets, the payer's policies) comes in an `EditContext`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from edi.claim_status import ClaimFinding, Entity, Location, StatusCategory
from edi.claims import ParsedClaim, ServiceLine
from edi.payer import PAYER_ID
from edi.validators.codesets import (
    DEFAULT_PREVENTIVE_PEDIATRIC_POLICY,
    CodeSetRegistry,
    PreventivePediatricPolicy,
    default_registry,
)
from edi.validators.npi import is_valid_npi


@dataclass(frozen=True)
class EditContext:
    """What the edits know besides the claim."""

    received: date
    """The file's receipt date (not the run date)."""
    code_sets: CodeSetRegistry = field(default_factory=default_registry)
    preventive_pediatric: PreventivePediatricPolicy = DEFAULT_PREVENTIVE_PEDIATRIC_POLICY
    payer_id: str = PAYER_ID


Check = Callable[["Edit", ParsedClaim, EditContext], Iterable[ClaimFinding]]


@dataclass(frozen=True)
class Edit:
    """One front-end rule and the 277CA codes it may answer with."""

    id: str
    version: int
    snip_level: int
    title: str
    emits: tuple[str, ...]
    """``category:status[:entity]`` values this edit can produce (for docs/edits.md)."""
    check: Check

    def run(self, claim: ParsedClaim, context: EditContext) -> list[ClaimFinding]:
        return list(self.check(self, claim, context))

    def finding(
        self,
        category: StatusCategory,
        status_codes: tuple[str, ...],
        entity: Entity | None,
        location: Location,
        sentence: str,
        code_set: str | None = None,
    ) -> ClaimFinding:
        return ClaimFinding(
            edit_id=self.id, edit_version=self.version, snip_level=self.snip_level,
            category=category, status_codes=status_codes, entity=entity,
            location=location, sentence=sentence, code_set=code_set,
        )


REGISTRY: list[Edit] = []


def edit(
    id: str, *, version: int, snip: int, title: str, emits: tuple[str, ...]
) -> Callable[[Check], Check]:
    """Register a check function as an edit (in declaration order)."""

    def register(check: Check) -> Check:
        if any(e.id == id for e in REGISTRY):
            raise ValueError(f"edit {id} is registered twice")
        REGISTRY.append(Edit(id, version, snip, title, emits, check))
        return check

    return register


def service_dates(line: ServiceLine, claim: ParsedClaim) -> tuple[date | None, date | None]:
    """A line's service date range, falling back to the claim's DTP*472."""
    if line.service_date is not None:
        return line.service_date.start, line.service_date.through
    claim_date = claim.claim.date("472")
    if claim_date is not None:
        return claim_date.start, claim_date.through
    return None, None


def claim_service_range(claim: ParsedClaim) -> tuple[date | None, date | None]:
    """The earliest and latest date of service of a claim."""
    starts: list[date] = []
    ends: list[date] = []
    for line in claim.claim.lines:
        start, end = service_dates(line, claim)
        if start is not None and end is not None:
            starts.append(start)
            ends.append(end)
    if not starts:
        claim_date = claim.claim.date("472")
        if claim_date is None:
            return None, None
        return claim_date.start, claim_date.through
    return min(starts), max(ends)


def patient_birth_date(claim: ParsedClaim) -> date | None:
    """The patient's DMG birth date: 2010CA when a patient loop exists, else 2010BA."""
    demographics = (claim.patient.demographics if claim.patient is not None
                    else claim.subscriber.demographics)
    return demographics.birth_date if demographics is not None else None


def patient_entity(claim: ParsedClaim) -> tuple[Entity, str]:
    """The patient's entity code and loop (QC in 2010CA, IL when the subscriber is)."""
    if claim.patient is not None:
        return Entity.PATIENT, "2010CA"
    return Entity.SUBSCRIBER, "2010BA"


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def npi_finding(e: Edit, npi: str | None, entity: Entity, loop: str, line: int | None,
                who: str) -> ClaimFinding | None:
    """A provider's NPI (NM109 of ``loop``) missing (A6:562) or failing the check digit
    (A7:562), else None."""
    if not npi:
        return e.finding(StatusCategory.MISSING, ("562",), entity,
                         Location(loop, "NM1", "NM109", line),
                         f"The {who} must be identified by an NPI (NM108 = XX).")
    if not is_valid_npi(npi):
        return e.finding(StatusCategory.INVALID, ("562",), entity,
                         Location(loop, "NM1", "NM109", line),
                         f"The {who}'s NPI fails the NPI check digit.")
    return None
