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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO

import structlog

from adjudication.reference import ReferenceData
from edi.ack277 import render_277ca
from edi.acks import Acknowledgment, ControlNumbers, CountingControlNumbers, Responder, acknowledge
from edi.findings import FileCheck
from edi.front_end import ClaimNumbers, InMemoryClaimNumbers
from edi.validators.codesets import CodeSetRegistry, default_registry
from edi.validators.edits import EditContext
from edi.validators.implementation_guide import EnvelopePolicy, check_stream
from workers.adjudicate import Adjudicator, replayed_state, write_decisions
from workers.front_end import FrontEndResult, run_front_end
from workers.summary import AckCode, FileStatus, FileSummary, RunSummary

log = structlog.get_logger("claims.pipeline")
Progress = Callable[[int], None]


@dataclass(frozen=True)
class RunOptions:
    out_dir: Path
    as_of: date
    now: datetime
    policy: EnvelopePolicy = field(default_factory=EnvelopePolicy)
    received: date | None = None
    """The receipt date of every file (replays); None takes each file's drop time."""
    code_sets: CodeSetRegistry = field(default_factory=default_registry)
    reference: ReferenceData | None = None
    """Reference data to adjudicate with; None stops after the front end."""


class Ledger:
    """Files and interchanges already received, kept in ``ledger.jsonl`` of the output dir.

    The persistent store replaces this with UNIQUE constraints on the same keys
    (file sha256; sender + ISA13).
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self.files: set[str] = set()
        self.interchanges: set[str] = set()
        self.numbered = 0
        if path.exists():
            for line in path.read_text().splitlines():
                entry = json.loads(line)
                self.files.add(entry["sha256"])
                self.interchanges.update(entry.get("interchanges", []))
                self.numbered += entry.get("numbered", 0)

    def record(self, sha256: str, interchanges: list[str], numbered: int) -> None:
        self.files.add(sha256)
        self.interchanges.update(interchanges)
        self.numbered += numbered
        entry = {"sha256": sha256, "interchanges": interchanges, "numbered": numbered}
        with self._path.open("a") as out:
            out.write(json.dumps(entry) + "\n")


class StoredControlNumbers(CountingControlNumbers):
    """Outbound ISA13/GS06 numbers that keep counting across runs in one output directory."""

    def __init__(self, path: Path) -> None:
        self._path = path
        saved = json.loads(path.read_text()) if path.exists() else {}
        super().__init__(saved.get("interchange", 1), saved.get("group", 1))

    def save(self) -> None:
        state = {"interchange": self.next_interchange(), "group": self.next_group()}
        self._path.write_text(json.dumps(state) + "\n")


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
    control = StoredControlNumbers(options.out_dir / "control-numbers.json")
    numbers = InMemoryClaimNumbers(start=ledger.numbered + 1)
    adjudicator = (Adjudicator(options.reference, options.as_of,
                               state=replayed_state(options.out_dir))
                   if options.reference is not None else None)
    summary = RunSummary(as_of=options.as_of.isoformat())
    # receipt order: accumulators and duplicates follow the order files arrived in
    for path in sorted(paths, key=lambda p: p.stat().st_mtime):
        progress = progress_for(path) if progress_for else None
        summary.files.append(process_file(path, options, ledger, control, numbers, progress,
                                          adjudicator))
    control.save()
    (options.out_dir / "summary.json").write_text(summary.model_dump_json(indent=2) + "\n")
    return summary


def process_file(
    path: Path,
    options: RunOptions,
    ledger: Ledger,
    control: ControlNumbers,
    numbers: ClaimNumbers,
    progress: Progress | None = None,
    adjudicator: Adjudicator | None = None,
) -> FileSummary:
    sha = sha256_of(path)
    received_at = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    received = options.received or received_at.date()
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
    responder = Responder(when=options.now, control=control)
    ack = acknowledge(check, responder)
    ack_path = options.out_dir / f"{path.stem}.{ack.kind.lower()}"
    ack_path.write_text(ack.text)
    front = FrontEndResult() if duplicate else run_front_end(
        path, check, EditContext(received=received, code_sets=options.code_sets), numbers,
        adjudicator, sink=lambda decided: write_decisions(options.out_dir, decided))
    claims = front.claims
    claim_ack_path = None
    if front.answered:
        claim_ack_path = options.out_dir / f"{path.stem}.277ca"
        claim_ack_path.write_text(render_277ca(front.answered, responder))
    if not duplicate:
        numbered = sum(1 for c in claims if c.payer_claim_control_number)
        ledger.record(sha, [k for k, ic in zip(keys, check.interchanges, strict=True)
                            if not ic.rejected], numbered)
    status: FileStatus = "duplicate" if duplicate else (
        "processed" if check.accepted_ordinals() else "rejected")
    log.info("file.processed", sha256=sha, status=status, ack=ack.kind, ack_code=ack.code,
             interchanges=[ic.control_number for ic in check.interchanges], claims=len(claims))
    return FileSummary(
        path=str(path), sha256=sha, status=status, ack=ack.kind, ack_code=_ack_code(ack),
        ack_path=str(ack_path), received_at=received_at.isoformat(),
        claim_ack_path=str(claim_ack_path) if claim_ack_path else None,
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
