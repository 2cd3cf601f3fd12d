"""The receipt date of a file: the day, in the payer's business time zone, it arrived.

    received_at = arrival_instant(path.stat().st_mtime)   # stored as it is, in UTC
    receipt_date(received_at, business_zone("America/Chicago"))

The instant a file arrived is kept in UTC; only the date that timely filing and the
correction windows count from is taken on the payer's calendar. A file dropped at
21:00 US Eastern is received that evening, not on the next UTC day.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator

DEFAULT_BUSINESS_TIMEZONE = "America/Chicago"
"""The payer's business time zone unless ``EDI_BUSINESS_TIMEZONE`` or ``--timezone``
names another."""


class UnknownTimeZone(ValueError):
    """A business time zone that is not an IANA name the system knows."""


def business_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (``America/Chicago``); `UnknownTimeZone` otherwise."""
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError, OSError):
        raise UnknownTimeZone(
            f"unknown time zone {name!r}: use an IANA name such as "
            f"{DEFAULT_BUSINESS_TIMEZONE}") from None


def known_zone_name(name: str) -> str:
    """``name`` when it is a business time zone (`business_zone`), for settings."""
    business_zone(name)
    return name


BusinessTimezone = Annotated[str, AfterValidator(known_zone_name)]
"""A setting naming the business time zone, refused (`UnknownTimeZone`) when unknown."""


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
"""The days a person may name as a run's, a receipt's or a payment cycle's date."""


def business_day(text: str, first: date = FIRST_DAY, last: date = LAST_DAY) -> date:
    """The day ``text`` names as exactly ``YYYY-MM-DD`` (ASCII digits), from ``first``
    to ``last``; `ValueError` with a sentence otherwise. ``date.fromisoformat`` alone
    also reads ``20260101`` and the ISO week date ``2026-W01-1`` (2025-12-29), and took
    9999-12-31 for a payment cycle, whose 835s then promised funds that day."""
    text = text.strip()
    if not (len(text) == 10 and text.isascii() and text[4] == text[7] == "-"
            and (text[:4] + text[5:7] + text[8:]).isdigit()):
        raise ValueError("use YYYY-MM-DD")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text} is not a day of the calendar (YYYY-MM-DD)") from None
    if not first <= day <= last:
        raise ValueError(f"a day from {first} to {last}")
    return day


ReceiptClock = Literal["arrival", "file"]
"""Which of an upload's times is its arrival (`upload_instant`)."""
RECEIPT_CLOCKS: tuple[str, ...] = get_args(ReceiptClock)


def upload_instant(stat: os.stat_result, clock: str = "arrival",
                   changed: float | None = None) -> datetime:
    """When an upload in a mailbox arrived, in UTC.

    ``arrival``: the last change of the file on this machine (its inode change time,
    ``st_ctime``: the last write, or the rename that completed the upload), which an
    SFTP client cannot set. Its modification time it can: ``sftp put -p``, WinSCP's
    "preserve timestamp" or a SETSTAT backdates it, and with it the receipt date that
    timely filing counts to. ``file``: the modification time, for an operator who
    replays files whose drop times are known (the demo drops the shipped fixtures on
    the days they were sent). ``changed``: the inode change time the upload had in the
    mailbox, where intake has moved it since (the move changed ``st_ctime``)."""
    if clock not in RECEIPT_CLOCKS:
        raise ValueError(f"the receipt clock is one of {', '.join(RECEIPT_CLOCKS)}")
    if clock == "file":
        return arrival_instant(stat.st_mtime)
    return arrival_instant(stat.st_ctime if changed is None else changed)


def arrival_instant(mtime: float) -> datetime:
    """A file's arrival instant, in UTC, from its modification time (seconds since the
    epoch): when it was dropped."""
    return datetime.fromtimestamp(mtime, tz=UTC)


def receipt_date(instant: datetime, zone: ZoneInfo) -> date:
    """The receipt date of ``instant``: its calendar date in ``zone``.

    ``instant`` must be timezone-aware; a naive time names no instant at all.
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("the arrival instant must carry its time zone")
    return instant.astimezone(zone).date()
