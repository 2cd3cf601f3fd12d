"""Structured logs as JSON lines on stderr. Log control numbers and hashes, never PHI."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

import structlog


def configure(level: str = "WARNING") -> None:
    numeric = logging.getLevelName(level.upper())
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            numeric if isinstance(numeric, int) else logging.WARNING
        ),
        # Resolve stderr at each use, not at configuration (tests swap the stream).
        logger_factory=lambda *_args: structlog.PrintLogger(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, TypeOnlyHandler)]:
        root.removeHandler(handler)
    root.addHandler(TypeOnlyHandler(numeric if isinstance(numeric, int) else logging.WARNING))


class TypeOnlyHandler(logging.Handler):
    """Other libraries' records (dramatiq's "Failed to process message ... with unhandled
    exception", SQLAlchemy's, Redis's) as JSON lines like ours: the message and the
    exception's type, never the exception's text or traceback.

    Without a handler Python prints such a record with its whole traceback, and a
    database error's text quotes the statement's values: a member id, a patient control
    number, the claim's JSON. An exception passed as an argument of the message is named
    by its type too."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if isinstance(record.args, tuple):  # a copy: other handlers see the record whole
                record = logging.makeLogRecord(
                    {**record.__dict__, "args": tuple(map(_type_only, record.args))})
            line: dict[str, str] = {
                "event": record.getMessage(), "logger": record.name,
                "level": record.levelname.lower(),
                "timestamp": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            }
            if record.exc_info and record.exc_info[0] is not None:
                line["error"] = record.exc_info[0].__name__
            sys.stderr.write(json.dumps(line) + "\n")
        except Exception:  # logging must never stop a worker; say only that it failed
            sys.stderr.write('{"event": "log.unwritable", "level": "error"}\n')


def _type_only(arg: object) -> object:
    return type(arg).__name__ if isinstance(arg, BaseException) else arg
