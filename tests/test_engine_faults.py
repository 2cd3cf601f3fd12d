"""An engine bug caught by a catch-all is logged (no PHI) and counted, and fails closed."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from edi.faults import FAULTS
from store.models import Event
from tests.databases import run_store
from tests.paths import ACK_FIXTURES
from workers.cli import app
from workers.summary import RunSummary

runner = CliRunner()
SECRET = "JESSUP LENA 944749930"


def _process(tmp_path: Path) -> RunSummary:
    inbound = tmp_path / "inbound"
    inbound.mkdir()
    shutil.copy(ACK_FIXTURES / "valid-two-claims.837", inbound / "a.837")
    result = runner.invoke(app, ["process", str(inbound / "a.837"), "--out",
                                 str(tmp_path / "out"), "--quiet", "--as-of", "2026-11-23",
                                 "--received", "2026-11-23"])
    assert result.exit_code == 0, result.output
    return RunSummary.model_validate_json((tmp_path / "out" / "summary.json").read_text())


def _fault_events(tmp_path: Path) -> list[dict[str, Any]]:
    store = run_store(tmp_path / "out")
    try:
        with store.transaction() as s:
            return [e.detail for e in s.scalars(select(Event).where(
                Event.kind == "engine.fault"))]
    finally:
        store.dispose()


def test_a_claim_the_engine_raises_on_is_pended_logged_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    from workers import adjudication_step

    real = adjudication_step.adjudicate

    def buggy(claim: Any, **kwargs: Any) -> Any:
        if claim.claim.patient_control_number == "PCN-0002":
            raise RuntimeError(SECRET)
        return real(claim, **kwargs)

    monkeypatch.setattr(adjudication_step, "adjudicate", buggy)
    before = FAULTS["adjudication"]
    with caplog.at_level(logging.ERROR, logger="claims.engine"):
        summary = _process(tmp_path)
    first, second = summary.files[0].claims
    assert first.status == "paid"
    assert (second.status, second.paid) == ("pended", "0.00")  # fails closed: nothing paid
    assert FAULTS["adjudication"] == before + 1
    assert "engine.fault where=adjudication error=RuntimeError" in caplog.text
    assert SECRET not in caplog.text
    assert _fault_events(tmp_path) == [{"where": "adjudication", "error": "RuntimeError"}]


def test_a_segment_the_guide_walk_raises_on_rejects_its_set_and_is_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    from edi.validators.compiled import steps as compiled_steps

    real = compiled_steps.walk_segment

    def buggy(walk: Any, src: Any, seg: Any, seg_id: str | None) -> Any:
        if seg_id == "CLM":
            raise ValueError(SECRET)
        return real(walk, src, seg, seg_id)

    # the engine's path is the compiled guide: a claim's first segment walks in full
    monkeypatch.setattr(compiled_steps, "walk_segment", buggy)
    before = FAULTS["guide-walk"]
    with caplog.at_level(logging.ERROR, logger="claims.engine"):
        summary = _process(tmp_path)
    (entry,) = summary.files
    assert entry.status == "rejected"
    assert {c.front_end for c in entry.claims} == {"not_reached"}
    assert FAULTS["guide-walk"] > before
    assert "engine.fault where=guide-walk error=ValueError" in caplog.text
    assert SECRET not in caplog.text
    assert [e["where"] for e in _fault_events(tmp_path)] == ["guide-walk"]
