"""Reference data as a CSV directory: the loader's checks, and the shipped synthetic set."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from adjudication.errors import ReferenceDataError
from adjudication.reference import LineOfBusiness, ReferenceData
from adjudication.reference_csv import OPTIONAL_FILES, TABLES, format_reference, parse_reference
from edi.claims import ParsedClaim
from edi.parsers.claim837 import iter_claims
from edi.tokenizer import segments_from_bytes
from fixtures.generator import generate_837_text
from fixtures.reference_data import BENCH_FILES, render_reference
from fixtures.samples import SAMPLE_FILES
from fixtures.services import PROFILES
from fixtures.situations import ADDED_CODES
from workers.reference import SHIPPED_REFERENCE_DIRECTORY, load_reference_dir

ACK_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "ack" / "valid-two-claims.837"
C, M, MA = (LineOfBusiness.COMMERCIAL, LineOfBusiness.MEDICAID,
            LineOfBusiness.MEDICARE_ADVANTAGE)
DELIBERATELY_WITHOUT_FEE = {(C, "90840"), (M, "90840"), (MA, "90840"), (M, "90792")}


@cache
def shipped() -> ReferenceData:
    return load_reference_dir(SHIPPED_REFERENCE_DIRECTORY)


def minimal_files() -> dict[str, str]:
    """A small, consistent set: one member, one clinician, one code, a fee that changes."""
    return {
        "members.csv": "member_id,subscriber_id,relationship,last_name,first_name,birth_date,"
                       "gender,effective,termination\n"
                       "OBH000001-00,OBH000001,self,SAMPLE,ALEX,1985-04-12,F,2024-01-01,\n",
        "coverage.csv": "member_id,plan_id,line_of_business,state,effective,termination\n"
                        "OBH000001-00,COM-PPO-500,commercial,MA,2025-01-01,2025-06-30\n",
        "plans.csv": "plan_id,benefit_year,line_of_business,name,deductible,coinsurance_percent,"
                     "out_of_pocket_max,out_of_network_covered,effective,termination\n"
                     "COM-PPO-500,2025,commercial,PPO 500,500,20,3000,true,2025-01-01,"
                     "2025-12-31\n",
        "copays.csv": "plan_id,benefit_year,service_category,copay,effective,termination\n"
                      "COM-PPO-500,2025,psychotherapy,30,2025-01-01,2025-12-31\n",
        "service_categories.csv": "procedure_code,service_category,effective,termination\n"
                                  "90837,psychotherapy,2025-01-01,\n",
        "prior_auth.csv": "plan_id,service_category,effective,termination\n",
        "providers.csv": "npi,tin,name,entity_type,license_level,state,network_status,"
                         "medicaid_enrolled,supervisor_npi,effective,termination\n"
                         '1245319599,,"THERAPIST, JORDAN",1,LICSW,MA,in,true,,2024-01-01,\n',
        "fees.csv": "line_of_business,procedure_code,modifier,license_level,allowed_per_unit,"
                    "effective,termination\n"
                    "commercial,90837,,,160.00,2025-01-01,2025-06-30\n"
                    "commercial,90837,,,165.00,2025-07-01,\n",
        "license_factors.csv": "line_of_business,license_level,percent,effective,termination\n"
                               "commercial,LICSW,75,2025-01-01,\n",
        "authorizations.csv": "auth_number,member_id,provider_npi,procedure_codes,start,end,"
                              "units,effective,termination\n",
        "filing_limits.csv": "line_of_business,state,kind,days,effective,termination\n"
                             "commercial,*,initial,90,2024-01-01,\n",
        "supervision.csv": "line_of_business,state,allowed,requires_supervisor,"
                           "requires_modifier,requires_medicaid_enrollment,effective,termination\n"
                           "commercial,*,true,false,,false,2024-01-01,\n",
        "telehealth.csv": "line_of_business,place_of_service,modifier,procedure_codes,rate,"
                          "rate_percent,source,verified,effective,termination\n"
                          "commercial,10,95,,office,100,test,false,2024-01-01,\n",
    }


def problems_of(files: dict[str, str]) -> list[str]:
    with pytest.raises(ReferenceDataError) as raised:
        parse_reference(files)
    return [str(p) for p in raised.value.problems]


def claims_of(data: bytes) -> Iterator[ParsedClaim]:
    return iter_claims(segments_from_bytes(data))


def first_service_date(claim: ParsedClaim) -> date:
    return min(line.service_date.start for line in claim.claim.lines if line.service_date)


# -- the loader ------------------------------------------------------------------------------
def test_a_small_consistent_set_loads_and_an_optional_file_may_be_missing() -> None:
    # Given every required file and none of the optional ones
    files = minimal_files()
    assert {"past_claims.csv", "accumulators.csv", "payee_accounts.csv", "unit_limits.csv",
            "add_on_codes.csv", "procedure_pairs.csv", "cob_methods.csv",
            "other_coverage.csv", "oon_benefits.csv"} == OPTIONAL_FILES
    # When it is parsed
    data = parse_reference(files)
    # Then every row is there and the missing optional tables are empty
    assert len(data.members) == 1 and len(data.fees) == 2
    assert data.past_claims == () and data.accumulators == ()


def test_an_impossible_birth_date_names_file_line_and_column_but_not_the_value() -> None:
    # Given a second member whose birth date is not a date
    files = minimal_files()
    files["members.csv"] += "OBH000003-00,OBH000003,self,PRIVATE,PERSON,1985-02-30,F,2024-01-01,\n"
    # When it is parsed
    problems = problems_of(files)
    # Then the one problem names members.csv, line 3, column birth_date, and no value
    assert len(problems) == 1
    assert problems[0].startswith("members.csv line 3, column birth_date: ")
    for secret in ("1985-02-30", "PRIVATE", "PERSON", "OBH000003"):
        assert secret not in problems[0]


def test_a_file_with_many_bad_rows_lists_the_first_25_and_counts_the_rest() -> None:
    # Given 40 members whose birth dates are no dates
    files = minimal_files()
    files["members.csv"] += "".join(
        f"OBH1{n:05d}-00,OBH1{n:05d},self,PERSON,ALEX,1985-02-30,F,2024-01-01,\n"
        for n in range(40))
    # When it is parsed
    with pytest.raises(ReferenceDataError) as raised:
        parse_reference(files)
    # Then all 40 are kept for a caller, and the message lists the first 25 by place, in
    # file order, then says how many more there are
    assert len(raised.value.problems) == 40
    heading, *listed = str(raised.value).splitlines()
    assert heading == "40 problems in the reference data"
    assert [line.split(",")[0] for line in listed[:25]] == [
        f"members.csv line {n}" for n in range(3, 28)]
    assert listed[25:] == ["... and 15 more"]


def test_a_birth_date_in_another_format_and_an_empty_name_are_reported_without_values() -> None:
    # Given a member with a US-style birth date and one without a last name
    files = minimal_files()
    files["members.csv"] += ("OBH000003-00,OBH000003,self,SECRETNAME,ALEX,04/12/1985,F,"
                             "2024-01-01,\n"
                             "OBH000004-00,OBH000004,self,,RIVERSECRET,1979-03-01,M,2024-01-01,\n")
    # When it is parsed
    with pytest.raises(ReferenceDataError) as raised:
        parse_reference(files)
    message = str(raised.value)
    # Then both rows are reported by line and column, and no cell appears in the message
    assert "members.csv line 3, column birth_date: must be an ISO date (YYYY-MM-DD)" in message
    assert "members.csv line 4, column last_name: is required and empty" in message
    for secret in ("04/12/1985", "SECRETNAME", "RIVERSECRET", "OBH000003", "OBH000004"):
        assert secret not in message


def shipped_first_rows() -> Iterator[tuple[str, list[str], list[str]]]:
    for path in sorted(SHIPPED_REFERENCE_DIRECTORY.glob("*.csv")):
        header, first = path.read_text(encoding="utf-8").splitlines()[:2]
        yield path.name, header.split(","), next(csv.reader([first]))


@pytest.mark.parametrize("secret", ["SECRET NAME", "1985-02-30", "04/12/1985", "OBH999999"])
def test_no_problem_message_ever_quotes_a_cell(secret: str) -> None:
    # Given the first shipped row of every file with, in turn, each cell replaced by a secret
    for name, header, row in shipped_first_rows():
        for column in range(len(header)):
            cells = [*row[:column], secret, *row[column + 1:]]
            text = ",".join(header) + "\n" + ",".join(f'"{c}"' for c in cells) + "\n"
            # When that file is parsed alone
            with pytest.raises(ReferenceDataError) as raised:
                parse_reference({name: text})
            # Then no message quotes it (other files are merely reported missing)
            assert secret not in str(raised.value), (name, header[column])


def test_an_unknown_column_is_refused() -> None:
    # Given providers.csv with a column the Provider row does not have
    files = minimal_files()
    header, row = files["providers.csv"].splitlines()
    files["providers.csv"] = f"{header},taxonomy\n{row},101YM0800X\n"
    # When it is parsed, then the header line names the column by its position, and
    # the columns the file may have
    [problem] = problems_of(files)
    assert problem.startswith("providers.csv line 1, column 12 of the header: is not a "
                              "column of this file (this file's columns are effective, "
                              "termination, npi, tin, name,")
    assert "taxonomy" not in problem


@pytest.mark.parametrize("fee", ["1e999999", "100000000.00", "1E+30"])
def test_a_number_no_amount_reaches_is_refused(fee: str) -> None:
    # Given a fee no claim could be priced with (found by an audit: 1e999999 was
    # loaded, and every claim priced with it became an engine fault and pended)
    files = minimal_files()
    files["fees.csv"] = files["fees.csv"].replace("165.00", fee)
    # Then the row is refused, naming the column
    assert problems_of(files) == [
        "fees.csv line 3, column allowed_per_unit: must be a number of at most "
        "99,999,999.99 either side of zero"]


def test_a_file_that_lost_its_header_row_is_refused_without_quoting_its_first_row() -> None:
    # Given each shipped file with its header row gone, so a member's, a clinician's or
    # a claim's row comes first (found by an audit: the problems quoted every cell)
    for name, header, row in shipped_first_rows():
        files = minimal_files()
        files[name] = ",".join(f'"{c}"' for c in row) + "\n"
        # When it is parsed, then it is refused as having no header row, no cell quoted
        problems = [p for p in problems_of(files) if p.startswith(name)]
        assert problems == [p for p in problems if "is not a header row" in p], name
        assert problems, name
        for cell in row:
            if len(cell) > 3 and cell not in header:
                assert all(cell not in p.split("(")[0] for p in problems), (name, cell)


def test_a_missing_required_column_is_refused_but_a_column_with_a_default_may_be_left_out(
) -> None:
    # Given fees.csv without allowed_per_unit, and (separately) without modifier
    files = minimal_files()
    files["fees.csv"] = ("line_of_business,procedure_code,effective\n"
                         "commercial,90837,2025-01-01\n")
    # When it is parsed, then allowed_per_unit is reported and modifier is not
    assert problems_of(files) == ["fees.csv line 1, column allowed_per_unit: "
                                  "is a required column"]
    files["fees.csv"] = ("line_of_business,procedure_code,allowed_per_unit,effective\n"
                         "commercial,90837,160.00,2025-01-01\n")
    fee = parse_reference(files).fees[0]
    assert (fee.modifier, fee.license_level, fee.termination) == ("", "", None)


def test_a_missing_required_file_and_an_unknown_file_are_refused() -> None:
    # Given no supervision.csv and a file the loader does not know
    files = minimal_files()
    del files["supervision.csv"]
    files["member.csv"] = "member_id\n"
    # When it is parsed, then both are reported
    assert problems_of(files) == ["member.csv: is not a reference file",
                                  "supervision.csv: is missing"]


def test_nothing_is_half_loaded_and_every_problem_is_listed_at_once() -> None:
    # Given good rows beside a bad boolean in providers.csv and a bad amount in fees.csv
    files = minimal_files()
    files["providers.csv"] += ('1647123458,,"COUNSELOR, MORGAN",1,LMHC,MA,in,yes,,'
                               '2024-01-01,\n')
    files["fees.csv"] += "medicaid,90837,HO,,lots,2025-01-01,\n"
    # When it is parsed, then nothing comes back but one error naming both places
    problems = problems_of(files)
    assert problems == [
        "providers.csv line 3, column medicaid_enrolled: must be true or false",
        "fees.csv line 4, column allowed_per_unit: Input should be a valid decimal",
    ]


def test_links_between_files_and_overlapping_spans_are_checked() -> None:
    # Given coverage for an unknown member, a copay for an unknown plan, a fee for a code
    # without a category and two fee rows in force at once
    files = minimal_files()
    files["coverage.csv"] += "OBH000009-00,COM-PPO-500,commercial,MA,2025-01-01,\n"
    files["copays.csv"] += "COM-GOLD,2025,psychotherapy,10,2025-01-01,\n"
    files["fees.csv"] += ("commercial,90834,,,120.00,2025-01-01,\n"
                          "commercial,90837,,,170.00,2025-09-01,\n")
    # When it is parsed, then each is reported where it is
    assert problems_of(files) == [
        "fees.csv line 5, column effective: in force at the same time as line 3 for the same "
        "line_of_business, procedure_code, modifier, license_level",
        "coverage.csv line 3, column member_id: names no member of members.csv",
        "copays.csv line 3, column plan_id: names no plan of plans.csv for this benefit_year",
        "fees.csv line 4, column procedure_code: has no row in service_categories.csv",
    ]


def test_rows_read_back_from_their_own_csv_are_equal() -> None:
    # Given the minimal set, parsed
    files = minimal_files()
    data = parse_reference(files)
    # When it is written back and parsed again
    again = parse_reference(format_reference(data))
    # Then every table holds equal rows
    for table in TABLES:
        assert getattr(again, table.attribute) == getattr(data, table.attribute), table.file


def test_lookups_answer_as_of_a_date_across_effective_and_termination() -> None:
    # Given a fee that changes on 2025-07-01 and a coverage span that ends on 2025-06-30
    data = parse_reference(minimal_files())

    def fee(day: date) -> Decimal | None:
        row = data.fee(C, "90837", (), "LICSW", day)
        return row.allowed_per_unit if row else None

    # Then each question is answered by the row in force on the day asked
    assert fee(date(2025, 6, 30)) == Decimal("160.00")
    assert fee(date(2025, 7, 1)) == Decimal("165.00")
    assert fee(date(2024, 12, 31)) is None
    assert data.coverage_for("OBH000001-00", date(2025, 6, 30)) is not None
    assert data.coverage_for("OBH000001-00", date(2025, 7, 1)) is None


def test_a_directory_that_does_not_exist_is_a_reference_data_error(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match="is not a directory"):
        load_reference_dir(tmp_path / "nowhere")


def test_the_loader_reads_every_csv_of_a_directory_and_ignores_other_files(
        tmp_path: Path) -> None:
    # Given the minimal set on disk beside a README, one file with a byte-order mark
    for name, text in minimal_files().items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "README.md").write_text("notes", encoding="utf-8")
    members = tmp_path / "members.csv"
    members.write_text("\ufeff" + members.read_text(encoding="utf-8"), encoding="utf-8")
    # When it is loaded, then it is the same data as parsed in memory
    assert load_reference_dir(tmp_path).members == parse_reference(minimal_files()).members


# -- the shipped directory ---------------------------------------------------------------------
def test_the_shipped_directory_loads_and_stays_small() -> None:
    data = shipped()
    for table in TABLES:
        assert getattr(data, table.attribute), f"{table.file} is empty"
    size = sum(p.stat().st_size for p in SHIPPED_REFERENCE_DIRECTORY.glob("*.csv"))
    assert size < 3_000_000
    # and writing the loaded rows back gives the files byte for byte
    for name, text in format_reference(data).items():
        assert (SHIPPED_REFERENCE_DIRECTORY / name).read_text(encoding="utf-8") == text, name


def test_the_shipped_csv_files_are_exactly_what_write_reference_produces() -> None:
    expected = render_reference()
    on_disk = {p.name: p.read_text(encoding="utf-8")
               for p in SHIPPED_REFERENCE_DIRECTORY.glob("*.csv")}
    assert sorted(on_disk) == sorted(expected)
    for name, text in expected.items():
        assert on_disk[name] == text, f"{name} drifted: run python -m fixtures.reference_data"


def test_the_bench_files_served_are_the_ones_make_bench_writes() -> None:
    from workers.bench import SIZES

    assert tuple((size, size) for size in SIZES) == BENCH_FILES


def shipped_and_bench_claims() -> Iterator[ParsedClaim]:
    for sample in SAMPLE_FILES:
        yield from claims_of(sample.path.read_bytes())
    yield from claims_of(ACK_FILE.read_bytes())
    yield from claims_of(generate_837_text(1000, 1000).encode("ascii"))


def test_every_patient_of_the_shipped_files_and_a_1000_claim_file_is_a_member() -> None:
    data = shipped()
    count = 0
    for claim in shipped_and_bench_claims():
        day = first_service_date(claim)
        members = data.members_for(claim.subscriber.member_id or "", day)
        person = claim.patient or claim.subscriber
        assert person.demographics is not None
        assert any(m.birth_date == person.demographics.birth_date for m in members), \
            claim.claim.patient_control_number
        count += 1
    assert count == sum(sample.claims for sample in SAMPLE_FILES) + 2 + 1000


def test_every_authorization_and_original_the_shipped_samples_cite_is_on_file() -> None:
    data = shipped()
    numbers = {a.auth_number for a in data.authorizations}
    cited = originals = 0
    for sample in SAMPLE_FILES:
        for claim in claims_of(sample.path.read_bytes()):
            if claim.claim.prior_authorization_number:
                cited += 1
                assert claim.claim.prior_authorization_number in numbers
            if claim.claim.payer_claim_control_number:
                originals += 1
                assert data.by_icn(claim.claim.payer_claim_control_number)
    assert cited and originals


def generator_codes() -> dict[str, set[LineOfBusiness]]:
    """Every code the generator can emit, with the lines of business it serves."""
    codes: dict[str, set[LineOfBusiness]] = {}
    for profile in PROFILES.values():
        for n in range(500):
            for plan in profile.plan(random.Random(n)):
                codes.setdefault(plan.code, set()).update(
                    LineOfBusiness[lob.name] for lob in profile.lines_of_business)
    for code, lobs in ADDED_CODES.items():  # codes only a situation adds (90785)
        codes.setdefault(code, set()).update(LineOfBusiness[lob.name] for lob in lobs)
    return codes


def test_every_generator_code_has_a_category_and_a_fee_for_each_line_of_business() -> None:
    data = shipped()
    day = date(2026, 1, 15)
    missing = set()
    for code, lobs in generator_codes().items():
        assert data.service_category(code, day), code
        missing |= {(lob, code) for lob in lobs if data.fee(lob, code, (), "", day) is None}
    assert missing == DELIBERATELY_WITHOUT_FEE


WITHOUT_UNIT_LIMIT = frozenset({"H0004", "H2019"})
"""Priced codes with no unit limit: no value was found for them (docs/reference-data.md)."""


def test_every_code_the_fee_schedule_prices_has_a_unit_limit_that_names_its_basis() -> None:
    # Given the shipped fee schedule and unit limits
    data = shipped()
    day = date(2026, 1, 15)
    priced = {f.procedure_code for f in data.fees}
    # Then every priced code has a unit limit in force, except the two documented ones
    limited = {code for code in priced if data.unit_limit(code, day) is not None}
    assert priced - limited == WITHOUT_UNIT_LIMIT
    # And each row says what its value is based on, and that it is not verified
    for row in data.unit_limits:
        assert row.source.strip() and "not verified" in row.source and not row.verified
    assert {code: data.unit_limit(code, day).max_units_per_day  # type: ignore[union-attr]
            for code in ("90833", "96127", "97154", "99214", "H0035")} == {
        "90833": 1, "96127": 3, "97154": 12, "99214": 1, "H0035": 1}


def test_the_shipped_out_of_network_benefits_say_where_they_come_from() -> None:
    rows = shipped().oon_benefits
    assert rows and all(r.source.strip() and not r.verified for r in rows)


def test_shipped_rows_change_on_their_dates() -> None:
    data = shipped()
    # a fee schedule update on 2026-01-01
    old = data.fee(C, "90837", (), "LICSW", date(2025, 12, 31))
    new = data.fee(C, "90837", (), "LICSW", date(2026, 1, 1))
    assert old and new and new.allowed_per_unit > old.allowed_per_unit
    # a coverage span that ends, and a clinician who joined the network
    ended = next(c for c in data.coverage if c.termination and
                 not any(o.effective > c.termination for o in data.coverage_spans(c.member_id)))
    last_day = ended.termination
    assert last_day is not None
    assert data.coverage_for(ended.member_id, last_day) == ended
    assert data.coverage_for(ended.member_id, last_day + timedelta(days=1)) is None
    (joined,) = [p for p in data.providers if p.termination is not None]
    assert joined.termination is not None and joined.network_status == "out"
    now_in = data.provider(joined.npi, joined.termination + timedelta(days=1))
    assert now_in is not None and now_in.network_status == "in"


def test_the_hand_written_demo_file_has_its_members_providers_and_benefits() -> None:
    data = shipped()
    day = date(2026, 11, 5)
    alex = data.members_for("OBH000001", day)[0]
    coverage = data.coverage_for(alex.member_id, day)
    assert coverage and coverage.line_of_business is C and coverage.state == "MA"
    river = data.members_for("OBH000002", day)[0]
    assert (river.first_name, river.birth_date) == ("RIVER", date(1979, 3, 1))
    therapist = data.provider("1245319599", day)
    assert therapist and therapist.license_level == "LICSW" and therapist.medicaid_enrolled
    assert data.provider("1234567893", day) and data.provider("1647123458", day)


def test_a_directory_is_parsed_once_per_content_and_named_by_the_bytes_it_parsed(
    tmp_path: Path,
) -> None:
    from workers.reference import read_reference_dir, reference_version

    # Given the minimal set written as a directory
    for name, text in minimal_files().items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    # When it is read twice
    first, version = read_reference_dir(tmp_path)
    again, version_again = read_reference_dir(tmp_path)
    # Then it was parsed once, and named as `reference_version` names the directory
    assert again is first and version_again == version == reference_version(tmp_path)
    # When a fee changes (the same size, so only the content tells them apart)
    fees = tmp_path / "fees.csv"
    assert "165.00" in fees.read_text()
    fees.write_text(fees.read_text().replace("165.00", "166.00"), encoding="utf-8")
    changed, changed_version = read_reference_dir(tmp_path)
    # Then it is parsed again, with the new fee, under a new name
    assert changed is not first and changed_version != version
    assert changed_version == reference_version(tmp_path)
    assert [f.allowed_per_unit for f in changed.fees] == [Decimal("160.00"), Decimal("166.00")]
    assert [f.allowed_per_unit for f in first.fees] == [Decimal("160.00"), Decimal("165.00")]
    # When a file breaks, nothing is kept: the problem is raised again on every read
    fees.write_text(fees.read_text().replace("166.00", "not money"), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ReferenceDataError):
            read_reference_dir(tmp_path)
