"""What a payment cycle keeps on disk while it plans, so its memory does not grow with
the claims it pays.

A cycle reads every decided claim no cycle has remitted, plans one 835 per payee,
writes and proves each, and releases them all or none (`workers.remit`). Held in
memory, that was about 5 KB a claim (the claims as paid, the 835 texts, the rows to
record): a 200,000-claim month end needed about a gigabyte. Instead:

- `WaitingSpool`: each waiting claim is written once, as the store's rows stream by,
  to an unnamed file; an index of offsets (8 bytes a claim) groups them by payee, in
  the order each payee's first claim came. `payees` reads them back one payee at a
  time, so the cycle holds one payee's claims at once;
- `Staging`: each payee's 835 (and its HTML advice) and the rows recording what it
  remits are written to unnamed files as the payee is planned and proven; when every
  835 of the cycle passed, the release copies them into the archive and the store
  from there.

The files are created in the archive's directory (the engine's data disk), readable
by the engine's user only, and vanish when the cycle ends, or if the process dies.
They hold PHI (patients' names and claims) only while the cycle runs.
"""

from __future__ import annotations

import tempfile
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from remittance.cycle import Waiting, payee_key
from store.codec import from_json, to_json


@contextmanager
def cycle_files(directory: Path) -> Iterator[tuple[WaitingSpool, Staging]]:
    """A cycle's spool and staging, on unnamed files in ``directory`` that are gone
    when the block ends."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=directory) as waiting, \
            tempfile.TemporaryFile(dir=directory) as documents, \
            tempfile.TemporaryFile(dir=directory) as rows:
        yield WaitingSpool(waiting), Staging(documents, rows)


@dataclass(frozen=True)
class Spooled:
    """A waiting claim, and what the store calls it."""

    waiting: Waiting
    icn: str
    claim_id: int


class WaitingSpool:
    """The waiting claims of one cycle, on disk, read back payee by payee."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self._end = 0
        self._offsets: dict[tuple[str, str], array[int]] = {}

    def add(self, spooled: Spooled) -> None:
        line = orjson.dumps(to_json(spooled)) + b"\n"
        _at_end(self._file, self._end)
        self._file.write(line)
        self._offsets.setdefault(payee_key(spooled.waiting.payee), array("q")).append(self._end)
        self._end += len(line)

    def __len__(self) -> int:
        """How many payees have a claim in the spool."""
        return len(self._offsets)

    def payees(self) -> Iterator[list[Spooled]]:
        """Each payee's claims, in the order they were added; payees in the order of
        their first claim."""
        self._file.flush()
        for offsets in self._offsets.values():
            claims = []
            for offset in offsets:
                self._file.seek(offset)
                claims.append(from_json(Spooled, orjson.loads(self._file.readline())))
            yield claims


@dataclass(frozen=True)
class Region:
    """Where one staged document or run of rows lies in its staging file."""

    offset: int
    size: int
    """Bytes for a document, rows for rows."""


class Staging:
    """A cycle's 835s, HTML advices and rows to record, written as each payee is
    planned and read back by the release."""

    def __init__(self, documents: IO[bytes], rows: IO[bytes]) -> None:
        self._documents, self._rows = documents, rows
        self._documents_end = self._rows_end = 0

    def document(self, text: str) -> Region:
        data = text.encode("utf-8")
        _at_end(self._documents, self._documents_end)
        self._documents.write(data)
        region = Region(self._documents_end, len(data))
        self._documents_end += len(data)
        return region

    def rows(self, rows: list[dict[str, Any]]) -> Region:
        region = Region(self._rows_end, len(rows))
        _at_end(self._rows, self._rows_end)
        for row in rows:
            line = orjson.dumps(row) + b"\n"
            self._rows.write(line)
            self._rows_end += len(line)
        return region

    def read_document(self, region: Region) -> _RegionReader:
        """A readable of the document's bytes (for `archive_copy`)."""
        self._documents.flush()
        return _RegionReader(self._documents, region)

    def read_rows(self, region: Region, batch: int) -> Iterator[list[dict[str, Any]]]:
        """The rows, at most ``batch`` at a time."""
        self._rows.flush()
        self._rows.seek(region.offset)
        left = region.size
        while left:
            take = min(batch, left)
            yield [orjson.loads(self._rows.readline()) for _ in range(take)]
            left -= take


def _at_end(file: IO[bytes], end: int) -> None:
    """Writes go after what is written, even after a read moved the file's position."""
    if file.tell() != end:
        file.seek(end)


class _RegionReader:
    def __init__(self, file: IO[bytes], region: Region) -> None:
        self._file, self._at, self._left = file, region.offset, region.size

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size < 0 else min(size, self._left)
        self._file.seek(self._at)
        data = self._file.read(size)
        self._at += len(data)
        self._left -= len(data)
        return data
