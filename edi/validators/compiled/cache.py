"""The one place the compiled guide touches the disk: a cache of the compiled tables.

Tables are stored as JSON under a name made of pyx12's version and the SHA-256 of
its map, data-element and code-set files (`compiler.fingerprint`), so upgrading pyx12
or editing a map compiles afresh. Safe under concurrent use: a writer writes a
temporary file in the same directory and renames it over the final name (atomic on
POSIX), readers only ever see a whole file. A directory that cannot be made or
written, or a file that cannot be read, just means compiling in memory.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
from pathlib import Path

from edi.validators.compiled.compiler import (
    CLAIM_MAP,
    compile_guide,
    fingerprint,
    from_plain,
    to_plain,
)
from edi.validators.compiled.tables import GuideTables


def default_cache_dir() -> Path | None:
    """``~/.cache/claims-engine-87726/compiled-guide`` (per user, never a shared /tmp);
    None when there is no home directory."""
    try:
        return Path.home() / ".cache" / "claims-engine-87726" / "compiled-guide"
    except RuntimeError:
        return None


def load_tables(cache_dir: Path | None = None, transaction_map: str = CLAIM_MAP
                ) -> GuideTables:
    """One transaction map's compiled tables: from the cache when it holds this pyx12's,
    else compiled (and written to the cache when the directory allows)."""
    directory = cache_dir if cache_dir is not None else default_cache_dir()
    if directory is None:
        return compile_guide(transaction_map)
    name = directory / f"guide-{fingerprint(transaction_map)}.json"
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError, IndexError):
        tables = from_plain(json.loads(name.read_bytes()))
        if tables.fingerprint == name.stem.removeprefix("guide-"):
            return tables
    tables = compile_guide(transaction_map)
    _write(directory, name, json.dumps(to_plain(tables)).encode())
    return tables


def _write(directory: Path, name: Path, payload: bytes) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".guide-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, name)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


@functools.cache
def process_tables(transaction_map: str = CLAIM_MAP) -> GuideTables:
    """One transaction map's tables for this process, from the default cache (loaded
    once)."""
    return load_tables(transaction_map=transaction_map)
