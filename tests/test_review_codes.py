"""Every code the review screens can show has words to show beside it (review/codes.py)."""

from __future__ import annotations

import csv

from adjudication.packs import CLAIM_RULES, GATE, PACKS
from adjudication.rules.coordination import COORDINATION
from edi.validators.codesets.places_of_service import PlaceOfService
from edi.validators.edits import EDITS
from fixtures.catalog import PROCEDURES
from remittance.era import codes
from review.codes import (
    front_end_words,
    modifier_words,
    place_words,
    procedure_words,
    queue_code,
    rule_words,
)
from tests.paths import FIXTURES
from workers.review_cli import DENIAL_RULE

UNKNOWN_RULE = "a rule this engine no longer runs"


def test_every_rule_the_engine_runs_or_a_person_records_has_its_title() -> None:
    ids = {rule_id for rule_id, _ in CLAIM_RULES} | {r.id for r in GATE} | {
        r.id for pack in PACKS.values() for r in pack.rules} | {COORDINATION.id}
    assert len(ids) > 20
    for rule_id in ids | {"ENGINE-FAULT", DENIAL_RULE}:
        assert rule_words(rule_id) != UNKNOWN_RULE, rule_id
    assert rule_words("PRICING").startswith("Allowed amount from the fee schedule")
    assert rule_words("NO-SUCH-RULE") == UNKNOWN_RULE


def test_every_277ca_code_an_edit_answers_with_names_that_edit() -> None:
    emitted = [code for edit in EDITS for code in edit.emits]
    assert len(emitted) > 20
    for code in emitted:  # the first edit (in the order they run) that answers with it
        first = next(edit for edit in EDITS if code in edit.emits)
        assert front_end_words(code).endswith(f"failing the edit “{first.title}”"), code
    assert front_end_words("A7:562:85").startswith(
        "rejected for invalid information, the billing provider, failing the edit")
    assert front_end_words("A3:21") == "returned as unprocessable, missing or invalid information"
    assert queue_code("A7:400") == front_end_words("A7:400")


def test_adjustment_places_procedures_and_modifiers_in_words() -> None:
    table = codes()
    for carc, words in table["carc"].items():
        assert queue_code(f"CO-{carc}") == f"{words} (contractual obligation)"
        assert queue_code(f"PR-{carc}") == f"{words} (patient responsibility)"
    for rarc, words in table["rarc"].items():
        assert queue_code(rarc) == words
    assert len(PlaceOfService) == 52
    assert place_words("11") == "office" and place_words("02") == (
        "telehealth other than patient home")
    assert all(place_words(p.value) != "not a CMS place-of-service code" for p in PlaceOfService)
    assert place_words("00") == "not a CMS place-of-service code"
    assert procedure_words("90837") == "Psychotherapy, 60 minutes"
    assert procedure_words("H0035") == "Mental health partial hospitalization, per diem"
    # every code the shipped fee schedules price, and every code the generator bills, has
    # words of its own (not only its family)
    priced = {row["procedure_code"] for row in csv.DictReader(
        (FIXTURES / "reference" / "fees.csv").open())}
    unnamed = [code for code in sorted(priced | set(PROCEDURES))
               if procedure_words(code).startswith(("a ", "not "))]
    assert unnamed == []
    assert procedure_words("99285") == "a CPT Category I code"  # not one the fees price
    assert procedure_words("H2020") == "a HCPCS Level II code"
    assert procedure_words("ABCDE") == "not a CPT or HCPCS code"
    assert modifier_words("U5").startswith("supervised service")
    assert modifier_words("ZZ") == "modifier (no description on file)"
