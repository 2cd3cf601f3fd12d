"""Intake: complete uploads taken from the partners' mailboxes and handed to the workers.

    <mailboxes>/<partner>/inbound/    the partner uploads here (SFTP, its own chroot)
    <mailboxes>/<partner>/outbound/   its 999, 277CA and 835 files appear here

An upload is complete when both rules hold (the default; see `Completeness`):

- its name is not a temporary one (a leading dot, or ``.part``, ``.tmp``,
  ``.filepart``, ``.partial`` at the end): clients that upload to a temporary name
  and rename are taken the moment they rename;
- its size and modification time have not changed for ``stable_seconds`` (5 by
  default) across scans: a client that writes in place is taken once it stops.

A complete upload is taken out of ``inbound/`` by one rename into a holding name under
``<mailboxes>/.intake/held/`` (`HOLD`, outside every partner's chroot, on the same
filesystem), then recorded with its sha256 and copied into the immutable archive
(`workers.service.receive_into_service`) under the name and arrival it had in
``inbound/``, then removed from the holding folder and its first step is sent to the
workers. A held upload not yet removed (a crash, the database away) is taken at a
later scan as the same receipt, never as a duplicate of itself.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from workers.service import Actors, Service, open_upload, receive_into_service

log = structlog.get_logger("claims.intake")
TEMPORARY_SUFFIXES = (".part", ".tmp", ".filepart", ".partial")


@dataclass
class Completeness:
    stable_seconds: float = 5.0
    """How long size and mtime must stay still; 0 trusts renames alone."""
    _seen: dict[Path, tuple[int, int, float]] = field(default_factory=dict)
    passed_over: set[Path] = field(default_factory=set)
    """Entries of an ``inbound/`` that are no regular file, logged once each."""
    failing: dict[Path, str] = field(default_factory=dict)
    """Uploads the last scans could not take, and why (an exception's type): logged once
    while the reason stays the same."""

    def complete(self, path: Path, now: float) -> bool:
        name = path.name
        if name.startswith(".") or name.lower().endswith(TEMPORARY_SUFFIXES):
            return False
        try:
            stat = path.stat()
        except FileNotFoundError:
            return False
        key = (stat.st_size, stat.st_mtime_ns)
        seen = self._seen.get(path)
        if seen is None or seen[:2] != key:
            self._seen[path] = (*key, now)
            return self.stable_seconds <= 0
        return now - seen[2] >= self.stable_seconds

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)


def inbound_files(mailboxes: Path, passed_over: set[Path] | None = None) -> Iterator[Path]:
    """Every regular file in every partner's ``inbound/``, oldest first. Anything else
    there (a link, a FIFO, a folder, a device) is never read: it is logged once, by the
    sha256 of its name (a name may be PHI), the first time ``passed_over`` (the scans'
    memory of them) has not seen it."""
    found = []
    for path in mailboxes.glob("*/inbound/*"):
        if path.is_file() and not path.is_symlink():
            found.append(path)
        elif passed_over is not None and path not in passed_over:
            passed_over.add(path)
            log.warning("intake.passed_over", partner=path.parent.parent.name,
                        name_sha256=_name_hash(path),
                        kind="link" if path.is_symlink() else "not a regular file")
    yield from sorted(found, key=_age)


def _age(path: Path) -> tuple[int, str]:
    try:
        return path.stat().st_mtime_ns, str(path)
    except OSError:  # gone since the listing: its turn is taken by nothing
        return 0, str(path)


HOLD = Path(".intake", "held")
"""Under ``<mailboxes>``, outside every partner's chroot: ``<partner>/<arrival>.<n>/<name>``
holds an upload intake has taken out of ``inbound/`` and not yet recorded. ``<arrival>``
is the upload's inode change time there in nanoseconds (its receipt instant; the rename
changes it), ``<name>`` the name the partner gave it."""


def holding_problem(mailboxes: Path) -> str | None:
    """Why intake could not take uploads from ``mailboxes`` (None: it can): its holding
    folder (`HOLD`) cannot be made or written, or a partner's ``inbound/`` is on another
    filesystem, where one rename cannot move an upload into it. Checked when intake
    starts, so that neither leaves every upload in ``inbound/`` scan after scan, logged
    as not taken (a partner added later is not checked: its uploads wait so)."""
    hold = mailboxes / HOLD
    try:
        hold.mkdir(mode=0o700, parents=True, exist_ok=True)
        Path(tempfile.mkdtemp(dir=hold)).rmdir()
        device = hold.stat().st_dev
    except OSError as exc:
        return f"intake cannot make or write its holding folder {HOLD} there ({exc.strerror})"
    for inbound in sorted(mailboxes.glob("*/inbound")):
        if inbound.is_dir() and inbound.stat().st_dev != device:
            return (f"partner {inbound.parent.name}'s inbound/ is on another filesystem "
                    f"than the holding folder {HOLD}: one rename cannot take its uploads")
    return None


def scan_once(svc: Service, actors: Actors, mailboxes: Path, completeness: Completeness,
              now: float | None = None) -> list[int]:
    """Take every complete upload; returns the file row ids sent to the workers. The
    uploads held by an earlier scan (a crash, or a failure to record them) come first,
    once their size and modification time have stayed still as an upload's must."""
    moment = time.monotonic() if now is None else now
    sent: list[int] = []
    for kept in held_files(mailboxes):
        try:
            if completeness.complete(kept, moment):
                _take(svc, actors, kept, completeness, sent)
        except Exception as exc:
            _failed(completeness, kept, exc)  # still held: tried again at the next scan
    for path in inbound_files(mailboxes, completeness.passed_over):
        try:
            if not completeness.complete(path, moment):
                continue
            held = _hold(mailboxes, path)
        except Exception as exc:
            # one upload that cannot be taken (unreadable, removed by its sender midway)
            # is left for the next scan; the others are taken now. Before 2026-12-01
            # it ended the scan, and being the oldest, every scan: no partner's file
            # was taken again. It is logged once while it keeps failing
            _failed(completeness, path, exc)
            continue
        completeness.failing.pop(path, None)
        completeness.forget(path)
        if held is None:
            continue
        try:
            _take(svc, actors, held, completeness, sent)
        except Exception as exc:  # the database away: held, and taken at a later scan
            _failed(completeness, held, exc)
    return sent


def held_files(mailboxes: Path) -> Iterator[Path]:
    """The uploads held by an earlier scan, oldest first; the empty folders a crash
    left beside them are removed."""
    found: list[Path] = []
    for folder in mailboxes.joinpath(HOLD).glob("*/*"):
        try:
            found.extend(folder.iterdir())
            folder.rmdir()  # empty: a crash between its mkdir and the rename
        except OSError:
            pass
    yield from sorted(found, key=_age)


def _hold(mailboxes: Path, path: Path) -> Path | None:
    """Takes the upload at ``path`` out of ``inbound/`` by one rename into a private
    holding name (`HOLD`): a sender that uploads its next batch under the same name puts
    a new directory entry there, which no later step can remove. The upload is opened
    first, so one intake cannot read (unreadable, a link swapped in) stays where its
    sender can see it; None when the rename took something else than the file opened
    (replaced in the instant between): that is held, and taken once it stays still."""
    with open_upload(path) as probe:
        opened = os.fstat(probe.fileno())
    partner = path.parent.parent.name
    holding = mailboxes / HOLD / partner
    holding.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{opened.st_ctime_ns}.", dir=holding))
    held = folder / path.name
    try:
        os.rename(path, held)
    except BaseException:
        folder.rmdir()
        raise
    if _identity(held.lstat()) != _identity(opened):
        log.info("intake.replaced_while_taken", partner=partner,
                 name_sha256=_name_hash(path))
        return None
    return held


def _take(svc: Service, actors: Actors, held: Path, completeness: Completeness,
          sent: list[int]) -> None:
    """Records a held upload under the name and arrival it had in ``inbound/``, removes
    it from the holding folder, and sends a new file to the workers. A crash before the
    removal takes it again as the same receipt (same upload path, modification time and
    bytes), never as a duplicate of itself."""
    partner = held.parent.parent.name
    upload = held.parents[4] / partner / "inbound" / held.name
    arrived = int(held.parent.name.split(".", 1)[0]) / 1e9

    def remove(_read: os.stat_result) -> None:
        held.unlink(missing_ok=True)  # the holding name is intake's alone
        held.parent.rmdir()

    file_id, duplicate = receive_into_service(svc, held, taken=remove, partner=partner,
                                              upload=upload, arrived=arrived)
    completeness.failing.pop(held, None)
    completeness.forget(held)
    log.info("intake.received", file=file_id, duplicate=duplicate)
    if not duplicate:
        actors.process_file.send(file_id)
        sent.append(file_id)


def _failed(completeness: Completeness, path: Path, exc: Exception) -> None:
    error = type(exc).__name__
    if completeness.failing.get(path) != error:
        completeness.failing[path] = error
        log.warning("intake.not_taken", partner=path.parent.parent.name,
                    name_sha256=_name_hash(path), error=error)


def _identity(stat: os.stat_result) -> tuple[int, int, int, int]:
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns


def _name_hash(path: Path) -> str:
    """How a file is named in logs: a name may be PHI (a patient's, a claim's)."""
    return hashlib.sha256(os.fsencode(path.name)).hexdigest()


def watch(svc: Service, actors: Actors, mailboxes: Path, completeness: Completeness,
          interval: float = 1.0, stop: Callable[[], bool] = lambda: False) -> None:
    """Scan the mailboxes every ``interval`` seconds until ``stop()`` says so."""
    while not stop():
        try:
            scan_once(svc, actors, mailboxes, completeness)
        except Exception as exc:  # Redis or the database away for a moment: look again
            # a file taken before the failure is in the store; the reconciler sends it
            log.warning("intake.scan_failed", error=type(exc).__name__)
        time.sleep(interval)
