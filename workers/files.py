"""Files the engine writes: whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


@contextmanager
def atomic_text(path: Path) -> Iterator[TextIO]:
    """Write to a temporary name beside ``path``, fsync, rename: a reader (a partner's
    mailbox, a tool reading summary.json) never sees half a file, and a crash leaves
    the old file or the new one. UTF-8 whatever the machine's locale, as the archive
    keeps every document (`workers.steps.archive_text`): a copy is the same bytes."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def copy_atomically(source: Path, path: Path) -> None:
    """A kept document (an archived 277CA or 835: tens of MB) copied to ``path`` in
    blocks, never held whole, and seen there whole or not at all."""
    with source.open(encoding="utf-8", newline="") as kept, atomic_text(path) as out:
        for block in iter(lambda: kept.read(1 << 20), ""):
            out.write(block)
