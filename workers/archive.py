"""The archive: every file received and every document the engine writes, kept once
under its sha256, read-only.

A file is written under a temporary name in the archive's directory, fsynced, then
renamed to ``<sha[:2]>/<sha>``: a reader never sees half a file, and a crash leaves a
temporary file nothing names. Rows in the store name archived files by sha256, and a
file is written before the transaction that names it commits.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TextIO, TypeVar

T = TypeVar("T")
BLOCK = 1 << 20


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def archive_path(archive: Path, sha: str) -> Path:
    return archive / sha[:2] / sha


class NotInArchive(FileNotFoundError):
    """A document the store names by its sha256 is not in the archive (removed by hand,
    a restore that left it out); the message says the hash alone."""

    def __init__(self, sha: str) -> None:
        super().__init__(f"{sha} is not in the archive")
        self.sha = sha


def archived(archive: Path, sha: str) -> Path:
    """Where the kept document ``sha`` is, or `NotInArchive` when it is not there."""
    path = archive_path(archive, sha)
    if not path.is_file():
        raise NotInArchive(sha)
    return path


def archive_copy(source: Readable, archive: Path) -> tuple[str, int, Path]:
    """Copy a stream into the archive under its sha256: (sha256, size, where it is)."""
    _private(archive)
    digest = hashlib.sha256()
    size = 0
    handle, temporary = tempfile.mkstemp(dir=archive, prefix=".receiving-")
    try:
        with os.fdopen(handle, "wb") as out:
            for block in iter(lambda: source.read(BLOCK), b""):
                digest.update(block)
                size += len(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        sha = digest.hexdigest()
        return sha, size, _settle(temporary, archive, sha)
    except BaseException:
        _discard(temporary)
        raise


def archive_text(archive: Path, write: Callable[[TextIO], T]) -> tuple[str, T]:
    """A document the engine writes (a 999, a 277CA, an 835), written by ``write`` as
    UTF-8 straight into the archive and hashed on its way there, never held whole in
    memory; (sha256, what ``write`` returned)."""
    _private(archive)
    handle, temporary = tempfile.mkstemp(dir=archive, prefix=".writing-")
    try:
        with os.fdopen(handle, "wb", buffering=0) as raw:
            hashing = _Hashing(raw)
            with io.TextIOWrapper(io.BufferedWriter(hashing, BLOCK), encoding="utf-8",
                                  newline="", write_through=False) as out:
                written = write(out)
                out.flush()
                os.fsync(raw.fileno())
                sha = hashing.digest.hexdigest()
        _settle(temporary, archive, sha)
        return sha, written
    except BaseException:
        _discard(temporary)
        raise


class _Hashing(io.RawIOBase):
    """A file's raw writes, each added to a sha256 of what reached the file."""

    def __init__(self, raw: io.RawIOBase) -> None:
        self._raw = raw
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        written = self._raw.write(data) or 0
        self.digest.update(memoryview(data)[:written])
        return written


def _private(archive: Path) -> None:
    """The archive holds every file received and answered, PHI all: the engine's account
    alone may look in (its files are read-only to everyone; before 2026-12-01 the
    folder was left to the umask, so any local account read every claim)."""
    archive.mkdir(mode=0o700, parents=True, exist_ok=True)
    if archive.stat().st_mode & 0o077:
        os.chmod(archive, 0o700)


def _settle(temporary: str, archive: Path, sha: str) -> Path:
    """Move a finished temporary file to its content address, read-only (kept once)."""
    target = archive_path(archive, sha)
    target.parent.mkdir(exist_ok=True)
    if target.exists():
        os.unlink(temporary)
    else:
        os.chmod(temporary, 0o444)
        os.replace(temporary, target)
    return target


def _discard(temporary: str) -> None:
    if os.path.exists(temporary):
        os.unlink(temporary)
