"""Set outcomes kept on disk between the one pass and the sets' answers.

`acknowledge_file` checks a file and parses and edits its sets in one reading
(`front_end.front_pass`); what the edits find is written here claim by claim, each
transaction set ending with a small record of the set's end (its reading, how many
claims it holds and how many the edits accept), so the pass holds no set whole, and
the 999 is decided. The per-set steps that number, store and answer the claims then
read their set's claims from here one at a time, instead of reading the file again.
The spool is a cache, never the record: a set that is missing, damaged, unsealed or
written for another receipt date or code-set release is read again from the archived
file (`front_end.set_outcomes`), which gives the same outcome (tests/test_one_pass.py,
tests/test_set_spool.py).

A spooled set is its records as one zstd frame (level 1: a fifth of gzip's time both
ways, and half its size), then its end record as a plain pickle, then that record's
offset from the set's start (`_FOOTER`): the end is read without the claims. A set
that passes `PACK_BELOW` bytes as it is written is a file of its own, created and
renamed into place once whole. A smaller one is kept in memory until its end and then
appended to the pass's current pack, a file of many sets renamed into place once full
or at the seal, with an index of where each set lies: file creation is slow on some
disks (on this project's machine about 0.6 ms of CPU a file, created and renamed),
and a file of one-claim sets made the spool half of the front end's time with a file
a set.
They are loaded through an unpickler that builds only the outcome types and the few
standard types they hold, so a file put there by anyone else cannot name a callable.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import shutil
import struct
import sys
import tempfile
import zlib
from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import structlog
import zstandard

from adjudication.rules.member import PatientKey
from edi.claim_status import (
    ClaimFinding,
    ClaimStatus,
    Entity,
    LineStatus,
    Location,
    Provider277,
    StatusCategory,
)
from edi.errors import ParseError
from edi.faults import record_fault
from workers.files import atomic_text
from workers.front_end import EditedClaim, KeptClaim, SetOutcome
from workers.transaction_sets import ClaimHeads, SetReading

log = structlog.get_logger("claims.set_spool")
VERSION = 8
"""Raised whenever what a spooled outcome holds, or how it is written, changes: older
files are not read (1: gzip-compressed; 2: no rejected claim's `PatientKey`; 3: no
record of a set's end beside it, the set loaded whole; 4: CLM01/CLM02 as a list; 5:
the end record in a file of its own; 6: the set's reading also at the end of its
claims, where a None now ends them; 7: a file per set, no packs)."""
_FOOTER = struct.Struct("<Q")
"""The last 8 bytes of a set: where its end record starts, counted from its first byte."""
_PACK_FOOTER = struct.Struct("<QI")
"""The last 12 bytes of a pack: where its index starts, and the index's CRC-32."""
PACK_BELOW = 256 * 1024
"""A set whose spooled bytes stay under this goes into a pack: about the bytes this
machine writes in the time it takes to create and rename one file."""
PACK_SETS = 4_096
PACK_BYTES = 16 << 20
"""A pack is renamed into place once it holds this many sets or bytes (or at the seal):
its index is held in memory until then."""
_CLASSES = {(cls.__module__, cls.__qualname__): cls for cls in (
    SetReading, ClaimHeads, KeptClaim, PatientKey, ParseError, ClaimStatus, Provider277, LineStatus,
    ClaimFinding, Location, StatusCategory, Entity, Decimal, date)}
"""What a spooled record may build: a set's records are tuples of these and strings."""
_COMPLETE = "complete.json"
_PACK_NAME = re.compile(r"(\d{7})-(\d{7})\.pack")


class _Outcomes(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        found = _CLASSES.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not a spooled type")
        return found


Span = tuple[int, int]
"""Where a packed set lies in its pack: its first byte, and the byte after its last."""


class _SetBytes:
    """Where an open set's bytes go as they are written: memory, until they pass
    ``limit`` (at once when it is 0); from there a temporary file of the set's own."""

    def __init__(self, directory: Path, limit: int) -> None:
        self._directory = directory
        self._limit = limit
        self.memory: io.BytesIO | None = io.BytesIO()
        self.temporary: str | None = None
        self.file: BinaryIO | None = None
        if limit <= 0:
            self._spill()

    def write(self, data: bytes) -> int:
        if self.file is not None:
            return self.file.write(data)
        assert self.memory is not None
        written = self.memory.write(data)
        if self.memory.tell() >= self._limit:
            self._spill()
        return written

    def flush(self) -> None:
        if self.file is not None:
            self.file.flush()

    def tell(self) -> int:
        return self.file.tell() if self.file is not None else self.memory.tell()  # type: ignore[union-attr]

    def _spill(self) -> None:
        handle, self.temporary = _temporary(self._directory)
        self.file = os.fdopen(handle, "wb")
        if self.memory is not None:
            self.file.write(self.memory.getbuffer())
        self.memory = None

    def discard(self) -> None:
        self.memory = None
        if self.file is not None:
            self.file.close()
        if self.temporary is not None:
            Path(self.temporary).unlink(missing_ok=True)


class _Pack:
    """The pack being filled: its temporary file, and where each of its sets lies."""

    def __init__(self, directory: Path) -> None:
        handle, self.temporary = _temporary(directory)
        self.out = os.fdopen(handle, "wb")
        self.index: list[tuple[int, int, int]] = []  # (ordinal, first byte, byte after)
        self.size = 0  # counted: a buffered file's tell() asks the system each time

    def add(self, ordinal: int, data: memoryview) -> None:
        start = self.size
        self.out.write(data)
        self.size += len(data)
        self.index.append((ordinal, start, self.size))

    def full(self) -> bool:
        return len(self.index) >= PACK_SETS or self.size >= PACK_BYTES

    def holds(self, ordinal: int) -> bool:
        return any(one == ordinal for one, _start, _end in self.index)

    def close(self, directory: Path) -> tuple[int, int, str]:
        """Its index written after its sets, and the pack renamed into place: its first
        and last ordinal, and its name."""
        entries = sorted(self.index)
        index = _PackIndex.written(entries)
        self.out.write(index)
        self.out.write(_PACK_FOOTER.pack(self.size, zlib.crc32(index)))
        self.out.close()
        first, last = entries[0][0], entries[-1][0]
        name = f"{first:07d}-{last:07d}.pack"
        os.replace(self.temporary, directory / name)
        return first, last, name

    def discard(self) -> None:
        self.out.close()
        Path(self.temporary).unlink(missing_ok=True)


_ENTRY_BYTES = 3 * 8
"""A pack index entry: (ordinal, first byte, byte after), 8 bytes each."""


class _PackIndex:
    """Where each set of a pack lies: (ordinal, first byte, byte after) a set, in ordinal
    order, as 8-byte little-endian numbers. Looked up by bisection, without building an
    object a set: the service answers each set in a step of its own, which reads one
    pack index to find one set."""

    def __init__(self, entries: array[int], end: int) -> None:
        self._entries = entries
        self._ordinals = entries[0::3]
        self._end = end

    @staticmethod
    def written(entries: list[tuple[int, int, int]]) -> bytes:
        flat = array("Q", [number for entry in entries for number in entry])
        if sys.byteorder != "little":
            flat.byteswap()
        return flat.tobytes()

    @classmethod
    def read(cls, path: Path) -> _PackIndex:
        """The index at the end of pack ``path``; empty when it cannot be read whole."""
        try:
            with path.open("rb") as source:
                size = source.seek(-_PACK_FOOTER.size, os.SEEK_END)
                start, crc = _PACK_FOOTER.unpack(source.read(_PACK_FOOTER.size))
                if not 0 <= start <= size or (size - start) % _ENTRY_BYTES:
                    return _NO_INDEX
                source.seek(start)
                written = source.read(size - start)
        except (OSError, ValueError):
            return _NO_INDEX
        if len(written) != size - start or zlib.crc32(written) != crc:
            return _NO_INDEX
        entries = array("Q")
        entries.frombytes(written)
        if sys.byteorder != "little":
            entries.byteswap()
        return cls(entries, start)

    def __iter__(self) -> Iterator[int]:
        return iter(self._ordinals)

    def get(self, ordinal: int) -> Span | None:
        ordinals = self._ordinals
        at = bisect_left(ordinals, ordinal)
        if at == len(ordinals) or ordinals[at] != ordinal:
            return None
        first, after = self._entries[3 * at + 1], self._entries[3 * at + 2]
        return (first, after) if first < after <= self._end else None


_NO_INDEX = _PackIndex(array("Q"), 0)


def _temporary(directory: Path) -> tuple[int, str]:
    directory.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(dir=directory, prefix=".writing-")


class SetSpool:
    """One file's spooled set outcomes, under ``directory``, valid for ``key`` (the
    receipt date and code-set releases the edits ran with). A `SetSink`: each claim is
    written as it is edited, so the pass holds one claim of a set (a small set's few
    bytes until its end), not the set; and `get` gives a set whose claims are read back
    one at a time while they are taken, so answering a set does not hold it whole
    either. With ``packing`` off every set is a file of its own (the sets read again
    after the pass, each read back at once)."""

    def __init__(self, directory: Path, key: str, *, packing: bool = True) -> None:
        self.directory = directory
        self.key = key
        self._below = PACK_BELOW if packing else 0
        self._sets = 0
        self._broken = False
        self._open: tuple[int, _SetBytes, BinaryIO, pickle.Pickler] | None = None
        self._counts = [0, 0]  # the open set's claims, and those the edits accept
        self._pack: _Pack | None = None
        self._listing: tuple[set[int], list[tuple[int, int, str]]] | None = None
        """The directory's own set files and packs (first and last ordinal), once read."""
        self._index: tuple[str, _PackIndex] | None = None
        """The last pack index read: the sets are mostly read in order."""
        self._compressor = _compressor()
        self._decompressor = zstandard.ZstdDecompressor()

    def begin(self, reading: SetReading) -> None:
        self._sets = max(self._sets, reading.ordinal)
        self._guarded(self._begin, reading)

    def claim(self, claim: EditedClaim) -> None:
        if self._open is not None:
            self._guarded(self._dump, tuple(claim))
            self._counts[0] += 1
            self._counts[1] += claim.kept is not None

    def end(self, reading: SetReading) -> None:
        if self._open is not None:
            self._guarded(self._end, reading)

    def seal(self) -> None:
        """Every set of the file is spooled: `sets` may now be trusted."""
        if self._broken:
            return
        self._guarded(self._seal, None)

    def sets(self) -> int | None:
        """How many sets the sealed spool holds; None when it is not sealed for this key."""
        try:
            seal = json.loads((self.directory / _COMPLETE).read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(seal, dict) or seal.get("version") != VERSION \
                or seal.get("key") != self.key or not isinstance(seal.get("sets"), int):
            return None
        sets: int = seal["sets"]
        return sets

    def get(self, ordinal: int) -> SetOutcome | None:
        """The spooled outcome of set ``ordinal``, not yet settled, its claims read from
        disk whenever they are iterated; None when there is no usable one (the caller
        reads the file again). A set whose claims turn out damaged (or, in a file of its
        own, are damaged after this check) raises `SpoolDamaged` while they are read."""
        if self._pack is not None and self._pack.holds(ordinal):
            self._guarded(self._close_pack, None)  # read back while this spool writes
        for path, span in self._places(ordinal):
            found = self._load(path, span, ordinal)
            if found is not None:
                return found
        log.warning("set_spool.unreadable", transaction_set_ordinal=ordinal)
        return None

    def forget(self, ordinal: int) -> None:
        """Set ``ordinal`` is not to be read from here again (found damaged): its file,
        or the pack it lies in (that pack's other sets are read again too)."""
        (self.directory / _name(ordinal)).unlink(missing_ok=True)
        for name in self._packs_over(ordinal):
            (self.directory / name).unlink(missing_ok=True)
        self._listing = self._index = None

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def _guarded(self, write: Callable[[Any], None], value: Any) -> None:
        """A write that fails leaves the spool unsealed (its sets are read again from the
        file) and the pass going: a full disk is logged, an engine bug also counted."""
        if self._broken:
            return
        try:
            write(value)
        except Exception as exc:
            if not isinstance(exc, OSError):
                record_fault("set-spool", exc)
            log.warning("set_spool.not_written", error=type(exc).__name__)
            self._broken = True
            self._discard()

    def _begin(self, reading: SetReading) -> None:
        self._discard_set()
        # a file an earlier pass left for this set stays readable until this one replaces
        # it whole: written for the same bytes (a spool is its file's), its header says
        # for which receipt date and code sets, and an unsealed spool is not read
        target = _SetBytes(self.directory, self._below)
        # compressed as it is written: a claim's record is about 5 KB of JSON and 277CA
        # fields, about 210 bytes compressed, for about 1 % more time in the pass
        zipped = packed(target, self._compressor)  # type: ignore[arg-type]
        self._open = (reading.ordinal, target, zipped, pickle.Pickler(zipped, protocol=5))
        self._counts = [0, 0]
        self._dump((VERSION, self.key, reading.ordinal))

    def _dump(self, record: object) -> None:
        assert self._open is not None
        pickler = self._open[3]
        pickler.dump(record)
        pickler.clear_memo()  # the memo would hold every object of the set

    def _end(self, reading: SetReading) -> None:
        self._dump(None)  # the claims' end in their frame; the reading follows, once
        assert self._open is not None
        ordinal, target, zipped, _pickler = self._open
        end_frame(zipped)
        # the set's end after its claims, written last: `get` trusts a set only with it
        start = target.tell()
        pickle.dump(((VERSION, self.key, ordinal), reading, *self._counts), target, protocol=5)
        target.write(_FOOTER.pack(start))
        if target.file is not None:  # a set of its own
            target.file.close()
            assert target.temporary is not None
            os.replace(target.temporary, self.directory / _name(ordinal))
            if self._listing is not None:
                self._listing[0].add(ordinal)
        else:
            assert target.memory is not None
            if self._pack is None:
                self._pack = _Pack(self.directory)
            self._pack.add(ordinal, target.memory.getbuffer())
            if self._pack.full():
                self._close_pack(None)
        self._open = None  # only now: a failed rename leaves `_discard` a file to remove

    def _close_pack(self, _: None) -> None:
        pack = self._pack
        if pack is None:
            return
        listed = pack.close(self.directory)
        self._pack = None  # only now: as a set's, a failed rename leaves its file to remove
        if self._listing is not None and listed not in self._listing[1]:
            insort(self._listing[1], listed)
        name = listed[2]
        if self._index is not None and self._index[0] == name:
            self._index = None

    def _seal(self, _: None) -> None:
        self._close_pack(None)
        self.directory.mkdir(parents=True, exist_ok=True)
        with atomic_text(self.directory / _COMPLETE) as out:
            out.write(json.dumps({"version": VERSION, "key": self.key, "sets": self._sets}))

    def _discard_set(self) -> None:
        """Drop a set left half written."""
        if self._open is not None:
            target = self._open[1]
            self._open = None
            target.discard()

    def _discard(self) -> None:
        """Drop what is half written: the open set, and the pack being filled."""
        self._discard_set()
        if self._pack is not None:
            pack, self._pack = self._pack, None
            pack.discard()

    # reading --------------------------------------------------------------------------
    def _places(self, ordinal: int) -> Iterator[tuple[Path, Span | None]]:
        """Where set ``ordinal`` may lie: its own file, then the packs over it (more than
        one only when passes written for other receipt dates or code sets left them)."""
        own, _packs = self._listed()
        if ordinal in own:
            yield self.directory / _name(ordinal), None
        for name in self._packs_over(ordinal):
            span = self._pack_index(name).get(ordinal)
            if span is not None:
                yield self.directory / name, span

    def _listed(self) -> tuple[set[int], list[tuple[int, int, str]]]:
        if self._listing is None:
            own: set[int] = set()
            packs: list[tuple[int, int, str]] = []
            try:
                names = os.listdir(self.directory)
            except OSError:
                names = []
            for name in names:
                if name.endswith(".set") and name[:-4].isdigit():
                    own.add(int(name[:-4]))
                elif (matched := _PACK_NAME.fullmatch(name)) is not None:
                    packs.append((int(matched[1]), int(matched[2]), name))
            self._listing = (own, sorted(packs))
        return self._listing

    def _packs_over(self, ordinal: int) -> list[str]:
        """The packs whose ordinals span ``ordinal``, nearest first: a pass's packs do not
        overlap, so only the last pack starting at or before it is looked at, and those
        before it as long as they still reach it."""
        packs = self._listed()[1]
        found = []
        at = bisect_right(packs, (ordinal, float("inf"), "")) - 1
        while at >= 0 and packs[at][1] >= ordinal:
            found.append(packs[at][2])
            at -= 1
        return found

    def _pack_index(self, name: str) -> _PackIndex:
        """Where each set of pack ``name`` lies; empty when its index cannot be read."""
        if self._index is None or self._index[0] != name:
            self._index = (name, _PackIndex.read(self.directory / name))
        return self._index[1]

    def _load(self, path: Path, span: Span | None, ordinal: int) -> SetOutcome | None:
        """The outcome a set file (``span`` None) or a set of a pack holds, or None."""
        try:
            with path.open("rb") as source:
                first, after = span if span is not None else (0, source.seek(0, os.SEEK_END))
                footer = after - _FOOTER.size
                if footer <= first:
                    return None
                source.seek(footer)
                (start,) = _FOOTER.unpack(source.read(_FOOTER.size))
                if not 0 < start < footer - first:
                    return None
                source.seek(first + start)
                header, reading, claims, kept = _Outcomes(source).load()
                if source.tell() != footer:
                    return None
                if span is not None:  # a packed set is small: its claims are read with it
                    source.seek(first)
                    frame: bytes | None = source.read(start)
                else:
                    frame = None
            if header != (VERSION, self.key, ordinal) or not isinstance(reading, SetReading) \
                    or reading.ordinal != ordinal:
                return None
        except Exception:  # missing, damaged or foreign: another place, or read again
            return None
        return SetOutcome(reading, SpooledClaims(path, header, claims, frame, self._decompressor,
                                                 end=None if frame is not None else start),
                          kept_count=kept)


def packed(out: BinaryIO, compressor: zstandard.ZstdCompressor | None = None) -> BinaryIO:
    """A stream compressing into ``out`` (which closing it leaves open), with
    ``compressor`` when given (one a spool, `_compressor()`: making one costs about 20
    microseconds, a tenth of a one-claim set's spooling; a stream begun on it starts
    afresh)."""
    compressor = compressor or _compressor()
    writer: BinaryIO = compressor.stream_writer(out, closefd=False)
    return writer


def end_frame(zipped: BinaryIO) -> None:
    """End what ``packed`` began: the frame is complete in its output, and the writer is
    then dropped, not closed. zstandard 0.25's ``close`` keeps a reference to the number
    its own flush returns (indygreg/python-zstandard#296), 28 bytes held for good per
    set spooled; and a close after the frame's end writes a second, empty, frame."""
    zipped.flush(zstandard.FLUSH_FRAME)  # type: ignore[call-arg]


def _compressor() -> zstandard.ZstdCompressor:
    """Level 1, each frame ending with a checksum of its content: a byte changed on disk
    is found when the set is read (`SpoolDamaged`), not read as other claim data."""
    return zstandard.ZstdCompressor(level=1, write_checksum=True)


def unpacked(source: BinaryIO) -> BinaryIO:
    """What ``packed`` wrote into ``source``, buffered (pickle reads it by frames and lines)."""
    reader = zstandard.ZstdDecompressor().stream_reader(source, closefd=False)
    return io.BufferedReader(reader)


def _name(ordinal: int) -> str:
    return f"{ordinal:07d}.set"


class SpoolDamaged(Exception):
    """A spooled set's claims could not be read back whole (the set is read again from
    the archived file)."""


class SpooledClaims:
    """A spooled set's claims, read one at a time each time they are iterated, and
    checked to be all there and whole (each frame ends with a checksum of its content):
    from its own file, decompressed as they are read up to ``end`` (where its end record
    starts), or from ``frame``, a packed set's few compressed bytes, read with its end
    record."""

    def __init__(self, path: Path, header: tuple[int, str, int], claims: int,
                 frame: bytes | None = None,
                 decompressor: zstandard.ZstdDecompressor | None = None,
                 end: int | None = None) -> None:
        self._path = path
        self._header = header
        self._claims = claims
        self._frame = frame
        self._decompressor = decompressor or zstandard.ZstdDecompressor()
        self._end = end

    def __iter__(self) -> Iterator[EditedClaim]:
        read = 0
        try:
            with self._records() as records:
                # each record was pickled on its own (its own memo): one unpickler each
                if _Outcomes(records).load() != self._header:
                    raise SpoolDamaged("another set's file")
                while (record := _Outcomes(records).load()) is not None:
                    read += 1
                    yield EditedClaim(*record)
                if self._end is not None and records.read():  # to the frame's checksum
                    raise SpoolDamaged("records after the claims' end")
        except SpoolDamaged:
            raise
        except Exception as exc:
            raise SpoolDamaged(type(exc).__name__) from exc
        if read != self._claims:
            raise SpoolDamaged("claims missing")

    @contextmanager
    def _records(self) -> Iterator[BinaryIO]:
        if self._frame is not None:  # decompressed in one call: nothing shared stays open
            whole = self._decompressor.decompressobj()
            records = whole.decompress(self._frame)
            if not whole.eof:
                raise SpoolDamaged("the claims' frame is cut short")
            yield io.BytesIO(records)
            return
        with self._path.open("rb") as source:
            framed: BinaryIO = source if self._end is None \
                else io.BufferedReader(_Bounded(source, self._end))
            with unpacked(framed) as unzipped:
                yield unzipped


class _Bounded(io.RawIOBase):
    """The first ``size`` bytes of ``source``: a set file's frame, without its end record
    (read to its end, the frame's checksum is verified)."""

    def __init__(self, source: BinaryIO, size: int) -> None:
        self._source = source
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self._left)
        if wanted <= 0:
            return 0
        data = self._source.read(wanted)
        buffer[:len(data)] = data
        self._left -= len(data)
        return len(data)
