"""Code sets as data: ICD-10-CM by date of service, DSM-5-derived principal, POS, CPT/HCPCS."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edi.claim_status import ClaimFinding
from edi.claims import DatePeriod, Diagnosis, ParsedClaim
from edi.parsers.claim837 import iter_claims
from edi.tokenizer import iter_segments
from edi.validators.codesets import (
    BEHAVIORAL_HEALTH_POS,
    FY2025_RELEASE_EFFECTIVE,
    FY2025_RELEASE_NAME,
    FY2026_RELEASE_EFFECTIVE,
    FY2026_RELEASE_NAME,
    NOT_DECIDED,
    PLACES_OF_SERVICE,
    CodeSetRegistry,
    CodeSetRelease,
    PreventivePediatricPolicy,
    ProcedureCodeKind,
    code_set_registry,
    default_registry,
    is_code_shaped,
    is_dsm5_derived,
    is_preventive_pediatric,
    is_valid_place_of_service,
    is_well_formed_modifier,
    is_well_formed_procedure,
    load_cms_order_file,
    load_fy2025_release,
    load_fy2026_release,
    packaged_registry,
    packaged_releases,
    parse_cms_order_lines,
    procedure_code_kind,
    registry_from_directory,
)
from edi.validators.codesets.icd10_files import (
    billable_codes_from_code_list,
    effective_date_from_file_name,
    package_code_list_path,
)
from edi.validators.edits import EDITS, EditContext
from edi.validators.edits.code_sets import NO_RELEASE_IN_FORCE
from tests.paths import FIXTURES

RELEASES = Path(__file__).resolve().parent / "data" / "codesets" / "releases"
FY2027_FILE = RELEASES / "icd10cm-order-2026-10-01.txt"
FY2028_FILE = RELEASES / "icd10cm-order-2027-10-01.txt"
IN_FY2026 = date(2026, 3, 15)
LAST_DAY_OF_FY2026 = date(2026, 9, 30)
FIRST_DAY_OF_FY2027 = date(2026, 10, 1)
FY2027_FROM_CMS_NAME = "ICD-10-CM FY2027 effective 2026-10-01 (icd10cm_order_2027.txt)"

# An excerpt of the CMS FY2027 order file (effective 2026-10-01), written by hand from the
# published FY2027 changes: I42.0 (dilated cardiomyopathy) and I49.8 are expanded into
# I42.00-I42.09 and I49.81-I49.89, and F64.A is new. The FY2026 side of each difference is
# in the packaged data (I42.0 and I49.8 billable, I42.00, I49.81 and F64.A absent).
FY2027_EXCERPT = [
    ("F64", "0", "Gender identity disorders"),
    ("F640", "1", "Transsexualism"),
    ("F649", "1", "Gender identity disorder, unspecified"),
    ("F64A", "1", "Gender identity disorder, in remission"),
    ("I42", "0", "Cardiomyopathy"),
    ("I420", "0", "Dilated cardiomyopathy"),
    ("I4200", "1", "Dilated cardiomyopathy, unspecified"),
    ("I4201", "1", "Familial-genetic dilated cardiomyopathy"),
    ("I4209", "1", "Other dilated cardiomyopathy"),
    ("I498", "0", "Other specified cardiac arrhythmias"),
    ("I4981", "1", "Brugada syndrome"),
    ("I4982", "1", "Ventricular bigeminy"),
    ("I4989", "1", "Other specified cardiac arrhythmias not elsewhere classified"),
]


def order_line(order: int, code: str, flag: str, description: str = "description") -> str:
    return f"{order:05d} {code:<7} {flag} {description[:60]:<60} {description}"


def write_order_file(path: Path, records: list[tuple[str, str, str]]) -> Path:
    lines = [order_line(n, code, flag, text) for n, (code, flag, text) in enumerate(records, 1)]
    path.write_text("\r\n".join(lines) + "\r\n")  # CMS files end their lines with CR LF
    return path


def with_fy2027_excerpt(folder: Path) -> CodeSetRegistry:
    write_order_file(folder / "icd10cm_order_2027.txt", FY2027_EXCERPT)
    return registry_from_directory(folder)


def synthetic_registry() -> CodeSetRegistry:
    """Two synthetic releases only: FY2027 (2026-10-01) and FY2028 (2027-10-01)."""
    return CodeSetRegistry(
        [
            load_cms_order_file(FY2028_FILE, "synthetic FY2028", date(2027, 10, 1)),
            load_cms_order_file(FY2027_FILE, "synthetic FY2027", date(2026, 10, 1)),
        ]
    )


def release(name: str, effective: date, *codes: str) -> CodeSetRelease:
    return CodeSetRelease(name, effective, frozenset(codes))


def one_claim_with(diagnosis: str, service_date: date | None) -> ParsedClaim:
    """The first claim of a valid fixture with one principal diagnosis and one date of
    service on every line (or none at all)."""
    with (FIXTURES / "ack" / "valid-two-claims.837").open("rb") as stream:
        claim = next(iter_claims(iter_segments(stream)))
    dated = None if service_date is None else DatePeriod(qualifier="472", start=service_date)
    lines = tuple(
        line.model_copy(update={"service_date": dated, "diagnosis_code_pointers": (1,)})
        for line in claim.claim.lines
    )
    header = claim.claim.model_copy(
        update={
            "diagnoses": (Diagnosis(qualifier="ABK", code=diagnosis),),
            "dates": tuple(d for d in claim.claim.dates if d.qualifier != "472"),
            "lines": lines,
        }
    )
    return claim.model_copy(update={"claim": header})


def icd10_findings(claim: ParsedClaim, received: date,
                   code_sets: CodeSetRegistry | None = None) -> list[ClaimFinding]:
    check = next(e for e in EDITS if e.id == "SNIP5-ICD10CM")
    return check.run(claim, EditContext(received=received,
                                        code_sets=code_sets or packaged_registry()))


# ICD-10-CM: the packaged releases


def test_the_category_F32_is_not_billable_but_its_leaf_F32A_is() -> None:
    # Given the default registry and a date of service in FY2026
    registry = default_registry()
    # When F32 (a category) and F32A (depression, unspecified) are checked
    # Then only the leaf is billable, and the FY2026 release decided both
    assert registry.is_billable("F32", IN_FY2026) == (False, FY2026_RELEASE_NAME)
    assert registry.is_billable("F32A", IN_FY2026) == (True, FY2026_RELEASE_NAME)


def test_a_dotted_code_F41_1_is_read_as_F411_and_is_billable() -> None:
    # Given a code written with its dot and in lower case
    # When it is checked on a FY2026 date of service
    billable, release_name = default_registry().is_billable("f41.1", IN_FY2026)
    # Then it is the billable code F411
    assert billable
    assert release_name == FY2026_RELEASE_NAME


def test_a_code_that_does_not_exist_is_not_billable() -> None:
    assert not default_registry().is_billable("F999", IN_FY2026).billable


def test_the_packaged_releases_are_fy2025_and_fy2026_with_cms_published_totals() -> None:
    # Given the releases that need no configuration
    fy2025, fy2026 = packaged_releases()
    # Then each is in force from the first day of its fiscal year
    assert (fy2025.name, fy2025.effective) == (FY2025_RELEASE_NAME, date(2024, 10, 1))
    assert (fy2026.name, fy2026.effective) == (FY2026_RELEASE_NAME, date(2025, 10, 1))
    assert fy2025.effective == FY2025_RELEASE_EFFECTIVE
    assert fy2026.effective == FY2026_RELEASE_EFFECTIVE
    # And each holds CMS's published number of codes for its fiscal year
    assert len(fy2025) == 74_260
    assert len(fy2026) == 74_719
    # And FY2026 is FY2025 with CMS's 487 new codes and 28 deleted codes
    assert len(fy2026.codes - fy2025.codes) == 487
    assert len(fy2025.codes - fy2026.codes) == 28
    for one in (fy2025, fy2026):
        assert all(code == code.upper() and "." not in code for code in one.codes)
    # And they are built once per process
    assert load_fy2025_release() is fy2025 and load_fy2026_release() is fy2026
    assert packaged_registry() is packaged_registry()
    assert packaged_registry().releases == (fy2025, fy2026)
    # And the process's registry adds what EDI_CODE_SETS_DIR names (the tests' FY2027)
    assert default_registry() is default_registry()
    assert default_registry().releases[:2] == (fy2025, fy2026)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the package's read_text
def test_the_fy2026_release_agrees_with_simple_icd_10_cm_is_leaf_on_every_code() -> None:
    # Given the package's own tree (importing it parses its XML: about two seconds)
    simple_icd_10_cm = pytest.importorskip("simple_icd_10_cm")
    codes = [
        code
        for code in simple_icd_10_cm.get_all_codes(with_dots=False)
        if not code.isdigit() and "-" not in code  # chapters and blocks are not codes
    ]
    # When each code's leaf status is asked of the package
    leaves = {code for code in codes if simple_icd_10_cm.is_leaf(code)}
    # Then the set read straight from the code list is exactly the set of leaves
    assert load_fy2026_release().codes == leaves
    assert len(codes) > 90_000


def test_the_code_list_reader_finds_leaves_from_depth_first_order() -> None:
    # Given a chapter, a block, a category with children and a lone category
    lines = ["5", "F30-F39", "F32", "F32.0", "F32.A", "F34", "F34.1", "F39", ""]
    # Then the leaves are the codes not followed by one of their children
    assert billable_codes_from_code_list(lines) == {"F320", "F32A", "F341", "F39"}


def test_the_package_code_list_is_found_without_importing_the_package() -> None:
    assert package_code_list_path().name == "code-list-April-2026.txt"


# ICD-10-CM: FY2025 against FY2026 (differences read from the two packaged releases)


@pytest.mark.parametrize("code", ["E11.A", "G35.A", "C50.A0"])
def test_a_code_added_in_fy2026_is_rejected_for_may_2025_and_accepted_from_october(
    code: str,
) -> None:
    # Given E11.A (type 2 diabetes in remission), G35.A (relapsing-remitting MS) and
    # C50.A0 (inflammatory breast cancer), all new on 1 October 2025
    registry = default_registry()
    # Then a May 2025 date of service is judged by FY2025, which does not have them
    assert registry.is_billable(code, date(2025, 5, 15)) == (False, FY2025_RELEASE_NAME)
    assert registry.is_billable(code, date(2025, 9, 30)) == (False, FY2025_RELEASE_NAME)
    # And from 1 October 2025 FY2026 accepts them
    assert registry.is_billable(code, date(2025, 10, 1)) == (True, FY2026_RELEASE_NAME)


@pytest.mark.parametrize("code", ["G35", "R10.2", "Z91.011"])
def test_a_code_expanded_in_fy2026_is_accepted_for_may_2025_and_rejected_from_october(
    code: str,
) -> None:
    # Given G35 (multiple sclerosis), R10.2 (pelvic and perineal pain) and Z91.011 (milk
    # allergy), billable in FY2025 and split into more specific codes in FY2026
    registry = default_registry()
    assert registry.is_billable(code, date(2025, 5, 15)) == (True, FY2025_RELEASE_NAME)
    assert registry.is_billable(code, date(2025, 10, 1)) == (False, FY2026_RELEASE_NAME)


def test_the_registry_remembers_answers_by_code_and_date_and_forgets_past_its_bound() -> None:
    # Given a registry of two releases where G35 is billable in FY2025 only
    registry = CodeSetRegistry([
        CodeSetRelease("old", date(2024, 10, 1), frozenset({"G35"})),
        CodeSetRelease("new", date(2025, 10, 1), frozenset({"G35A"}))])
    # Then asking again, on either date, gives each date its own release's answer
    for _round in range(2):
        assert registry.is_billable("G35", date(2025, 5, 15)) == (True, "old")
        assert registry.is_billable("G35", date(2025, 10, 1)) == (False, "new")
        assert registry.is_billable("g35.a", date(2025, 10, 1)) == (True, "new")
    # And a flood of made-up codes (hostile input) never holds more than the bound
    from edi.validators.codesets import icd10

    for number in range(icd10._ANSWERS_KEPT + 10):
        assert registry.is_billable(f"Z{number}", date(2025, 5, 15)) == (False, "old")
    assert len(registry._answers) <= icd10._ANSWERS_KEPT
    assert registry.is_billable("G35", date(2025, 5, 15)) == (True, "old")


# ICD-10-CM: dates of service no loaded release covers (nothing decides: fail closed)


def test_no_release_decides_a_2024_date_of_service_before_the_oldest_loaded() -> None:
    # Given the packaged releases, the oldest being FY2025 (from 2024-10-01)
    registry = packaged_registry()
    # When a made-up code and a real FY2025 code are checked for May 2024
    # Then neither is answered: no loaded release is in force on that date
    assert registry.is_billable("F99.99X", date(2024, 5, 1)) == NOT_DECIDED
    assert registry.is_billable("F41.1", date(2024, 5, 1)) == (None, None)
    assert registry.release_for(date(2024, 5, 1)) is None


def test_without_fy2027_no_release_decides_a_date_from_1_october_2026() -> None:
    # Given only the packaged releases: FY2026 governs up to 2026-09-30
    registry = packaged_registry()
    assert registry.is_billable("I42.0", LAST_DAY_OF_FY2026) == (True, FY2026_RELEASE_NAME)
    # When I42.0 (which FY2027 expands) is checked for the first day of FY2027
    # Then FY2026 does not answer for a year it does not govern
    assert registry.is_billable("I42.0", FIRST_DAY_OF_FY2027) == NOT_DECIDED
    assert registry.release_for(FIRST_DAY_OF_FY2027) is None


def test_a_date_in_a_gap_between_two_releases_is_decided_by_neither() -> None:
    # Given FY2025 and FY2027 but no FY2026
    registry = CodeSetRegistry([release("FY2025", date(2024, 10, 1), "A000"),
                                release("FY2027", date(2026, 10, 1), "A001")])
    # Then a FY2026 date is decided by no release, and each side still by its own
    assert registry.is_billable("A000", date(2025, 12, 1)) == NOT_DECIDED
    assert registry.is_billable("A001", date(2026, 8, 1)) == NOT_DECIDED
    assert registry.is_billable("A000", date(2025, 9, 30)) == (True, "FY2025")
    assert registry.is_billable("A001", date(2026, 10, 1)) == (True, "FY2027")


def test_a_code_is_known_when_any_loaded_release_holds_it_whatever_the_date() -> None:
    # Given FY2026 codes and the FY2025 codes FY2026 deleted or expanded
    registry = default_registry()
    # Then a code of either release is known, a made-up or header code is not
    assert registry.is_known("G35")  # FY2025 only: expanded in FY2026
    assert registry.is_known("g35.a")  # FY2026 only
    assert not registry.is_known("F99.99X")
    assert not registry.is_known("F32")  # a category, billable in no release
    # And a flood of made-up codes never holds more than the memo's bound
    from edi.validators.codesets import icd10

    for number in range(icd10._ANSWERS_KEPT + 10):
        assert not registry.is_known(f"#{number}")
    assert len(registry._known) <= icd10._ANSWERS_KEPT


@pytest.mark.parametrize(("code", "shaped"), [
    ("F41.1", True), ("f411", True), ("F01.511", True), ("Z00.121", True), ("U071", True),
    ("F4", False), ("F41.12345", False), ("41.1", False), ("FF41", False), ("F4-1", False),
    ("", False),
])  # fmt: skip
def test_an_icd10cm_code_is_a_letter_a_digit_then_one_to_five_letters_or_digits(
    code: str, shaped: bool
) -> None:
    assert is_code_shaped(code) is shaped


# ICD-10-CM on the 277CA (SNIP5-ICD10CM): only a code that is no code at all


def test_a_code_no_loaded_release_holds_is_rejected_naming_the_release_in_force() -> None:
    # Given a claim whose principal diagnosis F99.99X was made up, served in March 2026
    findings = icd10_findings(one_claim_with("F9999X", IN_FY2026), received=date(2026, 4, 1))
    # Then the 277CA rejects it as an invalid principal diagnosis (A7:254)
    assert [finding.codes for finding in findings] == ["A7:254"]
    assert findings[0].code_set == FY2026_RELEASE_NAME
    assert findings[0].sentence == (
        "The principal diagnosis is not a billable ICD-10-CM code for the date of service "
        f"2026-03-15 ({FY2026_RELEASE_NAME}) nor in any other release loaded.")


def test_a_code_valid_in_another_fiscal_year_passes_the_front_end_for_adjudication() -> None:
    # Given G35, billable in FY2025 and expanded in FY2026, on a FY2026 date of service
    # Then the 277CA does not reject it: adjudication denies its lines CO-146 (DOMAIN 3)
    assert icd10_findings(one_claim_with("G35", IN_FY2026), received=date(2026, 4, 1)) == []
    # And a code that exists in no release and is not a leaf anywhere is still rejected
    assert [f.codes for f in icd10_findings(one_claim_with("F32", IN_FY2026),
                                            received=date(2026, 4, 1))] == ["A7:254"]


def test_on_a_date_no_release_governs_a_code_shaped_diagnosis_is_left_to_adjudication() -> None:
    # Given a date of service in FY2027, which no shipped release governs, and a code
    # no loaded release holds (it may be new in FY2027, as F64.A is)
    claim = one_claim_with("F64A", FIRST_DAY_OF_FY2027)
    # Then the 277CA does not reject it: adjudication pends its lines until FY2027 is loaded
    assert icd10_findings(claim, received=date(2026, 10, 20)) == []


def test_on_a_date_no_release_governs_what_is_no_icd10cm_code_at_all_is_rejected() -> None:
    findings = icd10_findings(one_claim_with("4111", FIRST_DAY_OF_FY2027),
                              received=date(2026, 10, 20))
    assert [finding.codes for finding in findings] == ["A7:254"]
    assert findings[0].code_set == NO_RELEASE_IN_FORCE
    assert "is not an ICD-10-CM code (a letter, a digit" in findings[0].sentence


def test_a_claim_without_a_date_of_service_is_checked_on_its_receipt_date() -> None:
    # Given a claim with a made-up principal diagnosis and no DTP*472 anywhere
    claim = one_claim_with("F9999X", None)
    # When the edit runs for a file received on 2025-05-02
    findings = icd10_findings(claim, received=date(2025, 5, 2))
    # Then the code is still checked, against the release in force on the receipt date
    assert [finding.code_set for finding in findings] == [FY2025_RELEASE_NAME]
    assert "receipt date (the claim has no date of service) 2025-05-02" in findings[0].sentence


def test_a_registry_without_any_release_is_refused() -> None:
    with pytest.raises(ValueError, match="no ICD-10-CM release"):
        CodeSetRegistry([])


# ICD-10-CM: FY2026 against FY2027 (a CMS order file from a directory)


@pytest.mark.parametrize("code", ["I42.0", "I49.8"])
def test_a_code_fy2027_expands_is_valid_to_30_september_2026_and_invalid_from_1_october(
    code: str, tmp_path: Path
) -> None:
    # Given the FY2027 order file loaded beside the packaged releases
    registry = with_fy2027_excerpt(tmp_path)
    # When the expanded code is checked on each side of 1 October 2026
    # Then FY2026 accepts it on the last day and FY2027 rejects it from the first
    assert registry.is_billable(code, LAST_DAY_OF_FY2026) == (True, FY2026_RELEASE_NAME)
    assert registry.is_billable(code, FIRST_DAY_OF_FY2027) == (False, FY2027_FROM_CMS_NAME)


@pytest.mark.parametrize("code", ["I42.00", "I49.81", "F64.A"])
def test_a_code_new_in_fy2027_is_invalid_to_30_september_2026_and_valid_from_1_october(
    code: str, tmp_path: Path
) -> None:
    registry = with_fy2027_excerpt(tmp_path)
    assert registry.is_billable(code, LAST_DAY_OF_FY2026) == (False, FY2026_RELEASE_NAME)
    assert registry.is_billable(code, FIRST_DAY_OF_FY2027) == (True, FY2027_FROM_CMS_NAME)


def test_a_cms_order_file_in_a_directory_is_loaded_by_its_fiscal_year(tmp_path: Path) -> None:
    # Given a directory as CMS ships it: the order file, the codes file and a note
    write_order_file(tmp_path / "icd10cm_order_2027.txt", FY2027_EXCERPT)
    (tmp_path / "icd10cm_codes_2027.txt").write_text("I4200   Dilated cardiomyopathy\n")
    (tmp_path / "README.txt").write_text("not an order file, ignored\n")
    # When the registry is built from it (as claims process --code-sets DIR does)
    registry = code_set_registry(tmp_path)
    # Then FY2027 is added after the packaged releases, in force from 2026-10-01
    assert [(one.name, one.effective) for one in registry.releases] == [
        (FY2025_RELEASE_NAME, date(2024, 10, 1)),
        (FY2026_RELEASE_NAME, date(2025, 10, 1)),
        (FY2027_FROM_CMS_NAME, date(2026, 10, 1)),
    ]
    # And it holds only the codes flagged 1 (valid for HIPAA-covered transactions)
    flagged_1 = "F640 F649 F64A I4200 I4201 I4209 I4981 I4982 I4989"
    assert registry.releases[-1].codes == set(flagged_1.split())
    # And with no directory the packaged releases are used as they are
    assert code_set_registry(None) is default_registry()


@pytest.mark.parametrize(
    ("file_name", "effective"),
    [("icd10cm_order_2027.txt", date(2026, 10, 1)), ("icd10cm-order-2025.txt", date(2024, 10, 1)),
     ("ICD10CM_ORDER_2027.TXT", date(2026, 10, 1)),
     ("icd10cm-order-2026-04-01.txt", date(2026, 4, 1))],
)  # fmt: skip
def test_an_order_file_takes_effect_on_the_date_its_name_gives(
    file_name: str, effective: date
) -> None:
    assert effective_date_from_file_name(file_name) == effective


def test_an_april_update_governs_from_1_april_to_the_end_of_its_fiscal_year(
    tmp_path: Path,
) -> None:
    # Given an operator's April 2026 update of FY2026 beside the packaged releases
    write_order_file(tmp_path / "icd10cm-order-2026-04-01.txt", [("F411", "1", "GAD")])
    registry = registry_from_directory(tmp_path)
    april = registry.releases[-1]
    assert april.name == "ICD-10-CM FY2026 effective 2026-04-01 (icd10cm-order-2026-04-01.txt)"
    # Then the packaged FY2026 governs until 31 March and the update from 1 April
    assert registry.release_for(date(2026, 3, 31)) == load_fy2026_release()
    assert registry.release_for(date(2026, 4, 1)) is april
    assert registry.release_for(LAST_DAY_OF_FY2026) is april
    # And from 1 October 2026 it decides nothing: FY2027 is not loaded
    assert registry.is_billable("F41.1", FIRST_DAY_OF_FY2027) == NOT_DECIDED


def test_the_release_in_force_is_the_newest_on_or_before_the_date_of_service() -> None:
    # Given releases effective 2026-10-01 and 2027-10-01
    registry = synthetic_registry()

    def in_force(service_date: date) -> str | None:
        one = registry.release_for(service_date)
        return None if one is None else one.name

    # Then each date of service falls under the newest release already in force
    assert in_force(date(2026, 9, 30)) is None
    assert in_force(date(2026, 10, 1)) == "synthetic FY2027"
    assert in_force(date(2027, 9, 30)) == "synthetic FY2027"
    assert in_force(date(2027, 10, 1)) == "synthetic FY2028"
    assert in_force(date(2028, 9, 30)) == "synthetic FY2028"
    assert in_force(date(2028, 10, 1)) is None
    assert [one.name for one in registry.releases] == ["synthetic FY2027", "synthetic FY2028"]


def test_a_code_deleted_in_a_newer_release_is_valid_before_its_effective_date_only() -> None:
    # Given F43.10 billable in FY2027 and expanded into F43.100/F43.109 in FY2028
    registry = synthetic_registry()
    # When F4310 is checked the day before and the day FY2028 takes effect
    before = registry.is_billable("F4310", date(2027, 9, 30))
    after = registry.is_billable("F4310", date(2027, 10, 1))
    # Then it is valid before, invalid after, and each answer names its release
    assert before == (True, "synthetic FY2027")
    assert after == (False, "synthetic FY2028")
    # And the new code is valid only from FY2028
    assert not registry.is_billable("F43100", date(2027, 9, 30)).billable
    assert registry.is_billable("F43100", date(2027, 10, 1)).billable


def test_the_order_loader_keeps_only_codes_flagged_1() -> None:
    one = load_cms_order_file(FY2027_FILE, "synthetic FY2027", date(2026, 10, 1))
    assert one.codes == {"F320", "F32A", "F411", "F4310", "F4311", "F4312", "Z00121", "Z00129"}
    assert "F32" not in one.codes  # header flag 0


def test_a_registry_from_a_directory_adds_its_order_files_to_the_packaged_releases() -> None:
    # Given a directory with FY2027 and FY2028 order files named by their dates
    # When the registry is built from it
    registry = CodeSetRegistry.from_directory(RELEASES)
    # Then FY2025 and FY2026 (packaged) come first and each file governs from its date
    assert [one.effective for one in registry.releases] == [
        date(2024, 10, 1),
        date(2025, 10, 1),
        date(2026, 10, 1),
        date(2027, 10, 1),
    ]
    assert registry.is_billable("J449", LAST_DAY_OF_FY2026) == (True, FY2026_RELEASE_NAME)
    billable, release_name = registry.is_billable("J449", FIRST_DAY_OF_FY2027)
    assert not billable  # not in the tiny synthetic file
    assert release_name == "ICD-10-CM FY2027 effective 2026-10-01 (icd10cm-order-2026-10-01.txt)"


def test_an_order_file_dated_like_a_packaged_release_replaces_it(tmp_path: Path) -> None:
    # Given an operator's own FY2026 October file, effective 2025-10-01 like the package's
    write_order_file(tmp_path / "icd10cm_order_2026.txt", [("F411", "1", "GAD")])
    # When the registry is built from that directory
    registry = registry_from_directory(tmp_path)
    # Then the file takes FY2026's place and FY2025 stays
    assert [one.name for one in registry.releases] == [
        FY2025_RELEASE_NAME,
        "ICD-10-CM FY2026 effective 2025-10-01 (icd10cm_order_2026.txt)",
    ]
    assert registry.releases[-1].codes == {"F411"}


def test_a_directory_read_again_is_parsed_once_until_a_file_changes(tmp_path: Path) -> None:
    import os

    order = write_order_file(tmp_path / "icd10cm_order_2027.txt", FY2027_EXCERPT)
    first = registry_from_directory(tmp_path)
    assert registry_from_directory(tmp_path) is first
    write_order_file(order, [("F411", "1", "GAD")])
    os.utime(order, ns=(1, order.stat().st_mtime_ns + 1_000_000_000))
    changed = registry_from_directory(tmp_path)
    assert changed is not first and changed.releases[-1].codes == {"F411"}


def test_two_order_files_taking_effect_the_same_day_are_refused(tmp_path: Path) -> None:
    write_order_file(tmp_path / "icd10cm_order_2027.txt", FY2027_EXCERPT)
    write_order_file(tmp_path / "icd10cm-order-2026-10-01.txt", FY2027_EXCERPT)
    with pytest.raises(ValueError, match="both take effect on 2026-10-01"):
        registry_from_directory(tmp_path)


@pytest.mark.parametrize(
    "file_name",
    ["icd10cm-order-2026-13-01.txt", "icd10cm_order_27.txt", "icd10cm_order_april_2026.txt"],
)
def test_an_order_file_whose_name_gives_no_date_is_refused(file_name: str, tmp_path: Path) -> None:
    write_order_file(tmp_path / file_name, [("F411", "1", "GAD")])
    with pytest.raises(ValueError, match=r"valid date|named neither"):
        registry_from_directory(tmp_path, defaults=[load_fy2026_release()])


def test_a_missing_release_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        code_set_registry(tmp_path / "absent")


def test_two_releases_with_the_same_effective_date_are_refused() -> None:
    first = release("a", date(2026, 10, 1), "F411")
    second = release("b", date(2026, 10, 1), "F411")
    with pytest.raises(ValueError, match="2026-10-01"):
        CodeSetRegistry([first, second])


def test_a_line_that_is_not_an_order_record_is_refused_with_its_line_number() -> None:
    # Given an order file whose second record is the "codes" file layout instead
    lines = [order_line(1, "F411", "1"), "F4310   Post-traumatic stress disorder"]
    # Then the parser names the line
    with pytest.raises(ValueError, match="line 2"):
        parse_cms_order_lines(lines, "icd10cm_order_2027.txt")


def test_an_order_file_without_billable_codes_is_refused() -> None:
    with pytest.raises(ValueError, match="no billable code"):
        parse_cms_order_lines([order_line(1, "F41", "0"), ""])


def test_a_procedure_code_file_is_not_taken_for_a_diagnosis_order_file() -> None:
    # ICD-10-PCS order files share the layout, but PCS codes start with a digit
    with pytest.raises(ValueError, match="line 1"):
        parse_cms_order_lines([order_line(1, "0016070", "1")])


def test_claims_process_refuses_a_code_set_directory_that_does_not_exist(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from workers.cli import app

    claim_file = tmp_path / "in.837"
    claim_file.write_text("ISA~")
    result = CliRunner().invoke(
        app,
        [
            "process",
            str(claim_file),
            "--out",
            str(tmp_path / "out"),
            "--code-sets",
            str(tmp_path / "absent"),
        ],
    )
    assert result.exit_code == 2
    assert "--code-sets" in result.output


def test_the_worker_setting_EDI_CODE_SETS_DIR_names_the_order_file_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers.service import ServiceSettings

    monkeypatch.setenv("EDI_CODE_SETS_DIR", str(tmp_path))
    assert ServiceSettings().code_sets_dir == tmp_path


# DSM-5-derived principal diagnosis (DOMAIN.md 3.1)


@pytest.mark.parametrize("code", ["F411", "F01511", "F99", "F32.A", "f43.10"])
def test_any_chapter_5_code_is_dsm5_derived(code: str) -> None:
    assert is_dsm5_derived(code, [code])


@pytest.mark.parametrize("code", ["F00", "F1", "FA1", "F"])
def test_something_shaped_unlike_F01_to_F99_is_not_taken_for_chapter_5(code: str) -> None:
    assert not is_dsm5_derived(code, [code])


@pytest.mark.parametrize(
    "code",
    [
        "G47.00",  # insomnia
        "G47.33",  # obstructive sleep apnea
        "G25.81",  # restless legs
        "R06.3",  # Cheyne-Stokes breathing
        "G21.11",  # neuroleptic-induced parkinsonism
        "T43.205D",  # antidepressant discontinuation, subsequent
        "T50.905A",  # other adverse effect of medication
        "R41.0",  # delirium
        "G31.84",  # mild neurocognitive disorder (DSM-5)
        "R32",  # enuresis
        "R15.9",  # encopresis
        "E66.9",  # overweight or obesity
        "R45.88",  # non-suicidal self-harm
        "T14.91XA",  # suicide attempt
    ],
)
def test_an_enumerated_non_F_code_is_dsm5_derived_on_its_own(code: str) -> None:
    assert is_dsm5_derived(code, [code])


@pytest.mark.parametrize("code", ["T74.01XA", "T74.11XD", "T76.21XA", "T76.02XD"])
def test_maltreatment_with_7th_character_A_or_D_is_dsm5_derived(code: str) -> None:
    assert is_dsm5_derived(code, [code])


@pytest.mark.parametrize("code", ["T74.01XS", "T76.21XS", "T74.1", "T7411X"])
def test_maltreatment_as_sequela_or_without_a_7th_character_is_not(code: str) -> None:
    assert not is_dsm5_derived(code, [code])


@pytest.mark.parametrize(
    "code",
    ["Z55.0", "Z59.00", "Z63.0", "Z65.9", "Z69.010", "Z70.9", "Z71.89", "Z72.810", "Z72.811",
     "Z72.9", "Z75.3", "Z76.5", "Z91.19", "Z03.89"],
)  # fmt: skip
def test_a_z_code_for_a_condition_of_clinical_attention_is_dsm5_derived(code: str) -> None:
    assert is_dsm5_derived(code, [code])


@pytest.mark.parametrize("code", ["Z54", "Z66", "Z72.0", "Z72.820", "Z76.4", "Z03.81", "Z00.121"])
def test_a_z_code_outside_the_listed_blocks_is_not(code: str) -> None:
    assert not is_dsm5_derived(code, [code])


@pytest.mark.parametrize(
    ("principal", "neurocognitive"),
    [("G30.1", "F02.80"), ("G31.09", "F01.50"), ("G20.A1", "F06.70"), ("G10", "F02.811"),
     ("G35.A", "F03.90"), ("B20", "F06.71")],
)  # fmt: skip
def test_an_etiological_code_first_is_accepted_when_a_neurocognitive_F_code_follows(
    principal: str, neurocognitive: str
) -> None:
    # Given Alzheimer's (or another listed etiology) coded first, the NCD code second
    # Then the principal is DSM-5-derived
    assert is_dsm5_derived(principal, [principal, neurocognitive])


@pytest.mark.parametrize("others", [[], ["G30.1"], ["F06.30"], ["F32.A", "Z63.0"]])
def test_an_etiological_code_first_without_F01_F03_or_F06_7x_on_the_claim_is_not(
    others: list[str],
) -> None:
    assert not is_dsm5_derived("G30.1", ["G30.1", *others])


@pytest.mark.parametrize("code", ["J44.9", "E66.01", "I10", "S06.0X0A", "G47.50", ""])
def test_any_other_code_is_not_dsm5_derived(code: str) -> None:
    assert not is_dsm5_derived(code, [code, "F41.1"])


# Preventive pediatric exception (DOMAIN.md 3.1 C)


@pytest.mark.parametrize("procedure", ["99381", "99384", "99391", "99394", "96110", "96127"])
def test_a_listed_preventive_service_for_a_child_is_preventive_pediatric(procedure: str) -> None:
    assert is_preventive_pediatric(procedure, 7)


def test_a_preventive_service_for_an_18_year_old_is_not() -> None:
    assert is_preventive_pediatric("99384", 17)
    assert not is_preventive_pediatric("99384", 18)


@pytest.mark.parametrize("procedure", ["99385", "99395", "90837", "96111"])
def test_a_service_outside_the_list_is_not_preventive_pediatric(procedure: str) -> None:
    assert not is_preventive_pediatric(procedure, 7)


def test_the_preventive_pediatric_policy_can_be_replaced_but_not_changed() -> None:
    # Given a plan that counts patients up to 20 and only 96127
    policy = PreventivePediatricPolicy(procedure_codes=frozenset({"96127"}), age_limit_years=21)
    # Then a 20-year-old's 96127 counts and 99384 does not
    assert is_preventive_pediatric("96127", 20, policy)
    assert not is_preventive_pediatric("99384", 10, policy)
    # And a policy is a frozen value
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.age_limit_years = 30  # type: ignore[misc]


# Places of service


@pytest.mark.parametrize("code", ["01", "02", "10", "11", "27", "49", "58", "66", "81", "99"])
def test_an_assigned_cms_place_of_service_is_valid(code: str) -> None:
    assert is_valid_place_of_service(code)


@pytest.mark.parametrize("code", ["00", "28", "30", "35", "43", "59", "63", "67", "80", "98"])
def test_an_unassigned_place_of_service_number_is_not_valid(code: str) -> None:
    assert not is_valid_place_of_service(code)


@pytest.mark.parametrize("code", ["1", "011", "", "1 ", "AA"])
def test_a_place_of_service_not_written_as_two_digits_is_not_valid(code: str) -> None:
    assert not is_valid_place_of_service(code)


def test_the_place_of_service_list_has_the_52_cms_codes_and_holds_the_behavioral_ones() -> None:
    assert len(PLACES_OF_SERVICE) == 52
    behavioral = {"02", "10", "11", "12", "52", "53", "55", "56", "57", "58"}  # DOMAIN.md 5
    assert behavioral == BEHAVIORAL_HEALTH_POS
    assert BEHAVIORAL_HEALTH_POS <= PLACES_OF_SERVICE


# Procedure codes and modifiers

digits = st.text(alphabet="0123456789", min_size=4, max_size=4)
hcpcs_letters = st.sampled_from(sorted("ABCDEGHJKLMPQRSTUV"))


@given(digits, st.sampled_from("0123456789"))
def test_five_digits_are_a_cpt_category_i_code(four: str, first: str) -> None:
    assert procedure_code_kind(first + four) is ProcedureCodeKind.CPT_CATEGORY_I


@given(digits, st.sampled_from(["F", "T", "U", "M"]))
def test_four_digits_and_a_cpt_letter_are_a_cpt_code(four: str, suffix: str) -> None:
    assert is_well_formed_procedure(four + suffix)


@given(hcpcs_letters, digits)
def test_a_hcpcs_letter_and_four_digits_are_a_hcpcs_level_ii_code(letter: str, four: str) -> None:
    assert procedure_code_kind(letter + four) is ProcedureCodeKind.HCPCS_LEVEL_II


@given(st.sampled_from(["F", "I", "N", "O", "W", "X", "Y", "Z"]), digits)
def test_a_letter_cms_does_not_use_for_hcpcs_is_not_a_procedure_code(
    letter: str, four: str
) -> None:
    assert not is_well_formed_procedure(letter + four)


@given(st.text(max_size=8).filter(lambda text: len(text) != 5))
def test_a_procedure_code_not_five_characters_long_is_not_well_formed(text: str) -> None:
    assert not is_well_formed_procedure(text)


@pytest.mark.parametrize(
    ("code", "kind"),
    [("90837", ProcedureCodeKind.CPT_CATEGORY_I), ("1040F", ProcedureCodeKind.CPT_CATEGORY_II),
     ("0591T", ProcedureCodeKind.CPT_CATEGORY_III), ("0001U", ProcedureCodeKind.CPT_PLA),
     ("H0031", ProcedureCodeKind.HCPCS_LEVEL_II), ("T1017", ProcedureCodeKind.HCPCS_LEVEL_II)],
)  # fmt: skip
def test_familiar_procedure_codes_have_their_family(code: str, kind: ProcedureCodeKind) -> None:
    assert procedure_code_kind(code) is kind


@pytest.mark.parametrize(
    "code", ["h0031", "9083", "908377", "1040f", "0591X", "H003A", "９０８３７"]
)
def test_near_miss_procedure_codes_are_not_well_formed(code: str) -> None:
    assert not is_well_formed_procedure(code)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=2, max_size=2))
def test_two_upper_case_letters_or_digits_are_a_modifier(modifier: str) -> None:
    assert is_well_formed_modifier(modifier)


@pytest.mark.parametrize("modifier", ["25", "59", "95", "HO", "U5", "GT", "XU"])
def test_familiar_modifiers_are_well_formed(modifier: str) -> None:
    assert is_well_formed_modifier(modifier)


@pytest.mark.parametrize("modifier", ["", "2", "255", "ho", "H-", " 5", "5\n", "Ｕ5"])
def test_a_modifier_not_two_upper_case_letters_or_digits_is_not_well_formed(modifier: str) -> None:
    assert not is_well_formed_modifier(modifier)


def test_a_long_code_is_answered_each_time_and_never_remembered() -> None:
    """65,536 remembered codes of 64 KB would hold 4 GB: a text longer than an ICD-10-CM
    code is answered (not billable) but not kept; a real code is kept once."""
    registry = CodeSetRegistry([load_fy2026_release()])
    long_code = "F" + "4" * 70_000
    assert not registry.is_billable(long_code, IN_FY2026).billable
    assert registry.is_billable("F41.1", IN_FY2026).billable
    assert [code for code, _day in registry._answers] == ["F41.1"]


@pytest.mark.parametrize("written", ["F41.1", "f411", "F32.A"])
def test_a_diagnosis_with_a_decimal_point_or_lower_case_is_rejected_as_the_tr3_asks(
    written: str,
) -> None:
    # Given a code the registry would read (F41.1 is F411), written as the TR3 says not to
    findings = icd10_findings(one_claim_with(written, IN_FY2026), received=date(2026, 4, 1))
    # Then the 277CA rejects it and says how the code list writes codes
    assert [finding.codes for finding in findings] == ["A7:254"]
    assert "no decimal point, no blank, capital letters" in findings[0].sentence
    # And the same code written as the list writes it is accepted
    assert icd10_findings(one_claim_with("F411", IN_FY2026), received=date(2026, 4, 1)) == []
