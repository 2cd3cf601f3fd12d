"""CMS place-of-service codes (X12 element 1331: 2300 CLM05-1, 2400 SV105).

Source: the CMS "Place of Service Code Set" page
(https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set),
read through two copies that agree code for code: the HL7 Terminology code system
``CMSPlaceofServiceCodes`` (HL7/UTG ``cs-CMS-PlaceofServiceCodes.xml``, 52 concepts,
expansion version 20240502) and pyx12's ``map/codes.xml`` code set ``pos`` ("code
source 237"). The CMS page itself was not fetched in this pass.

Assigned: 01-27, 31-34, 41-42, 49-58, 60-62, 65-66, 71-72, 81, 99 (52 codes). The newest
are 27 Outreach Site/Street (effective October 1, 2023) and 66 PACE Center (2024).
Unassigned: 00, 28-30, 35-40, 43-48, 59, 63-64, 67-70, 73-80, 82-98.

Validity here does not depend on the date of service; a code CMS adds later is added
to `PlaceOfService` with its effective date in the docstring.
"""

from __future__ import annotations

from enum import StrEnum


class PlaceOfService(StrEnum):
    """CMS place-of-service codes (element 1331), named after the CMS descriptions."""

    PHARMACY = "01"
    TELEHEALTH_OTHER_THAN_PATIENT_HOME = "02"
    SCHOOL = "03"
    HOMELESS_SHELTER = "04"
    INDIAN_HEALTH_SERVICE_FREE_STANDING = "05"
    INDIAN_HEALTH_SERVICE_PROVIDER_BASED = "06"
    TRIBAL_638_FREE_STANDING = "07"
    TRIBAL_638_PROVIDER_BASED = "08"
    PRISON_CORRECTIONAL_FACILITY = "09"
    TELEHEALTH_IN_PATIENT_HOME = "10"
    OFFICE = "11"
    HOME = "12"
    ASSISTED_LIVING_FACILITY = "13"
    GROUP_HOME = "14"
    MOBILE_UNIT = "15"
    TEMPORARY_LODGING = "16"
    WALK_IN_RETAIL_HEALTH_CLINIC = "17"
    WORKSITE = "18"
    OFF_CAMPUS_OUTPATIENT_HOSPITAL = "19"
    URGENT_CARE_FACILITY = "20"
    INPATIENT_HOSPITAL = "21"
    ON_CAMPUS_OUTPATIENT_HOSPITAL = "22"
    EMERGENCY_ROOM_HOSPITAL = "23"
    AMBULATORY_SURGICAL_CENTER = "24"
    BIRTHING_CENTER = "25"
    MILITARY_TREATMENT_FACILITY = "26"
    OUTREACH_SITE_STREET = "27"
    SKILLED_NURSING_FACILITY = "31"
    NURSING_FACILITY = "32"
    CUSTODIAL_CARE_FACILITY = "33"
    HOSPICE = "34"
    AMBULANCE_LAND = "41"
    AMBULANCE_AIR_OR_WATER = "42"
    INDEPENDENT_CLINIC = "49"
    FEDERALLY_QUALIFIED_HEALTH_CENTER = "50"
    INPATIENT_PSYCHIATRIC_FACILITY = "51"
    PSYCHIATRIC_FACILITY_PARTIAL_HOSPITALIZATION = "52"
    COMMUNITY_MENTAL_HEALTH_CENTER = "53"
    INTERMEDIATE_CARE_FACILITY_INTELLECTUAL_DISABILITIES = "54"
    RESIDENTIAL_SUBSTANCE_ABUSE_TREATMENT_FACILITY = "55"
    PSYCHIATRIC_RESIDENTIAL_TREATMENT_CENTER = "56"
    NON_RESIDENTIAL_SUBSTANCE_ABUSE_TREATMENT_FACILITY = "57"
    NON_RESIDENTIAL_OPIOID_TREATMENT_FACILITY = "58"
    MASS_IMMUNIZATION_CENTER = "60"
    COMPREHENSIVE_INPATIENT_REHABILITATION_FACILITY = "61"
    COMPREHENSIVE_OUTPATIENT_REHABILITATION_FACILITY = "62"
    END_STAGE_RENAL_DISEASE_TREATMENT_FACILITY = "65"
    PACE_CENTER = "66"
    PUBLIC_HEALTH_CLINIC = "71"
    RURAL_HEALTH_CLINIC = "72"
    INDEPENDENT_LABORATORY = "81"
    OTHER_PLACE_OF_SERVICE = "99"


PLACES_OF_SERVICE: frozenset[str] = frozenset(code.value for code in PlaceOfService)

# DOMAIN.md section 5: the places behavioral health services are usually billed from.
BEHAVIORAL_HEALTH_POS: frozenset[str] = frozenset(
    code.value
    for code in (
        PlaceOfService.TELEHEALTH_OTHER_THAN_PATIENT_HOME,
        PlaceOfService.TELEHEALTH_IN_PATIENT_HOME,
        PlaceOfService.OFFICE,
        PlaceOfService.HOME,
        PlaceOfService.PSYCHIATRIC_FACILITY_PARTIAL_HOSPITALIZATION,
        PlaceOfService.COMMUNITY_MENTAL_HEALTH_CENTER,
        PlaceOfService.RESIDENTIAL_SUBSTANCE_ABUSE_TREATMENT_FACILITY,
        PlaceOfService.PSYCHIATRIC_RESIDENTIAL_TREATMENT_CENTER,
        PlaceOfService.NON_RESIDENTIAL_SUBSTANCE_ABUSE_TREATMENT_FACILITY,
        PlaceOfService.NON_RESIDENTIAL_OPIOID_TREATMENT_FACILITY,
    )
)


def is_valid_place_of_service(code: str) -> bool:
    """Whether ``code`` is an assigned CMS place-of-service code (two digits, as sent)."""
    return code in PLACES_OF_SERVICE
