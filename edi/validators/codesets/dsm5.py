"""DSM-5-derived principal diagnosis and the preventive pediatric exception (DOMAIN.md 3.1).

Payer 87726 accepts a claim whose principal diagnosis (the first ``ABK`` in 2300 HI) is
a valid, billable ICD-10-CM code on the date of service **and** is DSM-5-derived. This
module answers the second half only; billability is `CodeSetRegistry.is_billable`.

`is_dsm5_derived` implements rules A and B as DOMAIN.md 3.1 writes them:

A. any code in F01-F99 (ICD-10-CM chapter 5);
B. the enumerated non-F codes DSM-5-TR uses: sleep-wake, medication-induced, the
   neurocognitive, elimination and "other" codes, maltreatment ``T74``/``T76`` with
   7th character ``A`` or ``D``, and the Z-code blocks; plus an etiological medical
   code (``G30``, ``G31``, ``G20``, ``G10``, ``G35``, ``B20``) listed first for a
   major or mild neurocognitive disorder, accepted only when a code in ``F01``-``F03``
   or ``F06.7x`` is also on the claim.

DOMAIN.md marks the B list (unverified) until compared with the DSM-5-TR coding update,
and ends the etiological list with an ellipsis; only the codes it names are here.
``G35`` is matched as a category because FY2026 split it into ``G35.A``-``G35.D``.
``x`` in DOMAIN.md (``G30.x``, ``Z69.x``) means the category and everything under it.

Rule C, the preventive pediatric exception, is `is_preventive_pediatric`: when a line is
such a service and the patient a child, any valid Z code is accepted as principal. The
procedure codes and the age limit are not in the seeds; `PreventivePediatricPolicy`
holds the DOMAIN.md defaults and can be replaced.

Codes are compared without dots, in upper case; both functions normalise their input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edi.validators.codesets.icd10 import normalize_code

_SLEEP_WAKE = frozenset(
    {
        "G4700", "G4709", "G4710", "G4719", "G4720", "G4721", "G4722", "G4723",
        "G4724", "G4726", "G4731", "G4733", "G4734", "G4735", "G4736", "G4737",
        "G47411", "G47419", "G47421", "G47429", "G4752", "G478", "G479",
        "G2581",  # restless legs syndrome
        "R063",  # Cheyne-Stokes breathing
    }
)  # fmt: skip

_MEDICATION_INDUCED = frozenset(
    {
        "G210", "G2111", "G2119", "G2401", "G2402", "G2409", "G251", "G2571", "G2579",
        "T43205A", "T43205D", "T43205S",  # antidepressant discontinuation syndrome
        "T50905A", "T50905D", "T50905S",  # other adverse effect of medication
    }
)  # fmt: skip

_NEUROCOGNITIVE = frozenset(
    {
        "R410",  # other specified or unspecified delirium
        "R419",  # unspecified neurocognitive disorder
        "G3184",  # DSM-5 mild NCD; F06.70/F06.71 since FY2023
    }
)

_ELIMINATION = frozenset({"N39498", "R32", "R159"})

_OTHER = frozenset(
    {
        "R4183",  # borderline intellectual functioning
        "R4181",  # age-related cognitive decline
        "E669",  # overweight or obesity
        "R4588",  # non-suicidal self-harm
        "T1491XA", "T1491XD", "T1491XS",  # suicide attempt
    }
)  # fmt: skip

# "Other conditions that may be a focus of clinical attention": single codes ...
_Z_CODES = frozenset({"Z72810", "Z72811", "Z729", "Z765", "Z0389"})
# ... and whole categories (Z55-Z65, Z69.x, Z70.x, Z71.x, Z75.x, Z91.x).
_Z_CATEGORIES = frozenset({f"Z{n}" for n in range(55, 66)} | {"Z69", "Z70", "Z71", "Z75", "Z91"})

_ENUMERATED = _SLEEP_WAKE | _MEDICATION_INDUCED | _NEUROCOGNITIVE | _ELIMINATION | _OTHER | _Z_CODES

_MALTREATMENT_CATEGORIES = ("T74", "T76")
_MALTREATMENT_ENCOUNTERS = ("A", "D")  # initial and subsequent; not S (sequela)

# Etiological medical codes coded first for a major or mild NCD: category prefixes.
_ETIOLOGICAL_PREFIXES = ("G30", "G31", "G20", "G10", "G35", "B20")
# The NCD code that must accompany them: F01-F03 or F06.7x.
_NCD_PREFIXES = ("F01", "F02", "F03", "F067")


def is_dsm5_derived(principal: str, all_codes: Sequence[str]) -> bool:
    """Whether ``principal`` is DSM-5-derived per DOMAIN.md 3.1 rules A and B.

    ``all_codes`` are the diagnosis codes on the claim (the principal may be among
    them); they matter only for an etiological medical code listed first, which needs
    an ``F01``-``F03`` or ``F06.7x`` code beside it. Billability is not checked here.
    """
    code = normalize_code(principal)
    if _is_chapter_5(code) or code in _ENUMERATED:
        return True
    if _is_maltreatment(code) or code[:3] in _Z_CATEGORIES:
        return True
    if code.startswith(_ETIOLOGICAL_PREFIXES):
        return any(normalize_code(other).startswith(_NCD_PREFIXES) for other in all_codes)
    return False


def _is_chapter_5(code: str) -> bool:
    """Rule A: a code in categories F01-F99."""
    digits = code[1:3]
    if code[:1] != "F" or len(digits) != 2 or not (digits.isascii() and digits.isdigit()):
        return False
    return digits != "00"


def _is_maltreatment(code: str) -> bool:
    """T74.x or T76.x with 7th character A or D (a full seven-character code)."""
    return (
        len(code) == 7
        and code.startswith(_MALTREATMENT_CATEGORIES)
        and code[6] in _MALTREATMENT_ENCOUNTERS
    )


@dataclass(frozen=True, slots=True)
class PreventivePediatricPolicy:
    """Which lines count as behavioral health preventive pediatric services (rule C).

    Defaults from DOMAIN.md 3.1 C, (unverified) and not in the seeds: CPT 99381-99384
    (new-patient preventive visits, infant to age 17), 99391-99394 (established-patient
    ones), 96110 (developmental screening), 96127 (brief emotional or behavioral
    assessment), for a patient younger than 18.
    """

    procedure_codes: frozenset[str] = frozenset(
        {"99381", "99382", "99383", "99384", "99391", "99392", "99393", "99394", "96110", "96127"}
    )
    age_limit_years: int = 18  # the patient must be younger than this


DEFAULT_PREVENTIVE_PEDIATRIC_POLICY = PreventivePediatricPolicy()


def is_preventive_pediatric(
    procedure_code: str,
    age_years: int,
    policy: PreventivePediatricPolicy = DEFAULT_PREVENTIVE_PEDIATRIC_POLICY,
) -> bool:
    """Whether a line with ``procedure_code`` for a patient aged ``age_years`` is rule C's.

    When it is, any valid Z code is acceptable as the principal diagnosis.
    """
    return age_years < policy.age_limit_years and (
        procedure_code.strip().upper() in policy.procedure_codes
    )
