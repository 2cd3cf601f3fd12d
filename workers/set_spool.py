"""Set outcomes kept on disk between the one pass and the sets' answers.

`acknowledge_file` checks a file and parses and edits its sets in one reading
(`front_end.front_pass`); what the edits find is written here claim by claim, one
file per transaction set ending with a small record of the set's end (its reading,
how many claims it holds and how many the edits accept), so the pass holds no set
whole, and the 999 is decided. The per-set steps that number, store and answer the
claims then read their set's claims from here one at a time, instead of reading the
file again. The spool is a cache, never the record: a set
whose file is missing, damaged, unsealed or written for another receipt date or
code-set release is read again from the archived file (`front_end.set_outcomes`),
which gives the same outcome (tests/test_one_pass.py, tests/test_set_spool.py).

A set file is the set's records as one zstd frame (level 1: a fifth of gzip's time
both ways, and half its size), then its end record as a plain pickle, then that
record's offset (`_FOOTER`): the end is read without the claims, and a set is one file
created and renamed into place, not two (file creation is slow on some disks: on this
project's machine 3,000 empty sets took 1.3-6.8 s to spool with two files a set,
0.7-0.9 s with one).
They are loaded through an unpickler that builds only the outcome types and the few
standard types they hold, so a file put there by anyone else cannot name a callable.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterator
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
VERSION = 7
"""Raised whenever what a spooled outcome holds, or how it is written, changes: older
files are not read (1: gzip-compressed; 2: no rejected claim's `PatientKey`; 3: no
record of a set's end beside it, the set loaded whole; 4: CLM01/CLM02 as a list; 5:
the end record in a file of its own; 6: the set's reading also at the end of its
claims, where a None now ends them)."""
_FOOTER = struct.Struct("<Q")
"""The last 8 bytes of a set file: where its end record starts."""
_CLASSES = {(cls.__module__, cls.__qualname__): cls for cls in (
    SetReading, ClaimHeads, KeptClaim, PatientKey, ParseError, ClaimStatus, Provider277, LineStatus,
    ClaimFinding, Location, StatusCategory, Entity, Decimal, date)}
"""What a spooled record may build: a set's records are tuples of these and strings."""
_COMPLETE = "complete.json"


class _Outcomes(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        found = _CLASSES.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not a spooled type")
        return found


class SetSpool:
    """One file's spooled set outcomes, under ``directory``, valid for ``key`` (the
    receipt date and code-set releases the edits ran with). A `SetSink`: each claim is
    written as it is edited (one set file at a time, ending with a small record of the
    set's end, renamed into place once whole), so the pass holds one claim of a set,
    not the set; and `get` gives a set whose claims are read back one at a time while
    they are taken, so answering a set does not hold it whole either."""

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory
        self.key = key
        self._sets = 0
        self._broken = False
        self._open: tuple[str, BinaryIO, BinaryIO, pickle.Pickler] | None = None
        self._counts = [0, 0]  # the open set's claims, and those the edits accept

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
        reads the file again). A set file damaged after this check raises
        `SpoolDamaged` while its claims are read."""
        spooled = self.directory / _name(ordinal)
        try:
            with spooled.open("rb") as source:
                size = source.seek(-_FOOTER.size, os.SEEK_END)
                (start,) = _FOOTER.unpack(source.read(_FOOTER.size))
                if not 0 < start < size:
                    return None
                source.seek(start)
                header, reading, claims, kept = _Outcomes(source).load()
                if source.tell() != size:
                    return None
            if header != (VERSION, self.key, ordinal) or not isinstance(reading, SetReading) \
                    or reading.ordinal != ordinal:
                return None
        except Exception:  # missing, damaged or foreign: the set is read again
            log.warning("set_spool.unreadable", transaction_set_ordinal=ordinal)
            return None
        return SetOutcome(reading, SpooledClaims(spooled, header, claims), kept_count=kept)

    def forget(self, ordinal: int) -> None:
        """Set ``ordinal`` is not to be read from here again (found damaged)."""
        (self.directory / _name(ordinal)).unlink(missing_ok=True)

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
        self._discard()
        # a file an earlier pass left for this set stays readable until this one replaces
        # it whole: written for the same bytes (a spool is its file's), its header says
        # for which receipt date and code sets, and an unsealed spool is not read
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".writing-")
        out = os.fdopen(handle, "wb")
        # compressed as it is written: a claim's record is about 5 KB of JSON and 277CA
        # fields, about 210 bytes compressed, for about 1 % more time in the pass
        zipped = packed(out)
        self._open = (temporary, out, zipped, pickle.Pickler(zipped, protocol=5))
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
        temporary, out, zipped, _pickler = self._open
        zipped.close()
        # the set's end after its claims, written last: `get` trusts a set only with it
        start = out.tell()
        pickle.dump(((VERSION, self.key, reading.ordinal), reading, *self._counts), out,
                    protocol=5)
        out.write(_FOOTER.pack(start))
        out.close()
        os.replace(temporary, self.directory / _name(reading.ordinal))
        self._open = None  # only now: a failed rename leaves `_discard` a file to remove

    def _seal(self, _: None) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with atomic_text(self.directory / _COMPLETE) as out:
            out.write(json.dumps({"version": VERSION, "key": self.key, "sets": self._sets}))

    def _discard(self) -> None:
        """Drop a set file left half written."""
        if self._open is not None:
            temporary, out, _zipped, _pickler = self._open
            self._open = None
            out.close()
            Path(temporary).unlink(missing_ok=True)


def packed(out: BinaryIO) -> BinaryIO:
    """A stream compressing into ``out`` (which closing it leaves open)."""
    writer: BinaryIO = zstandard.ZstdCompressor(level=1).stream_writer(out, closefd=False)
    return writer


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
    """A spooled set's claims, read from its file one at a time each time they are
    iterated, and checked to be all there."""

    def __init__(self, path: Path, header: tuple[int, str, int], claims: int) -> None:
        self._path = path
        self._header = header
        self._claims = claims

    def __iter__(self) -> Iterator[EditedClaim]:
        read = 0
        try:
            with self._path.open("rb") as source, unpacked(source) as unzipped:
                # each record was pickled on its own (its own memo): one unpickler a record
                if _Outcomes(unzipped).load() != self._header:
                    raise SpoolDamaged("another set's file")
                while (record := _Outcomes(unzipped).load()) is not None:
                    read += 1
                    yield EditedClaim(*record)
        except SpoolDamaged:
            raise
        except Exception as exc:
            raise SpoolDamaged(type(exc).__name__) from exc
        if read != self._claims:
            raise SpoolDamaged("claims missing")
