"""pyx12's own verdict on a file, the way its authors run it (for comparison only).

Runs `x12n_document` on a temporary copy edited the way SOURCES.md describes: the
UTF-8 byte-order mark removed (pyx12 decodes ASCII) and 005010X222A2 declared as A1
(pyx12 has no A2 map). Returns [(ST02, IK501), ...] in file order, read from the
999 pyx12 writes; None when pyx12 raises (no map for the group, undecodable bytes).
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pyx12.params
import pyx12.x12n_document

logging.getLogger("pyx12").setLevel(logging.CRITICAL + 1)


def pyx12_verdicts(path: Path, tmp_dir: Path) -> list[tuple[str, str]] | None:
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf").replace(b"X222A2", b"X222A1")
    copy = tmp_dir / path.name
    copy.write_bytes(data)
    out = io.StringIO()
    try:
        pyx12.x12n_document.x12n_document(pyx12.params.params(), str(copy), out, None)
    except Exception:
        return None
    verdicts: list[tuple[str, str]] = []
    current = None
    for segment in re.split(r"~\s*", out.getvalue()):
        elements = segment.split("*")
        if elements[0] == "AK2":
            current = elements[2]
        elif elements[0] == "IK5" and current is not None:
            verdicts.append((current, elements[1]))
    return verdicts


def pyx12_accepts(text: str) -> bool:
    """Whether pyx12's own ``x12n_document`` finds ``text`` (any X12 it has maps for:
    a TA1, 999, 277CA, 835 or 837P) valid."""
    return bool(pyx12.x12n_document.x12n_document(
        pyx12.params.params(), io.StringIO(text), io.StringIO(), None))


def pyx12_reading(data: bytes) -> tuple[bool, list[str], list[tuple[str, str]]]:
    """pyx12's own ``x12n_document`` on ``data`` as one ASCII text: whether it finds it
    valid, the TA1 segments it writes (``TA1*...``, in its order), and [(ST02, IK501),
    ...] of its 999 in file order."""
    out = io.StringIO()
    valid = bool(pyx12.x12n_document.x12n_document(
        pyx12.params.params(), io.StringIO(data.decode("ascii")), out, None))
    ta1s: list[str] = []
    verdicts: list[tuple[str, str]] = []
    current = None
    for segment in re.split(r"~\s*", out.getvalue()):
        elements = segment.split("*")
        if elements[0] == "TA1":
            ta1s.append(segment)
        elif elements[0] == "AK2":
            current = elements[2]
        elif elements[0] == "IK5" and current is not None:
            verdicts.append((current, elements[1]))
    return valid, ta1s, verdicts
