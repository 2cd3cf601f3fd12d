"""Adjudication batches: at most `adjudication_step.BATCH` claims and
`adjudication_step.BATCH_CHARACTERS` of their stored JSON a transaction, at least one
claim, and the same decisions whatever the batches."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from fixtures.generator import default_receipt_date, write_837
from store.models import Claim, Event
from tests.databases import run_store
from workers import adjudication_step
from workers.cli import app
from workers.summary import RunSummary

runner = CliRunner()
SEED = 12


def _process(tmp_path: Path) -> tuple[RunSummary, list[int], list[int]]:
    """The run's summary, the claims of each adjudication batch in order, and each
    accepted claim's stored JSON length in the order batches take them."""
    tmp_path.mkdir(parents=True)
    source = tmp_path / "claims.837"
    with source.open("w", newline="") as out:
        write_837(out, claims=12, seed=SEED, claims_per_transaction=5)
    day = default_receipt_date(SEED).isoformat()
    result = runner.invoke(app, ["process", str(source), "--out", str(tmp_path / "out"),
                                 "--quiet", "--as-of", day, "--received", day, "--no-remit"])
    assert result.exit_code == 0, result.output
    summary = RunSummary.model_validate_json((tmp_path / "out" / "summary.json").read_text())
    store = run_store(tmp_path / "out")
    try:
        with store.transaction() as s:
            batches = [e.detail["claims"] for e in s.scalars(
                select(Event).where(Event.kind == "batch.adjudicated").order_by(Event.id))]
            sizes = [len(parsed or "") for parsed in s.scalars(
                select(Claim.parsed).where(Claim.icn.is_not(None)).order_by(Claim.id))]
    finally:
        store.dispose()
    return summary, batches, sizes


def test_a_batch_stops_before_its_characters_run_out_and_decides_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole, batches, sizes = _process(tmp_path / "whole")
    assert batches == [len(sizes)] and len(sizes) > 4  # one batch of every accepted claim
    # a budget the first two claims fill, and less than any single claim
    for budget in (sizes[0] + sizes[1], min(sizes) - 1):
        monkeypatch.setattr(adjudication_step, "BATCH_CHARACTERS", budget)
        cut, batches, sizes = _process(tmp_path / f"cut-{budget}")
        assert cut.files[0].claims == whole.files[0].claims
        assert sum(batches) == len(sizes) and len(batches) > 1
        start = 0
        for count in batches:
            taken = sizes[start:start + count]
            assert sum(taken) <= budget or count == 1  # within the budget, or one claim
            # and the next claim did not fit
            assert start + count == len(sizes) or sum(taken) + sizes[start + count] > budget
            start += count
        if budget < min(sizes):
            assert set(batches) == {1}
        else:
            assert batches[0] == 2
