"""`make bench`'s second part (`workers.bench`), each step on a small generated file of
three transaction sets: every step accepts the file and counts what it measured."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fixtures.generator import write_837
from workers import bench


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "bench-12.837"  # seed 12: its receipt date
    with path.open("w", newline="") as out:
        write_837(out, claims=12, seed=12, claims_per_transaction=5)
    return path


@pytest.mark.parametrize("step", bench.STEPS)
def test_each_step_takes_every_claim_of_the_generated_file(step: str, small_file: Path) -> None:
    result = bench.run_one(step, small_file)
    assert result["seconds"] > 0 and result["peak_rss_mb"] > 0
    assert all(module in sys.modules for module in bench.STEPS[step].modules)
    if step == "adjudicate":  # one decision per claim the front end accepts
        assert result["claims"] == len(_accepted_in_memory(small_file)) > 0
    else:
        assert result["claims"] == 12


def _accepted_in_memory(path: Path) -> list[object]:
    """The accepted claims as the two-pass front end held in memory finds them."""
    from edi.front_end import InMemoryClaimNumbers
    from edi.validators.compiled import check_stream
    from edi.validators.edits import EditContext
    from fixtures.generator import default_receipt_date
    from workers.front_end import run_front_end

    with path.open("rb") as stream:
        check = check_stream(stream)
    context = EditContext(received=default_receipt_date(12))
    return list(run_front_end(path, check, context, InMemoryClaimNumbers()).accepted)


def test_the_table_shows_each_steps_least_seconds_and_highest_peak_rss(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`main` over repeats whose best seconds and highest RSS come from different runs
    (as `workers.bench_validator` and `workers.bench_shapes` read theirs)."""
    first = {"seconds": 4.0, "cpu_seconds": 4.0, "peak_rss_mb": 90.0, "claims": 12}
    second = {"seconds": 2.0, "cpu_seconds": 2.0, "peak_rss_mb": 60.0, "claims": 12}
    measured = iter([first] * len(bench.STEPS) + [second] * len(bench.STEPS))
    order: list[str] = []

    def fake(module: str, step: str, path: Path) -> dict[str, float]:
        order.append(step)
        return next(measured)

    monkeypatch.setattr(bench, "in_subprocess", fake)
    monkeypatch.setattr(bench, "ensure_file", lambda claims: tmp_path / "bench.837")
    monkeypatch.setattr(bench, "SIZES", (12,))
    monkeypatch.setattr(bench, "REPEATS", {12: 2})
    bench.main()
    assert order == [*bench.STEPS, *bench.STEPS]  # the steps take turns
    rows = [line.split() for line in capsys.readouterr().out.splitlines()
            if line.startswith("     12")]
    assert len(rows) == len(bench.STEPS)
    for row in rows:  # claims/s, seconds, x pyx12, peak RSS
        assert row[-4:] == ["6", "2.00", "1.0", "90.0"]


def test_a_steps_own_peak_is_read_after_the_peak_of_what_ran_before_it() -> None:
    # Given a process that held 100 MB more and let it go
    ballast = bytearray(100 << 20)
    for at in range(0, len(ballast), 4096):
        ballast[at] = 1  # resident, page by page
    held = bench.peak_rss_mb()
    del ballast
    # When its peak is restarted, the peak is the resident size from then on
    if not bench.restart_peak_rss():
        pytest.skip("no /proc/self/clear_refs here: the bench reports no cycle peak")
    assert bench.peak_rss_mb() < held - 50
    assert bench.rss_mb() <= bench.peak_rss_mb() + 1
