"""Intake: complete uploads taken from the partners' mailboxes and handed to the workers.

    <mailboxes>/<partner>/inbound/    the partner uploads here (SFTP, its own chroot)
    <mailboxes>/<partner>/outbound/   its 999, 277CA and 835 files appear here

An upload is complete when both rules hold (the default; see `Completeness`):

- its name is not a temporary one (a leading dot, or ``.part``, ``.tmp``,
  ``.filepart``, ``.partial`` at the end): clients that upload to a temporary name
  and rename are taken the moment they rename;
- its size and modification time have not changed for ``stable_seconds`` (5 by
  default) across scans: a client that writes in place is taken once it stops.

A complete upload is recorded with its sha256 and copied into the immutable archive
(`workers.service.receive_into_service`) before anything else, then removed from
``inbound/`` and its first step is sent to the workers; a crash in between takes the
same upload again as the same receipt, never as a duplicate of itself.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from workers.service import Actors, Service, receive_into_service

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


def scan_once(svc: Service, actors: Actors, mailboxes: Path, completeness: Completeness,
              now: float | None = None) -> list[int]:
    """Take every complete upload; returns the file row ids sent to the workers."""
    moment = time.monotonic() if now is None else now
    sent = []
    for path in inbound_files(mailboxes, completeness.passed_over):
        try:
            if not completeness.complete(path, moment):
                continue
            file_id, duplicate = receive_into_service(svc, path, taken=_remover(path),
                                                      partner=path.parent.parent.name)
        except Exception as exc:
            # one upload that cannot be taken (unreadable, removed by its sender midway,
            # the database away) is left for the next scan; the others are taken now.
            # Before 2026-12-01 it ended the scan, and being the oldest, every scan:
            # no partner's file was taken again. It is logged once while it keeps failing
            _failed(completeness, path, exc)
            continue
        completeness.failing.pop(path, None)
        completeness.forget(path)
        log.info("intake.received", file=file_id, duplicate=duplicate)
        if not duplicate:
            actors.process_file.send(file_id)
            sent.append(file_id)
    return sent


def _failed(completeness: Completeness, path: Path, exc: Exception) -> None:
    error = type(exc).__name__
    if completeness.failing.get(path) != error:
        completeness.failing[path] = error
        log.warning("intake.not_taken", partner=path.parent.parent.name,
                    name_sha256=_name_hash(path), error=error)


def _remover(path: Path) -> Callable[[os.stat_result], None]:
    """Removes the upload that was read (``held``), and only it: a sender that uploads
    its next batch under the same name (to ``.part``, then renamed) while this one is
    recorded has put another file there, which the next scan takes. Before 2026-12-01
    that upload was deleted unread. (A replacement in the instant between the check and
    the unlink, two system calls, is not told apart.)"""

    def remove(held: os.stat_result) -> None:
        try:
            now = path.stat()
        except FileNotFoundError:
            return
        if _identity(now) == _identity(held):
            path.unlink(missing_ok=True)
        else:
            log.info("intake.replaced_while_read", partner=path.parent.parent.name,
                     name_sha256=_name_hash(path))

    return remove


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
