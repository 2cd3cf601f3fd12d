"""Memory between steps (workers/collector.py): the collector switch held while a batch
is decided, and freed pages returned after a step."""

from __future__ import annotations

import gc
import platform
import threading
from pathlib import Path

import pytest

from workers.collector import cyclic_gc_held_off, release_free_memory


@pytest.fixture(autouse=True)
def _collector_on() -> None:
    gc.enable()


def test_the_collector_is_off_inside_and_back_on_after_even_when_the_batch_fails() -> None:
    with pytest.raises(RuntimeError), cyclic_gc_held_off():
        assert not gc.isenabled()
        raise RuntimeError("an engine fault")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with cyclic_gc_held_off():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_batches_in_threads_turn_it_on_only_when_the_last_one_ends() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with cyclic_gc_held_off():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with cyclic_gc_held_off():
            second_in.set()
            first_out.wait(5)
            seen.append(gc.isenabled())  # the first batch ended: still off for this one
        seen.append(gc.isenabled())

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [False, True]


@pytest.mark.skipif(not Path("/proc/self/status").exists() or platform.libc_ver()[0] != "glibc",
                    reason="resident size read from /proc; malloc_trim is glibc's")
def test_memory_a_step_freed_goes_back_to_the_system_though_some_of_it_survives() -> None:
    # Given 250 MB of blocks freed, with one block in a thousand still alive among them
    blobs = [bytes(1000 + i % 500) for i in range(200_000)]
    survivors = blobs[::1000]
    del blobs
    before = _resident_mb()
    # When the step's memory is released
    release_free_memory()
    # Then most of what was freed leaves the process (glibc keeps it otherwise)
    assert before - _resident_mb() > 100
    assert len(survivors) == 200


def _resident_mb() -> int:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) // 1024
