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
