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
