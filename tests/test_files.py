"""Files the engine writes (`workers.files`): whole or not at all, and UTF-8 whatever
the machine's locale."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
from pathlib import Path
from workers.files import atomic_text, copy_atomically

folder = Path(sys.argv[1])
(folder / "kept").write_bytes("IK4*2*66*7*CAF\\u00c9~".encode("utf-8"))
with atomic_text(folder / "written") as out:
    out.write("IK4*2*66*7*CAF\\u00c9~")
copy_atomically(folder / "kept", folder / "copied")
"""


def test_written_and_copied_documents_are_utf8_under_an_ascii_locale(tmp_path: Path) -> None:
    # Given a process whose locale encoding is ASCII (the C locale, UTF-8 mode off)
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0"}
    # When it writes a document holding a non-ASCII character, and copies a kept one
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env,
                          capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1])
    # Then both are written, as the UTF-8 bytes the archive keeps
    assert done.returncode == 0, done.stderr[-2000:]
    expected = "IK4*2*66*7*CAF\u00c9~".encode()
    assert (tmp_path / "written").read_bytes() == expected
    assert (tmp_path / "copied").read_bytes() == (tmp_path / "kept").read_bytes() == expected


def test_names_the_store_and_summary_json_keep_are_text_and_answers_stay_short() -> None:
    from workers.files import STEM_BYTES, answer_stem, shown, stored_name

    odd = os.fsdecode(b"claims-\xff.837")  # a name that is no UTF-8
    assert shown(odd) == "claims-\ufffd.837" and shown("plain.837") == "plain.837"
    assert stored_name("/in/" + "x" * 300 + ".837") == ("x" * 300 + ".837")[-255:]
    sha = "0123456789abcdef" * 4
    assert answer_stem("claims.837", sha) == "claims-0123456789ab"
    assert answer_stem(odd, sha) == "claims--0123456789ab"  # the bytes that are no text dropped
    long = answer_stem("y" * 250 + ".837", sha)
    assert long == "y" * STEM_BYTES + "-0123456789ab"
    assert answer_stem(".837", sha) == ".837-0123456789ab"  # Path(".837").stem is ".837"


def test_claims_process_answers_a_file_whose_name_is_no_utf8(tmp_path: Path) -> None:
    """summary.json (orjson) refused the name's surrogates: the run's summary was lost."""
    import json

    from typer.testing import CliRunner

    from workers.cli import app

    inbound = tmp_path / "in"
    inbound.mkdir()
    odd = inbound / os.fsdecode(b"claims-\xff.837")
    odd.write_bytes((Path(__file__).resolve().parents[1] / "fixtures" / "ack"
                     / "valid-two-claims.837").read_bytes())
    result = CliRunner().invoke(app, ["process", str(odd), "--out", str(tmp_path / "out"),
                                      "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    (entry,) = summary["files"]
    assert entry["path"].endswith("claims-\ufffd.837") and entry["status"] == "processed"
    assert Path(entry["ack_path"]).name == "claims--" + entry["sha256"][:12] + ".999"


def test_a_written_document_is_archived_under_the_sha256_of_its_bytes(tmp_path: Path) -> None:
    import hashlib
    import stat

    import pytest

    from workers.archive import archive_path, archive_text

    # Given a document written in many small writes, one of them non-ASCII, and more
    # than one block (the hash is taken on the way to the disk, not by reading back)
    def write(out: object) -> int:
        for n in range(80_000):
            out.write(f"SEG*{n}*CAF\u00c9~\n")  # type: ignore[attr-defined]
        return 80_000

    sha, written = archive_text(tmp_path, write)
    # Then it is kept under the sha256 of its UTF-8 bytes, read-only, and what the
    # writer returned comes back
    kept = archive_path(tmp_path, sha)
    data = kept.read_bytes()
    assert len(data) > 1 << 20 and written == 80_000
    assert sha == hashlib.sha256(data).hexdigest()
    assert data.startswith("SEG*0*CAF\u00c9~\n".encode())
    assert not kept.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    # And the same document again is kept once
    assert archive_text(tmp_path, write)[0] == sha
    # And a writer that fails leaves no file behind
    def failing(out: object) -> None:
        out.write("ISA*")  # type: ignore[attr-defined]
        raise RuntimeError("the writer gave up")

    with pytest.raises(RuntimeError):
        archive_text(tmp_path, failing)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [sha]
