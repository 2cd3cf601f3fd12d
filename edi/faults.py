"""Engine faults: an exception from the engine's own code that a catch-all turned into
a rejection, so one bad claim or set never stops the file.

Such a rejection hides a bug, so every one is logged and counted. The log names the
place and the exception's type and the line that raised it, never its message (a
message can quote a value from the claim).
"""

from __future__ import annotations

import logging
import traceback
from collections import Counter

log = logging.getLogger("claims.engine")

FAULTS: Counter[str] = Counter()
"""Faults by place since the process started (for `claims status` and metrics)."""


def record_fault(where: str, exc: BaseException) -> None:
    """Count and log an engine fault at ``where``, without the exception's message."""
    FAULTS[where] += 1
    frames = traceback.extract_tb(exc.__traceback__)
    at = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else "?"
    log.error("engine.fault where=%s error=%s at=%s count=%d", where, type(exc).__name__, at,
              FAULTS[where])
