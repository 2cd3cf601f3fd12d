"""Where test inputs live: the shared public corpus beside the clone, and fixtures."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "public"
FIXTURES = ROOT / "fixtures"
ACK_FIXTURES = FIXTURES / "ack"


def corpus_837p() -> list[Path]:
    files = sorted((CORPUS / "837p").iterdir())
    if not files:  # the corpus is part of the contract: its absence is a failure
        raise FileNotFoundError(f"no public 837P corpus at {CORPUS}")
    return files
