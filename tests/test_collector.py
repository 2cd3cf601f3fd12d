"""The collector switch held while a batch is decided (workers/collector.py)."""

from __future__ import annotations

import gc
import threading

import pytest

from workers.collector import cyclic_gc_held_off


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
