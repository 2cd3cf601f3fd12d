"""Problems, reasons, logs and exception texts never quote the input (issue: hostile input).

What the reader takes for a segment ID is input text too: with a wrong delimiter it is a
whole segment, names and member IDs included. These tests plant values and prove that
none reaches `summary.json` or the log.
"""

from __future__ import annotations

import json
import logging
import random
import re
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from edi.errors import ParseError
from edi.segment_ids import KNOWN_SEGMENT_IDS, element_name, segment_name
from tests.paths import FIXTURES
from workers.cli import app

runner = CliRunner()
SAMPLE = FIXTURES / "837p" / "demo-small.837"
# values of the sample that are PHI: member names and IDs, birth dates, diagnoses
PHI = ["JESSUP", "LENA", "944749930", "20020311", "VANTERPOOL", "DELIA", "969029584",
       "19640930", "2020 STONEBRIDGE LN", "F411", "F1220"]


def _process(tmp_path: Path, text: str, name: str = "planted.837") -> tuple[str, str]:
    inbound = tmp_path / "inbound"
    inbound.mkdir(exist_ok=True)
    path = inbound / name
    path.write_bytes(text.encode("latin-1"))
    out = tmp_path / "out"
    with structlog.testing.capture_logs() as logs:
        result = runner.invoke(app, ["process", str(path), "--out", str(out), "--quiet",
                                     "--as-of", "2026-11-23", "--received", "2026-11-23"])
    assert result.exit_code == 0, result.output
    summary = (out / "summary.json").read_text()
    return summary, json.dumps(logs, default=str) + result.output


def _problems_and_reasons(summary_text: str) -> str:
    summary = json.loads(summary_text)
    texts = []
    for entry in summary["files"]:
        texts += entry["problems"]
        for claim in entry["claims"]:
            texts += claim["reasons"]
    return "\n".join(texts)


def _assert_no_phi(*texts: str) -> None:
    for text in texts:
        for value in PHI:
            assert value not in text


def test_a_segment_with_other_delimiters_is_not_echoed_into_problems(tmp_path: Path) -> None:
    text = SAMPLE.read_text().replace("NM1*IL*1*JESSUP*LENA", "NM1+IL+1+JESSUP+LENA")
    summary, logs = _process(tmp_path, text)
    problems = _problems_and_reasons(summary)
    assert "unrecognised ID of 20 characters" in problems  # the segment is still reported
    _assert_no_phi(summary, logs)


@pytest.mark.parametrize("separators", [("|", "~"), ("|", "!"), ("*", "!")])
def test_a_second_interchange_with_other_delimiters_is_not_echoed(
    tmp_path: Path, separators: tuple[str, str]
) -> None:
    element, terminator = separators
    text = SAMPLE.read_text()
    isa_end = text.index("~") + 1
    # the second interchange declares other separators but keeps * and ~ in its body
    isa = text[:isa_end].replace("*", element).replace("011501751", "011501752")
    summary, logs = _process(tmp_path, text + "\n" + isa[:-1] + terminator + text[isa_end:])
    problems = json.loads(summary)["files"][0]["problems"]
    assert problems, "the broken interchange is reported"
    for problem in problems:
        assert len(problem) < 300
        assert not set(problem) & set("*~|!^"), problem  # no segment text
    _assert_no_phi(summary, logs)


@pytest.mark.parametrize("planted", ["JESSUP LENA 944749930", "\x00\x7f\xff\xfe", "A" * 5000])
def test_no_raw_bytes_or_planted_text_as_a_segment_id(tmp_path: Path, planted: str) -> None:
    text = SAMPLE.read_text().replace("N3*2020 STONEBRIDGE LN APT 39~", planted + "~")
    summary, _logs = _process(tmp_path, text)
    problems = _problems_and_reasons(summary)
    assert planted not in problems
    assert not any(re.search(r"[\x00-\x1f\x7f-\xff]", line) for line in problems.split("\n"))
    assert "unrecognised ID" in problems


def test_only_ids_the_guides_define_are_named() -> None:
    assert segment_name("NM1") == "NM1 segment"
    assert segment_name("JOE") == "segment with an unrecognised ID of 3 characters"
    assert segment_name("") == "blank segment"
    assert element_name("SV1", 1, 2) == "SV101-02"
    assert element_name("LENA", 3) == "element 03"
    error = ParseError("a reason", position=3, segment_id="NM1+IL+JESSUP", file_position=9)
    assert "JESSUP" not in str(error)


def test_the_known_ids_are_exactly_those_of_pyx12s_maps() -> None:
    """An independent reading of the maps pyx12 ships: the list cannot drift from them."""
    import pyx12

    ids: set[str] = set()
    for path in (Path(pyx12.__file__).parent / "map").glob("*.xml"):
        ids |= set(re.findall(r'<segment xid="([A-Z0-9]+)"', path.read_text()))
    assert ids == KNOWN_SEGMENT_IDS


def test_nothing_is_logged_through_the_standard_logger_with_phi(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = SAMPLE.read_text().replace("NM1*IL*1*JESSUP*LENA", "NM1+IL+1+JESSUP+LENA")
    with caplog.at_level(logging.DEBUG):
        _process(tmp_path, text)
    _assert_no_phi(caplog.text)


PLANTED = "QZXPLANTEDNAME"


def _plant(text: str, rng: random.Random) -> str:
    """Put the planted value in a random place: an element, a segment ID, or a segment
    whose element separator was changed so the reader takes it for an ID."""
    segments = text.split("~")
    index = rng.randrange(1, len(segments) - 3)  # never the ISA
    elements = segments[index].strip().split("*")
    if elements[0] == "CLM":  # CLM01 is echoed on purpose (277CA, summary contract)
        index += 1
        elements = segments[index].strip().split("*")
    how = rng.choice(["element", "id", "separator", "bytes"])
    if how == "element":
        position = rng.randrange(1, max(2, len(elements)))
        elements += [""] * (position + 1 - len(elements))
        elements[position] = PLANTED
        segments[index] = "*".join(elements)
    elif how == "id":
        segments[index] = "*".join([PLANTED, *elements[1:]])
    elif how == "separator":
        segments[index] = "+".join([elements[0], PLANTED, *elements[1:]])
    else:
        segments[index] = PLANTED + "\x00\xff\x01" + "*".join(elements)
    return "~".join(segments)


@pytest.mark.parametrize("seed", range(24))
def test_a_planted_value_anywhere_never_reaches_problems_reasons_or_logs(
    tmp_path: Path, seed: int
) -> None:
    text = _plant(SAMPLE.read_text(), random.Random(seed))
    summary, logs = _process(tmp_path, text)
    assert PLANTED not in _problems_and_reasons(summary)
    assert PLANTED not in logs
