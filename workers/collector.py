"""Memory between steps: the cyclic collector held off while one batch of claims is
decided, and freed heap pages handed back to the system after a step.

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

import ctypes
import ctypes.util
import gc
import threading
from collections.abc import Callable, Iterator
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


def collect_young() -> None:
    """Collect the youngest generation: the cycles, if any, one set or batch left behind
    while the collector was held off (the survivors move on to the older generations)."""
    gc.collect(0)


def _malloc_trim() -> Callable[[], object] | None:
    """glibc's ``malloc_trim(0)``, or None on a C library without it (musl, macOS)."""
    try:
        name = ctypes.util.find_library("c")
        trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None
    return (lambda: trim(0)) if trim is not None else None


_trim = _malloc_trim()


def release_free_memory() -> None:
    """Hand the heap pages freed by a finished step back to the system.

    A step frees nearly all it allocated (a set of 5,000 parsed claims, a batch's
    decisions), but glibc keeps freed pages in its heap, so a long run's resident
    size ratchets up to its largest step and stays there: 55 MB after the front end
    of a 100,000-claim file. Returning them keeps a worker's memory flat between
    steps. A no-op where the C library has no ``malloc_trim``.
    """
    if _trim is not None:
        _trim()
