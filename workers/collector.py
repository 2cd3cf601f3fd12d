"""The cyclic garbage collector held off while one batch of claims is decided.

A batch builds some hundred thousand short-lived objects (parsed claims, trace steps,
decisions) that reference counting frees on its own: they form no cycles. Python's
cyclic collector still walks the young ones every 700 allocations and, every so often,
everything alive, which cost adjudication about a third of its time (`make bench`).
Holding it off for one batch bounds what can wait to the batch; it runs again after.

The collector is one switch for the whole process, and the service runs batches in
threads: the switch is held by a count, off while any batch runs, back to what it
was when the last one ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def cyclic_gc_held_off() -> Iterator[None]:
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
