"""The last part of `make demo`: the running service, with nothing installed.

The same actors `claims worker` runs on Redis run here on dramatiq's in-process
broker, over a SQLite store of their own and a plain directory for the partner's
mailbox: an upload is taken by intake, answered per transaction set, adjudicated
batch by batch, its 999 and 277CA delivered into ``outbound/``, a payment cycle puts
its 835 there too, and the same bytes dropped again get a TA1 and nothing else.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dramatiq
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from fixtures.generator import CLEARINGHOUSE_ID
from store.engine import Store, sqlite_url
from store.migrate import upgrade
from store.models import ReceivedFile
from workers.intake import Completeness, scan_once
from workers.partners import add_partner
from workers.reference import SHIPPED_REFERENCE_DIRECTORY
from workers.reference_store import StoredReference, load_reference
from workers.service import Service, declare_actors, make_broker
from workers.status import status_counts

PARTNER = "demo-gateway"
SETTLED = ("done", "dead")


class CountMessages(dramatiq.Middleware):
    """How many messages of each actor the workers finished (the demo shows the split)."""

    def __init__(self) -> None:
        self.done: Counter[str] = Counter()

    def after_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message[Any],
                              *, result: object = None,
                              exception: BaseException | None = None) -> None:
        self.done[message.actor_name] += 1


def run_service_demo(console: Console, out: Path, upload: Path, as_of: date,
                     sent: datetime | None) -> None:
    """``upload`` through the in-process service into a mailbox under ``out``."""
    if out.exists():
        shutil.rmtree(out)
    (out / "data").mkdir(parents=True)
    url = sqlite_url(out / "data")
    upgrade(url)
    store = Store(url)
    try:
        load_reference(store, SHIPPED_REFERENCE_DIRECTORY, datetime.now(tz=UTC))
        mailboxes = out / "mailboxes"
        box = add_partner(store, mailboxes, PARTNER, qualifier="ZZ",
                          sender_id=CLEARINGHOUSE_ID, now=datetime.now(tz=UTC))
        service = Service(store, out / "data" / "archive", out / "outbound",
                          StoredReference(store), mailboxes=mailboxes,
                          receipt_clock="file")  # the fixtures are dropped as they were sent
        broker = make_broker(None)
        counted = CountMessages()
        broker.add_middleware(counted)  # type: ignore[no-untyped-call]
        actors = declare_actors(broker, lambda: service)
        worker = dramatiq.Worker(broker, worker_threads=2)  # type: ignore[no-untyped-call]
        worker.start()  # type: ignore[no-untyped-call]
        try:
            _drop(upload, box / "inbound" / upload.name, sent)
            scan_once(service, actors, mailboxes, Completeness(stable_seconds=0))
            _settle(store, broker)
            actors.remit.send(as_of.isoformat())
            broker.join(actors.remit.queue_name)  # type: ignore[no-untyped-call]
            worker.join()  # type: ignore[no-untyped-call]
            _drop(upload, box / "inbound" / f"again-{upload.name}", None)
            scan_once(service, actors, mailboxes, Completeness(stable_seconds=0))
        finally:
            worker.stop()  # type: ignore[no-untyped-call]
        _print(console, box, counted.done, status_counts(store))
    finally:
        store.dispose()


def _drop(source: Path, target: Path, sent: datetime | None) -> None:
    """A complete upload: written under a temporary name, then renamed."""
    partial = target.with_name(target.name + ".part")
    shutil.copy(source, partial)
    if sent is not None:  # dropped when it was sent: its receipt date is the send date
        os.utime(partial, (sent.timestamp(), sent.timestamp()))
    partial.rename(target)


def _settle(store: Store, broker: dramatiq.Broker, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with store.transaction() as s:
            statuses = set(s.scalars(select(ReceivedFile.status)))
        if statuses and statuses <= set(SETTLED):
            return
        time.sleep(0.1)
    raise RuntimeError("the in-process service did not finish the demo upload in time")


def _print(console: Console, box: Path, done: Counter[str],
           counts: dict[str, dict[str, int]]) -> None:
    console.print(f"\n[bold]The service, in process[/]: {PARTNER} uploaded one file into "
                  f"{box / 'inbound'}; intake took it, dramatiq actors on the in-process "
                  "broker did the rest.")
    messages = Table(title="Messages the workers finished, by actor")
    messages.add_column("actor")
    messages.add_column("messages", justify="right")
    for actor, count in sorted(done.items()):
        messages.add_row(actor, str(count))
    console.print(messages)
    outbound = Table(title=f"What appeared in {box / 'outbound'}")
    outbound.add_column("file")
    outbound.add_column("bytes", justify="right")
    for path in sorted((box / "outbound").iterdir()):
        outbound.add_row(path.name, f"{path.stat().st_size:,}")
    console.print(outbound)
    console.print(f"files by status: {dict(sorted(counts['files'].items()))}; the second "
                  "upload of the same bytes got a TA1 (duplicate) and decided nothing")
