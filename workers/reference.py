"""The reference-data directory on disk: read its CSV files into `ReferenceData`.

    load_reference_dir(Path("fixtures/reference"))   -> ReferenceData

The I/O edge of `adjudication.reference_csv.parse_reference`: every ``*.csv`` file
of the directory is read as UTF-8 (a byte-order mark is allowed) and handed over by
name; other files (a README, say) are ignored. Problems come back as one
`ReferenceDataError` naming file, line and column (docs/reference-data.md).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import fixtures
from adjudication.errors import ReferenceDataError, ReferenceProblem
from adjudication.reference import ReferenceData
from adjudication.reference_csv import parse_reference
from workers.bounded import bounded_lines, csv_files, within_memory_bound

SHIPPED_REFERENCE_DIRECTORY = Path(fixtures.__file__).resolve().parent / "reference"
"""The synthetic reference data shipped with the fixtures (`fixtures.reference_data`)."""


def reference_version(path: Path) -> str:
    """A name for the exact reference data a decision used: ``csv:`` + a content hash."""
    digest = hashlib.sha256()
    for file in csv_files(path, []).values():  # only files safe to read (loaders report)
        digest.update(file.name.encode() + b"\0")
        with file.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return f"csv:{digest.hexdigest()[:16]}"


def load_reference_dir(path: Path) -> ReferenceData:
    """Every CSV file of ``path`` parsed and checked together; nothing half-loaded."""
    if not path.is_dir():
        raise ReferenceDataError([ReferenceProblem(str(path), None, None,
                                                   "is not a directory")])
    files: dict[str, str] = {}
    problems: list[ReferenceProblem] = []
    safe = csv_files(path, problems)
    if not within_memory_bound(safe, problems):
        raise ReferenceDataError(problems)
    for file in safe.values():
        try:
            with file.open(encoding="utf-8-sig", newline="") as stream:
                files[file.name] = "".join(bounded_lines(stream, file.name, problems))
        except UnicodeDecodeError:
            problems.append(ReferenceProblem(file.name, None, None, "is not UTF-8 text"))
        except OSError as error:
            problems.append(ReferenceProblem(file.name, None, None,
                                             f"cannot be read ({error.strerror})"))
    if problems:
        raise ReferenceDataError(problems)
    return parse_reference(files)
