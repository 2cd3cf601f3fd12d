"""How the envelope of an inbound file is read: line breaks around the segment
terminator, padding and stray data between and after interchanges; answered the way
pyx12 (the oracle) reads the same bytes where pyx12 has a verdict on them."""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from edi.acks import CountingControlNumbers, Responder, acknowledge
from edi.errors import X12SyntaxError
from edi.findings import FileCheck
from edi.tokenizer import iter_raw_segments
from edi.validators import compiled
from edi.validators import implementation_guide as ig
from tests.paths import ACK_FIXTURES
from tests.pyx12_oracle import pyx12_reading
from tests.test_one_pass import both
from workers.cli import app
from workers.fuzz import front_end_in_memory
from workers.summary import FileSummary, RunSummary

BASE = (ACK_FIXTURES / "valid-two-claims.837").read_bytes()
"""One interchange (ISA13 000000101, ISA14 1) of one set (ST02 0001) of two claims,
each segment ended by ``~\\n``."""
SECOND = BASE.replace(b"000000101", b"000000102")
THIRD = BASE.replace(b"000000101", b"000000103")
BAD_ISA = SECOND.replace(b"*00501*", b"*0501*")
"""The second interchange with an ISA12 four characters wide (TA1 017)."""
WHEN = datetime(2026, 11, 23, 12, 0)
STRAY_TA1 = "TA1*000000000*261123*1200*R*022"
"""The TA1 answering data between interchanges that is no ISA: no ISA13, ISA09 or
ISA10 to echo (zeros, and the answer's own date and time), rejected, 022 invalid
control structure."""
CHECKS = {"compiled": compiled.check_stream, "pyx12": ig.check_stream}


def _check(data: bytes, path: str = "compiled") -> FileCheck:
    return CHECKS[path](io.BytesIO(data), ig.EnvelopePolicy())


def _verdicts(check: FileCheck) -> list[tuple[str, str]]:
    """(ST02, IK501) of every set the 999 answers, in file order."""
    return [(ts.control_number, ts.ack_code) for ic in check.interchanges
            if not ic.rejected for group in ic.groups for ts in group.transaction_sets]


def _ta1s(check: FileCheck) -> list[str]:
    text = acknowledge(check, Responder(when=WHEN, control=CountingControlNumbers())).text
    return [s.strip() for s in text.split("~") if s.strip().startswith("TA1*")]


@pytest.mark.parametrize("path", CHECKS)
@pytest.mark.parametrize("after", ["\r\n", "\r"], ids=["cr-lf", "cr"])
def test_a_file_whose_segment_terminator_is_cr_is_read_as_pyx12_reads_it(
        path: str, after: str) -> None:
    # Given the file with each segment ended by CR (ISA106 is CR), followed by LF or not
    data = BASE.replace(b"~\n", after.encode())
    # When the engine checks it
    check = _check(data, path)
    # Then it is read as pyx12 reads it: the set accepted, the interchange with it
    valid, pyx12_ta1s, pyx12_verdicts = pyx12_reading(data)
    assert valid and pyx12_verdicts == [("0001", "A")]
    assert _verdicts(check) == pyx12_verdicts
    assert _ta1s(check) == pyx12_ta1s == ["TA1*000000101*261120*0930*A*000"]


def test_the_line_feed_after_a_cr_terminator_is_no_part_of_the_next_segment() -> None:
    # Given the file's segments ended by CR LF, CR being the terminator
    data = BASE.replace(b"~\n", b"\r\n")
    # When it is tokenized
    texts = [raw.text for raw in iter_raw_segments(io.BytesIO(data))]
    # Then every segment reads as in the original file
    assert texts == [raw.text for raw in iter_raw_segments(io.BytesIO(BASE))]
    assert texts[1] == "GS*HC*CLEARHOUSE01*87726*20261120*0930*101*X*005010X222A1"


@pytest.mark.parametrize("path", CHECKS)
@pytest.mark.parametrize("padding", [b"\x00" * 512, b"\x1a", b"  \t\r\n\n", b"\r\n\x00\x00\x1a"],
                         ids=["nul", "sub", "blanks", "mixed"])
def test_padding_after_the_last_iea_is_no_data(path: str, padding: bytes) -> None:
    # Given the file padded after its IEA, as some mailbox transfers pad a file
    data = BASE + padding
    # When the engine checks it
    check = _check(data, path)
    # Then the interchange and its set are accepted, as pyx12 accepts them
    valid, pyx12_ta1s, pyx12_verdicts = pyx12_reading(data)
    assert valid and _verdicts(check) == pyx12_verdicts == [("0001", "A")]
    assert _ta1s(check) == pyx12_ta1s == ["TA1*000000101*261120*0930*A*000"]


@pytest.mark.parametrize("path", CHECKS)
def test_padding_between_two_interchanges_is_no_data(path: str) -> None:
    # Given two interchanges with NUL, SUB and line breaks between them (pyx12 raises
    # reading the second: it has no verdict)
    check = _check(BASE + b"\x00\x1a\r\n" + SECOND, path)
    # Then both are accepted
    assert _ta1s(check) == ["TA1*000000101*261120*0930*A*000", "TA1*000000102*261120*0930*A*000"]
    assert _verdicts(check) == [("0001", "A"), ("0001", "A")]


@pytest.mark.parametrize("path", CHECKS)
def test_stray_data_after_an_iea_is_rejected_on_its_own_and_the_next_interchange_is_read(
        path: str) -> None:
    # Given stray data that is no interchange between two interchanges
    data = BASE + b"HELLO WORLD~\n" + SECOND
    # When the engine checks it
    check = _check(data, path)
    # Then the stray data gets a TA1 of its own (000000000, R, 022), between the TA1s
    # of the interchanges around it, which stand with their sets
    assert _ta1s(check) == ["TA1*000000101*261120*0930*A*000", STRAY_TA1,
                            "TA1*000000102*261120*0930*A*000"]
    assert _verdicts(check) == [("0001", "A"), ("0001", "A")]
    # pyx12 takes both sets too (it files the stray segment under the first set's
    # trailer, and so finds the file in error)
    valid, _ta1s_of_pyx12, pyx12_verdicts = pyx12_reading(data)
    assert not valid and pyx12_verdicts == [("0001", "A"), ("0001", "A")]


def test_the_claims_of_the_interchange_after_stray_data_are_taken(tmp_path: Path) -> None:
    # Given stray data between two interchanges of two claims each
    data = BASE + b"HELLO WORLD~\n" + SECOND
    # When the front end takes the file in one pass
    check, result = front_end_in_memory(data)
    # Then the claims of both interchanges are read, as two passes read them
    assert [ts.ordinal for ts in check.each_transaction_set()] == [1, 2]
    assert len(result.claims) == 4
    path = tmp_path / "stray.837"
    path.write_bytes(data)
    one, two = both(path)
    assert one == two and one[0] == frozenset({1, 2})


@pytest.mark.parametrize("path", CHECKS)
@pytest.mark.parametrize("stray", [b"HELLO WORLD~\n", b"\x00\x00GARBAGE\x1a\x1a",
                                   b"GS*HC*X*Y~\nIEA*1*000000101~\n"],
                         ids=["text", "padded", "segments"])
def test_stray_data_after_the_last_iea_is_rejected_and_the_interchange_stands(
        path: str, stray: bytes) -> None:
    check = _check(BASE + stray, path)
    assert _ta1s(check) == ["TA1*000000101*261120*0930*A*000", STRAY_TA1]
    assert _verdicts(check) == [("0001", "A")]
    stray_result = check.interchanges[1]
    assert stray_result.sender_id == "CLEARHOUSE01"  # answered to the file's sender
    assert "HELLO" not in " ".join(stray_result.sentences)


@pytest.mark.parametrize("path", CHECKS)
def test_a_malformed_isa_after_a_good_interchange_rejects_only_its_own(path: str) -> None:
    # Given a good interchange, one whose ISA cannot be read, and a good one
    check = _check(BASE + BAD_ISA + THIRD, path)
    # Then the unreadable one gets a TA1 naming its fault (ISA12: 017), echoing its
    # ISA13, and the ones around it stand
    assert _ta1s(check) == ["TA1*000000101*261120*0930*A*000",
                            "TA1*000000102*261120*0930*R*017",
                            "TA1*000000103*261120*0930*A*000"]
    assert _verdicts(check) == [("0001", "A"), ("0001", "A")]


@pytest.mark.parametrize("path", CHECKS)
def test_a_bad_isa_found_while_skipping_stray_data_is_answered_and_reading_goes_on(
        path: str) -> None:
    # Given stray data, then an interchange whose ISA cannot be read, then a good one
    check = _check(BASE + b"HELLO WORLD~\n" + BAD_ISA + THIRD, path)
    # Then each is answered in file order and the good ones stand
    assert _ta1s(check) == ["TA1*000000101*261120*0930*A*000", STRAY_TA1,
                            "TA1*000000102*261120*0930*R*017",
                            "TA1*000000103*261120*0930*A*000"]
    assert _verdicts(check) == [("0001", "A"), ("0001", "A")]


@pytest.mark.parametrize("path", CHECKS)
def test_an_isa_cut_short_at_the_end_of_the_file_is_answered(path: str) -> None:
    check = _check(BASE + SECOND[:60], path)
    assert _ta1s(check) == ["TA1*000000101*261120*0930*A*000", STRAY_TA1]
    assert _verdicts(check) == [("0001", "A")]


@pytest.mark.parametrize("path", CHECKS)
def test_an_interchange_glued_to_stray_data_is_still_read(path: str) -> None:
    # Given stray data with no line break or terminator before the next ISA, and an
    # "ISA" inside a value of it that starts no readable ISA
    check = _check(BASE + b"NM1*IL*1*LISA*X~GARBAGE" + SECOND, path)
    # Then the stray data is one rejection and the glued interchange stands
    assert _ta1s(check) == ["TA1*000000101*261120*0930*A*000", STRAY_TA1,
                            "TA1*000000102*261120*0930*A*000"]
    assert _verdicts(check) == [("0001", "A"), ("0001", "A")]


_PIECES = [b"ISA", b"ISA*00*", b"*", b"~", b"\n", b"\r", b" ", b"\x00", b"\x1a", b"A", b"GS*",
           b"ST*837*0001~", b"IEA*1*000000101~", BAD_ISA[:106]]
"""Pieces of stray data that look like an envelope (none a readable ISA)."""
_STRAY = st.one_of(st.binary(max_size=300),
                   st.lists(st.sampled_from(_PIECES), max_size=30).map(b"".join))
"""Any bytes, or pieces of an envelope run together: data that is no readable ISA."""


@settings(max_examples=100, deadline=None)
@given(_STRAY)
def test_no_data_between_two_interchanges_changes_their_verdicts(between: bytes) -> None:
    # Given two good interchanges with any bytes between them that are no readable ISA
    data = BASE + between + SECOND
    for path in CHECKS:
        # When the engine checks it
        check = _check(data, path)
        # Then both stand, whatever else is answered between them
        ta1s = _ta1s(check)
        assert ta1s[0] == "TA1*000000101*261120*0930*A*000"
        assert ta1s[-1] == "TA1*000000102*261120*0930*A*000"
        assert _verdicts(check) == [("0001", "A"), ("0001", "A")]


def _raw(data: bytes, chunk_size: int) -> list[tuple[object, ...]]:
    """Each segment read, a stray one as its code, sentence and ISA."""
    return [(raw.text, raw.delimiters, raw.cut,
             raw.stray and (raw.stray.error.code, str(raw.stray.error), raw.stray.isa))
            for raw in iter_raw_segments(io.BytesIO(data), chunk_size=chunk_size)]


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 4, 5, 7, 64, 1 << 20])
def test_stray_data_reads_the_same_whatever_the_chunks(chunk_size: int) -> None:
    # Given padding, stray data, an unreadable ISA and interchanges glued and padded
    data = (BASE + b"\x00\x1a\n" + SECOND + b"HELLO ISA WORLD~\n" + BAD_ISA + b"JUNK"
            + THIRD + b"\x00" * 9)
    # When it is read in chunks of any size
    raw = _raw(data, chunk_size)
    # Then the same segments and stray stretches come out
    assert raw == _raw(data, 1 << 20)
    strays = [r[3] for r in raw if r[3]]
    assert [stray[0] for stray in strays] == ["022", "017"]  # type: ignore[index]
    assert [str(r[0])[:3] for r in raw].count("ISA") == 3


def _process(tmp_path: Path, path: Path) -> FileSummary:
    """``claims process`` of one file into ``tmp_path/out`` (one store for every call)."""
    result = CliRunner().invoke(app, ["process", str(path), "--out", str(tmp_path / "out"),
                                      "--quiet", "--as-of", "2026-11-23",
                                      "--received", "2026-11-23"])
    assert result.exit_code == 0, result.output
    (entry,) = RunSummary.model_validate_json(
        (tmp_path / "out" / "summary.json").read_text()).files
    return entry


def test_a_run_answers_stray_data_and_processes_the_claims_around_it(tmp_path: Path) -> None:
    # Given a file of two interchanges with stray data between them, padded at its end
    second = SECOND.replace(b"PCN-000", b"PCN-100")
    path = tmp_path / "stray.837"
    path.write_bytes(BASE + b"HELLO WORLD~\n" + second + b"\x00" * 100 + b"\x1a")
    # When a run processes it
    entry = _process(tmp_path, path)
    # Then the stray data is rejected on its own (the 999 answers partly) and every claim
    # of both interchanges is accepted
    assert (entry.status, entry.ack, entry.ack_code) == ("processed", "999", "P")
    assert re.search(r"^TA1\*000000000\*\d{6}\*\d{4}\*R\*022~$",
                     Path(entry.ack_path).read_text(), re.MULTILINE)
    assert [(c.patient_control_number, c.front_end) for c in entry.claims] == [
        ("PCN-0001", "accepted"), ("PCN-0002", "accepted"),
        ("PCN-1001", "accepted"), ("PCN-1002", "accepted")]


def test_past_the_strays_a_file_is_answered_for_the_rest_is_one_up_to_each_readable_isa(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import edi.between_interchanges

    # Given a file answered for at most three stray stretches, and six unreadable
    # interchanges between two good ones
    monkeypatch.setattr(edi.between_interchanges, "MAX_STRAYS", 3)
    data = BASE + BAD_ISA * 6 + THIRD
    # When it is read
    strays = [r[3] for r in _raw(data, 64) if r[3]]
    # Then the first two unreadable ones are answered one by one, the rest as one, and
    # the good interchange after them is read
    assert [stray[0] for stray in strays] == ["017", "017", "017"]  # type: ignore[index]
    check = _check(data)
    assert _ta1s(check)[-1] == "TA1*000000103*261120*0930*A*000"
    assert _verdicts(check) == [("0001", "A"), ("0001", "A")]


def test_data_of_isas_is_answered_once_per_isa_width_at_most() -> None:
    # Given stray lines that each start like an ISA (bad ones, 5 characters apart)
    data = BASE + b"\nISA*" * 1_000 + SECOND
    # When it is read
    strays = [r[3] for r in _raw(data, 1 << 20) if r[3]]
    # Then each unreadable ISA takes its header's width with it: the next is the first
    # line at least 106 characters on, 110
    assert len(strays) == 46 == -(-5_000 // 110)
    assert _ta1s(_check(data))[-1] == "TA1*000000102*261120*0930*A*000"


OTHER_SENDER = BASE.replace(b"ZZ*CLEARHOUSE01   ", b"ZZ*OTHERHOUSE02   ").replace(
    b"PCN-000", b"PCN-200")
"""The file's interchange (ISA13 000000101) as another sender's (ISA06), its claims
numbered apart."""


@pytest.mark.parametrize("path", CHECKS)
def test_an_isa13_two_senders_use_in_one_file_is_no_duplicate(path: str) -> None:
    # Given two senders' interchanges of the same ISA13 in one file
    data = BASE + OTHER_SENDER
    # When the engine checks it
    check = _check(data, path)
    # Then neither is a duplicate: a duplicate is the same sender's ISA13 again
    assert _ta1s(check) == ["TA1*000000101*261120*0930*A*000"] * 2
    assert _verdicts(check) == [("0001", "A"), ("0001", "A")]
    # (pyx12 keys ISA13 alone, and rejects the second with 025: the README says so)
    assert pyx12_reading(data)[1] == ["TA1*000000101*261120*0930*R*025"]


@pytest.mark.parametrize("path", CHECKS)
def test_an_isa13_one_sender_uses_twice_in_one_file_is_a_duplicate(path: str) -> None:
    data = BASE + BASE.replace(b"PCN-000", b"PCN-300")
    check = _check(data, path)
    assert _ta1s(check) == ["TA1*000000101*261120*0930*A*000",
                            "TA1*000000101*261120*0930*R*025"]
    assert _verdicts(check) == [("0001", "A")]
    assert pyx12_reading(data)[1] == ["TA1*000000101*261120*0930*R*025"]


def test_a_run_keys_duplicates_by_sender_and_isa13_within_a_file_and_across_files(
        tmp_path: Path) -> None:
    # Given a file holding two senders' interchanges of one ISA13
    both_senders = tmp_path / "both.837"
    both_senders.write_bytes(BASE + OTHER_SENDER)
    # When a run processes it
    first = _process(tmp_path, both_senders)
    # Then every claim of both is accepted
    assert (first.status, first.ack, first.ack_code) == ("processed", "999", "A")
    assert [c.front_end for c in first.claims] == ["accepted"] * 4
    # and the second sender's ISA13 is taken: a later file of it is a duplicate (025)
    again = tmp_path / "again.837"
    again.write_bytes(OTHER_SENDER.replace(b"PCN-200", b"PCN-400"))
    second = _process(tmp_path, again)
    assert (second.status, second.ack, second.ack_code) == ("rejected", "TA1", "R")
    assert "TA1*000000101*261120*0930*R*025~" in Path(second.ack_path).read_text()


LEADING_PADDING = {
    "nul": b"\x00" * 512, "sub": b"\x1a", "blank-lines": b"\r\n\r\n  \t\n",
    "bom": b"\xef\xbb\xbf", "bom-nul-crlf": b"\xef\xbb\xbf\x00\x00\r\n",
    "mixed": b"\n\x00\x1a \r\n",
}
"""What transfers and editors put before a file's first ISA: NUL or SUB padding, blank
lines, and the UTF-8 byte-order mark a Windows tool writes (only at the very start)."""


@pytest.mark.parametrize("path", CHECKS)
@pytest.mark.parametrize("padding", LEADING_PADDING.values(), ids=LEADING_PADDING.keys())
def test_padding_before_the_first_isa_is_no_data(path: str, padding: bytes) -> None:
    # Given the file with padding before its ISA
    data = padding + BASE
    # When the engine checks it
    check = _check(data, path)
    # Then the interchange and its set are accepted as without the padding
    assert _ta1s(check) == ["TA1*000000101*261120*0930*A*000"]
    assert _verdicts(check) == [("0001", "A")]
    # (pyx12 reads the first 106 characters as the ISA, so any byte before it makes
    # the file unreadable, answered with no TA1 or 999: the README says so)
    if not padding.startswith(b"\xef"):  # pyx12 decodes ASCII: a BOM raises
        assert pyx12_reading(data) == (False, [], [])


@pytest.mark.parametrize("path", CHECKS)
def test_stray_data_before_the_first_isa_is_rejected_on_its_own_and_the_interchanges_are_read(
        path: str) -> None:
    # Given stray data before the first of two interchanges, after a byte-order mark
    data = b"\xef\xbb\xbf\x00HELLO WORLD~\n" + BASE + SECOND
    # When the engine checks it
    check = _check(data, path)
    # Then the stray data gets a TA1 of its own (000000000, R, 022) before the TA1s of
    # the interchanges, which stand with their sets
    assert _ta1s(check) == [STRAY_TA1, "TA1*000000101*261120*0930*A*000",
                            "TA1*000000102*261120*0930*A*000"]
    assert _verdicts(check) == [("0001", "A"), ("0001", "A")]
    # answered to the sender of the interchange after it, in the one answer to it
    stray = check.interchanges[0]
    assert (stray.sender_qualifier, stray.sender_id) == ("ZZ", "CLEARHOUSE01")
    assert (stray.receiver_qualifier, stray.receiver_id) == ("ZZ", "87726")
    answer = acknowledge(check, Responder(when=WHEN, control=CountingControlNumbers())).text
    assert answer.count("ISA*") == 1
    assert stray.sentences == ["Data before the file's first interchange cannot be read: "
                               "the data does not start with an ISA segment."]


@pytest.mark.parametrize("path", CHECKS)
@pytest.mark.parametrize("data", [b"\x00\x1a", b"\x00 HELLO WORLD~\n", b"\n\x1a%PDF-1.4"],
                         ids=["padding", "stray", "pdf"])
def test_a_file_with_no_interchange_after_its_padding_is_unreadable(
        path: str, data: bytes) -> None:
    # Given a file of padding, or of padding and data that starts no interchange
    check = _check(data, path)
    # Then the file cannot be read: one TA1, empty (023) or no interchange (022)
    assert not check.interchanges and check.unreadable is not None
    assert check.unreadable.note_code == ("023" if data == b"\x00\x1a" else "022")
    assert _ta1s(check) == ["TA1*000000000*261123*1200*R*" + check.unreadable.note_code]


def test_the_claims_after_stray_data_before_the_first_isa_are_taken(tmp_path: Path) -> None:
    # Given stray data before two interchanges of two claims each
    data = b"\x00\x00HELLO WORLD~\n" + BASE + SECOND
    # When the front end takes the file in one pass
    check, result = front_end_in_memory(data)
    # Then the claims of both interchanges are read, as two passes read them
    assert [ts.ordinal for ts in check.each_transaction_set()] == [1, 2]
    assert len(result.claims) == 4
    path = tmp_path / "leading.837"
    path.write_bytes(data)
    one, two = both(path)
    assert one == two and one[0] == frozenset({1, 2})


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 4, 5, 7, 64, 1 << 20])
def test_what_is_before_the_first_isa_reads_the_same_whatever_the_chunks(
        chunk_size: int) -> None:
    # Given a byte-order mark, padding and stray data before the first interchange
    data = b"\xef\xbb\xbf\x1a\r\nHELLO ISA WORLD~\n\x00" + BASE + SECOND
    # When it is read in chunks of any size
    raw = _raw(data, chunk_size)
    # Then the stray data is one stretch before the same segments
    assert raw == _raw(data, 1 << 20)
    assert raw[0] == ("", raw[1][1], "", (
        "022", "the data does not start with an ISA segment", ""))
    assert [r[0] for r in raw[1:]] == [r[0] for r in _raw(BASE + SECOND, 1 << 20)]


def test_a_run_takes_a_file_a_windows_tool_wrote_with_a_byte_order_mark_and_blank_lines(
        tmp_path: Path) -> None:
    # Given a file that starts with a byte-order mark, a blank line and NUL padding
    path = tmp_path / "windows.837"
    path.write_bytes(b"\xef\xbb\xbf\r\n\x00\x00" + BASE + b"\x1a")
    # When a run processes it
    entry = _process(tmp_path, path)
    # Then its claims are accepted, as without them
    assert (entry.status, entry.ack, entry.ack_code) == ("processed", "999", "A")
    assert [(c.patient_control_number, c.front_end) for c in entry.claims] == [
        ("PCN-0001", "accepted"), ("PCN-0002", "accepted")]


BAD_FIRST = BASE.replace(b"*00501*", b"*0501*")
"""The file's interchange with an ISA12 four characters wide (TA1 017)."""


@pytest.mark.parametrize("path", CHECKS)
@pytest.mark.parametrize("before", [b"", b"\xef\xbb\xbf\r\n\x00"], ids=["at-start", "padded"])
def test_a_first_isa_that_cannot_be_read_rejects_only_its_own_interchange(
        path: str, before: bytes) -> None:
    # Given a file whose first ISA cannot be read (ISA12), then a good interchange
    data = before + BAD_FIRST + SECOND
    # When the engine checks it
    check = _check(data, path)
    # Then the unreadable one gets a TA1 naming its fault (017), echoing its ISA13, and
    # the one after it stands with its set
    assert _ta1s(check) == ["TA1*000000101*261120*0930*R*017",
                            "TA1*000000102*261120*0930*A*000"]
    assert _verdicts(check) == [("0001", "A")]
    first = check.interchanges[0]
    assert first.sender_id == "CLEARHOUSE01"
    assert first.sentences == ["An interchange before the file's first readable one cannot "
                               "be read: ISA12 is 4 characters long, the standard fixes 5."]
    # (pyx12 cannot read the file's first ISA, and so answers nothing)
    if not before:
        assert pyx12_reading(data) == (False, [], [])


@pytest.mark.parametrize("path", CHECKS)
def test_stray_data_and_unreadable_isas_before_the_first_readable_one_are_each_answered(
        path: str) -> None:
    # Given stray data, two unreadable ISAs (each its interchange up to the next ISA),
    # then two good interchanges
    data = b"HELLO WORLD~\n" + BAD_FIRST + BAD_ISA + THIRD + SECOND
    # When the engine checks it
    check = _check(data, path)
    # Then each is answered in file order and the good ones stand
    assert _ta1s(check) == [STRAY_TA1, "TA1*000000101*261120*0930*R*017",
                            "TA1*000000102*261120*0930*R*017",
                            "TA1*000000103*261120*0930*A*000",
                            "TA1*000000102*261120*0930*A*000"]
    assert _verdicts(check) == [("0001", "A"), ("0001", "A")]


@pytest.mark.parametrize("path", CHECKS)
def test_a_file_whose_only_isa_cannot_be_read_is_one_unreadable_ta1(path: str) -> None:
    check = _check(b"\x00\n" + BAD_FIRST, path)
    assert not check.interchanges and check.unreadable is not None
    assert _ta1s(check) == ["TA1*000000101*261120*0930*R*017"]


def test_the_claims_after_an_unreadable_first_isa_are_taken(tmp_path: Path) -> None:
    # Given an unreadable first interchange, then a good one of two claims
    data = BAD_FIRST + SECOND
    # When the front end takes the file in one pass
    check, result = front_end_in_memory(data)
    # Then the good one's claims are read, as two passes read them
    assert [ts.ordinal for ts in check.each_transaction_set()] == [1]
    assert len(result.claims) == 2
    path = tmp_path / "bad-first.837"
    path.write_bytes(data)
    one, two = both(path)
    assert one == two and one[0] == frozenset({1})


@settings(max_examples=100, deadline=None)
@given(_STRAY)
def test_no_data_before_the_first_interchange_changes_the_verdicts(before: bytes) -> None:
    # Given two good interchanges after any bytes that are no readable ISA
    data = before + BASE + SECOND
    for path in CHECKS:
        # When the engine checks it
        check = _check(data, path)
        # Then both stand, after whatever else is answered before them
        ta1s = _ta1s(check)
        assert ta1s[-2:] == ["TA1*000000101*261120*0930*A*000",
                             "TA1*000000102*261120*0930*A*000"]
        assert all("*R*" in ta1 for ta1 in ta1s[:-2])
        assert _verdicts(check) == [("0001", "A"), ("0001", "A")]


NO_IEA = BASE[:BASE.index(b"IEA*")]
"""The file cut before its IEA, after the GE's terminator and line break."""


@pytest.mark.parametrize("path", CHECKS)
@pytest.mark.parametrize("padding", [b"", b"\x00" * 512, b"\x1a", b"\r\n \t\x00\x1a",
                                     b"\x00" * 70_000],
                         ids=["none", "nul", "sub", "mixed", "past-a-segment's-length"])
def test_a_file_that_ends_in_padding_before_its_iea_ends_before_the_iea_trailer(
        path: str, padding: bytes) -> None:
    # Given the file cut before its IEA, padded after that
    data = NO_IEA + padding
    # When the engine checks it
    check = _check(data, path)
    # Then the interchange is rejected as premature end of file (023), as pyx12 rejects
    # it, saying the trailer is missing: no segment is cut short
    assert _ta1s(check) == pyx12_reading(data)[1] == ["TA1*000000101*261120*0930*R*023"]
    assert check.interchanges[0].sentences == [
        "The interchange is incomplete: the file ends before the IEA trailer."]


@pytest.mark.parametrize("path", CHECKS)
@pytest.mark.parametrize("tail", [b"IEA*1", b"\x00\x00IE", b"\x00" * 70_000 + b"IEA*1",
                                  b"\n\x1d"], ids=["iea", "padded", "long", "separator"])
def test_a_file_that_ends_in_a_segment_s_data_ends_inside_a_segment(
        path: str, tail: bytes) -> None:
    check = _check(NO_IEA + tail, path)
    assert _ta1s(check) == ["TA1*000000101*261120*0930*R*023"]
    assert check.interchanges[0].sentences == [
        "The interchange is incomplete: the file ends inside a segment."]


@pytest.mark.parametrize(("padding", "chunk_size"), [
    (b"\r\n\x00\x1a", 1), (b"\r\n\x00\x1a", 3), (b"\r\n\x00\x1a", 64),
    (b"\x00" * 70_000, 4_096), (b"\x00" * 70_000, 1 << 20)],
    ids=["short-1", "short-3", "short-64", "long-4096", "long-1048576"])
def test_padding_before_the_missing_iea_reads_the_same_whatever_the_chunks(
        padding: bytes, chunk_size: int) -> None:
    # Given the file cut before its IEA and padded, read in chunks of any size
    # Then it ends before the IEA trailer whatever the chunks
    with pytest.raises(X12SyntaxError, match=r"^the file ends before the IEA trailer$"):
        _raw(NO_IEA + padding, chunk_size)
