"""The validator bench's steps, each on a small generated file of three transaction sets
(`make bench` runs them on 1,000 to 200,000 claims): every step accepts the file it
measures (a step raises SystemExit otherwise), and the modules each step imports before
its clock starts exist."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fixtures.generator import write_837
from workers import bench_validator


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
