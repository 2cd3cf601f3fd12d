"""A reference directory is read with bounds (issue 14, bounded reading): a link to a
device or out of the directory, a FIFO, or an overlong line is a usage error naming
the file, never a hang, a MemoryError or a traceback, on both loaders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workers.reference import SHIPPED_REFERENCE_DIRECTORY

CLAIMS_BIN = Path(sys.executable).parent / "claims"
SAMPLE = SHIPPED_REFERENCE_DIRECTORY.parent / "837p" / "demo-small.837"


def _directory(tmp_path: Path) -> Path:
    directory = tmp_path / "reference"
    shutil.copytree(SHIPPED_REFERENCE_DIRECTORY, directory)
    (directory / "members.csv").unlink()
    return directory


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    # a timeout: a loader that opened a FIFO or /dev/zero would never return
    return subprocess.run([str(CLAIMS_BIN), *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "500"})


def _both_loaders(directory: Path, tmp_path: Path) -> list[str]:
    """What `claims process --reference` and `claims reference load` say (exit 2 each)."""
    outputs = []
    processed = _run("process", str(SAMPLE), "--out", str(tmp_path / "out"), "--quiet",
                     "--reference", str(directory))
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert _run("migrate", "--db", url).returncode == 0
    loaded = _run("reference", "load", str(directory), "--db", url)
    for done in (processed, loaded):
        assert done.returncode == 2, done.stderr[-2000:]
        text = " ".join((done.stdout + done.stderr).split())
        assert "Traceback" not in text
        outputs.append(text)
    return outputs


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_link_to_a_device_is_refused(tmp_path: Path, device: str) -> None:
    directory = _directory(tmp_path)
    (directory / "members.csv").symlink_to(device)
    for text in _both_loaders(directory, tmp_path):
        assert "members.csv: is a link that leads out of the directory" in text


def test_a_fifo_is_refused_without_being_opened(tmp_path: Path) -> None:
    directory = _directory(tmp_path)
    os.mkfifo(directory / "members.csv")
    for text in _both_loaders(directory, tmp_path):
        assert "members.csv: is not a regular file" in text


def test_an_overlong_line_is_refused_by_its_line_number(tmp_path: Path) -> None:
    directory = _directory(tmp_path)
    header = (SHIPPED_REFERENCE_DIRECTORY / "members.csv").read_text().splitlines()[0]
    (directory / "members.csv").write_text(header + "\n" + "x" * 100_000 + "\n")
    for text in _both_loaders(directory, tmp_path):
        assert "members.csv line 2: is longer than 65,536 characters" in text
        assert "xxxx" not in text  # the line's text is never quoted
