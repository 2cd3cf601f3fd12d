"""TA1 and 999: what the engine answers, checked against pyx12 and golden files."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
import pyx12.params
import pyx12.x12n_document

from edi.validators.outbound import outbound_problems
from tests.ackhelp import ack_for, check_file, without_envelope_noise
from tests.paths import ACK_FIXTURES, FIXTURES, corpus_837p
from tests.pyx12_oracle import pyx12_verdicts

ACK_INPUTS = sorted(ACK_FIXTURES.glob("*.837"))
GENERATED = sorted((FIXTURES / "837p").glob("*.837"))


def _golden_path(source: Path, kind: str) -> Path:
    return source.with_suffix(f".{kind.lower()}")


@pytest.mark.parametrize("source", ACK_INPUTS, ids=lambda p: p.name)
def test_each_hand_written_fixture_gets_its_golden_acknowledgment(source: Path) -> None:
    # Given a small 837P with one known problem (or none)
    # When the engine acknowledges it
    ack = ack_for(source)
    golden = _golden_path(source, ack.kind)
    # Then the acknowledgment body equals the reviewed golden file, envelope numbers aside
    assert golden.exists(), f"{golden.name} missing: the ack kind changed or is new"
    assert without_envelope_noise(ack.text) == without_envelope_noise(golden.read_text())


def _ack_body(text: str) -> list[str]:
    """The segments from AK1 to AK9 of a 999, read without the engine's code."""
    body: list[str] = []
    for segment in (s.strip() for s in text.split("~")):
        if segment.startswith("AK1") or (body and not body[-1].startswith("AK9")):
            body.append(segment)
    return body


#: Where a golden 999 differs from pyx12's own by the engine's choice (README, "999").
_NOT_PYX12S = {
    "non-ascii-name.999": "pyx12 raises on a byte outside ASCII; the engine answers",
    "unsupported-version.999": "pyx12 walks an 837I as its own guide; the engine answers "
                               "IK5 R 1, a transaction set it does not support",
}


def test_the_goldens_pyx12_cannot_check_are_few_and_named() -> None:
    assert {p.name for p in ACK_FIXTURES.glob("*.999")} >= set(_NOT_PYX12S)


@pytest.mark.parametrize("golden", [p for p in sorted(ACK_FIXTURES.glob("*.999"))
                                    if p.name not in _NOT_PYX12S], ids=lambda p: p.name)
def test_each_golden_999_is_pyx12s_own_999_for_its_file(golden: Path, tmp_path: Path) -> None:
    # The golden 999s are written and reviewed by hand; pyx12, run as its authors run
    # it, is the independent check of their IK3/IK4/IK5/AK9 content
    source = golden.with_suffix(".837")
    declared = b"X222A2" in source.read_bytes()
    copy = tmp_path / source.name
    copy.write_bytes(source.read_bytes().removeprefix(b"\xef\xbb\xbf")
                     .replace(b"X222A2", b"X222A1"))
    out = io.StringIO()
    pyx12.x12n_document.x12n_document(pyx12.params.params(), str(copy), out, None)
    theirs = _ack_body(out.getvalue())
    # the engine's documented additions: the version the sender declared, echoed;
    # CTX naming the claim of a segment in error; AK9 P when some sets were accepted
    if declared:
        theirs = [s.replace("X222A1", "X222A2") for s in theirs]
    ak9 = theirs[-1].split("*")
    if ak9[1] == "R" and 0 < int(ak9[4]) < int(ak9[3]):
        theirs[-1] = "*".join([ak9[0], "P", *ak9[2:]])
    ours = [s for s in _ack_body(golden.read_text()) if not s.startswith("CTX")]
    assert ours == theirs


@pytest.mark.parametrize("source", corpus_837p(), ids=lambda p: p.name)
def test_every_public_837p_gets_the_same_verdict_per_transaction_set_as_pyx12(
    source: Path, tmp_path: Path
) -> None:
    # Given a public 837P and pyx12's own verdict on it (BOM removed, A2 read as A1)
    expected = pyx12_verdicts(source, tmp_path)
    # When the engine checks it (receiver not enforced: these files were not sent to us)
    check = check_file(source, any_receiver=True)
    ours = [(ts.control_number, ts.accepted) for ts in check.each_transaction_set()
            if not any(ic.rejected for ic in check.interchanges)]
    # Then every transaction set pyx12 accepts we accept, and every one it rejects we reject
    if expected is None or not expected:
        assert not check.accepted_ordinals(), "pyx12 could not accept this file"
    else:
        assert ours == [(st02, code in ("A", "E")) for st02, code in expected]


def _all_inputs() -> list[Path]:
    return [*ACK_INPUTS, *GENERATED, *corpus_837p()]


@pytest.mark.parametrize("source", _all_inputs(), ids=lambda p: p.name)
def test_every_999_the_engine_writes_is_valid_for_pyx12(source: Path) -> None:
    # Given any input file, good or broken
    ack = ack_for(source, any_receiver=True)
    # Then the 999 it gets passes pyx12's 999 map (a TA1-only answer has no group to check)
    if ack.kind == "999":
        assert outbound_problems(ack.text) == []


def test_pyx12s_own_entry_point_also_accepts_our_999s() -> None:
    # Given 999s for a clean file, a partly rejected file and a rejected one
    logging.getLogger("pyx12").setLevel(logging.CRITICAL + 1)
    for name in ("valid-two-claims.837", "two-sets-one-bad.837", "missing-billing-name.837"):
        text = ack_for(ACK_FIXTURES / name).text
        # When pyx12's x12n_document validates them, loading its maps afresh
        valid = pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text),
                                                  None, None)
        # Then it finds nothing wrong
        assert valid, name


def test_the_cached_maps_give_the_same_findings_in_any_order() -> None:
    # Given the same broken files checked twice, in opposite orders
    files = [p for p in corpus_837p() if p.stat().st_size < 50_000]
    first = {p.name: _fingerprint(p) for p in files}
    second = {p.name: _fingerprint(p) for p in reversed(files)}
    # Then the map state never leaks from one file into the next
    assert first == second


def _fingerprint(path: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    check = check_file(path, any_receiver=True)
    return [(ts.control_number, ts.ack_code, tuple(s for f in ts.segments for s in f.sentences))
            for ts in check.each_transaction_set()]


def test_a_claim_in_error_is_named_in_the_999_by_its_patient_control_number() -> None:
    ack = ack_for(ACK_FIXTURES / "two-sets-one-bad.837")
    assert "CTX*CLM01:PCN-0004~" in ack.text
    assert "AK9*P*2*2*1~" in ack.text


def test_a_file_that_asks_for_a_ta1_gets_one_before_its_999() -> None:
    text = ack_for(ACK_FIXTURES / "valid-two-claims.837").text
    segments = [s.split("*")[0] for s in text.split("~\n") if s]
    assert segments[:3] == ["ISA", "TA1", "GS"]
    assert "TA1*000000101*261120*0930*A*000" in text


_ISA = ("ISA*00*          *00*          *ZZ*87726          *ZZ*CLEARHOUSE01   *261123*1200*^*00501*"
        "{:09d}*0*P*:~\n")
_999_THEN_TA1 = (
    _ISA.format(1) + "TA1*000000317*261120*0930*A*000~\n"
    "GS*FA*87726*CLEARHOUSE01*20261123*1200*1*X*005010X231A1~\nST*999*0001*005010X231A1~\n"
    "AK1*HC*101*005010X222A1~\nAK2*837*0001*005010X222A1~\nIK5*A~\nAK9*A*1*1*1~\n"
    "SE*6*0001~\nGE*1*1~\nIEA*1*000000001~\n"
    + _ISA.format(2) + "TA1*000000317*261120*0930*R*008~\nIEA*0*000000002~\n")


def test_a_999_followed_by_an_interchange_of_a_ta1_alone_is_valid() -> None:
    """Found by the fuzz suite (a nested second ISA, refused with a TA1): each
    interchange is checked on its own, so the TA1 alone (IEA01 0) is not read as a GS
    missing from the 999's transaction set."""
    # Given a file answering two interchanges: a 999, then a TA1 alone
    # Then nothing is wrong with it, and a fault in the 999 is still found
    assert outbound_problems(_999_THEN_TA1) == []
    assert outbound_problems(_999_THEN_TA1.replace("SE*6*", "SE*7*")) == ["IK502 4"]


class _Writes(io.StringIO):
    """A text stream that remembers the longest single write."""

    longest = 0

    def write(self, text: str) -> int:
        self.longest = max(self.longest, len(text))
        return super().write(text)


def test_the_999_is_written_as_it_is_made_never_held_whole() -> None:
    """The acknowledge step writes the 999 into the archive through
    `write_acknowledgment`: a file of many interchanges is answered segment by segment
    (a 200,000-interchange file's 999 is some 37 MB), and says what `acknowledge`'s
    text says."""
    from edi.acks import CountingControlNumbers, Responder, acknowledge, write_acknowledgment
    from edi.validators.compiled import check_stream as compiled_check
    from edi.validators.implementation_guide import EnvelopePolicy
    from fixtures.generator import generate_837_text
    from tests.ackhelp import WHEN
    from workers.bench_shapes import one_claim_interchanges

    # Given a file of 60 one-claim interchanges
    text = one_claim_interchanges(generate_837_text(
        60, 60, claims_per_transaction=1, transactions_per_group=1))
    check = compiled_check(io.BytesIO(text.encode()), EnvelopePolicy())
    # When its 999 is written to a stream
    out = _Writes()
    verdict = write_acknowledgment(check, Responder(when=WHEN, control=CountingControlNumbers()),
                                   out)
    # Then no write is longer than a segment, and it is the 999 acknowledge gives
    held = acknowledge(check, Responder(when=WHEN, control=CountingControlNumbers()))
    assert out.getvalue() == held.text and (verdict.kind, verdict.code) == ("999", "A")
    assert held.text.count("AK1*HC*") == 60 and out.longest <= 107
