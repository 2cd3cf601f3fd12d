"""How the envelope of an inbound file is read: line breaks around the segment
terminator, each answered the way pyx12 (the oracle) reads the same bytes."""

from __future__ import annotations

import io
from datetime import datetime

import pytest

from edi.acks import CountingControlNumbers, Responder, acknowledge
from edi.findings import FileCheck
from edi.tokenizer import iter_raw_segments
from edi.validators import compiled
from edi.validators import implementation_guide as ig
from tests.paths import ACK_FIXTURES
from tests.pyx12_oracle import pyx12_reading

BASE = (ACK_FIXTURES / "valid-two-claims.837").read_bytes()
"""One interchange (ISA13 000000101, ISA14 1) of one set (ST02 0001) of two claims,
each segment ended by ``~\\n``."""
WHEN = datetime(2026, 11, 23, 12, 0)
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
