"""A rejected claim's line of business, named as adjudication would name it.

The review's rejections queue filters by line of business as the other queues do, but
a rejected claim is never adjudicated. The front end keeps a rejected claim's
member-identification inputs (`PatientKey`) and the answer step names the line of
business from them (`adjudication.engine.line_of_business`): it must be the one
adjudication would report the same claim under, and ``unknown`` when it cannot be named.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adjudication.engine import line_of_business
from adjudication.rules.member import PatientKey
from edi.faults import FAULTS
from edi.parsers.claim837 import iter_claims
from edi.tokenizer import segments_from_bytes
from edi.validators.codesets import default_registry
from store.engine import Store, sqlite_url
from store.models import Claim
from tests.paths import FIXTURES
from workers import line_of_business as lob_module
from workers.adjudicate import decide_in_memory
from workers.cli import app
from workers.line_of_business import UNKNOWN, rejected_lines_of_business
from workers.reference import SHIPPED_REFERENCE_DIRECTORY, load_reference_dir
from workers.reference_store import InMemoryReference

AS_OF = date(2026, 11, 23)
SAMPLES = ["demo-lob-mix.837", "demo-situations.837", "demo-default-rates.837"]


def test_the_line_of_business_named_from_the_key_is_the_one_adjudication_reports() -> None:
    # Given every claim of the sample files (three lines of business, dependents,
    # a member whose coverage had ended, corrections) and two claims of a
    # subscriber we never covered
    reference = load_reference_dir(SHIPPED_REFERENCE_DIRECTORY)
    claims = [claim for name in SAMPLES for claim in iter_claims(
        segments_from_bytes((FIXTURES / "837p" / name).read_bytes()))]
    strangers = (FIXTURES / "edits" / "payer-billing-npi.837").read_bytes().replace(
        b"*MI*OBH000001~", b"*MI*NOBODY001~")  # a subscriber id we never issued
    claims += iter_claims(segments_from_bytes(strangers))
    # When each is decided, and its line of business is named from its key alone
    decisions = decide_in_memory([(f"OBH{n:012d}", c) for n, c in enumerate(claims)],
                                 reference, AS_OF, AS_OF, code_sets=default_registry())
    named = [line_of_business(PatientKey.of(c), reference, AS_OF) for c in claims]
    # Then they agree claim for claim, and the samples reach every case
    assert named == [d.line_of_business for d in decisions]
    assert {str(lob) for lob in named if lob} == {"commercial", "medicaid",
                                                  "medicare_advantage"}
    assert None in named  # a patient who is not our member: no line of business


def test_a_claim_whose_line_of_business_cannot_be_named_is_unknown(
        monkeypatch: pytest.MonkeyPatch) -> None:
    source = InMemoryReference(load_reference_dir(SHIPPED_REFERENCE_DIRECTORY), "shipped")
    (claim, *_rest) = iter_claims(segments_from_bytes(
        (FIXTURES / "edits" / "payer-billing-npi.837").read_bytes()))
    known = PatientKey.of(claim)
    stranger = known._replace(subscriber_id="NOBODY")
    session = None  # an in-memory source reads no store
    # a key that names a member, one that names nobody, no key at all (unreadable set)
    assert rejected_lines_of_business(session, source, [known, stranger, None],  # type: ignore[arg-type]
                                      AS_OF) == ["commercial", UNKNOWN, UNKNOWN]
    # no reference data (a front-end-only run): nothing can be named
    assert rejected_lines_of_business(session, None, [known], AS_OF) == [UNKNOWN]  # type: ignore[arg-type]

    # an engine fault is counted and the claim is answered all the same
    def broken(*_args: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(lob_module, "line_of_business", broken)
    before = FAULTS["line-of-business"]
    assert rejected_lines_of_business(session, source, [known], AS_OF) == [UNKNOWN]  # type: ignore[arg-type]
    assert FAULTS["line-of-business"] == before + 1


def test_a_front_end_only_run_keeps_unknown_and_accepted_claims_keep_none(
        tmp_path: Path) -> None:
    # Given a file whose first two claims the front end rejects, run without adjudication
    out = tmp_path / "out"
    done = CliRunner().invoke(app, [
        "process", str(FIXTURES / "edits" / "payer-billing-npi.837"), "--out", str(out),
        "--quiet", "--as-of", "2026-11-23", "--received", "2026-11-23", "--front-end-only"])
    assert done.exit_code == 0, done.output
    store = Store(sqlite_url(out))
    try:
        with store.transaction() as s:
            rows = s.execute(
                Claim.__table__.select().with_only_columns(  # type: ignore[attr-defined]
                    Claim.patient_control_number, Claim.front_end, Claim.line_of_business)
                .order_by(Claim.id)).all()
    finally:
        store.dispose()
    assert [tuple(r) for r in rows] == [("PCN-0001", "rejected", UNKNOWN),
                                        ("PCN-0002", "rejected", UNKNOWN),
                                        ("PCN-0101", "accepted", None),
                                        ("PCN-0102", "accepted", None)]
