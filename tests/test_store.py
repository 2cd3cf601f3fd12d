"""The store on SQLite and PostgreSQL: migrations, models, steps that never run twice."""

from __future__ import annotations

import re
import shutil
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select
from typer.testing import CliRunner

from fixtures.generator import CLEARINGHOUSE_ID
from store import migrate
from store.engine import Store, make_engine, sqlite_url
from store.models import (
    Base,
    Claim,
    ControlSequence,
    DecisionRecord,
    Event,
    Interchange,
    ReceivedFile,
    TransactionSet,
)
from tests.databases import ack_text
from tests.paths import ACK_FIXTURES, FIXTURES
from tests.stepping import acknowledged, step_context
from workers import adjudication_step, finish_step, steps
from workers.cli import app
from workers.steps import StepContext
from workers.summary import RunSummary

runner = CliRunner()


def test_migrations_upgrade_an_empty_database_and_downgrade_cleanly(database_url: str) -> None:
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert migrate.current(engine) == migrate.head()
        migrate.downgrade(database_url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(database_url)  # and up again
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_store_holding_claims_and_payments_migrates_down_and_up_again(
        tmp_path: Path) -> None:
    """SQLite rebuilds a table to alter it (batch mode) and refused to drop the old one
    while foreign keys pointed at it: a populated store could not go below 0003. The
    checks are off during a migration and every key is checked before it commits."""
    out = tmp_path / "out"
    _process(_inbound(tmp_path, *SAMPLES[:3]), out)
    url = sqlite_url(out)
    claims = _count_claims(url)
    assert claims > 0
    # When the store goes down to the first revision, then up to the current one
    migrate.downgrade(url, "0001")
    assert _count_claims(url) == claims
    migrate.upgrade(url)
    # Then its claims are all there, no key points nowhere, and the commands read it
    assert _count_claims(url) == claims
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    finally:
        engine.dispose()
    assert runner.invoke(app, ["status", "--out", str(out)]).exit_code == 0
    # and a revision that is not one is a usage error
    bad = runner.invoke(app, ["migrate", "--out", str(out), "--downgrade", "nonsense"])
    assert bad.exit_code == 2 and "not a revision below" in " ".join(
        bad.output.replace("│", " ").split())


def _count_claims(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT count(*) FROM claims").scalar_one())
    finally:
        engine.dispose()


def test_a_database_error_does_not_quote_the_statement_s_values(database_url: str) -> None:
    """The text of an error reaches logs (dramatiq logs a failed step's exception): the
    values bound to a statement are claims' PHI."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    engine = make_engine(database_url)
    try:
        with pytest.raises(DBAPIError) as refused, engine.connect() as connection:
            connection.execute(text("INSERT INTO no_such_table VALUES (:member)"),
                               {"member": "W123456789"})
        assert "W123456789" not in str(refused.value)
        assert "no_such_table" in str(refused.value)  # the statement is still named
    finally:
        engine.dispose()


def test_the_models_and_the_migrations_agree(database_url: str) -> None:
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection),
                                           Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def _inbound(tmp_path: Path, *sources: Path) -> list[str]:
    inbound = tmp_path / "inbound"
    inbound.mkdir(parents=True, exist_ok=True)
    for source in sources:
        shutil.copy(source, inbound / source.name)
    return [str(inbound / s.name) for s in sources]


def _process(files: list[str], out: Path, *extra: str) -> RunSummary:
    result = runner.invoke(app, ["process", *files, "--out", str(out), "--quiet",
                                 "--as-of", "2026-11-23", "--received", "2026-11-23", *extra])
    assert result.exit_code == 0, result.output
    return RunSummary.model_validate_json((out / "summary.json").read_text())


SAMPLES = [ACK_FIXTURES / "valid-two-claims.837", ACK_FIXTURES / "two-sets-one-bad.837",
           FIXTURES / "837p" / "demo-lob-mix.837", ACK_FIXTURES / "ta1-garbage.837"]


def _without_volatile(summary: RunSummary) -> list[dict[str, object]]:
    """A summary without what differs between two runs of the same files: paths, times."""
    files = []
    for entry in summary.files:
        data = entry.model_dump(exclude={"path", "ack_path", "claim_ack_path", "received_at"})
        files.append(data)
    return files


def test_postgresql_and_sqlite_decide_the_same_files_alike(tmp_path: Path) -> None:
    from tests.databases import postgres_schema

    files = _inbound(tmp_path, *SAMPLES)
    on_sqlite = _process(files, tmp_path / "sqlite")
    with postgres_schema() as url:
        assert runner.invoke(app, ["migrate", "--db", url]).exit_code == 0
        on_postgresql = _process(files, tmp_path / "pg", "--db", url)
    assert _without_volatile(on_postgresql) == _without_volatile(on_sqlite)
    assert any(c.status == "paid" for f in on_sqlite.files for c in f.claims)


def test_a_database_that_was_not_migrated_is_a_usage_error(tmp_path: Path) -> None:
    files = _inbound(tmp_path, ACK_FIXTURES / "valid-two-claims.837")
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    result = runner.invoke(app, ["process", *files, "--out", str(tmp_path / "out"),
                                 "--db", empty])
    assert result.exit_code == 2
    assert "claims migrate" in result.output
    assert not (tmp_path / "out" / "summary.json").exists()
    # the service's commands too (each was a traceback ending in StoreNotMigrated)
    for command in (["partner", "list"], ["redeliver"], ["revive", "--reviewer", "ops"],
                    ["partner", "era", "acme", "--npi", "1234567893", "--tin", "123456789"]):
        refused = runner.invoke(app, [*command, "--db", empty])
        assert refused.exit_code == 2 and "claims migrate" in refused.output, command


def _counts(store: Store) -> dict[str, int]:
    with store.transaction() as s:
        return {model.__tablename__: s.scalar(select(func.count()).select_from(model)) or 0
                for model in (ReceivedFile, Interchange, TransactionSet, Claim, DecisionRecord,
                              Event)}


def test_every_step_run_again_does_nothing_twice(database_url: str, tmp_path: Path) -> None:
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY, load_reference_dir
    from workers.reference_store import InMemoryReference

    migrate.upgrade(database_url)
    files = _inbound(tmp_path, FIXTURES / "837p" / "demo-lob-mix.837")
    _process(files, tmp_path / "out", "--db", database_url)
    ctx = step_context(database_url, tmp_path / "out" / "archive", InMemoryReference(
        load_reference_dir(SHIPPED_REFERENCE_DIRECTORY), "t"))
    store = ctx.store
    try:
        before = _counts(store)
        assert before["decisions"] > 0
        with store.transaction() as s:
            file_id = s.scalar(select(ReceivedFile.id))
            sequences = {r.name: r.next_value for r in s.scalars(select(ControlSequence))}
        assert file_id is not None
        steps.acknowledge_file(ctx, file_id)
        steps.answer_sets(ctx, file_id)
        adjudication_step.adjudicate_file(ctx, file_id)
        finish_step.finish_file(ctx, file_id)
        assert _counts(store) == before
        with store.transaction() as s:
            assert {r.name: r.next_value for r in s.scalars(select(ControlSequence))} \
                == sequences
    finally:
        store.dispose()


def test_a_file_received_again_in_a_later_run_is_a_duplicate_and_decides_nothing(
    database_url: str, tmp_path: Path,
) -> None:
    migrate.upgrade(database_url)
    files = _inbound(tmp_path, ACK_FIXTURES / "valid-two-claims.837")
    first = _process(files, tmp_path / "out", "--db", database_url)
    again = _process(files, tmp_path / "out", "--db", database_url)
    assert first.files[0].status == "processed"
    (entry,) = again.files
    assert (entry.status, entry.ack, entry.claims) == ("duplicate", "TA1", [])
    ta1 = Path(entry.ack_path).read_text()
    assert re.search(r"TA1\*[0-9]{9}\*[0-9]{6}\*[0-9]{4}\*R\*025", ta1)
    store = Store(database_url)
    try:
        counts = _counts(store)
    finally:
        store.dispose()
    assert (counts["received_files"], counts["claims"], counts["decisions"]) == (1, 2, 2)


def test_outbound_control_numbers_are_never_reused_across_runs(
    database_url: str, tmp_path: Path,
) -> None:
    migrate.upgrade(database_url)
    seen: list[str] = []
    for index, source in enumerate([ACK_FIXTURES / "valid-two-claims.837",
                                    ACK_FIXTURES / "two-sets-one-bad.837",
                                    ACK_FIXTURES / "accepted-x222a2.837"]):
        files = _inbound(tmp_path / str(index), source)
        (entry,) = _process(files, tmp_path / f"out{index}", "--db", database_url).files
        for path in filter(None, [entry.ack_path, entry.claim_ack_path]):
            seen.append(Path(path).read_text()[90:99])  # ISA13
    assert len(seen) == len(set(seen)) >= 5


BAD_ALLOWED = {
    ("1=lots",): "the allowed amount for line 1 is not an amount in dollars and cents",
    ("1",): "the allowed amount for line 1 is not an amount in dollars and cents",
    ("1=-5.00",): "the allowed amount for line 1 must be from 0 to the line's charge",
    ("1=Infinity",): "the allowed amount for line 1 must be from 0 to the line's charge",
    ("1=NaN",): "the allowed amount for line 1 must be from 0 to the line's charge",
    ("1=1e400",): "the allowed amount for line 1 must be from 0 to the line's charge",
    ("1=100000000",): "the allowed amount for line 1 must be from 0 to the line's charge",
    ("1=10.005",): "the allowed amount for line 1 must be in dollars and cents",
    ("x=1.00",): "an allowed amount is written LINE=AMOUNT",
    ("1=1.00", "1=2.00"): "line 1 is given two allowed amounts",
    ("9=10.00",): "an allowed amount is given for line 9, which the claim does not have",
    ("1=99999.00",): "the allowed amount for line 1 is above the line's charge",
}
"""What a reviewer may type after --allowed, and what the command says of it."""


@pytest.mark.parametrize("values", sorted(BAD_ALLOWED))
def test_a_bad_allowed_amount_is_a_usage_error_never_a_payment(
    tmp_path: Path, values: tuple[str, ...],
) -> None:
    # Given a pended claim
    files = _inbound(tmp_path, FIXTURES / "adjudication" / "pend-no-fee.837")
    summary = _process(files, tmp_path / "out")
    icn = next(c.payer_claim_control_number for c in summary.files[0].claims
               if c.status == "pended")
    assert icn is not None
    # When a reviewer releases it with an allowed amount that cannot be taken
    result = runner.invoke(app, ["pends", "release", icn, "--out", str(tmp_path / "out"),
                                 "--reviewer", "analyst.one",
                                 *(word for value in values for word in ("--allowed", value))])
    # Then it is a usage error naming --allowed and saying why, never a traceback
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    shown = " ".join(result.output.replace("│", " ").split())  # rich's box, unwrapped
    assert "Invalid value for --allowed: " + BAD_ALLOWED[values] in shown, shown
    # and nothing was paid: the claim is still pended
    listing = runner.invoke(app, ["pends", "list", "--out", str(tmp_path / "out")])
    assert icn in listing.output


def test_a_file_from_two_senders_gets_each_answer_addressed_to_its_own_sender(
    tmp_path: Path,
) -> None:
    from edi.validators.outbound import outbound_problems

    # ISA14 = 0: no TA1 asked for (a TA1 inside a second response interchange trips the
    # pyx12 walk the outbound check drives; see the session note)
    text = (ACK_FIXTURES / "valid-two-claims.837").read_text().replace(
        "*000000101*1*P*", "*000000101*0*P*")
    second = (text.replace("CLEARHOUSE01   ", "OTHERHOUSE02   ")
              .replace("000000101", "000000102").replace("GS*HC*CLEARHOUSE01*", "GS*HC*OTHER02*"))
    inbound = tmp_path / "inbound"
    inbound.mkdir()
    (inbound / "two-senders.837").write_text(text + second)
    (entry,) = _process([str(inbound / "two-senders.837")], tmp_path / "out").files
    assert (entry.status, entry.ack, entry.ack_code) == ("processed", "999", "A")
    for path in (entry.ack_path, entry.claim_ack_path):
        assert path is not None
        answer = Path(path).read_text()
        receivers = re.findall(r"^ISA(?:\*[^*]*){7}\*([^*]+)", answer, re.M)
        assert [r.strip() for r in receivers] == ["CLEARHOUSE01", "OTHERHOUSE02"]
        assert outbound_problems(answer) == []


def test_status_shows_files_and_claims_by_state_and_the_oldest_unfinished_step(
    tmp_path: Path,
) -> None:
    files = _inbound(tmp_path, ACK_FIXTURES / "valid-two-claims.837",
                     ACK_FIXTURES / "ta1-garbage.837")
    _process(files, tmp_path / "out")
    shown = runner.invoke(app, ["status", "--out", str(tmp_path / "out")])
    assert shown.exit_code == 0, shown.output
    lines = [" ".join(line.replace("│", " ").split()) for line in shown.output.splitlines()]
    assert "files done 2" in lines
    assert "file outcomes rejected 1" in lines and "claims (state) decided 2" in lines
    assert "Oldest unfinished step: none, everything is done" in shown.output
    missing = runner.invoke(app, ["status", "--out", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2


def test_an_interchange_repeated_within_one_file_is_answered_as_a_duplicate(
    tmp_path: Path,
) -> None:
    text = (ACK_FIXTURES / "valid-two-claims.837").read_text()
    inbound = tmp_path / "inbound"
    inbound.mkdir()
    (inbound / "twice.837").write_text(text + text)
    (entry,) = _process([str(inbound / "twice.837")], tmp_path / "out").files
    assert entry.status == "processed" and entry.ack_code == "P"
    assert re.search(r"TA1\*000000101\*\d{6}\*\d{4}\*R\*025", Path(entry.ack_path).read_text())
    assert [c.front_end for c in entry.claims] == [
        "accepted", "accepted", "not_reached", "not_reached"]


def test_reserved_control_numbers_are_handed_out_in_order_and_never_more() -> None:
    from store.sequences import ReservedControlNumbers

    # Given two interchanges' numbers, reserved and kept
    numbers = ReservedControlNumbers([[41, 17], [42, 18]])
    # Then they are handed out as reserved, and a third interchange is an engine fault
    assert [numbers.next_interchange("ZZ:A"), numbers.next_group("ZZ:A")] == [41, 17]
    assert [numbers.next_interchange("ZZ:B"), numbers.next_group("ZZ:B")] == [42, 18]
    with pytest.raises(RuntimeError, match="2 interchange"):
        numbers.next_interchange("ZZ:C")


@pytest.mark.parametrize(("db", "says"), [
    ("bogus://x", "not a database URL"),
    (":::", "not a database URL"),
    ("postgresql://127.0.0.1:1/nothing", "the database does not answer (OperationalError)"),
    ("sqlite:////nonexistent/folder/claims.db", "the database does not answer"),
    ("mysql://user:secret@127.0.0.1/nothing", "not a database URL"),  # no such driver:
    ("postgresql+asyncpg://user:secret@127.0.0.1/nothing", "not a database URL"),  # were
])  # ModuleNotFoundError tracebacks (found by an audit)
def test_a_database_url_that_does_not_work_is_a_usage_error(db: str, says: str) -> None:
    # When a person names a database that is not one, or does not answer
    result = runner.invoke(app, ["status", "--db", db])
    # Then the command says so by kind (never quoting the URL), exit 2, no traceback
    shown = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2 and says in shown, shown
    assert "Traceback" not in result.output and "nothing" not in shown


@pytest.mark.parametrize(("args", "option"), [
    (["migrate", "--out", "{file}"], "--out"),
    (["reference", "load", "{reference}", "--out", "{file}"], "--out"),
    (["user", "add", "dana", "--role", "viewer", "--password-stdin", "--out", "{file}"],
     "--out"),
    (["migrate", "--out", "/proc/self"], "--out"),
    (["migrate", "--out", "{dir}", "--downgrade", ""], "--downgrade"),
    (["generate", "{dir}", "--claims", "1"], "OUT_FILE"),
    (["generate", "{file}/x.837", "--claims", "1"], "OUT_FILE"),
    (["docs", "--edits", "{dir}"], "--edits"),
    (["docs", "--edits", "{file}/x.md"], "--edits"),
])
def test_a_path_a_command_cannot_use_is_a_usage_error_naming_it(
        tmp_path: Path, args: list[str], option: str) -> None:
    # Given a file where a directory is asked for, a directory where a file is, a place
    # nothing can be written (found by an audit: FileExistsError and other tracebacks)
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY

    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    filled = [a.format(file=a_file, dir=tmp_path, reference=SHIPPED_REFERENCE_DIRECTORY)
              for a in args]
    result = runner.invoke(app, filled, input="a long enough password\n")
    # Then the command refuses it naming the option, exit 2, no traceback
    assert result.exit_code == 2, result.output
    assert option in result.output and "Traceback" not in result.output
    assert a_file.read_text() == "not a directory"


def test_a_database_without_the_store_is_a_usage_error(tmp_path: Path) -> None:
    # Given a SQLite database that holds no store (no tables)
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    result = runner.invoke(app, ["status", "--db", f"sqlite:///{empty}"])
    shown = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2 and "not at the current schema" in shown, shown


@pytest.mark.parametrize("dated", ["0001-01-01", "9999-12-31"])
def test_generate_refuses_a_receipt_date_it_cannot_date_services_from(
        tmp_path: Path, dated: str) -> None:
    result = runner.invoke(app, ["generate", str(tmp_path / "g.837"), "--claims", "2",
                                 "--dated", dated])
    assert result.exit_code == 2 and "a day from 1900-01-01 to 2999-12-31" in " ".join(
        result.output.replace("│", " ").split())
    assert not (tmp_path / "g.837").exists()


def _interchanges(*numbers: int) -> str:
    """One-claim interchanges from the same sender, with these ISA13s, in one file."""
    from fixtures.generator import generate_837_text

    text = generate_837_text(1, 7)
    isa_end = text.index("~") + 1
    isa, body = text[:isa_end].split("*"), text[isa_end:]
    iea_at = body.rindex("IEA*")
    out = []
    for number in numbers:
        isa[13] = f"{number:09d}"
        out.append("*".join(isa) + body[:iea_at] + f"IEA*1*{number:09d}~\n")
    return "".join(out)


def _acknowledged(ctx: StepContext, path: Path, text: str) -> int:
    """``text`` received as ``path`` and acknowledged; the file's row id."""
    path.write_text(text)
    return acknowledged(ctx, path)


@pytest.mark.parametrize("per_statement", [1, 2, steps.ROWS_PER_STATEMENT])
def test_interchanges_are_kept_in_order_and_a_repeated_isa13_is_a_duplicate(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        per_statement: int) -> None:
    """The acknowledge step looks the interchanges up and inserts them by statements of
    `ROWS_PER_STATEMENT` (PostgreSQL takes at most 65,535 parameters a statement):
    the same rows and TA1 notes whatever their size."""
    monkeypatch.setattr(steps, "ROWS_PER_STATEMENT", per_statement)
    migrate.upgrade(database_url)
    ctx = step_context(database_url, tmp_path / "archive")
    kept = []
    answers = []
    try:
        for name, numbers in (("first.837", (1, 2)), ("second.837", (2, 3, 3, 4, 1))):
            file_id = _acknowledged(ctx, tmp_path / name, _interchanges(*numbers))
            with ctx.store.transaction() as s:
                kept.append([(i.ordinal, i.control_number, i.accepted, i.note_code, i.dedup_key)
                             for i in s.scalars(select(Interchange).where(
                                 Interchange.file_id == file_id).order_by(Interchange.id))])
            answers.append(ack_text(ctx.store, ctx.archive, file_id))
    finally:
        ctx.store.dispose()
    # the TA1s say so too: the check keeps all but the last interchange packed
    # (`findings.Interchanges`), and a duplicate's note is kept on the one answered from
    assert re.findall(r"TA1\*(\d{9})\*\d{6}\*\d{4}\*R\*025~", answers[1]) == [
        "000000002", "000000003", "000000001"]
    assert "TA1*" not in answers[0] and answers[1].count("AK1*HC*") == 2
    key = "ZZ:" + CLEARINGHOUSE_ID + ":{:09d}"
    assert kept[0] == [(1, "000000001", True, "000", key.format(1)),
                       (2, "000000002", True, "000", key.format(2))]
    assert kept[1] == [(1, "000000002", False, "025", None),  # received in the first file
                       (2, "000000003", True, "000", key.format(3)),
                       (3, "000000003", False, "025", None),  # earlier in this file
                       (4, "000000004", True, "000", key.format(4)),
                       (5, "000000001", False, "025", None)]


def test_a_file_of_more_interchanges_than_a_postgresql_statement_takes_parameters(
        tmp_path: Path) -> None:
    """70,000 interchanges: looked up in one statement, PostgreSQL refused them all
    ("number of parameters must be between 0 and 65535"), so such a file could never
    be acknowledged; by statements of `ROWS_PER_STATEMENT` each is kept."""
    from edi.findings import InterchangeResult, Interchanges
    from tests.databases import postgres_schema

    with postgres_schema() as url:
        migrate.upgrade(url)
        ctx = step_context(url, tmp_path / "archive")
        try:
            run_id = steps.begin_run(ctx, "many")
            file_id, _role = steps.receive(ctx, run_id, "many.837", "ab" * 32, 1,
                                           datetime(2026, 6, 1, 9, tzinfo=UTC), date(2026, 6, 1))
            results = Interchanges()
            for n in [*range(1, 70_001), 1]:  # the first sent twice
                results.append(InterchangeResult(f"{n:09d}", "260601", "0900", "ZZ", "SENDER",
                                                 "ZZ", "87726", "P", "0"))
            with ctx.store.transaction() as s:
                steps._record_interchanges(s, file_id, results)
            with ctx.store.transaction() as s:
                count = s.scalar(select(func.count()).select_from(Interchange))
                last = s.scalars(select(Interchange).order_by(Interchange.id.desc())).first()
        finally:
            ctx.store.dispose()
    assert count == 70_001
    assert last is not None and (last.ordinal, last.accepted, last.note_code) == (
        70_001, False, "025")


def test_a_999_takes_its_control_numbers_in_a_few_statements_and_never_twice(
        database_url: str, tmp_path: Path) -> None:
    """A 999 answering 40 one-group interchanges takes 40 GS06s: counted on the
    sequence's row, locked once (three statements a number before), and the next
    file's go on after them."""
    from sqlalchemy import event

    migrate.upgrade(database_url)
    ctx = step_context(database_url, tmp_path / "archive")
    statements: list[str] = []
    event.listen(ctx.store.engine, "before_cursor_execute",
                 lambda _c, _cursor, statement, *_rest: statements.append(statement))
    texts = []
    try:
        for name, numbers in (("forty.837", range(1, 41)), ("three.837", range(41, 44))):
            statements.clear()
            file_id = _acknowledged(ctx, tmp_path / name, _interchanges(*numbers))
            text = ack_text(ctx.store, ctx.archive, file_id)
            assert text is not None
            texts.append(text)
            if name == "forty.837":
                sequence_statements = [one for one in statements if "control_sequences" in one]
    finally:
        ctx.store.dispose()

    def numbers(text: str, segment: str, at: int) -> list[int]:
        return [int(seg.split("*")[at]) for seg in text.replace("\n", "").split("~")
                if seg.startswith(segment + "*")]

    first, second = numbers(texts[0], "GS", 6), numbers(texts[1], "GS", 6)
    assert len(first) == 40 and first == list(range(first[0], first[0] + 40))
    assert second == [first[-1] + 1, first[-1] + 2, first[-1] + 3]
    assert numbers(texts[1], "ISA", 13)[0] == numbers(texts[0], "ISA", 13)[0] + 1
    # per sequence: made if new, locked, its new value written; not three a number
    assert 4 <= len(sequence_statements) <= 6


def test_control_numbers_start_again_at_1_after_the_largest_nine_digit_number(
        database_url: str, tmp_path: Path) -> None:
    """ISA13 is nine digits, GS06 at most nine: after 999,999,999 each sequence gives 1
    again, whichever way its numbers are taken (the step's own transaction, a
    transaction of their own, a 277CA's reservation)."""
    from edi.acks import MAX_CONTROL_NUMBER
    from edi.validators.outbound import outbound_problems
    from store.sequences import CommittedControlNumbers, take_control
    from tests.pyx12_oracle import pyx12_accepts

    migrate.upgrade(database_url)
    ctx = step_context(database_url, tmp_path / "archive")
    try:
        with ctx.store.transaction() as s:
            s.add_all([ControlSequence(name="isa13", next_value=MAX_CONTROL_NUMBER - 1),
                       ControlSequence(name="gs06", next_value=MAX_CONTROL_NUMBER)])
        # three files' 999s (the first answers two interchanges, one group each),
        # numbered in the steps' own transactions
        texts = []
        for name, numbers in (("two.837", (1, 2)), ("one.837", (3,)), ("last.837", (4,))):
            file_id = _acknowledged(ctx, tmp_path / name, _interchanges(*numbers))
            text = ack_text(ctx.store, ctx.archive, file_id)
            assert text is not None and outbound_problems(text) == [] and pyx12_accepts(text)
            texts.append(text.replace("\n", "").split("~"))

        def elements(segment: str, at: int) -> list[str]:
            return [seg.split("*")[at] for text in texts for seg in text
                    if seg.startswith(segment + "*")]

        assert elements("ISA", 13) == ["999999998", "999999999", "000000001"]
        assert elements("IEA", 2) == elements("ISA", 13)
        assert elements("GS", 6) == ["999999999", "1", "2", "3"]
        assert elements("GE", 2) == elements("GS", 6)
        # numbers taken in transactions of their own, and reserved, go on from there
        committed = CommittedControlNumbers(ctx.store)
        assert committed.next_interchange("ZZ:X") == 2
        with ctx.store.transaction() as s:
            s.execute(ControlSequence.__table__.update()
                      .where(ControlSequence.name == "gs06")
                      .values(next_value=MAX_CONTROL_NUMBER))
        assert committed.next_group("ZZ:X") == MAX_CONTROL_NUMBER
        with ctx.store.transaction() as s:
            assert take_control(s, "gs06") == 1
            assert take_control(s, "isa13") == 3
    finally:
        ctx.store.dispose()
