"""Code sets as data: ICD-10-CM by date of service, DSM-5-derived principal, POS, CPT/HCPCS."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edi.validators.codesets import (
    BEHAVIORAL_HEALTH_POS,
    DEFAULT_RELEASE_EFFECTIVE,
    DEFAULT_RELEASE_NAME,
    NO_RELEASE_LOADED,
    PLACES_OF_SERVICE,
    CodeSetRegistry,
    CodeSetRelease,
    PreventivePediatricPolicy,
    ProcedureCodeKind,
    default_registry,
    is_dsm5_derived,
    is_preventive_pediatric,
    is_valid_place_of_service,
    is_well_formed_modifier,
    is_well_formed_procedure,
    load_cms_order_file,
    load_default_release,
    parse_cms_order_lines,
    procedure_code_kind,
)
from edi.validators.codesets.icd10 import billable_codes_from_code_list, package_code_list_path

RELEASES = Path(__file__).resolve().parent / "data" / "codesets" / "releases"
FY2027_FILE = RELEASES / "icd10cm-order-2026-10-01.txt"
FY2028_FILE = RELEASES / "icd10cm-order-2027-10-01.txt"
IN_FY2026 = date(2026, 3, 15)


def order_line(order: int, code: str, flag: str, description: str = "description") -> str:
    return f"{order:05d} {code:<7} {flag} {description:<60} {description}"


def synthetic_registry() -> CodeSetRegistry:
    """Two synthetic releases only: FY2027 (2026-10-01) and FY2028 (2027-10-01)."""
    return CodeSetRegistry(
        [
            load_cms_order_file(FY2028_FILE, "synthetic FY2028", date(2027, 10, 1)),
            load_cms_order_file(FY2027_FILE, "synthetic FY2027", date(2026, 10, 1)),
        ]
    )


# ICD-10-CM: the default release


def test_the_category_F32_is_not_billable_but_its_leaf_F32A_is() -> None:
    # Given the default registry and a date of service in FY2026
    registry = default_registry()
    # When F32 (a category) and F32A (depression, unspecified) are checked
    # Then only the leaf is billable, and the FY2026 release decided both
    assert registry.is_billable("F32", IN_FY2026) == (False, DEFAULT_RELEASE_NAME)
    assert registry.is_billable("F32A", IN_FY2026) == (True, DEFAULT_RELEASE_NAME)


def test_a_dotted_code_F41_1_is_read_as_F411_and_is_billable() -> None:
    # Given a code written with its dot and in lower case
    # When it is checked on a FY2026 date of service
    billable, release = default_registry().is_billable("f41.1", IN_FY2026)
    # Then it is the billable code F411
    assert billable
    assert release == DEFAULT_RELEASE_NAME


def test_a_code_that_does_not_exist_is_not_billable() -> None:
    assert not default_registry().is_billable("F999", IN_FY2026).billable


def test_the_default_release_is_fy2026_in_force_from_1_october_2025() -> None:
    # Given the release built from simple_icd_10_cm's data
    release = load_default_release()
    # Then it is FY2026, effective on the first day of the fiscal year
    assert release.name == DEFAULT_RELEASE_NAME
    assert release.effective == DEFAULT_RELEASE_EFFECTIVE == date(2025, 10, 1)
    # And it holds tens of thousands of dotless upper-case billable codes
    assert len(release) > 70_000
    assert all(code == code.upper() and "." not in code for code in release.codes)
    # And it is built once per process
    assert load_default_release() is release
    assert default_registry() is default_registry()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the package's read_text
def test_the_default_release_agrees_with_simple_icd_10_cm_is_leaf_on_every_code() -> None:
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
    assert load_default_release().codes == leaves
    assert len(codes) > 90_000


def test_the_code_list_reader_finds_leaves_from_depth_first_order() -> None:
    # Given a chapter, a block, a category with children and a lone category
    lines = ["5", "F30-F39", "F32", "F32.0", "F32.A", "F34", "F34.1", "F39", ""]
    # Then the leaves are the codes not followed by one of their children
    assert billable_codes_from_code_list(lines) == {"F320", "F32A", "F341", "F39"}


def test_the_package_code_list_is_found_without_importing_the_package() -> None:
    assert package_code_list_path().name == "code-list-April-2026.txt"


def test_a_date_of_service_before_1_october_2025_is_accepted_because_no_release_is_loaded() -> None:
    # Given the default registry, which holds FY2026 only
    registry = default_registry()
    # When a code, even a category, is checked for 30 September 2025
    check = registry.is_billable("F32", date(2025, 9, 30))
    # Then it is accepted and the finding trail says no release was loaded
    assert check == (True, NO_RELEASE_LOADED)
    assert registry.release_for(date(2025, 9, 30)) is None


# ICD-10-CM: releases by effective date


def test_the_release_in_force_is_the_newest_on_or_before_the_date_of_service() -> None:
    # Given releases effective 2026-10-01 and 2027-10-01
    registry = synthetic_registry()

    def in_force(service_date: date) -> str | None:
        release = registry.release_for(service_date)
        return None if release is None else release.name

    # Then each date of service falls under the newest release already in force
    assert in_force(date(2026, 9, 30)) is None
    assert in_force(date(2026, 10, 1)) == "synthetic FY2027"
    assert in_force(date(2027, 9, 30)) == "synthetic FY2027"
    assert in_force(date(2027, 10, 1)) == "synthetic FY2028"
    assert [release.name for release in registry.releases] == [
        "synthetic FY2027",
        "synthetic FY2028",
    ]


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
    release = load_cms_order_file(FY2027_FILE, "synthetic FY2027", date(2026, 10, 1))
    assert release.codes == {"F320", "F32A", "F411", "F4310", "F4311", "F4312", "Z00121", "Z00129"}
    assert "F32" not in release.codes  # header flag 0


def test_a_registry_from_a_directory_adds_its_order_files_to_the_default() -> None:
    # Given a directory with FY2027 and FY2028 order files
    # When the registry is built from it
    registry = CodeSetRegistry.from_directory(RELEASES)
    # Then FY2026 (the default) governs until 2026-09-30 and each file from its date
    assert [release.effective for release in registry.releases] == [
        date(2025, 10, 1),
        date(2026, 10, 1),
        date(2027, 10, 1),
    ]
    assert registry.is_billable("J449", date(2026, 9, 30)) == (True, DEFAULT_RELEASE_NAME)
    billable, release = registry.is_billable("J449", date(2026, 10, 1))
    assert not billable  # not in the tiny synthetic file
    assert release == "ICD-10-CM effective 2026-10-01 (icd10cm-order-2026-10-01.txt)"


def test_an_order_file_dated_like_the_default_replaces_it(tmp_path: Path) -> None:
    # Given an operator's own FY2026 file, effective 2025-10-01 like the default
    (tmp_path / "icd10cm-order-2025-10-01.txt").write_text(order_line(1, "F411", "1") + "\n")
    (tmp_path / "README.txt").write_text("not an order file, ignored\n")
    # When the registry is built from that directory
    registry = CodeSetRegistry.from_directory(tmp_path)
    # Then the file is the only release
    assert len(registry.releases) == 1
    assert registry.releases[0].codes == {"F411"}


def test_an_order_file_named_without_a_valid_date_is_refused(tmp_path: Path) -> None:
    (tmp_path / "icd10cm-order-2026-13-01.txt").write_text(order_line(1, "F411", "1") + "\n")
    with pytest.raises(ValueError, match="no valid date"):
        CodeSetRegistry.from_directory(tmp_path, default=load_default_release())


def test_a_missing_release_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        CodeSetRegistry.from_directory(tmp_path / "absent")


def test_two_releases_with_the_same_effective_date_are_refused() -> None:
    first = CodeSetRelease("a", date(2026, 10, 1), frozenset({"F411"}))
    second = CodeSetRelease("b", date(2026, 10, 1), frozenset({"F411"}))
    with pytest.raises(ValueError, match="2026-10-01"):
        CodeSetRegistry([first, second])


def test_a_line_that_is_not_an_order_record_is_refused_with_its_line_number() -> None:
    # Given an order file whose second record is the "codes" file layout instead
    lines = [order_line(1, "F411", "1"), "F4310   Post-traumatic stress disorder"]
    # Then the parser names the line
    with pytest.raises(ValueError, match="line 2"):
        parse_cms_order_lines(lines, "icd10cm-order-2026-10-01.txt")


def test_an_order_file_without_billable_codes_is_refused() -> None:
    with pytest.raises(ValueError, match="no billable code"):
        parse_cms_order_lines([order_line(1, "F41", "0"), ""])


def test_a_procedure_code_file_is_not_taken_for_a_diagnosis_order_file() -> None:
    # ICD-10-PCS order files share the layout, but PCS codes start with a digit
    with pytest.raises(ValueError, match="line 1"):
        parse_cms_order_lines([order_line(1, "0016070", "1")])


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
