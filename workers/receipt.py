"""The receipt date of a file: the day, in the payer's business time zone, it arrived.

    received_at = arrival_instant(path.stat().st_mtime)   # stored as it is, in UTC
    receipt_date(received_at, business_zone("America/Chicago"))

The instant a file arrived is kept in UTC; only the date that timely filing and the
correction windows count from is taken on the payer's calendar. A file dropped at
21:00 US Eastern is received that evening, not on the next UTC day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
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
