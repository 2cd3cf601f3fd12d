"""External code sets as data (SNIP 5): ICD-10-CM by date of service, the DSM-5-derived
principal-diagnosis rule, CMS places of service, and procedure and modifier shapes.

Everything here is pure except the loaders in `icd10_files` (the packaged FY2025 and
FY2026 ICD-10-CM releases, `default_registry`, and CMS order files read from a directory
the caller names: `registry_from_directory`, `code_set_registry`).
See docs/code-sets.md for sources, versions and how to load a new ICD-10-CM release.
"""

from __future__ import annotations

from edi.validators.codesets.dsm5 import (
    DEFAULT_PREVENTIVE_PEDIATRIC_POLICY,
    PreventivePediatricPolicy,
    is_dsm5_derived,
    is_preventive_pediatric,
)
from edi.validators.codesets.icd10 import (
    NOT_DECIDED,
    BillableCheck,
    CodeSetRegistry,
    CodeSetRelease,
    fiscal_year,
    is_code_shaped,
    normalize_code,
)
from edi.validators.codesets.icd10_files import (
    FY2025_RELEASE_EFFECTIVE,
    FY2025_RELEASE_NAME,
    FY2026_RELEASE_EFFECTIVE,
    FY2026_RELEASE_NAME,
    code_set_registry,
    default_registry,
    load_cms_order_file,
    load_fy2025_release,
    load_fy2026_release,
    packaged_registry,
    packaged_releases,
    parse_cms_order_lines,
    registry_from_directory,
)
from edi.validators.codesets.places_of_service import (
    BEHAVIORAL_HEALTH_POS,
    PLACES_OF_SERVICE,
    PlaceOfService,
    is_valid_place_of_service,
)
from edi.validators.codesets.procedures import (
    ProcedureCodeKind,
    is_well_formed_modifier,
    is_well_formed_procedure,
    procedure_code_kind,
)
from edi.validators.codesets.states import is_valid_state

__all__ = [
    "BEHAVIORAL_HEALTH_POS",
    "DEFAULT_PREVENTIVE_PEDIATRIC_POLICY",
    "FY2025_RELEASE_EFFECTIVE",
    "FY2025_RELEASE_NAME",
    "FY2026_RELEASE_EFFECTIVE",
    "FY2026_RELEASE_NAME",
    "NOT_DECIDED",
    "PLACES_OF_SERVICE",
    "BillableCheck",
    "CodeSetRegistry",
    "CodeSetRelease",
    "PlaceOfService",
    "PreventivePediatricPolicy",
    "ProcedureCodeKind",
    "code_set_registry",
    "default_registry",
    "fiscal_year",
    "is_code_shaped",
    "is_dsm5_derived",
    "is_preventive_pediatric",
    "is_valid_place_of_service",
    "is_valid_state",
    "is_well_formed_modifier",
    "is_well_formed_procedure",
    "load_cms_order_file",
    "load_fy2025_release",
    "load_fy2026_release",
    "normalize_code",
    "packaged_registry",
    "packaged_releases",
    "parse_cms_order_lines",
    "procedure_code_kind",
    "registry_from_directory",
]
