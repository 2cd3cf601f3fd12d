"""External code sets as data (SNIP 5): ICD-10-CM by date of service, the DSM-5-derived
principal-diagnosis rule, CMS places of service, and procedure and modifier shapes.

Everything here is pure except the explicit loaders in `icd10` (`load_cms_order_file`,
`load_default_release`, `default_registry`, `CodeSetRegistry.from_directory`).
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
    DEFAULT_RELEASE_EFFECTIVE,
    DEFAULT_RELEASE_NAME,
    NO_RELEASE_LOADED,
    BillableCheck,
    CodeSetRegistry,
    CodeSetRelease,
    default_registry,
    load_cms_order_file,
    load_default_release,
    normalize_code,
    parse_cms_order_lines,
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

__all__ = [
    "BEHAVIORAL_HEALTH_POS",
    "DEFAULT_PREVENTIVE_PEDIATRIC_POLICY",
    "DEFAULT_RELEASE_EFFECTIVE",
    "DEFAULT_RELEASE_NAME",
    "NO_RELEASE_LOADED",
    "PLACES_OF_SERVICE",
    "BillableCheck",
    "CodeSetRegistry",
    "CodeSetRelease",
    "PlaceOfService",
    "PreventivePediatricPolicy",
    "ProcedureCodeKind",
    "default_registry",
    "is_dsm5_derived",
    "is_preventive_pediatric",
    "is_valid_place_of_service",
    "is_well_formed_modifier",
    "is_well_formed_procedure",
    "load_cms_order_file",
    "load_default_release",
    "normalize_code",
    "parse_cms_order_lines",
    "procedure_code_kind",
]
