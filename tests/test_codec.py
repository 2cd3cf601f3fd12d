"""The store's JSON for pure-core records (`store.codec`): amounts as strings, dates as
ISO text, enums as their codes, and back to the same records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import orjson

from edi.ack277 import ProviderTally, SetTotals, Tally
from edi.claim_status import (
    ClaimFinding,
    ClaimStatus,
    Entity,
    LineStatus,
    Location,
    Provider277,
    StatusCategory,
    TransactionStatus,
)
from store.codec import from_json, to_json

CLINIC = Provider277("2", "SUNRISE BEHAVIORAL HEALTH", None, "1234567893", "123456789")
LINE_FINDING = ClaimFinding(
    "SNIP5-HCPCS", 1, 5, StatusCategory.INVALID, ("454",), None,
    Location("2400", "SV1", "SV101-2", line=2), "The procedure code is not valid on the date.",
    code_set="HCPCS 2026")
CLAIM = ClaimStatus(
    patient_control_number="PCN-1", total_charge=Decimal("250.50"),
    service_from=date(2026, 11, 2), service_to=None, patient_last_name="DOE",
    patient_first_name=None, patient_member_id="M1", billing_provider=CLINIC,
    findings=(LINE_FINDING,),
    lines=(LineStatus(2, "90837", ("95", "HO"), Decimal("200.00"), Decimal("1"),
                      date(2026, 11, 2), None, "L2", (LINE_FINDING,)),))

FINDING_JSON = {
    "edit_id": "SNIP5-HCPCS", "edit_version": 1, "snip_level": 5, "category": "A7",
    "status_codes": ["454"], "entity": None,
    "location": {"loop": "2400", "segment": "SV1", "element": "SV101-2", "line": 2},
    "sentence": "The procedure code is not valid on the date.", "code_set": "HCPCS 2026",
}
CLAIM_JSON = {
    "patient_control_number": "PCN-1", "total_charge": "250.50",
    "service_from": "2026-11-02", "service_to": None, "patient_last_name": "DOE",
    "patient_first_name": None, "patient_member_id": "M1",
    "billing_provider": {"entity_type": "2", "last_or_organization_name":
                         "SUNRISE BEHAVIORAL HEALTH", "first_name": None,
                         "npi": "1234567893", "tax_id": "123456789"},
    "clearinghouse_trace": None,
    "findings": [FINDING_JSON],
    "payer_claim_control_number": None,
    "lines": [{"line_number": 2, "procedure_code": "90837", "modifiers": ["95", "HO"],
               "charge": "200.00", "units": "1", "service_from": "2026-11-02",
               "service_to": None, "line_item_control_number": "L2",
               "findings": [FINDING_JSON]}],
}
"""`CLAIM` as the store keeps it, written by hand from the rules above."""


def test_a_claims_277ca_record_is_stored_as_plain_json_written_from_the_rules() -> None:
    stored = to_json(CLAIM)
    assert stored == CLAIM_JSON
    assert orjson.loads(orjson.dumps(stored)) == CLAIM_JSON  # nothing only Python can hold


def test_every_record_the_store_keeps_reads_back_equal() -> None:
    header = TransactionStatus(
        submitter_name="CLEARINGHOUSE", submitter_id="CH01", receiver_sender_qualifier="ZZ",
        receiver_sender_id="CH01", application_sender="CH01",
        transaction_set_control_number="0001", batch_reference=None,
        received=date(2026, 11, 22), claims=[CLAIM, CLAIM], usage_indicator="T")
    totals = SetTotals(Tally(1, 2, Decimal("10.00"), Decimal("0.10")),
                       (ProviderTally(CLINIC, Tally(1, 0, Decimal("10.00"))),))
    supervised = ClaimFinding(
        "SNIP4-SUPERVISING-NPI", 1, 4, StatusCategory.MISSING, ("562", "21"),
        Entity.SUPERVISING, Location("2310D", "NM1", "NM109"), "No NPI.")
    for record in (CLAIM, header, totals, supervised, LINE_FINDING, CLINIC):
        stored = orjson.loads(orjson.dumps(to_json(record)))
        assert from_json(type(record), stored) == record
    # an earlier record without a field that came later reads with its default
    older = {k: v for k, v in CLAIM_JSON.items() if k not in ("lines", "clearinghouse_trace")}
    assert from_json(ClaimStatus, older) == ClaimStatus(**{
        **{f: getattr(CLAIM, f) for f in CLAIM_JSON}, "lines": (), "clearinghouse_trace": None})


@dataclass(frozen=True)
class _Step:
    """A record whose field names its own class (decoders are worked out lazily)."""

    at: datetime
    amount: Decimal
    then: _Step | None = None
    kept: tuple[int, str] = (0, "")


def test_a_record_that_holds_its_own_kind_reads_back() -> None:
    chain = _Step(datetime(2026, 11, 29, 8, 30), Decimal("1.005"),
                  _Step(datetime(2026, 11, 30), Decimal("-0"), None, (3, "x")))
    stored = to_json(chain)
    assert stored["then"]["at"] == "2026-11-30T00:00:00" and stored["amount"] == "1.005"
    assert stored["then"]["kept"] == [3, "x"]
    assert from_json(_Step, stored) == chain
