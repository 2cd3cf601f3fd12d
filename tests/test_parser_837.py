"""The 837P reader: typed claims out of every sample, and the same segments back in.

Round trips compare element lists after dropping trailing empty elements and
components (X12 requires writers to drop them, so a typed rebuild cannot keep them).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from edi import bounds
from edi.claims import ParsedClaim, Transaction837
from edi.errors import ParseError, X12SyntaxError
from edi.isa import Delimiters
from edi.parsers import _fields
from edi.parsers._transaction import LevelCodes
from edi.parsers.claim837 import iter_claims, read_transactions
from edi.parsers.serialize837 import transaction_elements, transaction_segments
from edi.tokenizer import Segment, segments_from_bytes
from edi.writer import format_isa, format_segment, isa_elements
from tests.conftest import SHARED

CORPUS_837P = SHARED / "corpus" / "public" / "837p"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

UNTOKENIZABLE = {
    "imsweb-x12_no_isa_line.txt": "starts at GS: there is no ISA header",
}
"""Corpus files the tokenizer refuses (X12SyntaxError); the reader never sees them."""

BROKEN = {
    "imsweb-x12_bad_segment_identifier.txt": (4, "unrecognised"),  # "*IC" in 1000A
    "imsweb-x12_bad_valid_code.txt": (7, "NM1"),  # NM1*117 where 2010AA needs NM1*85
    "imsweb-x12_loop_errors1_exceeds_max_1_parent.txt": (13, "NM1"),  # 2010AA twice
    "imsweb-x12_loop_errors2_exceeds_max_repeats_multiple_parents.txt": (32, "NM1"),
    "imsweb-x12_loop_errors3_missing_loops.txt": (6, "HL"),  # 2000A without 2010AA
    # the imsweb files' second subscriber (HL*2*3) names a parent HL 3 that does not exist
    "imsweb-x12_many_claims.txt": (25, "HL"),
    "imsweb-x12_missing_elements.txt": (25, "HL"),
    "imsweb-x12_multiple_isa.txt": (25, "HL"),
    "imsweb-x12_multiple_st.txt": (25, "HL"),
    "imsweb-x12_valid.txt": (25, "HL"),
    "imsweb-x12_missing_required_loop_in_one_repeat.txt": (16, "HL"),  # no 2010BA
    "imsweb-x12_segment_errors.txt": (10, "REF"),  # two REF*EI in 2010AA
    "lfh-example11.837": (30, "SV1"),  # SV107 "1>2": > is not the component separator
    "lfh-example9.837": (27, "SV1"),  # same
    "oop-Example3_COB.txt": (16, "SBR"),  # claim filing indicator in SBR08, not SBR09
    "oop-MissingEntityCode.txt": (23, "NM1"),  # NM1 without NM101 in 2300
}
"""Corpus files broken on purpose: (position in the ST, segment ID) of the ParseError."""


def _normalised(elements: list[str], component: str) -> list[str]:
    out = [elements[0]]
    for element in elements[1:]:
        parts = element.split(component)
        while len(parts) > 1 and not parts[-1]:
            parts.pop()
        out.append(component.join(parts))
    while len(out) > 1 and not out[-1]:
        out.pop()
    return out


def _assert_round_trip(segments: list[Segment]) -> list[Transaction837]:
    transactions = list(read_transactions(segments))
    starts = [i for i, seg in enumerate(segments) if seg.id == "ST"]
    assert len(transactions) == len(starts)
    for tx, start in zip(transactions, starts, strict=True):
        end = next(i for i in range(start, len(segments)) if segments[i].id == "SE")
        component = segments[start].delimiters.component
        expected = [_normalised(s.elements, component) for s in segments[start:end + 1]]
        rebuilt = [_normalised(s, component) for s in transaction_segments(tx)]
        assert rebuilt == expected
    return transactions


def _corpus_files() -> list[str]:
    return sorted(p.name for p in CORPUS_837P.iterdir() if p.is_file())


def _fixture_files() -> list[Path]:
    return sorted(FIXTURES.rglob("*.837"))


def _tokenized(path: Path) -> list[Segment]:
    return segments_from_bytes(path.read_bytes())


# --- (a) golden round trips ----------------------------------------------------------


def test_the_lists_of_broken_corpus_files_name_files_that_exist() -> None:
    # Given the corpus directory
    names = set(_corpus_files())
    # Then every file named as broken or untokenizable is there, and most files are clean
    assert set(UNTOKENIZABLE) <= names and set(BROKEN) <= names
    assert len(names - set(UNTOKENIZABLE) - set(BROKEN)) >= 15


@pytest.mark.parametrize("name", _corpus_files())
def test_every_corpus_file_round_trips_or_fails_as_listed(name: str) -> None:
    path = CORPUS_837P / name
    if name in UNTOKENIZABLE:
        # Given a file that is not an interchange, Then the tokenizer already refuses it
        with pytest.raises(X12SyntaxError):
            _tokenized(path)
        return
    # Given the tokenized corpus file
    segments = _tokenized(path)
    if name in BROKEN:
        # When it is read, Then the reader refuses it at the listed segment
        position, segment_id = BROKEN[name]
        with pytest.raises(ParseError) as caught:
            list(read_transactions(segments))
        assert (caught.value.position, caught.value.segment_id) == (position, segment_id)
        return
    # When every transaction set is read and re-serialised, Then the segments are the same
    _assert_round_trip(segments)


def _expected_failure(path: Path) -> str | None:
    """What a fixture's own expected acknowledgment allows: a TA1 or a rejecting 999."""
    if path.with_suffix(".ta1").exists():
        return "ta1"
    ack = path.with_suffix(".999")
    if ack.exists() and re.search(r"(^|~)\s*IK5\*R", ack.read_text()):
        return "999-reject"
    return None


def test_there_are_generated_fixtures_to_round_trip() -> None:
    assert _fixture_files(), "no *.837 under fixtures/"


@pytest.mark.parametrize(
    "path", _fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES))
)
def test_every_fixture_round_trips_unless_its_acknowledgment_rejects_it(path: Path) -> None:
    # Given a fixture and what its expected acknowledgment says about it
    allowed = _expected_failure(path)
    try:
        segments = _tokenized(path)
    except X12SyntaxError:
        # Then only a file answered with a TA1 may fail to tokenize
        assert allowed == "ta1"
        return
    try:
        # When it is read and re-serialised, Then the segments are the same
        _assert_round_trip(segments)
    except ParseError:
        # or the 999 expected for it rejects the transaction set anyway
        assert allowed is not None


# --- (b) targeted -------------------------------------------------------------------

_SAMPLE_BODY = """\
BHT*0019*00*BATCH1*20260105*1200*CH
NM1*41*2*SUBMITTER CO*****46*S123
PER*IC*DESK*TE*5555550100
NM1*40*2*OPTUM BEHAVIORAL HEALTH*****46*87726
HL*1**20*1
PRV*BI*PXC*261QM0801X
NM1*85*2*HILLSIDE COUNSELING*****XX*1234567893
N3*1 MAIN ST
N4*BOSTON*MA*02101
REF*EI*123456789
NM1*87*2
N3*PO BOX 9
N4*BOSTON*MA*02102
HL*2*1*22*1
SBR*P*01*GRP9******MC
NM1*IL*1*ROE*MARGUERITE****MI*M900100
N3*5 ELM ST
N4*SALEM*MA*01970
DMG*D8*19800102*F
NM1*PR*2*OPTUM BEHAVIORAL HEALTH*****PI*87726
HL*3*2*23*0
PAT*19
NM1*QC*1*ROE*THEODORA
N3*5 ELM ST
N4*SALEM*MA*01970
DMG*D8*20100304*M
CLM*PCN-7*250.75***11:B:7*Y*A*Y*Y
DTP*431*D8*20251201
REF*G1*AUTH55
REF*F8*ICN000111
REF*D9*CH777
NTE*ADD*FREE TEXT NOTE
HI*ABK:F331*ABF:F419*ABF:Z634
NM1*DN*1*REFERS*RITA****XX*1000000004
NM1*82*1*RENDERS*RAY****XX*1000000012
PRV*PE*PXC*101YM0800X
NM1*77*2*HILLSIDE ANNEX*****XX*1000000020
N3*9 OAK ST
N4*SALEM*MA*01970
NM1*DQ*1*OVERSEER*OLGA****XX*1000000038
LX*1
SV1*HC:90837:U5:95*180.50*UN*1***1:3
DTP*472*RD8*20251208-20251209
REF*6R*LINE-1
REF*G1*AUTH55
NM1*82*1*LINEREND*LUIS****XX*1000000046
PRV*PE*PXC*101YA0400X
NM1*DQ*1*LINESUP*LENA****XX*1000000053
LX*2
SV1*HC:90832*70.25*UN*0.5***2
DTP*472*D8*20251210"""
"""A corrected (frequency 7) claim for a dependent, with every typed provider loop."""

MEMBER_VALUES = ("ROE", "MARGUERITE", "M900100", "THEODORA")


def _interchange(body: str) -> bytes:
    lines = body.splitlines()
    return "~\n".join([
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*87726          "
        "*260105*1200*^*00501*000000123*0*T*:",
        "GS*HC*SENDER*87726*20260105*1200*45*X*005010X222A1",
        "ST*837*0001*005010X222A1", *lines, f"SE*{len(lines) + 2}*0001",
        "GE*1*45", "IEA*1*000000123", "",
    ]).encode("latin-1")


def _sample_claims(body: str = _SAMPLE_BODY) -> list[ParsedClaim]:
    return list(iter_claims(segments_from_bytes(_interchange(body))))


def _corpus_claims(name: str) -> list[ParsedClaim]:
    return list(iter_claims(_tokenized(CORPUS_837P / name)))


def _imsweb_corrected(name: str) -> list[Segment]:
    """An imsweb file with its dangling HL parent (HL*2*3) pointed at HL 1, as intended."""
    text = (CORPUS_837P / name).read_bytes().replace(b"HL*2*3*22*1~", b"HL*2*1*22*1~")
    return segments_from_bytes(text)


def test_money_is_an_exact_decimal() -> None:
    # Given the sample claim, When it is read
    claim = _sample_claims()[0].claim
    # Then charges and units are Decimals with the exact values sent
    assert claim.total_claim_charge_amount == Decimal("250.75")
    assert isinstance(claim.total_claim_charge_amount, Decimal)
    assert [line.line_item_charge_amount for line in claim.lines] == [
        Decimal("180.50"), Decimal("70.25")]
    assert str(claim.lines[0].line_item_charge_amount) == "180.50"
    assert claim.lines[1].service_unit_count == Decimal("0.5")
    assert sum(line.line_item_charge_amount for line in claim.lines) == (
        claim.total_claim_charge_amount)


def test_amounts_and_dates_read_again_are_the_same_values_and_the_memory_of_them_is_bounded(
) -> None:
    # Given an amount and a date read once (remembered by their text)
    first = _fields.decimal("125.50", "SV102")
    assert _fields.decimal("125.50", "SV102") is first
    assert _fields.ccyymmdd("20251208", "DTP03") == date(2025, 12, 8)
    # Then the text is the key: the same number written another way keeps its exponent
    assert str(_fields.decimal("125.5", "SV102")) == "125.5"
    # And a bad value is refused every time, also after the memory filled up
    for text in (f"{n}.01" for n in range(2 * _fields.READ_KEPT)):
        assert _fields.decimal(text, "SV102") == Decimal(text)
    assert _fields._decimal_of.cache_info().currsize <= _fields.READ_KEPT
    for bad in ("1e5", "12,50", ""):
        with pytest.raises(_fields.Bad, match="SV102 is not a decimal number"):
            _fields.decimal(bad, "SV102")
    for bad_date, why in (("20250230", "is not a calendar date"),
                          ("2025W011", "is not a CCYYMMDD date")):
        for _again in range(2):
            with pytest.raises(_fields.Bad, match=f"^DTP03 {why}$"):
                _fields.ccyymmdd(bad_date, "DTP03")


def test_a_service_date_range_rd8_is_read_as_from_and_through() -> None:
    lines = _sample_claims()[0].claim.lines
    # Then the RD8 line has a start and an end, and the D8 line only a start
    assert lines[0].service_date is not None and lines[1].service_date is not None
    assert (lines[0].service_date.start, lines[0].service_date.end) == (
        date(2025, 12, 8), date(2025, 12, 9))
    assert lines[1].service_date.end is None
    assert lines[1].service_date.through == date(2025, 12, 10)


def test_procedure_modifiers_and_diagnosis_pointers_are_kept_in_order() -> None:
    first, second = _sample_claims()[0].claim.lines
    assert (first.product_or_service_id_qualifier, first.procedure_code) == ("HC", "90837")
    assert first.procedure_modifiers == ("U5", "95")
    assert first.diagnosis_code_pointers == (1, 3)
    assert second.procedure_modifiers == () and second.diagnosis_code_pointers == (2,)
    # And four modifiers are read from a corpus claim
    lines = _corpus_claims("oop-ProfessionalClaim1.txt")[0].claim.lines
    assert lines[0].procedure_modifiers == ("AA", "BB", "CC", "DD")


def test_diagnoses_keep_qualifier_and_code_in_order_including_icd9() -> None:
    assert [(d.qualifier, d.code) for d in _sample_claims()[0].claim.diagnoses] == [
        ("ABK", "F331"), ("ABF", "F419"), ("ABF", "Z634")]
    # And ICD-9 qualifiers parse too, so that a later edit can reject them
    icd9 = _corpus_claims("lfh-example1.837")[0].claim.diagnoses
    assert [(d.qualifier, d.code) for d in icd9] == [("BK", "0340"), ("BF", "V7389")]


def test_supervising_provider_is_read_at_claim_and_line_level() -> None:
    claim = _sample_claims()[0].claim
    # Then 2310D and 2420D are typed with their names and NPIs
    assert claim.supervising is not None and claim.supervising.name.npi == "1000000038"
    line = claim.lines[0]
    assert line.supervising is not None
    assert line.supervising.name.last_or_organization_name == "LINESUP"
    assert line.rendering is not None and line.rendering.taxonomy is not None
    assert line.rendering.taxonomy.taxonomy_code == "101YA0400X"
    assert claim.lines[1].supervising is None and claim.lines[1].rendering is None


def test_a_replacement_claim_names_the_original_in_ref_f8() -> None:
    claim = _sample_claims()[0].claim
    assert claim.claim_frequency_type_code == "7"
    assert claim.payer_claim_control_number == "ICN000111"
    assert (claim.prior_authorization_number, claim.clearinghouse_claim_number) == (
        "AUTH55", "CH777")
    assert claim.lines[0].line_item_control_number == "LINE-1"
    assert claim.lines[0].prior_authorization_numbers == ("AUTH55",)


def test_every_typed_claim_level_provider_is_in_its_own_field() -> None:
    parsed = _sample_claims()[0]
    claim = parsed.claim
    assert claim.referring is not None and claim.referring.name.entity_identifier_code == "DN"
    assert claim.rendering is not None and claim.rendering.taxonomy is not None
    assert claim.service_facility is not None and claim.service_facility.address is not None
    assert claim.service_facility.address.city_name == "SALEM"
    assert parsed.billing_provider.npi == "1234567893"
    assert parsed.billing_provider.tax_identification is not None
    assert parsed.billing_provider.specialty is not None
    assert parsed.pay_to is not None and parsed.pay_to.address is not None
    assert parsed.payer.name.identification_code == "87726"


def test_untyped_segments_are_kept_with_their_loop() -> None:
    parsed = _sample_claims()[0]
    # Then the claim note and the submitter contact are kept whole
    assert [(u.loop_id, u.elements) for u in parsed.claim.untyped] == [
        ("2300", ("NTE", "ADD", "FREE TEXT NOTE"))]
    assert parsed.header.submitter.untyped[0].elements[0] == "PER"
    # And the COB loop's untyped parts (OI, the other subscriber 2330A) stay in it, in order
    cob = _corpus_claims("lfh-cob.example3.B.837")[0].claim
    assert cob.untyped == ()
    other = cob.other_subscribers[0]
    assert [u.loop_id for u in other.untyped] == ["2320"] + ["2330A"] * 3
    assert [u.elements[0] for u in other.untyped] == ["OI", "NM1", "N3", "N4"]
    assert cob.rendering is not None and cob.rendering.untyped[0].elements[:2] == ("REF", "G2")
    assert cob.lines[0].untyped == ()


def test_the_other_payer_loop_2320_is_typed_with_its_payer_2330b() -> None:
    # Given the TR3 COB example 3B: a claim to payer B after payer A (2320) paid
    claim = _corpus_claims("lfh-cob.example3.B.837")[0]
    # Then 2000B says we are secondary, and the one 2320 loop is the primary payer
    assert claim.subscriber.payer_responsibility_sequence_number_code == "S"
    (other,) = claim.claim.other_subscribers
    assert other.payer_responsibility_sequence_number_code == "P"
    assert (other.individual_relationship_code, other.claim_filing_indicator_code) == (
        "01", "12")
    # And its CAS keeps group and both reasons, its amounts are exact decimals
    (cas,) = other.adjustments
    assert cas.group_code == "PR"
    assert [(r.reason_code, r.amount, r.quantity) for r in cas.reasons] == [
        ("1", Decimal("21.89"), None), ("2", Decimal("15.00"), None)]
    assert other.payer_paid_amount == Decimal("39.15")
    assert other.remaining_patient_liability == Decimal("36.89")
    assert other.non_covered_amount is None
    # And 2330B is the other payer, name and id (what SVD01 repeats)
    assert other.other_payer is not None
    assert other.other_payer.name.last_or_organization_name == "KEY INSURANCE COMPANY"
    assert other.other_payer_id == "999996666"


def test_line_adjudication_2430_is_typed_on_each_line() -> None:
    # Given the TR3 COB example 3B with one SVD loop per line
    lines = _corpus_claims("lfh-cob.example3.B.837")[0].claim.lines
    first, second = lines[0].adjudications[0], lines[1].adjudications[0]
    # Then SVD01, SVD02, SVD03 and SVD05 are typed, with the line CAS and DTP*573
    assert first.other_payer_primary_identifier == "999996666"
    assert first.service_line_paid_amount == Decimal("40.00")
    assert (first.product_or_service_id_qualifier, first.procedure_code) == ("HC", "99213")
    assert first.paid_service_unit_count == Decimal("1.00")
    assert [(c.group_code, c.reasons[0].reason_code, c.reasons[0].amount)
            for c in first.adjustments] == [("CO", "42", Decimal("3.00"))]
    assert first.adjudication_date == date(2005, 10, 15)
    assert second.adjustments == () and second.service_line_paid_amount == Decimal("15.00")
    # And a line with a modifier keeps it (COB example 4: SVD03 HC:99203:25, two CAS)
    (svd,) = _corpus_claims("lfh-cob.example4.837")[0].claim.lines[0].adjudications
    assert svd.procedure_modifiers == ("25",)
    assert [c.group_code for c in svd.adjustments] == ["CO", "PR"]


def test_a_line_adjudications_remaining_patient_liability_is_typed() -> None:
    # Given COB example 3B with AMT*EAF 12.50 added to its first line's 2430 (SE01 too)
    text = (CORPUS_837P / "lfh-cob.example3.B.837").read_text()
    first = "DTP*573*D8*20051015~"
    text = text.replace(first, first + "\nAMT*EAF*12.50~", 1).replace("SE*62*", "SE*63*")
    (claim,) = iter_claims(segments_from_bytes(text.encode()))
    # Then the first line's 2430 carries it and the second line's does not
    lines = claim.claim.lines
    assert lines[0].adjudications[0].remaining_patient_liability == Decimal("12.50")
    assert lines[1].adjudications[0].remaining_patient_liability is None
    assert lines[0].adjudications[0].untyped == ()


COB_BROKEN = {
    "2320 CAS without its group": ("CAS*PR*1*21.89**2*15.00~", "CAS**1*21.89~",
                                   "CAS01 is required"),
    "2430 CAS without its amount": ("CAS*CO*42*3.00~", "CAS*CO*42~",
                                    "CAS02 and CAS03 are required"),
    "2320 AMT without its amount": ("AMT*D*39.15~", "AMT*D~", "AMT02 is required"),
    "2320 SBR without its sequence": ("SBR*P*01*******12~", "SBR**01*******12~",
                                      "SBR01 is required"),
    "an NM1 2330A-G does not have": ("NM1*PR*2*KEY INSURANCE COMPANY*****PI*999996666~",
                                     "NM1*XX*2*KEY INSURANCE COMPANY*****PI*999996666~",
                                     "NM101 is not expected in the other-payer loops"),
    "2330B twice": ("NM1*PR*2*KEY INSURANCE COMPANY*****PI*999996666~",
                    "NM1*PR*2*KEY INSURANCE COMPANY*****PI*999996666~\n"
                    "NM1*PR*2*KEY INSURANCE COMPANY*****PI*999996666~",
                    "loop 2330B repeats"),
    "SVD without its payer": ("SVD*999996666*40.00*HC:99213**1.00~",
                              "SVD**40.00*HC:99213**1.00~", "SVD01 and SVD02 are required"),
    "SVD03 without its code": ("SVD*999996666*40.00*HC:99213**1.00~",
                               "SVD*999996666*40.00*HC**1.00~",
                               "SVD03-1 and SVD03-2 are required"),
}
"""COB example 3B broken in one segment of its 2320, 2330 or 2430 loops: what is
replaced, by what, and the reason the reader gives."""


@pytest.mark.parametrize("case", sorted(COB_BROKEN))
def test_a_cob_loop_missing_what_the_guide_requires_is_a_parse_error(case: str) -> None:
    old, new, reason = COB_BROKEN[case]
    text = (CORPUS_837P / "lfh-cob.example3.B.837").read_text()
    assert text.count(old) >= 1
    with pytest.raises(ParseError) as caught:
        list(iter_claims(segments_from_bytes(text.replace(old, new, 1).encode())))
    assert caught.value.reason.startswith(reason), caught.value.reason


def test_a_2320_amount_the_guide_does_not_list_stays_untyped_in_its_loop() -> None:
    # Given COB example 4, whose 2320 carries AMT*F2 (not an 837P 5010 2320 amount)
    (other,) = _corpus_claims("lfh-cob.example4.837")[0].claim.other_subscribers
    # Then AMT*D is typed and AMT*F2 is kept whole in 2320
    assert other.payer_paid_amount == Decimal("80.00")
    assert ("2320", ("AMT", "F2", "15.00")) in [(u.loop_id, u.elements) for u in other.untyped]


READER_REFUSALS = {
    "CLM05 with more components than the guide uses": (
        "CLM*PCN-7*250.75***11:B:7*", "CLM*PCN-7*250.75***11:B:7:1*",
        "CLM05 has more components than 005010X222A1 uses"),
    "PAT06 without PAT05": ("PAT*19", "PAT*19****20251201*1*1*Y",
                            "PAT05 must be D8 exactly when PAT06 is present"),
    "DTP without its qualifier": ("DTP*431*D8*20251201", "DTP**D8*20251201",
                                  "DTP01 is required"),
    "HI with thirteen diagnoses": (
        "HI*ABK:F331*ABF:F419*ABF:Z634",
        "HI*ABK:F331" + "*ABF:F419" * 12, "HI carries more than 12 diagnosis codes"),
}
"""The sample broken in one segment: what is replaced, by what, and the reason the
reader gives (the guide's rule the segment breaks)."""


@pytest.mark.parametrize("case", sorted(READER_REFUSALS))
def test_the_reader_refuses_a_segment_the_guide_does_not_allow(case: str) -> None:
    old, new, reason = READER_REFUSALS[case]
    assert old in _SAMPLE_BODY
    with pytest.raises(ParseError) as caught:
        _sample_claims(_SAMPLE_BODY.replace(old, new, 1))
    assert caught.value.reason.startswith(reason), caught.value.reason


def test_a_cas_with_a_gap_between_its_reasons_is_refused() -> None:
    # Given a 2320 CAS whose second reason is empty but whose third is present
    body = _SAMPLE_BODY.replace("LX*1", "SBR*P*18*******CI\nCAS*PR*1*10.00****2*5.00\n"
                                "NM1*PR*2*OTHER PLAN*****PI*55555\nLX*1", 1)
    # When it is read, Then the reader refuses that CAS rather than closing the gap
    with pytest.raises(ParseError, match="CAS"):
        _sample_claims(body)


def test_a_dependent_has_a_patient_loop_and_a_subscriber_patient_has_none() -> None:
    # Given a claim under HL 23 (a dependent)
    parsed = _sample_claims()[0]
    assert parsed.patient is not None
    assert parsed.patient.patient_information.individual_relationship_code == "19"
    assert parsed.patient.demographics is not None
    assert parsed.patient.demographics.birth_date == date(2010, 3, 4)
    assert parsed.subscriber.member_id == "M900100"
    assert parsed.subscriber.claim_filing_indicator_code == "MC"
    # And a claim directly under HL 22 where the subscriber is the patient (SBR02 = 18)
    own = _corpus_claims("lfh-example2.837")[0]
    assert own.patient is None
    assert own.subscriber.individual_relationship_code == "18"
    assert own.subscriber.demographics is not None


def test_iter_claims_streams_all_820_claims_of_the_large_corpus_file() -> None:
    # the reader refuses the file as sent (a dangling HL parent): read it corrected
    claims = iter_claims(_imsweb_corrected("imsweb-x12_many_claims.txt"))
    count = 0
    for parsed in claims:
        count += 1
        assert parsed.envelope.transaction_set_control_number == "987654"
    assert count == 820


def test_each_claim_carries_its_envelope_and_clm_position() -> None:
    claims = list(iter_claims(_imsweb_corrected("imsweb-x12_multiple_isa.txt")))
    assert [c.envelope.interchange_control_number for c in claims] == [
        "000000905", "000000905", "000000906", "000000906"]
    assert {(c.envelope.group_control_number, c.envelope.version_identifier) for c in claims} == {
        ("1", "005010X222A1")}
    # And the position counts segments from ST = 1
    sample = _sample_claims()[0]
    assert sample.position == 1 + _SAMPLE_BODY.splitlines().index(
        "CLM*PCN-7*250.75***11:B:7*Y*A*Y*Y") + 1
    assert sample.header.bht.creation_date == date(2026, 1, 5)


_TWO_PROVIDERS = """\
BHT*0019*00*B2*20260105*1200*CH
NM1*41*2*SUBMITTER CO*****46*S123
NM1*40*2*OPTUM BEHAVIORAL HEALTH*****46*87726
HL*1**20*1
NM1*85*2*FIRST PRACTICE*****XX*1111111111
HL*2*1*22*0
SBR*P*18*******MC
NM1*IL*1*ROE*MARGUERITE****MI*M900100
NM1*PR*2*OPTUM BEHAVIORAL HEALTH*****PI*87726
CLM*A1*10***11:B:1*Y*A*Y*Y
LX*1
SV1*HC:90832*10*UN*1***1
HL*3**20*1
NM1*85*2*SECOND PRACTICE*****XX*2222222222
HL*4*1*22*0
SBR*P*18*******MC
NM1*IL*1*ROE*MARGUERITE****MI*M900100
NM1*PR*2*OPTUM BEHAVIORAL HEALTH*****PI*87726
CLM*B1*10***11:B:1*Y*A*Y*Y
LX*1
SV1*HC:90832*10*UN*1***1"""


def test_hl_parent_links_are_followed_rather_than_the_order_of_levels() -> None:
    # Given a subscriber level whose HL02 names the first billing provider, after a second
    claims = _sample_claims(_TWO_PROVIDERS)
    # Then its claim belongs to the billing provider HL02 names
    assert [c.billing_provider.name.last_or_organization_name for c in claims] == [
        "FIRST PRACTICE", "FIRST PRACTICE"]
    tx = next(read_transactions(segments_from_bytes(_interchange(_TWO_PROVIDERS))))
    assert [len(level.subscribers) for level in tx.billing_providers] == [2, 0]


def test_a_dangling_hl_parent_is_refused_never_attached_to_another_provider() -> None:
    # HL 9 does not exist: attaching the subscriber to the nearest billing provider
    # would pay that provider for a claim another one may have sent
    body = _TWO_PROVIDERS.replace("HL*4*1*22*0", "HL*4*9*22*0")
    with pytest.raises(ParseError) as caught:
        _sample_claims(body)
    assert caught.value.segment_id == "HL"
    assert "does not exist" in caught.value.reason


def test_a_missing_hl_parent_below_a_billing_provider_is_refused() -> None:
    body = _TWO_PROVIDERS.replace("HL*4*1*22*0", "HL*4**22*0")
    with pytest.raises(ParseError) as caught:
        _sample_claims(body)
    assert caught.value.segment_id == "HL" and "required" in caught.value.reason


def test_an_hl_parent_of_the_wrong_level_is_refused() -> None:
    body = _SAMPLE_BODY.replace("HL*3*2*23*0", "HL*3*1*23*0")
    with pytest.raises(ParseError) as caught:
        _sample_claims(body)
    assert caught.value.segment_id == "HL" and caught.value.position == 22


def _broken_variants() -> dict[str, str]:
    """Ways to break the sample where a member's name, ID or birth date is at hand."""
    sub = "NM1*IL*1*ROE*MARGUERITE****MI*M900100"
    return {
        "impossible birth date": _SAMPLE_BODY.replace("DMG*D8*19800102", "DMG*D8*19800231"),
        "name in an unused element": _SAMPLE_BODY.replace(sub, sub + "*ROE MARGUERITE"),
        "line starting with the name": _SAMPLE_BODY.replace(sub, sub + "\nROE*MARGUERITE"),
        "name as the charge": _SAMPLE_BODY.replace("CLM*PCN-7*250.75", "CLM*PCN-7*ROE"),
        "member id as a pointer": _SAMPLE_BODY.replace("***1:3", "***M900100"),
        "patient name as the date": _SAMPLE_BODY.replace("DTP*431*D8*20251201",
                                                         "DTP*431*D8*THEODORA"),
        "subscriber twice": _SAMPLE_BODY.replace(sub, sub + "\n" + sub),
        "name as qualifier of HL": _SAMPLE_BODY.replace("HL*2*1*22*1", "HL*2*1*ROE*1"),
    }


@pytest.mark.parametrize("variant", sorted(_broken_variants()))
def test_a_parse_error_never_carries_a_member_name_or_id(variant: str) -> None:
    # Given a transaction broken where PHI sits
    body = _broken_variants()[variant]
    # When it is read
    with pytest.raises(ParseError) as caught:
        _sample_claims(body)
    error = caught.value
    # Then the error names a position and a segment ID, and no member value at all
    shown = " ".join([str(error), repr(error.args), error.reason, error.segment_id])
    for value in (*MEMBER_VALUES, "19800231"):
        assert value not in shown, variant
    # And no chained exception carries the value either
    assert error.__cause__ is None and error.__suppress_context__


def test_a_parse_error_keeps_only_an_id_x12_defines() -> None:
    # Given an error raised at a line whose "ID" is a member's name (the engine's own
    # catch-all raises it from whatever the line starts with)
    error = ParseError("the set could not be read", position=3, segment_id="THEODORA",
                       file_position=5)
    # Then neither the error nor its message keeps the name; a real ID stays as it is
    assert error.segment_id == "unrecognised" and "THEODORA" not in str(error)
    assert ParseError("x", position=1, segment_id="CLP", file_position=1).segment_id == "CLP"


def test_malformed_segments_raise_parse_error_not_index_error() -> None:
    segments = segments_from_bytes(_interchange(_SAMPLE_BODY))
    hollow = Segment([], segments[5].delimiters, segments[5].index)
    with pytest.raises(ParseError) as caught:
        list(iter_claims([*segments[:5], hollow, *segments[6:]]))
    assert caught.value.position == 4  # ISA and GS precede the ST


def test_a_transaction_cut_short_raises_parse_error() -> None:
    segments = segments_from_bytes(_interchange(_SAMPLE_BODY))
    with pytest.raises(ParseError, match="ends inside a transaction set"):
        list(iter_claims(segments[:30]))


def _without_layout(value: Any) -> Any:
    """The same models as if built by hand: no recorded layout anywhere."""
    if isinstance(value, BaseModel):
        fields = {name: _without_layout(getattr(value, name)) for name in type(value).model_fields}
        if "layout" in fields:
            fields["layout"] = ()
        return type(value)(**fields)
    if isinstance(value, tuple):
        return tuple(_without_layout(item) for item in value)
    return value


@pytest.mark.parametrize("name", ["lfh-example1.837", "lfh-demo-file.837",
                                  "lfh-cob.example3.B.837", "lfh-cob.example4.837"])
def test_models_without_a_layout_are_written_in_guide_order(name: str) -> None:
    # Given a transaction in implementation-guide order, stripped of its layouts
    segments = _tokenized(CORPUS_837P / name)
    tx = next(read_transactions(segments))
    # When it is written, Then the same segments come out
    assert transaction_segments(_without_layout(tx)) == transaction_segments(tx)


def test_a_transaction_rewritten_with_other_delimiters_reads_back_the_same() -> None:
    # Given a parsed transaction
    tx = next(read_transactions(segments_from_bytes(_interchange(_SAMPLE_BODY))))
    other = Delimiters(element="|", component=">", repetition="^", segment="~")
    # When its elements are written with other delimiters and read back
    isa = isa_elements(sender_qualifier="ZZ", sender_id="SENDER", receiver_qualifier="ZZ",
                       receiver_id="87726", control_number=123,
                       when=datetime(2026, 1, 5, 12, 0),
                       delimiters=other)
    body = [format_segment(str(seg[0]), seg[1:], other) for seg in transaction_elements(tx)]
    text = "~".join([format_isa(isa, other),
                     "GS|HC|SENDER|87726|20260105|1200|45|X|005010X222A1", *body,
                     "GE|1|45", "IEA|1|000000123", ""])
    again = next(read_transactions(segments_from_bytes(text.encode())))
    # Then the models are equal apart from the component separator
    assert again.model_copy(update={"envelope": tx.envelope}) == tx


def _many_subscribers(count: int, patient_parent: str) -> str:
    head, rest = _TWO_PROVIDERS.split("HL*2*1*22*0\n", 1)
    subscriber = "\n".join(rest.split("\n")[:3])  # SBR, NM1*IL, NM1*PR
    levels = [f"HL*{n}*1*22*1\n{subscriber}" for n in range(2, count + 2)]
    patient = (f"HL*{count + 2}*{patient_parent}*23*0\nPAT*19\nNM1*QC*1*ROE*THEODORA\n"
               "CLM*P1*10***11:B:1*Y*A*Y*Y\nLX*1\nSV1*HC:90832*10*UN*1***1")
    return "\n".join([head.rstrip("\n"), *levels, patient])


_HL_IDS = st.one_of(st.integers(1, 12).map(str),
                   st.sampled_from(["0", "01", "007", "A1", "", "\u00b2", "99999999999999999999"]))


@given(st.lists(st.tuples(st.sampled_from(["put", "get"]), _HL_IDS,
                          st.sampled_from(["20", "22", "23"])), max_size=60))
def test_level_codes_answer_as_a_dict_of_every_hl_seen_would(
        steps: list[tuple[str, str, str]]) -> None:
    # Given HL01s in and out of count order, reused, and not numbers at all
    kept, seen = LevelCodes(), dict[str, str]()
    for action, hl_id, code in steps:
        if action == "put":
            kept.put(hl_id, code)
            seen[hl_id] = code
        # Then each ID gives the code its latest level had, or None
        assert kept.get(hl_id) == seen.get(hl_id)
    assert all(kept.get(hl_id) == code for hl_id, code in seen.items())


def test_level_codes_keep_a_byte_for_each_hl_counted_in_order() -> None:
    kept = LevelCodes()
    for n in range(1, 100_001):
        kept.put(str(n), "22" if n % 2 else "23")
    assert kept.get("99999") == "22" and kept.get("100000") == "23"
    assert kept.get("100001") is None and kept.get("0") is None
    assert len(kept._counted) == 100_000 and not kept._other


def _many_providers(count: int, subscriber_parent: str) -> str:
    head = _TWO_PROVIDERS.split("HL*1**20*1\n", 1)[0]
    providers = [f"HL*{n}**20*1\nNM1*85*2*PRACTICE {n}*****XX*1111111111"
                 for n in range(1, count + 1)]
    subscriber = (f"HL*{count + 1}*{subscriber_parent}*22*0\nSBR*P*18*******MC\n"
                  "NM1*IL*1*ROE*MARGUERITE****MI*M900100\n"
                  "NM1*PR*2*OPTUM BEHAVIORAL HEALTH*****PI*87726\n"
                  "CLM*P1*10***11:B:1*Y*A*Y*Y\nLX*1\nSV1*HC:90832*10*UN*1***1")
    return "\n".join([head.rstrip("\n"), *providers, subscriber])


def test_streaming_reaches_back_a_bounded_number_of_billing_provider_levels() -> None:
    # Given a subscriber level whose HL02 names the first of 1,100 billing providers
    segments = segments_from_bytes(_interchange(_many_providers(1100, subscriber_parent="1")))
    # When the claims are streamed, Then the reader refuses rather than hold every level
    with pytest.raises(ParseError, match="billing provider level too far back"):
        list(iter_claims(segments))
    # And reading the whole transaction set still attaches it to the provider named
    tx = next(read_transactions(segments))
    assert [len(p.subscribers) for p in tx.billing_providers][:2] == [1, 0]
    # And a near parent streams fine
    near = segments_from_bytes(_interchange(_many_providers(1100, subscriber_parent="1090")))
    assert [c.billing_provider.name.last_or_organization_name for c in iter_claims(near)] == [
        "PRACTICE 1090"]


def test_streaming_reaches_back_a_bounded_number_of_subscriber_levels() -> None:
    # Given a patient level whose HL02 names the first of 1,100 subscribers
    body = _many_subscribers(1100, patient_parent="2")
    segments = segments_from_bytes(_interchange(body))
    # When the claims are streamed, Then the reader refuses rather than guess the parent
    with pytest.raises(ParseError, match="too far back"):
        list(iter_claims(segments))
    # And reading the whole transaction set still attaches it to the subscriber named
    tx = next(read_transactions(segments))
    first = tx.billing_providers[0].subscribers[0]
    assert [p.patient.hl.id for p in first.patients] == ["1102"]
    # And a near parent streams fine
    near = segments_from_bytes(_interchange(_many_subscribers(1100, patient_parent="1100")))
    assert [c.subscriber.hl.id for c in iter_claims(near)] == ["1100"]


def _with_lines(count: int) -> bytes:
    """A generated one-claim file whose claim has ``count`` service lines (LX, SV1, DTP,
    REF each), SE02 counted again."""
    from fixtures.generator import generate_837_text

    segments = [s.strip() for s in generate_837_text(1, 11).split("~") if s.strip()]
    ids = [s.split("*")[0] for s in segments]
    first, end = ids.index("LX"), ids.index("SE")
    line = segments[first:first + 4]
    assert [s.split("*")[0] for s in line] == ["LX", "SV1", "DTP", "REF"]
    lines = [part for n in range(1, count + 1) for part in (f"LX*{n}", *line[1:])]
    kept = segments[:first] + lines + segments[end:]
    se = first + len(lines)
    kept[se] = f"SE*{se - ids.index('ST') + 1}*{kept[se].split('*')[2]}"
    return ("~\n".join(kept) + "~\n").encode()


def test_a_claim_of_more_segments_than_any_the_guide_allows_is_refused_as_it_comes() -> None:
    from edi.parsers._transaction import MAX_HELD_SEGMENTS

    # Given a claim of 12,501 service lines: 50,004 segments after its CLM (the guide
    # allows 50 lines; a claim with every loop at its limit holds about 22,500)
    data = _with_lines(12_501)
    # When it is read, Then the reader refuses the set at the first segment past the
    # bound, instead of holding every line until the 999 rejects the set
    with pytest.raises(ParseError) as caught:
        list(iter_claims(segments_from_bytes(data)))
    assert f"more than {MAX_HELD_SEGMENTS:,} segments follow one HL or CLM" in str(caught.value)
    assert caught.value.segment_id == "REF" and caught.value.position is not None
    # And a claim of 50 lines, the guide's limit, is read whole
    (claim,) = iter_claims(segments_from_bytes(_with_lines(50)))
    assert len(claim.claim.lines) == 50


def test_the_reader_remembers_what_repeats_by_its_exact_elements_and_boundedly(
) -> None:
    from edi.claims import DatePeriod, Diagnosis

    colon, angle = Delimiters(), Delimiters(component=">")
    first = _fields.date_model(Segment(["DTP", "472", "D8", "20260105"], colon, 1))
    again = _fields.date_model(Segment(["DTP", "472", "D8", "20260105"], colon, 9))
    assert first is again and first == DatePeriod(qualifier="472", start=date(2026, 1, 5))
    assert _fields.date_model(Segment(["DTP", "472", "RD8", "20260105-20260107"], colon, 2)) \
        == DatePeriod(qualifier="472", start=date(2026, 1, 5), end=date(2026, 1, 7))
    for _twice in range(2):  # a refused text is refused every time: nothing is remembered
        with pytest.raises(_fields.Bad):
            _fields.date_model(Segment(["DTP", "472", "D8", "20261345"], colon, 1))
    # the component separator is part of what is remembered: the same text reads apart
    assert _fields.diagnoses(Segment(["HI", "ABK>F329", "ABF>F411"], angle, 1)) == (
        Diagnosis(qualifier="ABK", code="F329"), Diagnosis(qualifier="ABF", code="F411"))
    assert _fields.diagnoses(Segment(["HI", "ABK>F329", "ABF>F411"], colon, 1)) == (
        Diagnosis(qualifier="ABK>F329", code=""), Diagnosis(qualifier="ABF>F411", code=""))
    for n in range(_fields.READ_KEPT + 10):  # endless distinct texts: the memos stay bounded
        _fields.diagnoses(Segment(["HI", f"ABK:F{n:05d}"], colon, 1))
        day = date.fromordinal(date(2000, 1, 1).toordinal() + n)
        _fields.date_model(Segment(["DTP", "472", "D8", f"{day:%Y%m%d}"], colon, 1))
    assert len(_fields._DIAGNOSES) <= _fields.READ_KEPT
    assert len(_fields._PERIODS) <= _fields.READ_KEPT
    # a clinician's name and taxonomy, read again, are the same values
    nm1 = ["NM1", "82", "1", "LEE", "ANA", "", "", "", "XX", "1234567893"]
    assert _fields.entity_name(Segment(nm1, colon, 4)) is _fields.entity_name(
        Segment(list(nm1), colon, 40))
    assert _fields.entity_name(Segment(nm1, colon, 4)).npi == "1234567893"
    # a subscriber's or patient's name is read each time, never kept
    for code in ("IL", "QC"):
        person = ["NM1", code, "1", "DOE", "JANE", "", "", "", "MI", "W123"]
        assert _fields.entity_name(Segment(person, colon, 6)).first_name == "JANE"
        assert (":", *person) not in _fields._NAMES
    prv = ["PRV", "PE", "PXC", "101YM0800X"]
    assert _fields.taxonomy(Segment(prv, colon, 5)) is _fields.taxonomy(Segment(prv, colon, 9))


def test_a_long_text_is_read_every_time_and_never_remembered() -> None:
    """4,096 remembered texts of 64 KB would hold 256 MB: a segment with an element longer
    than `bounds.VALUE`, and a long amount or date text, are read but not kept."""
    colon = Delimiters()
    long_name = "N" * (bounds.VALUE + 1)
    nm1 = ["NM1", "82", "1", long_name, "ANA", "", "", "", "XX", "1234567893"]
    names = len(_fields._NAMES)
    assert _fields.entity_name(Segment(nm1, colon, 1)).last_or_organization_name == long_name
    assert (":", *nm1) not in _fields._NAMES and len(_fields._NAMES) <= names
    long_amount = "1" * (bounds.VALUE + 1)
    amounts = _fields._decimal_of.cache_info().currsize
    assert _fields.decimal(long_amount, "CLM02") == Decimal(long_amount)
    assert _fields._decimal_of.cache_info().currsize == amounts
    dates = _fields._date_of.cache_info().currsize
    with pytest.raises(_fields.Bad):
        _fields.ccyymmdd("2" * 70_000, "DTP03")
    assert _fields._date_of.cache_info().currsize == dates
