"""Structured logs as JSON lines on stderr. Log control numbers and hashes, never PHI."""

from __future__ import annotations

import logging
import sys

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
