"""A file's receipt date is its arrival instant on the payer's business calendar.

Every expected date below was worked out by hand from the zone's UTC offset:
America/Chicago is UTC-6 (CST) until 2026-03-08 08:00Z and from 2026-11-01 07:00Z,
UTC-5 (CDT) in between; America/New_York is one hour ahead of it all year.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from store.engine import Store, sqlite_url
from store.migrate import upgrade
from store.models import ReceivedFile
from tests.paths import ACK_FIXTURES
from workers.cli import app
from workers.receipt import UnknownTimeZone, arrival_instant, business_zone, receipt_date
from workers.service import Service, ServiceSettings, open_service, receive_into_service
from workers.summary import ClaimSummary, RunSummary

runner = CliRunner()
CHICAGO = ZoneInfo("America/Chicago")
NEW_YORK = ZoneInfo("America/New_York")
TWO_CLAIMS = ACK_FIXTURES / "valid-two-claims.837"
"""PCN-0001 (commercial, MA) served 2026-11-05; PCN-0002 (MassHealth) 2026-11-10."""
# 21:00 EST on 2027-02-03, the 90th day after 2026-11-05 (25 + 31 + 31 + 3 days),
# is 02:00Z on 2027-02-04: in time on the payer's calendar, day 91 on UTC's.
DAY_90_EVENING_EASTERN = datetime(2027, 2, 4, 2, 0, tzinfo=UTC)
# noon CST on 2026-11-28 (after the 2026-11-01 change back to UTC-6)
NOON_CHICAGO_NOV_28 = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_zone_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDI_BUSINESS_TIMEZONE", raising=False)


# -- the receipt date of an instant ------------------------------------------------------


@pytest.mark.parametrize(("instant", "zone", "expected"), [
    # evening of 1 March in Chicago (20:30 CST), already 2 March in UTC
    (datetime(2026, 3, 2, 2, 30, tzinfo=UTC), CHICAGO, date(2026, 3, 1)),
    # 00:30 CST on 2 March
    (datetime(2026, 3, 2, 6, 30, tzinfo=UTC), CHICAGO, date(2026, 3, 2)),
    # spring forward: 23:30 CST on 7 March, still winter time
    (datetime(2026, 3, 8, 5, 30, tzinfo=UTC), CHICAGO, date(2026, 3, 7)),
    # 00:30 CDT on 9 March; winter time (UTC-6) would wrongly give 23:30 on 8 March
    (datetime(2026, 3, 9, 5, 30, tzinfo=UTC), CHICAGO, date(2026, 3, 9)),
    # fall back: 00:30 CDT on 1 November, summer time until 07:00Z
    (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), CHICAGO, date(2026, 11, 1)),
    # 23:30 CST on 1 November; summer time (UTC-5) would wrongly give 00:30 on 2 November
    (datetime(2026, 11, 2, 5, 30, tzinfo=UTC), CHICAGO, date(2026, 11, 1)),
    # New York: 23:30 EST on 1 March, then 00:30 EST on 2 March
    (datetime(2026, 3, 2, 4, 30, tzinfo=UTC), NEW_YORK, date(2026, 3, 1)),
    (datetime(2026, 3, 2, 5, 30, tzinfo=UTC), NEW_YORK, date(2026, 3, 2)),
    # the same instant is still 1 March in Chicago (23:30 CST)
    (datetime(2026, 3, 2, 5, 30, tzinfo=UTC), CHICAGO, date(2026, 3, 1)),
    # an instant written in another zone: 21:00 EST is 20:00 CST, same evening
    (datetime(2026, 3, 1, 21, 0, tzinfo=NEW_YORK), CHICAGO, date(2026, 3, 1)),
])
def test_the_receipt_date_is_the_arrival_instant_on_the_business_calendar(
    instant: datetime, zone: ZoneInfo, expected: date,
) -> None:
    # Given an arrival instant and a business time zone, When it is dated, Then that day
    assert receipt_date(instant, zone) == expected


def test_a_naive_time_is_not_an_instant_and_is_refused() -> None:
    # Given a time with no zone, When it is dated, Then it is refused
    with pytest.raises(ValueError, match="time zone"):
        receipt_date(datetime(2026, 3, 2, 2, 30), CHICAGO)


def test_the_arrival_instant_of_a_modification_time_is_in_utc() -> None:
    # Given a modification time in seconds since the epoch, Then the instant is UTC
    assert arrival_instant(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert arrival_instant(1_800_000_000).tzinfo is UTC


@pytest.mark.parametrize("name", ["Mars/Olympus", "America/chicago", "", "../etc", "/etc/passwd"])
def test_a_time_zone_that_is_not_an_iana_name_is_refused_by_name(name: str) -> None:
    # Given a zone name the system does not know, Then the error says so and names it
    with pytest.raises(UnknownTimeZone, match="unknown time zone"):
        business_zone(name)


# -- settings ---------------------------------------------------------------------------


def test_the_service_reads_its_business_time_zone_from_edi_business_timezone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    # Given no setting, Then Chicago; Given EDI_BUSINESS_TIMEZONE, Then that zone
    assert ServiceSettings().business_timezone == "America/Chicago"
    monkeypatch.setenv("EDI_BUSINESS_TIMEZONE", "America/New_York")
    (tmp_path / "data").mkdir()
    settings = ServiceSettings(database_url=None, archive_dir=tmp_path / "data" / "archive")
    svc = open_service(settings)
    try:
        assert svc.business_zone == NEW_YORK
    finally:
        svc.store.dispose()


def test_an_unknown_business_time_zone_setting_stops_the_service_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a zone that does not exist, When the settings are read, Then they are refused
    monkeypatch.setenv("EDI_BUSINESS_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValidationError, match="unknown time zone"):
        ServiceSettings()


# -- the service: an upload's receipt date -----------------------------------------------


def _service(tmp_path: Path, zone: ZoneInfo | None = None, clock: str = "arrival") -> Service:
    url = sqlite_url(tmp_path / "db")
    (tmp_path / "db").mkdir()
    upgrade(url)
    store = Store(url)
    if zone is None:
        return Service(store, tmp_path / "archive", tmp_path / "outbound", None,
                       receipt_clock=clock)
    return Service(store, tmp_path / "archive", tmp_path / "outbound", None, business_zone=zone,
                   receipt_clock=clock)


def test_the_services_as_of_date_is_on_the_business_calendar(tmp_path: Path) -> None:
    # Given the service in Chicago, at 03:00 UTC on 2 March 2026 (21:00 on 1 March there)
    svc = _service(tmp_path)
    try:
        ctx = svc.context(datetime(2026, 3, 2, 3, 0, tzinfo=UTC))
        # Then the steps work as of 1 March, the day on the payer's calendar
        assert ctx.as_of == date(2026, 3, 1)
        # And from 06:00 UTC (midnight in Chicago) as of 2 March
        assert svc.context(datetime(2026, 3, 2, 6, 0, tzinfo=UTC)).as_of == date(2026, 3, 2)
    finally:
        svc.store.dispose()


def _dropped(tmp_path: Path, source: Path, at: datetime) -> Path:
    inbound = tmp_path / "inbound"
    inbound.mkdir(exist_ok=True)
    target = inbound / source.name
    shutil.copy(source, target)
    os.utime(target, (at.timestamp(), at.timestamp()))
    return target


@pytest.mark.parametrize(("zone", "expected"), [
    (None, date(2027, 2, 3)),  # default Chicago: 20:00 CST on 3 February
    (ZoneInfo("UTC"), date(2027, 2, 4)),
])
def test_an_upload_at_nine_pm_eastern_is_received_on_the_business_day_it_arrived(
    tmp_path: Path, zone: ZoneInfo | None, expected: date,
) -> None:
    # Given an upload dropped at 21:00 Eastern (02:00Z the next day), on a service
    # replaying files whose drop times are their modification times
    svc = _service(tmp_path, zone, clock="file")
    try:
        upload = _dropped(tmp_path, TWO_CLAIMS, DAY_90_EVENING_EASTERN)
        # When the service records it
        file_id, duplicate = receive_into_service(svc, upload)
        # Then its receipt date is that day on the business calendar; the instant stays UTC
        with svc.store.transaction() as s:
            row = s.get(ReceivedFile, file_id)
            assert row is not None
            assert not duplicate and row.receipt_date == expected
            assert row.received_at.replace(tzinfo=UTC) == DAY_90_EVENING_EASTERN
    finally:
        svc.store.dispose()


@pytest.mark.parametrize("shift", [timedelta(days=-375), timedelta(days=40)])
def test_an_upload_whose_sender_set_its_modification_time_is_received_when_it_arrived(
    tmp_path: Path, shift: timedelta,
) -> None:
    # Given an upload whose modification time its SFTP client set a year back (sftp
    # put -p, a SETSTAT), or weeks ahead: before 2026-12-01 the receipt date, so timely
    # filing, followed it, and a year-old claim was paid
    svc = _service(tmp_path)
    try:
        before = datetime.now(tz=UTC).replace(microsecond=0)
        upload = _dropped(tmp_path, TWO_CLAIMS, before + shift)
        after = datetime.now(tz=UTC) + timedelta(seconds=1)
        # When the service records it
        file_id, _ = receive_into_service(svc, upload)
        # Then it arrived when it changed on this machine, a time no client sets
        with svc.store.transaction() as s:
            row = s.get(ReceivedFile, file_id)
            assert row is not None
            arrived = row.received_at.replace(tzinfo=UTC)
        assert before - timedelta(seconds=1) <= arrived <= after
        assert row.receipt_date == receipt_date(arrived, svc.business_zone)
    finally:
        svc.store.dispose()


def test_the_receipt_clock_is_arrival_or_file() -> None:
    from workers.receipt import upload_instant

    stat = Path(__file__).stat()
    assert upload_instant(stat) == arrival_instant(stat.st_ctime)
    assert upload_instant(stat, "file") == arrival_instant(stat.st_mtime)
    with pytest.raises(ValueError, match="arrival, file"):
        upload_instant(stat, "mtime")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("EDI_RECEIPT_CLOCK", "mtime")
        with pytest.raises(ValidationError):
            ServiceSettings()


# -- claims process: timely filing on the business calendar ------------------------------


def _process(tmp_path: Path, source: Path, at: datetime, *extra: str,
             out: str = "out") -> RunSummary:
    """``claims process`` on a copy of ``source`` dropped at ``at``, never ``--received``."""
    inbound = tmp_path / out / "inbound"
    inbound.mkdir(parents=True)
    target = inbound / source.name
    shutil.copy(source, target)
    os.utime(target, (at.timestamp(), at.timestamp()))
    result = runner.invoke(app, ["process", str(target), "--out", str(tmp_path / out),
                                 "--quiet", "--no-remit", *extra])
    assert result.exit_code == 0, result.output
    return RunSummary.model_validate_json((tmp_path / out / "summary.json").read_text())


def _late(claim: ClaimSummary) -> bool:
    return any((a["group"], a["carc"]) == ("CO", "29") for a in claim.adjustments)


def test_a_file_dropped_at_nine_pm_eastern_on_day_90_is_in_time(tmp_path: Path) -> None:
    # Given the two-claim sample dropped at 21:00 Eastern on day 90 after PCN-0001's service
    # When claims process runs with the default business time zone
    (entry,) = _process(tmp_path, TWO_CLAIMS, DAY_90_EVENING_EASTERN,
                        "--as-of", "2027-02-04").files
    # Then no claim is denied for timely filing, and the stored instant is still UTC
    assert [c.front_end for c in entry.claims] == ["accepted", "accepted"]
    assert [c.status for c in entry.claims] == ["paid", "paid"]
    assert not any(_late(c) for c in entry.claims)
    assert datetime.fromisoformat(entry.received_at) == DAY_90_EVENING_EASTERN


def test_the_same_drop_dated_on_utc_is_day_91_and_late(tmp_path: Path) -> None:
    # Given the same drop, When the business time zone is UTC
    (entry,) = _process(tmp_path, TWO_CLAIMS, DAY_90_EVENING_EASTERN,
                        "--as-of", "2027-02-04", "--timezone", "UTC").files
    # Then PCN-0001 (day 91) is late and PCN-0002 (day 86) is not: the drop is on the edge
    assert [(c.patient_control_number, _late(c)) for c in entry.claims] == [
        ("PCN-0001", True), ("PCN-0002", False)]


def test_the_business_time_zone_of_claims_process_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given EDI_BUSINESS_TIMEZONE=UTC and no --timezone
    monkeypatch.setenv("EDI_BUSINESS_TIMEZONE", "UTC")
    (entry,) = _process(tmp_path, TWO_CLAIMS, DAY_90_EVENING_EASTERN,
                        "--as-of", "2027-02-04").files
    # Then the drop is dated on UTC's calendar, day 91 for PCN-0001
    assert _late(entry.claims[0])


def test_an_unknown_time_zone_is_a_usage_error(tmp_path: Path) -> None:
    # Given a zone name that does not exist
    result = runner.invoke(app, ["process", str(TWO_CLAIMS), "--out", str(tmp_path / "out"),
                                 "--timezone", "Mars/Olympus"])
    # Then the command stops with a usage error naming the option, not a traceback
    assert result.exit_code == 2
    assert "--timezone" in result.output and "unknown time zone" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "out" / "summary.json").exists()


# -- claims generate --dated ---------------------------------------------------------------


def _generate(tmp_path: Path, name: str, *extra: str) -> Path:
    path = tmp_path / name
    result = runner.invoke(app, ["generate", str(path), "--claims", "60", "--seed", "5",
                                 *extra])
    assert result.exit_code == 0, result.output
    return path


def _late_share(summary: RunSummary) -> float:
    claims = [c for f in summary.files for c in f.claims if c.front_end == "accepted"]
    assert len(claims) == 60
    return sum(_late(c) for c in claims) / len(claims)


def test_a_file_generated_dated_a_day_is_in_time_when_received_that_day(
    tmp_path: Path,
) -> None:
    # Given a file generated --dated 2026-11-28 and the same seed's file with no date
    dated = _generate(tmp_path, "dated.837", "--dated", "2026-11-28")
    undated = _generate(tmp_path, "undated.837")
    # When both are dropped at noon Chicago on 2026-11-28 and processed that day
    fresh = _process(tmp_path, dated, NOON_CHICAGO_NOV_28, "--as-of", "2026-11-28",
                     out="dated")
    stale = _process(tmp_path, undated, NOON_CHICAGO_NOV_28, "--as-of", "2026-11-28",
                     out="undated")
    # Then the dated file's claims are in time and the undated file's are mostly late
    assert _late_share(fresh) < 0.1
    assert _late_share(stale) > 0.8
