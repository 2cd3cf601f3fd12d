"""The validator bench's steps, each on a small generated file of three transaction sets
(`make bench` runs them on 1,000 to 200,000 claims): every step accepts the file it
measures (a step raises SystemExit otherwise), and the modules each step imports before
its clock starts exist."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fixtures.generator import write_837
from workers import bench_phases, bench_validator


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "bench-12.837"
    with path.open("w", newline="") as out:
        write_837(out, claims=12, seed=12, claims_per_transaction=5)
    return path


@pytest.mark.parametrize("step", bench_validator.STEPS)
def test_each_step_accepts_and_measures_the_generated_file(
        step: str, small_file: Path) -> None:
    result = bench_validator.run_one(step, small_file)
    assert set(result) == {"seconds", "cpu_seconds", "peak_rss_mb"}
    assert result["seconds"] > 0 and result["peak_rss_mb"] > 0
    assert all(module in sys.modules for module in bench_validator.MODULES[step])


def test_every_step_names_the_modules_it_imports() -> None:
    assert set(bench_validator.MODULES) == set(bench_validator.STEPS)


def test_the_phases_are_the_parts_less_what_they_contain() -> None:
    # Given measured parts (seconds chosen by hand)
    best = {"check": 1.0, "segments": 0.5, "reader": 2.5, "edits": 1.5, "pass": 6.0,
            "pass+spool": 7.0, "whole": 8.0}
    shares = bench_phases.phases(best)
    # Then the reader excludes the segments, the collector is the rest of the pass, and
    # the phases add up to the whole
    assert shares == {
        "compiled check": 1.0, "837P reader (typed models)": 2.0,
        "edits, fingerprint, kept JSON": 1.5, "collector bookkeeping and segments": 1.5,
        "spool writes": 1.0, "answers (spool loads, numbers, summaries, 277CA)": 1.0}
    assert sum(shares.values()) == best["whole"]


def test_every_part_is_measured_on_a_generated_file(small_file: Path) -> None:
    best = bench_phases.measure(small_file, rounds=1)
    assert set(best) == {"check", "segments", "reader", "edits", "pass", "pass+spool", "whole"}
    assert all(seconds > 0 for seconds in best.values())
