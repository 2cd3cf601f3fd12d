"""The reference-data directory on disk: read its CSV files into `ReferenceData`.

    load_reference_dir(Path("fixtures/reference"))   -> ReferenceData
    read_reference_dir(Path("fixtures/reference"))   -> (ReferenceData, "csv:...")

The I/O edge of `adjudication.reference_csv.parse_reference`: every ``*.csv`` file
of the directory is read as UTF-8 (a byte-order mark is allowed) and handed over by
name; other files (a README, say) are ignored. Problems come back as one
`ReferenceDataError` naming file, line and column (docs/reference-data.md).

A process parses the same content once: `ReferenceData` is immutable, so the last
few parsed versions are kept by content hash (every ``claims process`` in one test
process, and the review screens' pend releases without stored reference data, read
the shipped directory: about 85,000 rows, over a second to parse).
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import fixtures
from adjudication.errors import ReferenceDataError, ReferenceProblem
from adjudication.reference import ReferenceData
from adjudication.reference_csv import parse_reference
from workers.bounded import bounded_lines, csv_files, within_memory_bound

SHIPPED_REFERENCE_DIRECTORY = Path(fixtures.__file__).resolve().parent / "reference"
"""The synthetic reference data shipped with the fixtures (`fixtures.reference_data`)."""


PARSED_KEPT = 4
"""How many parsed versions a process keeps (a long-running review server may be
pointed at a few directories; each version holds its rows once)."""
_parsed: OrderedDict[str, ReferenceData] = OrderedDict()
_parsed_lock = threading.Lock()


def reference_version(path: Path) -> str:
    """A name for the exact reference data a decision used: ``csv:`` + a content hash."""
    digest = hashlib.sha256()
    for file in csv_files(path, []).values():  # only files safe to read (loaders report)
        with file.open("rb") as stream:
            _hash_file(digest, file.name, iter(lambda: stream.read(1 << 20), b""))
    return _version_name(digest)


def _hash_file(digest: Any, name: str, blocks: Iterable[bytes]) -> None:
    digest.update(name.encode() + b"\0")
    for block in blocks:
        digest.update(block)
    digest.update(b"\0")


def _version_name(digest: Any) -> str:
    return f"csv:{digest.hexdigest()[:16]}"


def load_reference_dir(path: Path) -> ReferenceData:
    """Every CSV file of ``path`` parsed and checked together; nothing half-loaded."""
    return read_reference_dir(path)[0]


def read_reference_dir(path: Path) -> tuple[ReferenceData, str]:
    """The directory's reference data and its `reference_version`, from one reading of
    its files (the version names exactly the bytes parsed)."""
    if not path.is_dir():
        raise ReferenceDataError([ReferenceProblem(str(path), None, None,
                                                   "is not a directory")])
    files: dict[str, str] = {}
    problems: list[ReferenceProblem] = []
    safe = csv_files(path, problems)
    if not within_memory_bound(safe, problems):
        raise ReferenceDataError(problems)
    digest = hashlib.sha256()
    for file in safe.values():
        try:
            data = file.read_bytes()
        except OSError as error:
            problems.append(ReferenceProblem(file.name, None, None,
                                             f"cannot be read ({error.strerror})"))
            continue
        _hash_file(digest, file.name, (data,))
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems.append(ReferenceProblem(file.name, None, None, "is not UTF-8 text"))
            continue
        files[file.name] = "".join(
            bounded_lines(io.StringIO(text, newline=""), file.name, problems))
    if problems:
        raise ReferenceDataError(problems)
    key = digest.hexdigest()
    with _parsed_lock:
        parsed = _parsed.get(key)
        if parsed is not None:
            _parsed.move_to_end(key)
    if parsed is None:
        parsed = parse_reference(files)  # raises on a problem: nothing kept
        with _parsed_lock:
            _parsed[key] = parsed
            while len(_parsed) > PARSED_KEPT:
                _parsed.popitem(last=False)
    return parsed, _version_name(digest)
