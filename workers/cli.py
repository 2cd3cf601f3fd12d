"""The ``claims`` command line: process files, generate fixtures, run the demo."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import structlog
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from edi.validators.codesets.icd10_files import CODE_SETS_DIR_VARIABLE
from edi.validators.implementation_guide import EnvelopePolicy
from workers import logs
from workers.pipeline import RunOptions, process_files
from workers.receipt import DEFAULT_BUSINESS_TIMEZONE, UnknownTimeZone, business_zone
from workers.report import RunTally, print_run

if TYPE_CHECKING:
    import socket
    from zoneinfo import ZoneInfo

    from edi.validators.codesets import CodeSetRegistry
    from store.engine import Store
    from workers.reference_store import InMemoryReference, ReferenceSource

T = TypeVar("T")

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Payer 87726 claims engine: 837P in, TA1/999 out.")
# Piped output (make demo, CI logs) gets a wide table rather than rich's 80 columns.
console = Console() if sys.stdout.isatty() else Console(width=150)
_LARGE = 1 << 20


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _one_of(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"one of {', '.join(allowed)}", param_hint=option)
    return value


def _utf8(value: T) -> T:
    """An option's value (a path, a database URL, an address) when it is UTF-8 text
    (`workers.files.is_utf8`); a usage error naming the option otherwise, never quoting
    the value. A byte of the command line no encoding decoded was a UnicodeEncodeError
    traceback before 2026-12-02, where the value reached a database driver, a socket or
    summary.json."""
    from workers.files import utf8_setting

    try:
        return utf8_setting(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _as_of(value: str | None) -> date:
    if value is None:
        return datetime.now(tz=UTC).date()
    return _date(value, "--as-of")


def _date(value: str, option: str, *within: date) -> date:
    """``value`` as `workers.receipt.business_day` reads it (``within``: its first and
    last day, when not the business calendar's)."""
    from workers.receipt import business_day

    try:
        return business_day(value, *within)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _writable_directory(path: Path, option: str) -> None:
    """A directory the run can write into (made when missing, 0700: what goes in it, the
    store, the archive, summary.json and the answers, is PHI; before 2026-12-01 the
    umask's 0755 let every account of the machine read it), checked before anything is
    read or written; otherwise a usage error naming it, never a traceback."""
    import tempfile

    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise typer.BadParameter(f"cannot use {path} as a directory: {exc.strerror}",
                                 param_hint=option) from None
    if not path.is_dir():
        raise typer.BadParameter(f"{path} is not a directory", param_hint=option)
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise typer.BadParameter(f"cannot write in {path}: {exc.strerror}",
                                 param_hint=option) from None


def _existing_directory(path: Path, option: str, made_by: str) -> None:
    """A directory the command reads but does not make (``made_by`` says who does); a
    usage error naming it otherwise: before 2026-12-02 a mistyped one was watched or
    served as if empty."""
    if not path.is_dir():
        raise typer.BadParameter(f"no directory {path} ({made_by})", param_hint=option)


def _zone(value: str) -> ZoneInfo:
    try:
        return business_zone(value)
    except UnknownTimeZone as exc:
        raise typer.BadParameter(str(exc), param_hint="--timezone") from None


DbOption = Annotated[str | None, typer.Option(
    "--db", callback=_utf8, help="database URL (default: EDI_DATABASE_URL)")]
StoreOutOption = Annotated[Path | None, typer.Option(
    "--out", callback=_utf8, help="a run's directory: SQLite in DIR/claims.db (instead of --db)")]
CodeSetsOption = Annotated[Path | None, typer.Option(
    "--code-sets", envvar=CODE_SETS_DIR_VARIABLE, callback=_utf8,
    help="directory of CMS ICD-10-CM order files (icd10cm_order_<FY>.txt, or "
         "icd10cm-order-<YYYY-MM-DD>.txt) to load besides the shipped FY2025 and FY2026 "
         "(the pend commands decide a line pended for want of the release "
         "in force against them)")]


@app.command()
def process(
    files: Annotated[list[Path], typer.Argument(help="837P files to process, in order")],
    out: Annotated[Path, typer.Option(
        "--out", callback=_utf8, help="directory for acknowledgments")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="decision date YYYY-MM-DD")] = None,
    any_receiver: Annotated[bool, typer.Option(
        "--any-receiver", help="accept interchanges addressed to any ISA08 (conformance runs)"
    )] = False,
    received: Annotated[str | None, typer.Option(
        "--received", help="receipt date YYYY-MM-DD for replays (default: file drop time)"
    )] = None,
    timezone: Annotated[str, typer.Option(
        "--timezone", envvar="EDI_BUSINESS_TIMEZONE",
        help="IANA time zone whose calendar dates a file's drop time (its receipt date)"
    )] = DEFAULT_BUSINESS_TIMEZONE,
    reference: Annotated[Path | None, typer.Option(
        "--reference", callback=_utf8,
        help="reference-data directory (default: the shipped fixtures)"
    )] = None,
    front_end_only: Annotated[bool, typer.Option(
        "--front-end-only", help="stop after the 999 and 277CA: do not adjudicate")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="print no table")] = False,
    log_level: Annotated[str, typer.Option(
        "--log-level", help="DEBUG, INFO, WARNING or ERROR",
        callback=lambda v: _one_of(v.upper(), LOG_LEVELS, "--log-level"))] = "WARNING",
    db: Annotated[str | None, typer.Option(
        "--db", callback=_utf8,
        help="database URL (default: EDI_DATABASE_URL, else SQLite in OUT)")] = None,
    no_remit: Annotated[bool, typer.Option(
        "--no-remit", help="decide claims but run no payment cycle (no 835)")] = False,
    code_sets: CodeSetsOption = None,
) -> None:
    """Answer each file with a TA1 or 999 in OUT, decide its claims, release their 835s
    in a payment cycle, and write OUT/summary.json."""
    from store.engine import sqlite_url
    from store.migrate import StoreNotMigrated
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY
    from workers.reference_store import LazyReference

    logs.configure(log_level)
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise typer.BadParameter(f"not a file: {', '.join(missing)}", param_hint="FILES")
    database_url = _database_url(db)
    if database_url is not None:  # before --out is made or a file read
        _reachable(database_url)
    _writable_directory(out, "--out")
    if database_url is None:  # SQLite in --out
        _reachable(sqlite_url(out), "--out")
    tally = RunTally()  # the report's counts, taken as summary.json is written
    options = RunOptions(
        out_dir=out, as_of=_as_of(as_of), now=datetime.now(tz=UTC),
        policy=EnvelopePolicy(receiver_ids=None) if any_receiver else EnvelopePolicy(),
        received=_date(received, "--received") if received is not None else None,
        business_zone=_zone(timezone),
        reference=None if front_end_only else _reference(reference) if reference is not None
        else LazyReference(SHIPPED_REFERENCE_DIRECTORY),  # read only if the store has none
        stored_reference_first=not front_end_only and reference is None,
        database_url=database_url, keep_claims=False, remit=not no_remit,
        code_sets=_code_sets(code_sets), on_claim=None if quiet else tally.add,
    )
    try:
        if console.is_terminal and any(f.stat().st_size > _LARGE for f in files):
            with _progress() as bar:
                summary = process_files(files, options, _tracker(bar))
        else:
            summary = process_files(files, options)
    except StoreNotMigrated as exc:
        raise typer.BadParameter(str(exc), param_hint="--db") from None
    if not quiet:
        print_run(console, summary, tally)


def _code_sets(directory: Path | None, hint: str = "--code-sets") -> CodeSetRegistry:
    """The ICD-10-CM releases: the shipped ones, plus the order files in ``directory``."""
    from edi.validators.codesets import code_set_registry

    try:
        return code_set_registry(directory)
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(str(exc), param_hint=hint) from None


def _database_url(db: str | None) -> str | None:
    from store.settings import StoreSettings

    return db or StoreSettings().database_url


def _store_url(out: Path | None, db: str | None, *, create: bool) -> str:
    """--db, EDI_DATABASE_URL, or the SQLite file in --out (made when ``create``)."""
    from store.engine import SQLITE_FILE, sqlite_url

    url = _database_url(db)
    if url is not None:
        return _reachable(url)
    if out is None:
        raise typer.BadParameter("give --out DIR (SQLite in DIR) or --db URL", param_hint="--out")
    if create:
        _writable_directory(out, "--out")
    elif not (out / SQLITE_FILE).is_file():
        raise typer.BadParameter(f"no {SQLITE_FILE} in {out}", param_hint="--out")
    return _reachable(sqlite_url(out), "--out")


def _reachable(url: str, hint: str = "--db / EDI_DATABASE_URL") -> str:
    """``url`` when the database it names answers (an SQLite file: when it is one, its
    header read by ``PRAGMA schema_version``); else a usage error that says why by kind,
    never quoting the URL (it may hold a password). A file that is no SQLite database,
    or a damaged one, was a DatabaseError traceback before 2026-12-02."""
    from sqlalchemy.exc import ArgumentError, DatabaseError, NoSuchModuleError, OperationalError

    from store.engine import make_engine
    from workers.files import is_utf8

    try:
        if not is_utf8(url):  # EDI_DATABASE_URL (--db is checked as it is read)
            raise ValueError("not UTF-8")
        engine = make_engine(url)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError):
        # ImportError: a dialect or driver this engine does not install (mysql://,
        # postgresql+asyncpg://)
        raise typer.BadParameter("not a database URL (postgresql://HOST/NAME or "
                                 "sqlite:///PATH)", param_hint="--db") from None
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA schema_version")
    except DatabaseError as exc:
        if engine.dialect.name == "sqlite" and not isinstance(exc, OperationalError):
            raise typer.BadParameter("the SQLite file is not a database, or is damaged "
                                     "(restore it from a backup)", param_hint=hint) from None
        raise typer.BadParameter(f"the database does not answer ({type(exc.orig).__name__})",
                                 param_hint=hint) from None
    finally:
        engine.dispose()
    return url


def _store(out: Path | None, db: str | None) -> Store:
    """The store a command reads (it must exist already, at the current schema)."""
    from store.engine import Store

    return Store(_migrated_store_url(out, db))


def _reference(directory: Path | None) -> InMemoryReference:
    """A CSV directory read into memory (the shipped fixtures when none is named)."""
    from adjudication.errors import ReferenceDataError
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY, read_reference_dir
    from workers.reference_store import InMemoryReference

    try:
        return InMemoryReference(*read_reference_dir(directory or SHIPPED_REFERENCE_DIRECTORY))
    except ReferenceDataError as exc:
        raise typer.BadParameter(str(exc), param_hint="--reference") from None


@app.command()
def migrate(
    db: DbOption = None,
    out: StoreOutOption = None,
    downgrade: Annotated[str | None, typer.Option(
        "--downgrade", help="downgrade to this revision (base: drop everything)")] = None,
) -> None:
    """Bring the database to the current schema (Alembic), or --downgrade it to base or
    a revision below its own."""
    from store import migrate as migrations

    url = _store_url(out, db, create=True)
    if downgrade is not None:
        allowed = migrations.downgrade_targets(url)
        if downgrade not in allowed:  # its own, one above, -1, head, none at all
            below = f"{allowed[1]} to {allowed[-1]}, or base" if len(allowed) > 1 else "base"
            raise typer.BadParameter(f"not a revision below the database's ({below})",
                                     param_hint="--downgrade")
        migrations.downgrade(url, downgrade)
        console.print(f"downgraded to {downgrade}")
    else:
        migrations.upgrade(url)
        console.print(f"database at revision {migrations.head()}")


@app.command()
def status(
    out: StoreOutOption = None,
    db: DbOption = None,
) -> None:
    """Files and claims by state, and the oldest unfinished step."""
    from workers.status import print_status

    store = _store(out, db)
    try:
        print_status(console, store)
    finally:
        store.dispose()


@app.command()
def redeliver(
    db: DbOption = None,
) -> None:
    """Deliver again what did not reach an outbound folder: answers of files whose last
    delivery failed, released 835s never delivered (see claims status). Exits 1 naming
    each answer or 835 the archive lacks (restore it, then run this again)."""
    from workers.delivery import redeliver as deliver_again

    svc = _open_service(_service_settings(db, None))
    try:
        done = deliver_again(svc)
    finally:
        svc.store.dispose()
    console.print(f"delivered again: the answers of {done.files} file(s), "
                  f"{done.remittances} 835(s)")
    for what in done.missing:
        console.print(f"not in the archive, not delivered: {what}", soft_wrap=True)
    if done.missing:
        raise typer.Exit(1)


@app.command()
def revive(
    files: Annotated[list[str] | None, typer.Argument(
        help="sha256 of each dead file (claims status); none: every dead file")] = None,
    reviewer: Annotated[str, typer.Option("--reviewer", help="who revives them")] = "",
    db: DbOption = None,
) -> None:
    """Send dead-lettered files again from the step they died in, once what killed them
    is fixed: the running workers' reconciler takes each within --reconcile-after."""
    import re

    from workers.service import revive as revive_files

    _check_reviewer(reviewer, "")
    wanted = files or []
    bad = [n for n, sha in enumerate(wanted, 1) if not re.fullmatch(r"[0-9a-f]{64}", sha)]
    if bad:
        raise typer.BadParameter(f"argument {bad[0]} is not a sha256 (64 hex digits)",
                                 param_hint="FILES")
    svc = _open_service(_service_settings(db, None))  # the store the workers use
    try:
        done = revive_files(svc.store, reviewer, datetime.now(tz=UTC), wanted)
    finally:
        svc.store.dispose()
    for sentence in done.not_revived:
        console.print(sentence)
    console.print(f"revived: {len(done.revived)} file(s)")
    if done.not_revived:
        raise typer.Exit(1)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                    TimeRemainingColumn(), console=console, transient=True)


def _tracker(bar: Progress) -> Callable[[Path], Callable[[int], None]]:
    def for_file(path: Path) -> Callable[[int], None]:
        task = bar.add_task(path.name, total=path.stat().st_size)
        return lambda n: bar.advance(task, n)

    return for_file


MAX_GENERATED_CLAIMS = 10_000_000
"""The most claims ``claims generate`` writes in one file (some 10 GB, hours of work);
before 2026-12-02 nothing bounded --claims, and 10**11 ran until the disk was full."""


@app.command()
def generate(
    out_file: Annotated[Path, typer.Argument(help="where to write the 837P")],
    claims: Annotated[int, typer.Option(
        "--claims", min=1, max=MAX_GENERATED_CLAIMS,
        help=f"how many claims (at most {MAX_GENERATED_CLAIMS:,})")] = 100,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    per_transaction: Annotated[int, typer.Option("--per-transaction", min=1)] = 5000,
    dated: Annotated[str | None, typer.Option(
        "--dated", help="receipt date YYYY-MM-DD: services end shortly before it and the "
                        "interchange is dated that day (default: a fixed day per seed)"
    )] = None,
) -> None:
    """Write a deterministic synthetic 837P file for payer 87726."""
    from fixtures.generator import write_837

    # the generator dates services and birth days years before the receipt date
    receipt = (_date(dated, "--dated", date(1900, 1, 1), date(2999, 12, 31))
               if dated is not None else None)
    try:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        with out_file.open("w", encoding="utf-8", newline="") as out:
            write_837(out, claims=claims, seed=seed, claims_per_transaction=per_transaction,
                      receipt_date=receipt)
    except OSError as exc:  # a directory, a place that cannot be written
        raise typer.BadParameter(f"cannot write {out_file}: {exc.strerror}",
                                 param_hint="OUT_FILE") from None
    console.print(f"wrote {claims} claims to {out_file}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", callback=_utf8)] = Path("out/demo"),
    as_of: Annotated[str | None, typer.Option("--as-of")] = None,
) -> None:
    """Run the pipeline on the shipped fixtures through a local mailbox and print it."""
    from workers.demo import DemoOutError, fresh_out, run_demo

    logs.configure("WARNING")
    named = os.environ.get(CODE_SETS_DIR_VARIABLE)  # the demo's steps read it too
    _code_sets(Path(named) if named else None, CODE_SETS_DIR_VARIABLE)
    day = _as_of(as_of)
    try:
        fresh_out(out)
    except DemoOutError as exc:
        raise typer.BadParameter(str(exc), param_hint="--out") from None
    run_demo(console, out, day)


@app.command()
def docs(
    edits: Annotated[Path, typer.Option("--edits", callback=_utf8)] = Path("docs/edits.md"),
) -> None:
    """Regenerate docs/edits.md from the registered front-end edits."""
    from edi.validators.edits.catalog import render_markdown

    try:
        edits.write_text(render_markdown(), encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(f"cannot write {edits}: {exc.strerror}",
                                 param_hint="--edits") from None
    console.print(f"wrote {edits}")


@app.command("explain")
def explain_command(
    icn: Annotated[str, typer.Argument(help="the payer claim control number")],
    out: StoreOutOption = None,
    db: DbOption = None,
) -> None:
    """Print the trace of a claim's decision: every rule, its inputs, its conclusion."""
    from workers.review_cli import ReviewError, explain

    store = _store(out, db)
    try:
        explain(console, store, icn)
    except ReviewError as exc:
        raise typer.BadParameter(str(exc), param_hint="ICN") from None
    finally:
        store.dispose()


pends_app = typer.Typer(help="List and release pended claims.", no_args_is_help=True)
app.add_typer(pends_app, name="pends")


@pends_app.command("list")
def pends_list(
    out: StoreOutOption = None,
    db: DbOption = None,
) -> None:
    """The claims waiting for a person, with the reasons."""
    from workers.review_cli import list_pends

    store = _store(out, db)
    try:
        list_pends(console, store)
    finally:
        store.dispose()


def _check_reviewer(reviewer: str, note: str) -> None:
    """`workers.review_cli.check_reviewer`, its refusals usage errors naming the option."""
    from workers.review_cli import NoteError, ReviewerError, check_reviewer

    try:
        check_reviewer(reviewer, note)
    except ReviewerError as exc:
        raise typer.BadParameter(str(exc), param_hint="--reviewer") from None
    except NoteError as exc:
        raise typer.BadParameter(str(exc), param_hint="--note") from None


@pends_app.command("release")
def pends_release(
    icn: Annotated[str, typer.Argument()],
    reviewer: Annotated[str, typer.Option("--reviewer", help="who releases it (audited)")],
    out: StoreOutOption = None,
    db: DbOption = None,
    allowed: Annotated[list[str] | None, typer.Option(
        "--allowed", help="LINE=AMOUNT: the allowed amount a person sets for a line")] = None,
    note: Annotated[str, typer.Option("--note")] = "",
    reference: Annotated[Path | None, typer.Option("--reference", callback=_utf8)] = None,
    code_sets: CodeSetsOption = None,
) -> None:
    """Re-adjudicate a pended claim with the allowed amounts entered by a reviewer."""
    from workers.review_cli import AllowedAmountError, ReviewError, parse_overrides, release

    _check_reviewer(reviewer, note)
    try:
        overrides = parse_overrides(allowed or [])
    except ReviewError as exc:
        raise typer.BadParameter(str(exc), param_hint="--allowed") from None
    store = _store(out, db)
    try:
        source = _release_reference(store, reference)
        decision = release(store, icn, overrides, reviewer, note, source,
                           code_sets=_code_sets(code_sets))
    except AllowedAmountError as exc:  # a line the claim does not have, above its charge
        raise typer.BadParameter(str(exc), param_hint="--allowed") from None
    except ReviewError as exc:
        raise typer.BadParameter(str(exc), param_hint="ICN") from None
    finally:
        store.dispose()
    console.print(f"{icn}: {decision.status}, paid {decision.paid:.2f}")


@pends_app.command("redecide")
def pends_redecide(
    reviewer: Annotated[str, typer.Option("--reviewer", help="who runs it (audited)")],
    rule: Annotated[str | None, typer.Option(
        "--rule", help="only the claims this rule pended (e.g. DIAGNOSIS-CODE-SET, "
                       "PRICING, BENEFIT-PLAN); default: every pended claim")] = None,
    note: Annotated[str, typer.Option("--note")] = "",
    out: StoreOutOption = None,
    db: DbOption = None,
    reference: Annotated[Path | None, typer.Option("--reference", callback=_utf8)] = None,
    code_sets: CodeSetsOption = None,
) -> None:
    """Decide pended claims again as they stand, after loading what they waited for
    (reference data, an ICD-10-CM release): each claim that now decides is released
    under --reviewer; one that would pend again is left as it is."""
    from review.codes import is_rule
    from review.queries import QueueFilter, pended_icns
    from workers.review_cli import redecide_pends

    _check_reviewer(reviewer, note)
    if rule is not None and not is_rule(rule):
        raise typer.BadParameter("not a rule this engine runs (the rule ids are in "
                                 "adjudication/README.md)", param_hint="--rule")
    registry = _code_sets(code_sets)
    store = _store(out, db)
    try:  # the pends queue's own selection: by a deciding rule, as its filter reads it
        with store.transaction() as s:
            icns = pended_icns(s, QueueFilter(code=rule or ""))
        done = redecide_pends(store, icns, reviewer,
                              note or "decided again after a data load",
                              _release_reference(store, reference), code_sets=registry)
    finally:
        store.dispose()
    for icn, status in done.decided:
        console.print(f"{icn}: {status}")
    for icn, reason in done.refused:
        console.print(f"{icn}: not decided: {reason}")
    console.print(f"{len(done.decided)} decided, {len(done.still_pended)} still pended, "
                  f"{len(done.refused)} not decided")
    if done.refused:
        raise typer.Exit(1)


@app.command()
def remit(
    as_of: Annotated[str, typer.Option("--as-of", help="pay claims received by YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(
        "--out", callback=_utf8, help="directory for the 835s (and SQLite "
                                                    "when no --db)")],
    db: DbOption = None,
    reference: Annotated[Path | None, typer.Option(
        "--reference", callback=_utf8,
        help="reference data for payee accounts (default: the store's "
                            "current version, else the shipped CSV)")] = None,
) -> None:
    """Run a payment cycle over the decided, not yet remitted claims: one 835 per payee,
    each proven to balance before anything is released. Killed after its cycle was
    released, the same command (the same --out) copies that cycle's 835s when started
    again, and pays nothing more until they are listed in remittances.json."""
    import json

    from workers.files import atomic_text
    from workers.pipeline import CycleRecord, remit_into

    day = _date(as_of, "--as-of")
    store = _store(out, db)
    try:
        archive = out / "archive"
        where = hashlib.sha256(os.fsencode(out.resolve())).hexdigest()  # fits the subject
        record = CycleRecord(f"remit {where}", "claims remit",
                             copied=_copied_cycle(out / "remittances.json"))
        listed, problems, cycle_id = remit_into(
            store, archive, out, as_of=day, now=datetime.now(tz=UTC),
            reference=_release_reference(store, reference), record=record)
    finally:
        store.dispose()
    for r in listed:
        console.print(f"{r.payee_npi} {r.method} {r.payment} trace {r.trace} "
                      f"{len(r.claims)} claims {'-> ' + r.path if r.path else '(not released)'}")
    for problem in problems:
        console.print(f"refused: {problem}")
    if not listed:
        console.print("nothing to remit")
    with atomic_text(out / "remittances.json") as listing:
        listing.write(json.dumps(
            {"cycle": cycle_id, "remittances": [r.model_dump(mode="json") for r in listed],
             "remittance_problems": problems}, indent=2) + "\n")


def _copied_cycle(listing: Path) -> int | None:
    """The payment cycle remittances.json lists (its 835s reached --out), if any."""
    import json

    try:
        cycle = json.loads(listing.read_bytes()).get("cycle")
    except (OSError, ValueError, AttributeError):
        return None
    return cycle if isinstance(cycle, int) else None


def _release_reference(store: Store, directory: Path | None) -> ReferenceSource:
    """--reference DIR in memory, else the store's current version, else the shipped CSV."""
    from workers.reference_store import StoredReference

    if directory is None:
        try:
            return StoredReference(store)
        except LookupError:
            pass
    return _reference(directory)


reference_app = typer.Typer(help="Reference data in the store.", no_args_is_help=True)
app.add_typer(reference_app, name="reference")


@reference_app.command("load")
def reference_load(
    directory: Annotated[Path, typer.Argument(help="the reference-data CSV directory")],
    out: StoreOutOption = None,
    db: DbOption = None,
) -> None:
    """Load a reference-data CSV directory into the store, as one new version."""
    from adjudication.errors import ReferenceDataError
    from store.migrate import StoreNotMigrated, open_store
    from workers.reference_store import counts_of, load_reference

    try:  # SQLite in --out migrates itself, as claims process does
        store = open_store(_store_url(out, db, create=True),
                           migrate=_database_url(db) is None)
    except StoreNotMigrated as exc:
        raise typer.BadParameter(str(exc), param_hint="--db") from None
    try:
        name, new = load_reference(store, directory, datetime.now(tz=UTC))
        counts = counts_of(store)
    except ReferenceDataError as exc:
        raise typer.BadParameter(str(exc), param_hint="DIRECTORY") from None
    finally:
        store.dispose()
    rows = ", ".join(f"{k} {v}" for k, v in counts.items() if k != "version")
    console.print(f"{'loaded' if new else 'already loaded, now current:'} {name} ({rows})")


partner_app = typer.Typer(help="Trading partners and their SFTP mailboxes.",
                          no_args_is_help=True)
app.add_typer(partner_app, name="partner")


def _open_service(settings: Any) -> Any:
    """`workers.service.open_service`, a database not at the current schema a usage
    error (it was a traceback for the service's commands: partner, intake, worker,
    redeliver, revive)."""
    from store.migrate import StoreNotMigrated
    from workers.service import open_service

    try:
        return open_service(settings)
    except StoreNotMigrated as exc:
        raise typer.BadParameter(str(exc), param_hint="--db or EDI_DATABASE_URL") from None


def _service_settings(db: str | None, mailboxes: Path | None) -> Any:
    from workers.service import ServiceSettings

    settings = _settings(ServiceSettings, "EDI_")
    changes: dict[str, object] = {}
    if db is not None:
        changes["database_url"] = db
    if mailboxes is not None:
        changes["mailboxes"] = mailboxes
    settings = settings.model_copy(update=changes)
    if settings.database_url is not None:
        _reachable(settings.database_url)
    else:  # the embedded SQLite store lives beside the archive (`open_service`)
        from store.engine import sqlite_url

        _writable_directory(settings.archive_dir.parent, "EDI_ARCHIVE_DIR")
        _reachable(sqlite_url(settings.archive_dir.parent), "EDI_ARCHIVE_DIR")
    return settings


@partner_app.command("add")
def partner_add(
    name: Annotated[str, typer.Argument(help="the partner (and, with --system, its account)")],
    sender_id: Annotated[str, typer.Option("--sender-id", help="ISA06 it sends with")],
    qualifier: Annotated[str, typer.Option("--qualifier", help="ISA05")] = "ZZ",
    key: Annotated[Path | None, typer.Option(
        "--key", callback=_utf8, help="its OpenSSH public key")] = None,
    system: Annotated[bool, typer.Option(
        "--system", help="create the SFTP-only system account (root)")] = False,
    mailboxes: Annotated[Path | None, typer.Option("--mailboxes", callback=_utf8)] = None,
    db: DbOption = None,
) -> None:
    """Add a trading partner: its row, its mailbox, and with --system its account."""
    from workers.partners import PartnerError, add_partner

    settings = _service_settings(db, mailboxes)
    svc = _open_service(settings)
    try:
        root = add_partner(svc.store, settings.mailboxes, name, qualifier=qualifier,
                           sender_id=sender_id, now=datetime.now(tz=UTC), key=key,
                           system=system)
    except (PartnerError, OSError) as exc:
        raise typer.BadParameter(str(exc), param_hint="NAME") from None
    finally:
        svc.store.dispose()
    console.print(f"partner {name}: mailbox {root}")


@partner_app.command("remove")
def partner_remove(
    name: Annotated[str, typer.Argument()],
    system: Annotated[bool, typer.Option("--system")] = False,
    mailboxes: Annotated[Path | None, typer.Option("--mailboxes", callback=_utf8)] = None,
    db: DbOption = None,
) -> None:
    """Remove a partner (its mailbox's files are kept)."""
    from workers.partners import PartnerError, remove_partner

    settings = _service_settings(db, mailboxes)
    svc = _open_service(settings)
    try:
        remove_partner(svc.store, settings.mailboxes, name, system=system)
    except PartnerError as exc:
        raise typer.BadParameter(str(exc), param_hint="NAME") from None
    finally:
        svc.store.dispose()
    console.print(f"partner {name} removed")


@partner_app.command("list")
def partner_list(db: DbOption = None) -> None:
    """The trading partners and the sender each answers to, then the ERA enrollments."""
    from workers.partners import era_enrollments, list_partners

    svc = _open_service(_service_settings(db, None))
    try:
        for name, qualifier, sender in list_partners(svc.store):
            console.print(f"{name}\t{qualifier}:{sender}")
        for name, npi, tin in era_enrollments(svc.store):
            console.print(f"{name}\tERA for payee NPI {npi} TIN {tin}")
    finally:
        svc.store.dispose()


@partner_app.command("era")
def partner_era(
    name: Annotated[str, typer.Argument(help="the partner the payee receives its 835s through")],
    npi: Annotated[str, typer.Option("--npi", help="the payee's NPI")],
    tin: Annotated[str, typer.Option("--tin", help="the payee's TIN (9 digits)")],
    db: DbOption = None,
) -> None:
    """Enroll a payee's ERA with a partner: its 835s go to that partner's mailbox."""
    from workers.partners import PartnerError, enroll_era

    svc = _open_service(_service_settings(db, None))
    try:
        enroll_era(svc.store, name, npi, tin, datetime.now(tz=UTC))
    except PartnerError as exc:
        raise typer.BadParameter(str(exc), param_hint="NAME, --npi or --tin") from None
    finally:
        svc.store.dispose()
    console.print(f"payee NPI {npi}: its 835s go to partner {name} (claims redeliver sends "
                  "any held)")


@app.command()
def intake(
    mailboxes: Annotated[Path | None, typer.Option("--mailboxes", callback=_utf8)] = None,
    stable_seconds: Annotated[float, typer.Option(
        "--stable-seconds", help="how long an upload's size must stay still (0: trust "
                                 "renames from temporary names alone)", min=0,
        max=3600)] = 5.0,
    interval: Annotated[float, typer.Option("--interval", min=0.1, max=3600)] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="one scan, then exit")] = False,
    db: DbOption = None,
) -> None:
    """Watch the partners' inbound folders and send complete uploads to the workers."""
    from workers.intake import Completeness, holding_problem, scan_once, watch
    from workers.service import declare_actors, make_broker

    logs.configure("INFO")
    settings = _service_settings(db, mailboxes)
    _existing_directory(settings.mailboxes, "--mailboxes / EDI_MAILBOXES",
                        "claims partner add makes it, with a partner's mailbox")
    problem = holding_problem(settings.mailboxes)
    if problem is not None:
        raise typer.BadParameter(problem, param_hint="--mailboxes / EDI_MAILBOXES")
    svc = _open_service(settings)
    actors = declare_actors(make_broker(settings.redis_url), lambda: svc)
    completeness = Completeness(stable_seconds)
    try:
        if once:
            scan_once(svc, actors, settings.mailboxes, completeness)
        else:
            watch(svc, actors, settings.mailboxes, completeness, interval)
    finally:
        svc.store.dispose()


@app.command()
def worker(
    threads: Annotated[int, typer.Option("--threads", min=1, max=64)] = 2,
    reconcile_after: Annotated[float, typer.Option(
        "--reconcile-after", help="seconds before an unfinished step is sent again",
        min=5, max=86400)] = 300.0,
    metrics_port: Annotated[int | None, typer.Option(
        "--metrics-port", help="serve Prometheus metrics on this port", min=1,
        max=65535)] = None,
    metrics_address: Annotated[str, typer.Option(
        "--metrics-address", callback=_utf8,
        help="the address metrics are served on (0.0.0.0: every "
                                  "interface)")] = "127.0.0.1",
    db: DbOption = None,
) -> None:
    """Run the dramatiq workers on EDI_REDIS_URL, with the reconciler, until stopped."""
    import time

    import dramatiq

    from workers.service import declare_actors, make_broker, reconcile

    logs.configure("INFO")
    settings = _service_settings(db, None)
    if settings.redis_url is None:
        raise typer.BadParameter("set EDI_REDIS_URL (redis://host:6379/0)",
                                 param_hint="EDI_REDIS_URL")
    svc = _open_service(settings)
    broker = make_broker(settings.redis_url)
    actors = declare_actors(broker, lambda: svc)
    if metrics_port is not None:
        from workers.metrics import serve

        try:
            serve(svc.store, broker, metrics_port, metrics_address)
        except OSError as exc:  # no such address here, or the port taken
            raise typer.BadParameter(f"cannot serve metrics there: {exc.strerror}",
                                     param_hint="--metrics-address") from None
    running = dramatiq.Worker(broker, worker_threads=threads)  # type: ignore[no-untyped-call]
    running.start()  # type: ignore[no-untyped-call]
    try:
        while True:
            time.sleep(reconcile_after / 5)
            try:
                reconcile(svc.store, actors, older_than=reconcile_after)
            except Exception as exc:  # Redis restarting: the next round sends them
                structlog.get_logger("claims.worker").warning(
                    "reconcile.failed", error=type(exc).__name__)
    except KeyboardInterrupt:
        pass
    finally:
        # messages still running are sent again by dramatiq or by the reconciler
        running.stop(timeout=20_000)  # type: ignore[no-untyped-call]
        svc.store.dispose()


def _migrated_store_url(out: Path | None, db: str | None, *, create: bool = False) -> str:
    """--db / EDI_DATABASE_URL (migrated already), or SQLite in --out (migrated here;
    made when ``create``)."""
    from store.migrate import StoreNotMigrated, open_store

    url = _store_url(out, db, create=create)
    try:
        open_store(url, migrate=_database_url(db) is None).dispose()
    except StoreNotMigrated as exc:
        raise typer.BadParameter(str(exc), param_hint="--db") from None
    return url


@app.command()
def review(
    db: DbOption = None,
    out: Annotated[Path | None, typer.Option(
        "--out", callback=_utf8,
        help="a run's data directory: SQLite in DIR, the archive in DIR/archive")] = None,
    archive: Annotated[Path | None, typer.Option(
        "--archive", envvar="EDI_ARCHIVE_DIR", callback=_utf8,
        help="the archive of received files and 835s (downloads, payment cycles)")] = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    ssl_keyfile: Annotated[Path | None, typer.Option(
        "--ssl-keyfile", exists=True, callback=_utf8, dir_okay=False, readable=True,
        help="the TLS private key (PEM), with --ssl-certfile")] = None,
    ssl_certfile: Annotated[Path | None, typer.Option(
        "--ssl-certfile", exists=True, callback=_utf8, dir_okay=False, readable=True,
        help="the TLS certificate chain (PEM), with --ssl-keyfile")] = None,
    outbound: Annotated[Path | None, typer.Option(
        "--outbound", callback=_utf8,
        help="answers for senders with no mailbox (default: DIR/outbound "
                           "with --out, else EDI_OUTBOUND_DIR)")] = None,
    mailboxes: Annotated[Path | None, typer.Option(
        "--mailboxes", callback=_utf8, help="the partners' mailboxes (default: EDI_MAILBOXES, none "
                            "with --out)")] = None,
) -> None:
    """Serve the review screens (sign in with a user from 'claims user add').

    A payment cycle released on the screens has its 835s delivered as the service
    does: into the outbound folder of each partner whose claims it pays."""
    import uvicorn

    from review.app import create_app
    from review.settings import ReviewSettings

    if (ssl_keyfile is None) != (ssl_certfile is None):
        raise typer.BadParameter("give both --ssl-keyfile and --ssl-certfile, or neither",
                                 param_hint="--ssl-keyfile/--ssl-certfile")
    tls = _tls_files(ssl_keyfile, ssl_certfile)
    _servable(host, port)
    logs.configure("INFO")
    settings = _settings(ReviewSettings, "EDI_REVIEW_")
    if archive is not None or out is not None or settings.archive_dir is None:
        settings = settings.model_copy(update={
            "archive_dir": archive or (out / "archive" if out is not None else None)})
    if settings.archive_dir is not None and (archive is not None or out is None):
        # one a person named (a run's --out may have none yet: its first file makes it)
        _existing_directory(settings.archive_dir, "--archive / EDI_ARCHIVE_DIR",
                            "the service's archive: made when the service is set up")
    store = _store(out, db)
    deliver = _review_delivery(store, settings.archive_dir, out, outbound, mailboxes)
    scheme = "https" if tls else "http"
    try:
        # no access log: a URL's query holds filters, and one kept from before
        # 2026-12-01 may still hold a searched member id (a search is a POST now)
        app = create_app(store, settings, deliver=deliver,
                         code_sets=_code_sets(settings.code_sets_dir))
        listening = _listening(host, port)
        try:
            console.print(f"Review screens at {scheme}://{_url_host(host)}:{port}/ "
                          "(Ctrl-C stops)")
            uvicorn.Server(uvicorn.Config(
                app, host=host, port=port, access_log=False, log_level="warning",
                ssl_keyfile=tls[0] if tls else None, ssl_certfile=tls[1] if tls else None,
            )).run(sockets=[listening])
        finally:
            listening.close()
    finally:
        store.dispose()


def _url_host(host: str) -> str:
    """``host`` as a URL names it: an IPv6 address in brackets (RFC 3986 3.2.2), which
    the printed address of the screens lacked before 2026-12-02 (``http://::1:8000/``
    is no URL a browser opens)."""
    return f"[{host}]" if ":" in host else host


def _listening(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` as uvicorn binds one, for uvicorn to serve
    on: a port in use (or one this account may not take) is a usage error saying so.
    Before 2026-12-02 uvicorn bound it, printed an error after the screens' address and
    exited 3."""
    import socket

    listening = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
    except OSError as exc:
        listening.close()
        raise typer.BadParameter(f"cannot listen on {host} port {port}: {exc.strerror}",
                                 param_hint="--host/--port") from None
    return listening


def _servable(host: str, port: int) -> None:
    """``--host`` names an address this machine resolves (uvicorn would print the
    address it serves and then fail on a host that is none)."""
    import socket

    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise typer.BadParameter("not a host name or address this machine resolves",
                                 param_hint="--host") from None


def _tls_files(keyfile: Path | None, certfile: Path | None) -> tuple[str, str] | None:
    """(key, certificate) paths once they load as a pair, so a wrong file is a usage
    error before the server starts (never a traceback from inside uvicorn)."""
    import ssl

    if keyfile is None or certfile is None:
        return None
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            str(certfile), str(keyfile))
    except (ssl.SSLError, OSError, ValueError):
        raise typer.BadParameter("the certificate and key do not load as a PEM pair",
                                 param_hint="--ssl-keyfile/--ssl-certfile") from None
    return str(keyfile), str(certfile)


def _settings(factory: Callable[[], Any], prefix: str) -> Any:
    """Settings read from the environment (variables named ``prefix`` + field, or by
    their own ``EDI_`` alias); a bad value is a usage error naming each variable, never a
    traceback."""
    from pydantic import ValidationError

    try:
        return factory()
    except ValidationError as exc:
        fields = [str(e["loc"][0]).upper() for e in exc.errors() if e["loc"]]
        names = ", ".join(f if f.startswith("EDI_") else prefix + f for f in fields)
        raise typer.BadParameter(f"not a valid value: {names}", param_hint=names) from None


def _review_delivery(store: Store, archive: Path | None, out: Path | None,
                     outbound: Path | None, mailboxes: Path | None) -> Callable[[], int] | None:
    """What sends a released cycle's 835s on: `deliver_remittances` over the service's
    folders (None without an archive: no cycle can be released then)."""
    from workers.delivery import deliver_remittances
    from workers.service import Service

    if archive is None:
        return None
    if out is not None:
        folders = (outbound or out / "outbound", mailboxes)
    else:
        settings = _service_settings(None, mailboxes)
        folders = (outbound or settings.outbound_dir, settings.mailboxes)
    service = Service(store, archive, folders[0], None, mailboxes=folders[1])
    return lambda: deliver_remittances(service)


user_app = typer.Typer(help="Users of the review screens.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="the name they sign in with")],
    role: Annotated[str, typer.Option(
        "--role", help="viewer | analyst | supervisor | admin")],
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="read the password from the first line of stdin")] = False,
    release_limit: Annotated[str | None, typer.Option(
        "--release-limit", help="an analyst's most paid on a pend release "
                                "(default: EDI_REVIEW_ANALYST_RELEASE_LIMIT)")] = None,
    out: StoreOutOption = None,
    db: DbOption = None,
) -> None:
    """Add a user of the review screens (the password is asked for, or read from stdin)."""
    from decimal import Decimal, InvalidOperation

    from review.auth import UserError, add_user
    from review.roles import parse_role
    from store.engine import Store

    try:
        chosen = parse_role(role)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--role") from None
    limit = None
    if release_limit is not None:
        try:
            limit = Decimal(release_limit)
        except InvalidOperation:
            raise typer.BadParameter("an amount such as 2500.00",
                                     param_hint="--release-limit") from None
    password = _password(password_stdin)
    store = Store(_migrated_store_url(out, db, create=True))
    try:
        add_user(store, name, chosen, password, datetime.now(tz=UTC), release_limit=limit)
    except UserError as exc:
        raise typer.BadParameter(str(exc), param_hint="NAME") from None
    finally:
        store.dispose()
    console.print(f"user {name} added ({chosen.value})")


def _password(from_stdin: bool) -> str:
    """The new user's password, asked for or the first line of stdin: UTF-8 text, or a
    usage error (a byte no encoding decoded was a UnicodeDecodeError, or on hashing a
    UnicodeEncodeError, traceback before 2026-12-02)."""
    from workers.files import is_utf8

    try:
        password = (sys.stdin.readline().rstrip("\r\n") if from_stdin else
                    typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    except UnicodeDecodeError:
        password = None
    if not isinstance(password, str) or not is_utf8(password):
        raise typer.BadParameter("a password is UTF-8 text",
                                 param_hint="--password-stdin" if from_stdin else "Password")
    return password


@user_app.command("list")
def user_list(
    out: StoreOutOption = None,
    db: DbOption = None,
) -> None:
    """The users of the review screens and their roles."""
    from sqlalchemy import select

    from store.models import ReviewUser

    store = _store(out, db)
    try:
        with store.transaction() as s:
            for name, role in s.execute(select(ReviewUser.name, ReviewUser.role)
                                        .order_by(ReviewUser.name)):
                console.print(f"{name}\t{role}")
    finally:
        store.dispose()


@user_app.command("lock")
def user_lock(
    name: Annotated[str, typer.Argument()],
    unlock: Annotated[bool, typer.Option("--unlock", help="unlock instead")] = False,
    out: StoreOutOption = None,
    db: DbOption = None,
) -> None:
    """Lock a user out (their sessions end), or --unlock them."""
    from review.auth import UserError, set_locked

    store = _store(out, db)
    try:
        set_locked(store, name, not unlock, datetime.now(tz=UTC), actor="command line",
                   client="local")
    except UserError as exc:
        raise typer.BadParameter(str(exc), param_hint="NAME") from None
    finally:
        store.dispose()
    console.print(f"user {name} {'unlocked' if unlock else 'locked'}")


def main() -> None:  # pragma: no cover - console entry point
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
