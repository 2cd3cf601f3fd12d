"""Reading the files people hand us, with bounds (reference CSV directories).

A reference directory is configuration a person points the engine at, so it may hold
anything: a link to ``/dev/zero`` or ``/dev/urandom`` (reads forever), a FIFO (blocks
forever), a link out of the directory, a 1 GB line. Each ``*.csv`` file is checked
before it is opened (`csv_files`): a regular file, inside the directory once links
are followed; otherwise a problem naming the file. Lines are read with a bound
(`bounded_lines`: `MAX_LINE_CHARS`), and a directory read whole into memory
(`claims process --reference DIR`) has a total bound (`MAX_IN_MEMORY_BYTES`; `claims
reference load` streams any size into the store instead).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from adjudication.errors import ReferenceProblem

MAX_LINE_CHARS = 65_536
"""The longest CSV line read: a reference row is a few hundred characters."""
MAX_IN_MEMORY_BYTES = 64 * 1024 * 1024
"""The most a reference directory read into memory may hold, all files together."""


def csv_files(directory: Path, problems: list[ReferenceProblem]) -> dict[str, Path]:
    """The directory's ``*.csv`` files that are safe to open, by name; the others are
    problems (a device, FIFO or socket; a link leading out of the directory)."""
    root = directory.resolve()
    found: dict[str, Path] = {}
    for path in sorted(directory.glob("*.csv")):
        problem = _unsafe(path, root)
        if problem is None:
            found[path.name] = path
        else:
            problems.append(ReferenceProblem(path.name, None, None, problem))
    return found


def _unsafe(path: Path, root: Path) -> str | None:
    try:
        target = path.resolve(strict=True)
        if root not in target.parents:
            return "is a link that leads out of the directory"
        mode = os.stat(target).st_mode
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a device, FIFO or socket)"
    return None


def within_memory_bound(files: dict[str, Path], problems: list[ReferenceProblem]) -> bool:
    """Whether the files fit `MAX_IN_MEMORY_BYTES` together (else one problem)."""
    total = sum(path.stat().st_size for path in files.values())
    if total <= MAX_IN_MEMORY_BYTES:
        return True
    problems.append(ReferenceProblem(
        "the directory", None, None,
        f"holds {total:,} bytes of CSV, more than the {MAX_IN_MEMORY_BYTES:,} read into "
        "memory: load it into the store with 'claims reference load DIR'"))
    return False


def bounded_lines(stream: TextIO, name: str,
                  problems: list[ReferenceProblem]) -> Iterator[str]:
    """The stream's lines; a line longer than `MAX_LINE_CHARS` ends the reading with a
    problem naming the file and line (never its text)."""
    number = 0
    while True:
        line = stream.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
            problems.append(ReferenceProblem(
                name, number, None, f"is longer than {MAX_LINE_CHARS:,} characters"))
            return
        yield line
