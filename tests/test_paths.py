"""Answers' names and the --out directory (issue 14, paths): two inputs never share an
answer's name, a long input name is answered, and an --out that cannot be written is a
usage error before anything is read or written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.paths import ACK_FIXTURES
from workers.cli import app

runner = CliRunner()
TWO_CLAIMS = ACK_FIXTURES / "valid-two-claims.837"


def _process(out: Path, *files: Path) -> dict[str, object]:
    result = runner.invoke(app, ["process", *map(str, files), "--out", str(out), "--quiet",
                                 "--as-of", "2026-11-23", "--received", "2026-11-23",
                                 "--front-end-only"])
    assert result.exit_code == 0, result.output
    summary: dict[str, object] = json.loads((out / "summary.json").read_text())
    return summary


def test_two_inputs_with_the_same_stem_get_answers_of_their_own(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "same.837", tmp_path / "b" / "same.837"
    shutil.copy(TWO_CLAIMS, first)
    # the same claims under another interchange control number: other bytes
    second.write_text(TWO_CLAIMS.read_text().replace("000000101", "000000102"))
    summary = _process(tmp_path / "out", first, second)
    files = summary["files"]
    assert isinstance(files, list)
    acks = [Path(f["ack_path"]) for f in files]
    assert len(set(acks)) == 2 and all(a.exists() for a in acks)
    assert [a.name for a in acks] == [f"same-{f['sha256'][:12]}.999" for f in files]
    # each 999 answers its own interchange
    assert "000000101" in acks[0].read_text() and "000000102" in acks[1].read_text()


def test_a_very_long_input_name_is_answered_under_a_shortened_name(tmp_path: Path) -> None:
    source = tmp_path / ("x" * 247 + ".837")  # 251 characters, near the 255 limit
    shutil.copy(TWO_CLAIMS, source)
    summary = _process(tmp_path / "out", source)
    files = summary["files"]
    assert isinstance(files, list)
    (entry,) = files
    ack = Path(entry["ack_path"])
    assert ack.exists() and ack.name == "x" * 120 + f"-{entry['sha256'][:12]}.999"
    assert Path(entry["claim_ack_path"]).exists()


@pytest.mark.parametrize("where", ["a file", "/sys/kernel/claims-out", "under a file"])
def test_an_out_that_cannot_be_written_is_a_usage_error_before_anything(
    tmp_path: Path, where: str,
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    out = {"a file": blocker, "under a file": blocker / "out",
           "/sys/kernel/claims-out": Path("/sys/kernel/claims-out")}[where]
    source = tmp_path / "in.837"
    shutil.copy(TWO_CLAIMS, source)
    result = runner.invoke(app, ["process", str(source), "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    assert "--out" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "summary.json").exists() and not list(tmp_path.glob("*.999"))
