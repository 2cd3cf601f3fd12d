"""Where test inputs live: the shared public corpus beside the clone, and fixtures."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "public"
FIXTURES = ROOT / "fixtures"
ACK_FIXTURES = FIXTURES / "ack"


def corpus_837p() -> list[Path]:
    return _corpus("837p")


def corpus_835() -> list[Path]:
    return _corpus("835")


def _corpus(kind: str) -> list[Path]:
    files = sorted(p for p in (CORPUS / kind).iterdir() if p.is_file())
    if not files:  # the corpus is part of the contract: its absence is a failure
        raise FileNotFoundError(f"no public {kind} corpus at {CORPUS}")
    return files
