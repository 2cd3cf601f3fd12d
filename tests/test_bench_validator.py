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
from workers.bench import in_subprocess


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
    assert set(result) >= {"seconds", "cpu_seconds", "peak_rss_mb"}
    assert result["seconds"] > 0 and result["peak_rss_mb"] > 0
    assert result.get("claims", 12) == 12  # pyx12's step counts the file's claims
    assert all(module in sys.modules for module in bench_validator.STEPS[step].modules)


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


def _result(seconds: float, peak: float = 30.0) -> dict[str, float]:
    return {"seconds": seconds, "cpu_seconds": seconds, "peak_rss_mb": peak}


def test_the_targets_are_read_against_the_run_and_say_what_3000_claims_a_second_is_that_day(
) -> None:
    # Given a run's best results (chosen by hand: pyx12 at 500 claims/s on 20,000 claims,
    # the compiled check 32x, the front end at 2,500 claims/s; on 200,000 claims pyx12 at
    # 400, the front end at 3,200 and 151 MB)
    results = {
        1_000: {"pyx12": _result(2.0), "compiled": _result(0.1), "front": _result(0.5, 80.0)},
        20_000: {"pyx12": _result(40.0), "compiled": _result(1.25),
                 "front": _result(8.0, 145.0)},
        200_000: {"pyx12": _result(500.0), "compiled": _result(13.0),
                  "front": _result(62.5, 151.0)},
    }
    # Then each target is read as the issue states it, the front end's also as a ratio
    assert bench_validator.targets(results) == [
        "validation + 999 at 20x pyx12 or more on 20,000 claims: 32.0x, met",
        "whole front end at 3,000 claims/s or more on 20,000 claims: 2,500, NOT met; pyx12 "
        "ran at 500 claims/s, so the target was 6.0x pyx12 in this run (15x when the issue "
        "was filed) and the front end ran at 5.0x",
        "whole front end at 3,000 claims/s or more on 200,000 claims: 3,200, met; pyx12 ran "
        "at 400 claims/s, so the target was 7.5x pyx12 in this run (15x when the issue was "
        "filed) and the front end ran at 8.0x",
        "whole front end's peak RSS under 150 MB at 200,000 claims: 151 MB, NOT met; +6 MB "
        "from 20,000 claims",
    ]
    # and a run without the large files names only what it measured
    assert bench_validator.targets({1_000: results[1_000]}) == []


@pytest.mark.parametrize("arguments", [["--help"], ["20000", "many"], ["0"], ["-5"]])
def test_a_bad_size_on_the_command_line_is_a_clear_error(arguments: list[str]) -> None:
    with pytest.raises(SystemExit, match=r"usage: python -m workers\.bench_validator"):
        bench_validator.sizes_of(arguments)


def test_the_sizes_named_are_measured_or_the_default_ones() -> None:
    assert bench_validator.sizes_of(["1000", "20000"]) == (1000, 20000)
    assert bench_validator.sizes_of([]) == bench_validator.SIZES


def test_a_step_that_fails_says_why_without_a_traceback_of_the_bench(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"the 'split' step failed on missing\.837") as failed:
        in_subprocess("workers.bench_validator", "split", tmp_path / "missing.837")
    assert "FileNotFoundError" in str(failed.value)


def test_a_step_reports_its_own_peak_memory_not_the_bench_process_it_came_from(
        small_file: Path) -> None:
    """Linux keeps a forked process's peak RSS across exec (``ru_maxrss``): each step
    reads its own program's peak (VmHWM), so a large bench process does not raise it."""
    ballast = bytearray(300 * 2**20)
    ballast[::4096] = b"\1" * len(range(0, len(ballast), 4096))  # every page resident
    split = in_subprocess("workers.bench_validator", "split", small_file)
    assert len(ballast) and split["peak_rss_mb"] < 200


def test_the_shapes_bench_writes_the_same_claims_in_each_shape(tmp_path: Path) -> None:
    from edi.acks import CountingControlNumbers, Responder, acknowledge
    from edi.validators.compiled import check_stream
    from workers import bench_shapes

    files = bench_shapes.shapes(tmp_path, 8)
    assert [(label, count) for label, _path, count in files] == [
        ("5,000 claims a set", 8), ("one claim a set", 8), ("one claim a set, a quarter", 2),
        ("one claim an interchange", 8)]
    for label, path, count in files:
        text = path.read_text()
        with path.open("rb") as stream:
            check = check_stream(stream)
        ack = acknowledge(check, Responder(when=bench_validator.datetime.now(
            tz=bench_validator.UTC), control=CountingControlNumbers()))
        # every shape is accepted whole, with its claims in the sets the label says
        assert ack.code == "A" and text.count("~CLM*") + text.count("\nCLM*") == count
        sets = sum(1 for _ts in check.each_transaction_set())
        assert sets == (1 if label.startswith("5,000") else count), label
        interchanges = len(check.interchanges)
        assert interchanges == (count if label.endswith("interchange") else 1), label
    # one step measured on one shape, as `make bench` runs it
    result = in_subprocess("workers.bench_shapes", "front", files[3][1])
    assert result["seconds"] > 0 and result["peak_rss_mb"] > 0
