"""Run the engine over received files: the I/O edge around the pure `edi` core.

For each file: register it (sha256; a file or an interchange already received is a
duplicate and is answered with TA1 025), check the envelope and the implementation
guide, write the TA1 or 999 next to it in the output directory, and list every claim
with what happened to it. Nothing here raises on bad input: a file that cannot be
read at all is answered with a TA1 and recorded as rejected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

import structlog

from edi.acks import Acknowledgment, ControlNumbers, CountingControlNumbers, Responder, acknowledge
from edi.claims import ParsedClaim
from edi.findings import FileCheck
from edi.validators.implementation_guide import EnvelopePolicy, check_stream
from workers.summary import (
    AckCode,
    ClaimSummary,
    FileStatus,
    FileSummary,
    FrontEnd,
    RunSummary,
)
from workers.transaction_sets import SetReading, read_sets

log = structlog.get_logger("claims.pipeline")
Progress = Callable[[int], None]


@dataclass(frozen=True)
class RunOptions:
    out_dir: Path
    as_of: date
    now: datetime
    policy: EnvelopePolicy = field(default_factory=EnvelopePolicy)


class Ledger:
    """Files and interchanges already received, kept in ``ledger.jsonl`` of the output dir.

    The persistent store replaces this with UNIQUE constraints on the same keys
    (file sha256; sender + ISA13).
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self.files: set[str] = set()
        self.interchanges: set[str] = set()
        if path.exists():
            for line in path.read_text().splitlines():
                entry = json.loads(line)
                self.files.add(entry["sha256"])
                self.interchanges.update(entry.get("interchanges", []))

    def record(self, sha256: str, interchanges: list[str]) -> None:
        self.files.add(sha256)
        self.interchanges.update(interchanges)
        with self._path.open("a") as out:
            out.write(json.dumps({"sha256": sha256, "interchanges": interchanges}) + "\n")


class _CountingReader:
    """A binary stream that reports how many bytes were read."""

    def __init__(self, stream: BinaryIO, progress: Progress | None) -> None:
        self._stream = stream
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if self._progress is not None and data:
            self._progress(len(data))
        return data


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def process_files(
    paths: list[Path],
    options: RunOptions,
    progress_for: Callable[[Path], Progress | None] | None = None,
) -> RunSummary:
    """Process files in order and write ``summary.json``; returns the summary."""
    options.out_dir.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(options.out_dir / "ledger.jsonl")
    control = CountingControlNumbers(interchange=len(ledger.files) + 1)
    summary = RunSummary(as_of=options.as_of.isoformat())
    for path in paths:
        progress = progress_for(path) if progress_for else None
        summary.files.append(process_file(path, options, ledger, control, progress))
    (options.out_dir / "summary.json").write_text(summary.model_dump_json(indent=2) + "\n")
    return summary


def process_file(
    path: Path,
    options: RunOptions,
    ledger: Ledger,
    control: ControlNumbers,
    progress: Progress | None = None,
) -> FileSummary:
    sha = sha256_of(path)
    received_at = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    with path.open("rb") as raw:
        check = check_stream(_CountingReader(raw, progress), options.policy)  # type: ignore[arg-type]
    keys = [_interchange_key(ic.sender_qualifier, ic.sender_id, ic.control_number)
            for ic in check.interchanges]
    duplicate = sha in ledger.files
    if duplicate:
        _mark_duplicate(check, "this file was already received")
    else:
        for ic, key in zip(check.interchanges, keys, strict=True):
            if key in ledger.interchanges and not ic.rejected:
                ic.note_code = "025"
                ic.sentences.append("This interchange control number was already received "
                                    "from this sender.")
    ack = acknowledge(check, Responder(when=options.now, control=control))
    ack_path = options.out_dir / f"{path.stem}.{ack.kind.lower()}"
    ack_path.write_text(ack.text)
    claims = [] if duplicate else list(_claims(path, check))
    if not duplicate:
        ledger.record(sha, [k for k, ic in zip(keys, check.interchanges, strict=True)
                            if not ic.rejected])
    status: FileStatus = "duplicate" if duplicate else (
        "processed" if check.accepted_ordinals() else "rejected")
    log.info("file.processed", sha256=sha, status=status, ack=ack.kind, ack_code=ack.code,
             interchanges=[ic.control_number for ic in check.interchanges], claims=len(claims))
    return FileSummary(
        path=str(path), sha256=sha, status=status, ack=ack.kind, ack_code=_ack_code(ack),
        ack_path=str(ack_path), received_at=received_at.isoformat(),
        interchanges=[ic.control_number for ic in check.interchanges],
        problems=_problems(check), claims=claims,
    )


def _interchange_key(qualifier: str, sender: str, control_number: str) -> str:
    return f"{qualifier.strip()}:{sender.strip()}:{control_number}"


def _mark_duplicate(check: FileCheck, sentence: str) -> None:
    for ic in check.interchanges:
        ic.note_code = "025"
        ic.sentences.append(sentence[0].upper() + sentence[1:] + ".")


def _ack_code(ack: Acknowledgment) -> AckCode:
    codes: dict[str, AckCode] = {"A": "A", "E": "E", "P": "P"}
    return codes.get(ack.code, "R")


def _problems(check: FileCheck) -> list[str]:
    problems: list[str] = []
    interchanges = [*check.interchanges]
    if check.unreadable is not None:
        interchanges.append(check.unreadable)
    for ic in interchanges:
        problems += ic.sentences
        for group in ic.groups:
            problems += group.sentences
            for ts in group.transaction_sets:
                problems += ts.sentences
                for seg in ts.segments[:20]:
                    problems += list(seg.sentences)
    return problems[:200]


def _claims(path: Path, check: FileCheck) -> Iterator[ClaimSummary]:
    """Every CLM of the file, with its front-end outcome."""
    parsed: list[ParsedClaim] = []
    with path.open("rb") as stream:
        for reading in read_sets(stream, check.accepted_ordinals(),
                                 lambda _r, claim: parsed.append(claim)):
            yield from _set_claims(reading, parsed)
            parsed.clear()


def _set_claims(reading: SetReading, parsed: list[ParsedClaim]) -> Iterator[ClaimSummary]:
    if reading.parse_error is not None:
        log.warning("transaction_set.unreadable", transaction_set=reading.control_number,
                    position=reading.parse_error.position)
    for pcn, charge in reading.clm_segments:
        if not reading.accepted:
            front_end: FrontEnd = "not_reached"
            codes: list[str] = []
        elif reading.parse_error is not None:
            # The 999 passed the set but the reader could not follow it: every claim
            # of the set is returned as unprocessable (277CA A3, status 21).
            front_end, codes = "rejected", ["A3:21"]
        else:
            front_end, codes = "accepted", []
        yield ClaimSummary(patient_control_number=pcn, front_end=front_end,
                           front_end_codes=codes, charge=_money(charge),
                           transaction_set=reading.control_number)


def _money(value: str) -> str:
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError):
        return "0.00"
    return f"{amount:.2f}" if amount.is_finite() else "0.00"
