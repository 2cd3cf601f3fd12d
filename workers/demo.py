"""`make demo`: the shipped fixtures through a local mailbox, end to end, printed.

Embedded defaults only: files on disk, no external service. A trading partner's
mailbox is a directory with ``inbound/`` (what the clearinghouse dropped) and
``outbound/`` (what we answer), the layout the SFTP intake serves. Last, one file
goes through the running service's actors on dramatiq's in-process broker
(`workers.demo_service`).
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console

from store.engine import SQLITE_FILE, Store, sqlite_url
from store.migrate import upgrade
from workers.demo_service import run_service_demo
from workers.pipeline import RunOptions, process_files
from workers.reference import SHIPPED_REFERENCE_DIRECTORY
from workers.reference_store import load_reference
from workers.report import print_run


def interchange_time(path: Path) -> datetime | None:
    """ISA09/ISA10 of a file's first interchange (when the sender built it), if readable."""
    head = path.read_bytes()[:110].removeprefix(b"\xef\xbb\xbf").decode("latin-1")
    if not head.startswith("ISA") or len(head) < 106:
        return None
    parts = head.split(head[3])
    try:
        return datetime.strptime(parts[9] + parts[10], "%y%m%d%H%M").replace(tzinfo=UTC)
    except (ValueError, IndexError):
        return None

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PARTNER = "demo-clearinghouse"


def demo_files() -> list[Path]:
    """The shipped sample files: generated claims, broken envelopes, one per front-end edit."""
    return [*sorted((FIXTURES / "837p").glob("*.837")),
            *sorted((FIXTURES / "ack").glob("*.837")),
            *sorted((FIXTURES / "edits").glob("*.837")),
            *sorted((FIXTURES / "adjudication").glob("*.837"))]


MARK = ".claims-demo"
"""The file the demo leaves in its ``--out``: a directory holding it is the demo's own,
started afresh by the next demo."""
DEMO_ENTRIES = frozenset({MARK, "mailboxes", "data", "service"})
"""What the demo makes in its ``--out`` (a demo from before `MARK` left these alone)."""


class DemoOutError(Exception):
    """An ``--out`` the demo will not use (said without quoting it)."""


def fresh_out(out: Path) -> None:
    """``out`` made ready for a demo: created, or emptied when it is the demo's own (it
    holds `MARK`, or only what a demo makes); `DemoOutError` for anything else, where the
    demo removed whatever directory it was given (``--out .`` emptied the current one,
    ``--out ''`` too, a run's store and archive with them)."""
    here = Path.cwd().resolve()
    whole = out.resolve()
    if whole == here or whole in here.parents:
        raise DemoOutError("the demo's --out must not be the current directory or hold it")
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise DemoOutError("the demo's --out is not a directory")
    if out.is_dir():
        entries = {entry.name for entry in out.iterdir()}
        if entries and not (MARK in entries or entries <= DEMO_ENTRIES):
            raise DemoOutError("the demo's --out holds files the demo did not make; name a "
                               "new or empty directory, or an earlier demo's")
        if entries:
            shutil.rmtree(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / MARK).write_text("made by claims demo; the next demo empties this directory\n")
    except OSError as exc:
        raise DemoOutError(f"the demo cannot write its --out ({exc.strerror})") from None


def run_demo(console: Console, out: Path, as_of: date) -> None:
    """The demo into ``out``, which `fresh_out` made ready."""
    mailbox = out / "mailboxes" / PARTNER
    inbound, outbound = mailbox / "inbound", mailbox / "outbound"
    inbound.mkdir(parents=True)
    for source in demo_files():
        target = inbound / source.name
        shutil.copy2(source, target)
        sent = interchange_time(target)
        if sent is not None:
            # dropped when it was sent: the receipt date is the file's drop time
            os.utime(target, (sent.timestamp(), sent.timestamp()))
    received = sorted(inbound.iterdir())
    console.print(f"[bold]{len(received)} files dropped by {PARTNER}[/] into {inbound}")
    # the store lives beside the mailboxes, never inside a partner's outbound folder
    data = out / "data"
    data.mkdir()
    url = sqlite_url(data)
    upgrade(url)
    store = Store(url)
    try:
        version, _new = load_reference(store, SHIPPED_REFERENCE_DIRECTORY, datetime.now(tz=UTC))
    finally:
        store.dispose()
    console.print(f"Reference data {version} loaded into the store")
    summary = process_files(received, RunOptions(
        out_dir=outbound, as_of=as_of, now=datetime.now(tz=UTC), stored_reference_first=True,
        database_url=url, archive=data / "archive"))
    print_run(console, summary)
    console.print(f"Acknowledgments and summary.json are in {outbound}")
    console.print(f"The store (SQLite) is {data / SQLITE_FILE}; received files are kept in "
                  f"{data / 'archive'}. Try: claims status --db {url}")
    multi = FIXTURES / "837p" / "demo-multi-st.837"
    run_service_demo(console, out / "service", multi, as_of, interchange_time(multi))
    console.print(f"[bold]Review screens[/] for this run's store: claims user add NAME --role "
                  f"supervisor --out {data}, then claims review --out {data} and open "
                  "http://127.0.0.1:8000/ (docs/review.md)")
