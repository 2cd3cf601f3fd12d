"""A bad value from a person is a usage error of the claims command line: exit 2, one
message naming what is wrong, no traceback, the value never quoted back."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from tests.paths import ACK_FIXTURES
from workers.cli import app

runner = CliRunner()
TWO_CLAIMS = str(ACK_FIXTURES / "valid-two-claims.837")
UNDECODED = "\udcff"
"""A byte of the command line no encoding decoded (0xff), as Python carries it."""
AWAY = f"postgresql://engine:pass{UNDECODED}word@127.0.0.1:1/claims"


def said(result: Result) -> str:
    """What the command printed, on one line, without rich's box."""
    return " ".join(result.output.replace("│", " ").split())


def assert_usage_error(result: Result, *words: str) -> None:
    """Exit 2 and each of ``words`` said, spaces aside: rich breaks a long path where
    its box ends (a pytest-xdist worker's tmp_path is longer than a plain run's)."""
    assert result.exit_code == 2, result.output
    unbroken = "".join(said(result).split())
    assert all("".join(word.split()) in unbroken for word in words), said(result)
    assert "Traceback" not in result.output and UNDECODED not in result.output


@pytest.mark.parametrize(("args", "option"), [
    (["process", TWO_CLAIMS, "--out", "{tmp}/run" + UNDECODED], "--out"),
    (["process", TWO_CLAIMS, "--out", "{tmp}/run", "--db", AWAY], "--db"),
    (["status", "--db", AWAY], "--db"),
    (["worker", "--metrics-port", "9108", "--metrics-address", "127.0.0.1" + UNDECODED],
     "--metrics-address"),
    (["process", TWO_CLAIMS, "--out", "{tmp}/run", "--reference", "ref" + UNDECODED],
     "--reference"),
    (["process", TWO_CLAIMS, "--out", "{tmp}/run", "--code-sets", "sets" + UNDECODED],
     "--code-sets"),
    (["partner", "add", "acme", "--sender-id", "X", "--key", "acme.pub" + UNDECODED],
     "--key"),
    (["intake", "--once", "--mailboxes", "{tmp}/boxes" + UNDECODED], "--mailboxes"),
    (["review", "--out", "{tmp}", "--outbound", "{tmp}/out" + UNDECODED], "--outbound"),
    (["review", "--out", "{tmp}", "--mailboxes", "{tmp}/boxes" + UNDECODED], "--mailboxes"),
    (["review", "--out", "{tmp}", "--archive", "{tmp}/archive" + UNDECODED], "--archive"),
])
def test_a_byte_that_is_not_utf8_in_a_path_or_address_is_a_usage_error(
        tmp_path: Path, args: list[str], option: str) -> None:
    """Found by an audit: --out, --db and --metrics-address were UnicodeEncodeError
    tracebacks (summary.json, the database driver, the socket); each such option is now
    refused as it is read, by one check (`workers.files.is_utf8`)."""
    result = runner.invoke(app, [a.format(tmp=tmp_path) for a in args])
    assert_usage_error(result, option, "holds a byte that is not UTF-8")


def test_a_database_url_in_the_environment_that_is_not_utf8_is_a_usage_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDI_DATABASE_URL", AWAY)  # was a UnicodeEncodeError traceback
    assert_usage_error(runner.invoke(app, ["status"]), "not a database URL")


def test_a_password_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    """Found by an audit: a UnicodeDecodeError traceback reading stdin."""
    result = runner.invoke(app, ["user", "add", "dana", "--role", "viewer",
                                 "--password-stdin", "--out", str(tmp_path)],
                           input=b"a long enough pass\xffword\n")
    assert_usage_error(result, "--password-stdin", "a password is UTF-8 text")


@pytest.mark.parametrize("revision", ["own", "head", "heads", "-1", "0012@-1", "+1", "001"])
def test_a_downgrade_to_no_revision_below_the_database_s_is_a_usage_error(
        tmp_path: Path, revision: str) -> None:
    """Found by an audit: --downgrade took the database's own revision and head (saying
    "downgraded to"), and Alembic's relative names, -1 going down a revision nobody
    named; only base or a revision below the database's is one to go down to."""
    from store import migrate
    from store.engine import make_engine, sqlite_url

    assert runner.invoke(app, ["migrate", "--out", str(tmp_path)]).exit_code == 0
    own = migrate.head()
    result = runner.invoke(app, ["migrate", "--out", str(tmp_path), "--downgrade",
                                 own if revision == "own" else revision])
    assert result.exit_code == 2, result.output
    assert "--downgrade: not a revision below the database's" in said(result)
    engine = make_engine(sqlite_url(tmp_path))
    try:
        assert migrate.current(engine) == own
    finally:
        engine.dispose()
    below = migrate.revisions()[-2]
    went = runner.invoke(app, ["migrate", "--out", str(tmp_path), "--downgrade", below])
    assert went.exit_code == 0 and f"downgraded to {below}" in went.output


@pytest.mark.parametrize(("args", "env", "option"), [
    (["intake", "--once", "--mailboxes", "{tmp}/nowhere"], {}, "--mailboxes"),
    (["intake", "--once"], {"EDI_MAILBOXES": "{tmp}/nowhere"}, "EDI_MAILBOXES"),
    (["review", "--out", "{tmp}", "--archive", "{tmp}/nowhere", "--port", "1"], {},
     "--archive"),
    (["review", "--out", "{tmp}", "--port", "1"], {"EDI_ARCHIVE_DIR": "{tmp}/nowhere"},
     "EDI_ARCHIVE_DIR"),
])
def test_a_mailboxes_or_archive_directory_that_is_not_there_is_a_usage_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str],
        env: dict[str, str], option: str) -> None:
    """Found by an audit: intake watched a mistyped --mailboxes and took nothing, exit 0,
    and review served an archive that was not there (no download, no cycle release)."""
    monkeypatch.setenv("EDI_ARCHIVE_DIR", str(tmp_path / "service" / "archive"))
    monkeypatch.delenv("EDI_REDIS_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    result = runner.invoke(app, [a.format(tmp=tmp_path) for a in args])
    assert_usage_error(result, option, f"no directory {tmp_path / 'nowhere'}")
    assert "Review screens at" not in result.output


def test_intake_that_cannot_hold_uploads_there_refuses_to_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Intake takes an upload by renaming it into <mailboxes>/.intake/held/: a holding
    folder it cannot make, or a partner's inbound/ on another filesystem, left every
    upload in inbound/ scan after scan, exit 0."""
    monkeypatch.setenv("EDI_ARCHIVE_DIR", str(tmp_path / "service" / "archive"))
    monkeypatch.delenv("EDI_REDIS_URL", raising=False)
    mailboxes = tmp_path / "mailboxes"
    (mailboxes / "acme" / "inbound").mkdir(parents=True)
    (mailboxes / ".intake").write_text("")  # no folder can be made there
    intake = ["intake", "--once", "--mailboxes", str(mailboxes)]
    assert_usage_error(runner.invoke(app, intake), "--mailboxes",
                       "intake cannot make or write its holding folder .intake/held")
    (mailboxes / ".intake").unlink()
    assert runner.invoke(app, intake).exit_code == 0
    shm = Path("/dev/shm")
    if shm.is_dir() and shm.stat().st_dev != tmp_path.stat().st_dev:
        elsewhere = Path(tempfile.mkdtemp(dir=shm))
        try:
            (mailboxes / "beta").mkdir()
            (mailboxes / "beta" / "inbound").symlink_to(elsewhere)
            assert_usage_error(runner.invoke(app, intake), "--mailboxes",
                               "partner beta's inbound/ is on another filesystem")
        finally:
            elsewhere.rmdir()


def test_a_code_set_order_file_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    """Found by an audit: an order file's name on a directory was passed over, the run
    exited 0 and every line of 2026-10-01 on pended for want of the release."""
    releases = tmp_path / "releases"
    (releases / "icd10cm_order_2027.txt").mkdir(parents=True)
    result = runner.invoke(app, ["process", TWO_CLAIMS, "--out", str(tmp_path / "run"),
                                 "--code-sets", str(releases)])
    assert_usage_error(result, "--code-sets",
                       "icd10cm_order_2027.txt is a directory, not an ICD-10-CM order file")


@pytest.mark.parametrize("claims", ["10000001", str(10**11)])
def test_generate_writes_at_most_ten_million_claims(tmp_path: Path, claims: str) -> None:
    """Found by an audit: nothing bounded --claims, and 10**11 wrote until the disk
    was full."""
    result = runner.invoke(app, ["generate", str(tmp_path / "big.837"), "--claims", claims])
    assert_usage_error(result, "--claims", "10000000")
    assert not (tmp_path / "big.837").exists()


def test_review_on_a_port_in_use_is_a_usage_error_before_it_says_where_it_serves(
        tmp_path: Path) -> None:
    """Found by an audit: uvicorn bound the port, printed its error after "Review
    screens at ..." and exited 3; review binds its socket itself now."""
    import socket

    assert runner.invoke(app, ["migrate", "--out", str(tmp_path)]).exit_code == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["review", "--out", str(tmp_path), "--port", str(port)])
    assert_usage_error(result, "--host/--port",
                       f"cannot listen on 127.0.0.1 port {port}: Address already in use")
    assert "Review screens at" not in result.output


@pytest.mark.parametrize(("db", "says"), [
    ("postgresql://engine@127.0.0.1:1/claims", "the database does not answer"),
    ("mysql://engine@127.0.0.1/claims", "not a database URL"),
])
def test_process_checks_its_database_answers_before_anything_else(
        tmp_path: Path, db: str, says: str) -> None:
    """Found by an audit: claims process --db took the URL as it was and failed with an
    OperationalError (or ModuleNotFoundError) traceback once --out was made."""
    result = runner.invoke(app, ["process", TWO_CLAIMS, "--out", str(tmp_path / "run"),
                                 "--db", db])
    assert_usage_error(result, "--db", says)
    assert not (tmp_path / "run").exists()


NOT_SQLITE = b"SQLite format 2\x00 this is no database at all" * 100
"""A file where a store's SQLite database is looked for: no SQLite database's header."""


@pytest.mark.parametrize(("args", "option"), [
    (["status", "--out", "{tmp}"], "--out"),
    (["process", TWO_CLAIMS, "--out", "{tmp}"], "--out"),
    (["migrate", "--out", "{tmp}"], "--out"),
    (["status", "--db", "sqlite:///{tmp}/claims.db"], "--db"),
    (["partner", "list"], "EDI_ARCHIVE_DIR"),
])
def test_a_claims_db_that_is_no_sqlite_database_is_a_usage_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str],
        option: str) -> None:
    """Found by an audit: a damaged claims.db, or another file in its place, was a
    DatabaseError traceback ("file is not a database"); the file is left as it is."""
    monkeypatch.delenv("EDI_DATABASE_URL", raising=False)
    monkeypatch.setenv("EDI_ARCHIVE_DIR", str(tmp_path / "archive"))  # the service's
    (tmp_path / "claims.db").write_bytes(NOT_SQLITE)
    result = runner.invoke(app, [a.format(tmp=tmp_path) for a in args])
    assert_usage_error(result, option, "the SQLite file is not a database, or is damaged")
    assert (tmp_path / "claims.db").read_bytes() == NOT_SQLITE


@pytest.mark.parametrize(("args", "variable"), [
    (["intake", "--once"], "EDI_MAILBOXES"),
    (["partner", "list"], "EDI_ARCHIVE_DIR"),
    (["redeliver"], "EDI_OUTBOUND_DIR"),
    (["partner", "list"], "EDI_CODE_SETS_DIR"),
    (["partner", "list"], "EDI_REDIS_URL"),
])
def test_a_path_in_the_environment_that_is_not_utf8_is_a_usage_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str],
        variable: str) -> None:
    """Found by an audit: the command line's paths were checked as they were read, the
    service's settings from the environment were not."""
    monkeypatch.setenv("EDI_ARCHIVE_DIR", str(tmp_path / "service" / "archive"))
    (tmp_path / "boxes").mkdir()
    monkeypatch.setenv("EDI_MAILBOXES", str(tmp_path / "boxes"))
    monkeypatch.delenv("EDI_REDIS_URL", raising=False)
    monkeypatch.delenv("EDI_DATABASE_URL", raising=False)
    odd = tmp_path / ("sets" + UNDECODED)
    odd.mkdir()  # there, and a directory: refused for its bytes alone
    monkeypatch.setenv(variable, str(odd))
    result = runner.invoke(app, args)
    assert_usage_error(result, variable, "not a valid value")
    assert "sets" not in result.output


@pytest.mark.parametrize("variable", ["EDI_REVIEW_ARCHIVE_DIR", "EDI_CODE_SETS_DIR"])
def test_a_review_setting_in_the_environment_that_is_not_utf8_is_a_usage_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    """Found by an audit: the service's settings were checked (above) while the review
    screens' own took the same bytes as they came, and served."""
    import uvicorn

    served: list[object] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, sockets=None: served.append(server))
    for name in ("EDI_ARCHIVE_DIR", "EDI_DATABASE_URL", "EDI_REVIEW_ARCHIVE_DIR",
                 "EDI_CODE_SETS_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert runner.invoke(app, ["migrate", "--out", str(tmp_path)]).exit_code == 0
    odd = tmp_path / ("sets" + UNDECODED)
    odd.mkdir()  # there, and a directory: refused for its bytes alone
    monkeypatch.setenv(variable, str(odd))
    result = runner.invoke(app, ["review", "--out", str(tmp_path), "--port", "1"])
    assert_usage_error(result, variable, "not a valid value")
    assert "sets" not in result.output and not served
