"""Front-end edits: each rejects the claim it should, with the right codes, and no other."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from edi.ack277 import render_277ca
from edi.acks import CountingControlNumbers, Responder
from edi.claim_status import StatusCategory
from edi.front_end import InMemoryClaimNumbers
from edi.validators.edits import EDITS, EditContext
from edi.validators.edits.catalog import render_markdown
from edi.validators.implementation_guide import check_stream, load_map
from edi.validators.outbound import outbound_problems
from tests.ackhelp import without_envelope_noise
from tests.paths import FIXTURES, ROOT
from workers.front_end import FrontEndResult, run_front_end

EDIT_FIXTURES = FIXTURES / "edits"
EXPECTED: dict[str, list[str]] = json.loads((EDIT_FIXTURES / "expected.json").read_text())
RECEIVED = date(2026, 11, 23)
WHEN = datetime(2026, 11, 23, 12, 0)


def _front_end(source: Path) -> FrontEndResult:
    with source.open("rb") as stream:
        check = check_stream(stream)
    assert check.accepted_ordinals(), f"{source.name} must pass the 999 to reach the edits"
    return run_front_end(source, check, EditContext(received=RECEIVED), InMemoryClaimNumbers())


@pytest.mark.parametrize("case", sorted(EXPECTED), ids=str)
def test_each_edit_rejects_its_claim_with_the_right_codes_and_the_rest_go_on(case: str) -> None:
    # Given a file where one claim (or one set's claims) breaks one rule
    result = _front_end(EDIT_FIXTURES / f"{case}.837")
    broken = [c for c in result.claims if c.patient_control_number in ("PCN-0001", "PCN-0002")
              and (c.front_end == "rejected" or EXPECTED[case] == [])]
    # Then the broken claim is rejected with exactly the expected category:status:entity codes
    codes = [code for c in result.claims for code in c.front_end_codes]
    assert codes == EXPECTED[case]
    # And every finding carries a readable sentence naming one place in the file
    for claim in result.claims:
        for reason in claim.reasons:
            assert reason.startswith("loop ") and len(reason) > 30
    # And every other claim of the file is accepted with a claim number
    accepted = [c for c in result.claims if c.front_end == "accepted"]
    assert len(accepted) == len(result.claims) - len([c for c in result.claims
                                                      if c.front_end_codes])
    assert all(c.payer_claim_control_number for c in accepted)
    assert accepted, "the other claims of the file must go on"
    assert broken or EXPECTED[case] == []


@pytest.mark.parametrize("case", sorted(EXPECTED), ids=str)
def test_each_edit_fixture_gets_its_golden_277ca_and_it_is_valid(case: str) -> None:
    result = _front_end(EDIT_FIXTURES / f"{case}.837")
    text = render_277ca(result.answered, Responder(when=WHEN, control=CountingControlNumbers()))
    golden = EDIT_FIXTURES / f"{case}.277ca"
    assert outbound_problems(text) == []
    assert without_envelope_noise(text) == without_envelope_noise(golden.read_text())


def _golden_rejections(text: str) -> list[str]:
    """The claim-level STC01 of every rejected claim in a 277CA, in file order, read
    with nothing of the engine's: a patient level's STCs before its first SVC."""
    codes: list[str] = []
    in_claim = False
    for segment in (s.strip() for s in text.split("~")):
        elements = segment.split("*")
        if elements[0] == "HL":
            in_claim = elements[3] == "PT"
        elif elements[0] == "SVC":
            in_claim = False
        elif elements[0] == "STC" and in_claim and elements[1][:2] not in ("A1", "A2"):
            codes.append(elements[1])
    return codes


@pytest.mark.parametrize("case", sorted(EXPECTED), ids=str)
def test_each_golden_277ca_rejects_what_the_hand_written_expectations_name(case: str) -> None:
    # The golden 277CAs are written and reviewed by hand; this ties each one to the
    # codes derive.py writes down for its case, so a golden cannot drift from the rule
    golden = (EDIT_FIXTURES / f"{case}.277ca").read_text()
    assert _golden_rejections(golden) == EXPECTED[case]


def test_every_edit_has_a_fixture_that_triggers_each_code_it_can_answer_with() -> None:
    # The codes each edit declares are all exercised by some fixture
    seen = {code for codes in EXPECTED.values() for code in codes}
    declared = {code for e in EDITS for code in e.emits}
    never = declared - seen
    # The entity-specific variants of a code are covered by their sibling (IL vs QC);
    # A7:535, A7:249 and A7:501:85 by the tests below on a parsed claim
    assert never <= {"A8:187:QC", "A6:562:85", "A6:562:DQ", "A6:128:85", "A6:254",
                     "A7:535", "A7:249", "A7:501:85"}, never


def test_the_codes_each_edit_declares_are_valid_in_pyx12s_277_code_lists() -> None:
    # Given pyx12's 277CA map and its external code lists
    import pyx12.codes

    codes = pyx12.codes.ExternalCodes(None, None)
    for e in EDITS:
        for declared in e.emits:
            category, status, *entity = declared.split(":")
            # Then every category and status code is one the 277CA may carry
            assert StatusCategory(category)
            assert codes.isValid("claim_status", status), (e.id, status)
            if entity:
                assert codes.isValid("entity_id", entity[0]) or entity[0] in ("PR", "41")
    assert load_map("277.5010.X214.xml") is not None


def test_docs_edits_md_is_generated_from_the_code() -> None:
    assert (ROOT / "docs" / "edits.md").read_text() == render_markdown()


# Edits whose input the 999 normally stops first still decide correctly when reached.

def _base_claim() -> object:
    from edi.parsers.claim837 import iter_claims
    from edi.tokenizer import iter_segments

    with (FIXTURES / "ack" / "valid-two-claims.837").open("rb") as stream:
        return next(iter_claims(iter_segments(stream)))


def _codes(claim: object) -> list[str]:
    from edi.validators.edits import run_edits

    return [f.codes for f in run_edits(claim, EditContext(received=RECEIVED))]  # type: ignore[arg-type]


def _with_claim(claim: object, **changes: object) -> object:
    return claim.model_copy(update={"claim": claim.claim.model_copy(update=changes)})  # type: ignore[attr-defined]


def test_an_unknown_frequency_code_is_rejected_as_invalid() -> None:
    assert _codes(_with_claim(_base_claim(), claim_frequency_type_code="5")) == ["A7:535"]


def test_a_place_of_service_outside_the_cms_list_is_rejected() -> None:
    assert _codes(_with_claim(_base_claim(), place_of_service_code="98")) == ["A7:249"]


@pytest.mark.parametrize("state", ["vA", "XX", "V", "VAA"])
def test_a_provider_state_off_the_list_is_rejected_so_the_835_can_name_the_payee(
        state: str) -> None:
    """Found by the fuzz run (seed 30, case 76297: a byte flip made the billing
    provider's N402 ``vA``). The 837P guide leaves N402 unchecked; the 835's checks the
    payee's N402 against code source 22, so the claim was paid and its payee's 835 then
    failed its check before release, which holds back the whole payment cycle. The
    claim is now rejected at the front end: A7:501 (the entity's state), entity 85."""
    from edi.claims import EntityName, Party
    from edi.validators.edits import run_edits

    claim = _base_claim()
    billing = claim.billing_provider  # type: ignore[attr-defined]
    assert billing.address is not None and billing.pay_to is None
    bad_address = billing.address.model_copy(update={"state_code": state})
    billed_there = claim.model_copy(  # type: ignore[attr-defined]
        update={"billing_provider": billing.model_copy(update={"address": bad_address})})
    findings = run_edits(billed_there, EditContext(received=RECEIVED))
    assert [(f.codes, str(f.location)) for f in findings] == [
        ("A7:501:85", "loop 2010AA, N402")]
    assert "state" in findings[0].sentence
    # the pay-to address (2010AB), where the 835 names the payee when the claim gives one
    pay_to = Party(name=EntityName(entity_identifier_code="87", entity_type_qualifier="2"),
                   address=bad_address)
    paid_there = claim.model_copy(  # type: ignore[attr-defined]
        update={"billing_provider": billing.model_copy(update={"pay_to": pay_to})})
    assert [(f.codes, str(f.location)) for f in run_edits(
        paid_there, EditContext(received=RECEIVED))] == [("A7:501:85", "loop 2010AB, N402")]
    # a state on the list, a Canadian province, and no state at all pass
    for fine in ("VA", "ON", None):
        address = billing.address.model_copy(update={"state_code": fine})
        assert _codes(claim.model_copy(update={  # type: ignore[attr-defined]
            "billing_provider": billing.model_copy(update={"address": address})})) == []


def test_a_lines_place_of_service_outside_the_cms_list_is_rejected_at_that_line() -> None:
    from edi.validators.edits import run_edits

    claim = _base_claim()
    first, *rest = claim.claim.lines  # type: ignore[attr-defined]
    lines = (first.model_copy(update={"place_of_service_code": "98"}), *rest)
    findings = run_edits(_with_claim(claim, lines=lines),  # type: ignore[arg-type]
                         EditContext(received=RECEIVED))
    assert [(f.codes, str(f.location)) for f in findings] == [
        ("A7:249", f"loop 2400, SV105, service line {first.assigned_number}")]
    # a line's own place of service that is a CMS code passes (only the bad one is named)
    fine = (first.model_copy(update={"place_of_service_code": "02"}), *rest)
    assert _codes(_with_claim(claim, lines=fine)) == []


def test_a_claim_without_diagnoses_lacks_its_principal_diagnosis() -> None:
    claim = _with_claim(_base_claim(), diagnoses=(),
                        lines=tuple(line.model_copy(update={"diagnosis_code_pointers": ()})
                                    for line in _base_claim().claim.lines))  # type: ignore[attr-defined]
    assert "A6:254" in _codes(claim)


def test_a_billing_provider_without_npi_or_tax_id_is_missing_information() -> None:
    claim = _base_claim()
    name = claim.billing_provider.name.model_copy(  # type: ignore[attr-defined]
        update={"identification_code_qualifier": None, "identification_code": None})
    provider = claim.billing_provider.model_copy(  # type: ignore[attr-defined]
        update={"name": name, "tax_identification": None})
    codes = _codes(claim.model_copy(update={"billing_provider": provider}))  # type: ignore[attr-defined]
    assert codes == ["A6:562:85", "A6:128:85"]


def test_a_supervising_provider_without_an_npi_is_missing_information() -> None:
    claim = _base_claim()
    rendering = claim.claim.rendering  # type: ignore[attr-defined]
    supervisor = rendering.model_copy(update={"name": rendering.name.model_copy(update={
        "entity_identifier_code": "DQ", "identification_code_qualifier": None,
        "identification_code": None})})
    assert _codes(_with_claim(claim, supervising=supervisor)) == ["A6:562:DQ"]


def _named(party: object, entity: str, npi: str) -> object:
    name = party.name.model_copy(update={  # type: ignore[attr-defined]
        "entity_identifier_code": entity, "identification_code": npi})
    return party.model_copy(update={"name": name})  # type: ignore[attr-defined]


def test_a_claim_supervisor_who_rendered_a_line_or_billed_alone_is_rejected() -> None:
    """DOMAIN.md 2: the supervisor must not be the rendering clinician, who is the line's
    2420A, else 2310B, else the billing provider when it is a person (4). Version 1 of
    P87726-SUPERVISOR-DIFFERS compared 2310D with 2310B only, and these were paid."""
    claim = _base_claim()
    c = claim.claim  # type: ignore[attr-defined]
    clinician, other = "1000000004", "1000000012"
    # 2310D is the clinician the second line names in 2420A
    lines = [c.lines[0], c.lines[1].model_copy(update={
        "rendering": _named(c.rendering, "82", clinician)})]
    supervisor = _named(c.rendering, "DQ", clinician)
    assert _codes(_with_claim(claim, lines=lines, supervising=supervisor)) == ["A8:562:DQ"]
    # unless that line names its own, other supervisor (2420D)
    own = lines[1].model_copy(update={"supervising": _named(c.rendering, "DQ", other)})
    assert _codes(_with_claim(claim, lines=[lines[0], own], supervising=supervisor)) == []
    # an individual billing provider with no 2310B renders: it may not supervise itself
    billing = claim.billing_provider  # type: ignore[attr-defined]
    person = billing.model_copy(update={"name": billing.name.model_copy(update={
        "entity_type_qualifier": "1"})})
    alone = claim.model_copy(update={"billing_provider": person})  # type: ignore[attr-defined]
    assert _codes(_with_claim(alone, rendering=None, supervising=_named(
        c.rendering, "DQ", billing.npi))) == ["A8:562:DQ"]
    assert _codes(_with_claim(alone, rendering=None, supervising=supervisor)) == []


def test_a_service_before_a_dependent_patients_birth_names_the_patient() -> None:
    from edi.claims import Demographics, EntityName, HierarchicalLevel, Patient, PatientInformation

    claim = _base_claim()
    patient = Patient(
        hl=HierarchicalLevel(id="3", parent_id="2", level_code="23", child_code="0"),
        patient_information=PatientInformation(individual_relationship_code="19"),
        name=EntityName(entity_identifier_code="QC", entity_type_qualifier="1",
                        last_or_organization_name="SAMPLE", first_name="KID"),
        demographics=Demographics(birth_date=date(2026, 11, 6), gender_code="F"))
    codes = _codes(claim.model_copy(update={"patient": patient}))  # type: ignore[attr-defined]
    assert codes == ["A8:187:QC", "A8:187:QC"]


def test_a_claim_number_is_obh_the_year_the_day_of_year_and_seven_digits() -> None:
    from edi.front_end import claim_number

    # days taking turns: each gets its own prefix (1 February is day 32; 2024 is a leap year)
    assert claim_number(date(2026, 2, 1), 42) == "OBH260320000042"
    assert claim_number(date(2024, 12, 31), 1) == "OBH243660000001"
    assert claim_number(date(2026, 2, 1), 9_999_999) == "OBH260329999999"
