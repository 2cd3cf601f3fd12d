"""Set outcomes kept on disk between the one pass and the sets' answers.

`acknowledge_file` checks a file and parses and edits its sets in one reading
(`front_end.front_pass`); each set's `SetOutcome` is written here at its SE, so one set
is in memory at a time, and the 999 is decided. The per-set steps that number, store
and answer the claims then load their set from here instead of reading the file again.
The spool is a cache, never the record: a set whose file is missing, damaged or was
written for another receipt date or code-set release is read again from the archived
file (`front_end.set_outcomes`), which gives the same outcome (tests/test_one_pass.py).

The files are pickles written by this engine into its own archive. They are loaded
through an unpickler that builds only the engine's outcome classes and the few standard
types they hold, so a file put there by anyone else cannot name any other callable.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import structlog

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
from workers.front_end import KeptClaim, SetOutcome
from workers.transaction_sets import SetReading

log = structlog.get_logger("claims.set_spool")
VERSION = 1
"""Raised whenever what a spooled outcome holds changes: older files are not read."""
_CLASSES = {(cls.__module__, cls.__qualname__): cls for cls in (
    SetOutcome, SetReading, KeptClaim, ParseError, ClaimStatus, Provider277, LineStatus,
    ClaimFinding, Location, StatusCategory, Entity, Decimal, date)}
_COMPLETE = "complete.json"


class _Outcomes(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        found = _CLASSES.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not a spooled type")
        return found


class SetSpool:
    """One file's spooled set outcomes, under ``directory``, valid for ``key`` (the
    receipt date and code-set releases the edits ran with)."""

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory
        self.key = key
        self._sets = 0
        self._broken = False

    def put(self, outcome: SetOutcome) -> None:
        """Keep one set's outcome (written whole, then renamed into place). A set that
        cannot be kept (a full disk) leaves the spool unsealed: the answers then read
        the file again, and the check goes on."""
        ordinal = outcome.reading.ordinal
        self._sets = max(self._sets, ordinal)
        if self._broken:
            return
        try:
            self._write(f"{ordinal:07d}.set",
                        pickle.dumps((VERSION, self.key, outcome), protocol=5))
        except OSError as exc:
            log.warning("set_spool.not_written", transaction_set_ordinal=ordinal,
                        error=type(exc).__name__)
            self._broken = True
        except Exception as exc:  # an engine bug: counted, and the file is read again
            record_fault("set-spool", exc)
            self._broken = True

    def seal(self) -> None:
        """Every set of the file is spooled: `sets` may now be trusted."""
        if self._broken:
            return
        try:
            self._write(_COMPLETE, json.dumps(
                {"version": VERSION, "key": self.key, "sets": self._sets}).encode())
        except OSError as exc:
            log.warning("set_spool.not_sealed", error=type(exc).__name__)

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
        """The spooled outcome of set ``ordinal``, not yet settled; None when there is no
        usable one (the caller reads the file again)."""
        try:
            data = (self.directory / f"{ordinal:07d}.set").read_bytes()
        except OSError:
            return None
        try:
            version, key, outcome = _Outcomes(io.BytesIO(data)).load()
        except Exception:  # a damaged or foreign file: the set is read again
            log.warning("set_spool.unreadable", transaction_set_ordinal=ordinal)
            return None
        if version != VERSION or key != self.key or not isinstance(outcome, SetOutcome) \
                or outcome.reading.ordinal != ordinal:
            return None
        return outcome

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def _write(self, name: str, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".writing-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, self.directory / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
