"""Acknowledging a file the way the pipeline does, with a fixed clock, for tests."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from edi.acks import Acknowledgment, CountingControlNumbers, Responder, acknowledge
from edi.findings import FileCheck
from edi.validators.implementation_guide import EnvelopePolicy, check_stream

WHEN = datetime(2026, 11, 23, 12, 0)


def check_file(path: Path, any_receiver: bool = False) -> FileCheck:
    policy = EnvelopePolicy(receiver_ids=None) if any_receiver else EnvelopePolicy()
    with path.open("rb") as stream:
        return check_stream(stream, policy)


def ack_for(path: Path, any_receiver: bool = False) -> Acknowledgment:
    return acknowledge(check_file(path, any_receiver),
                       Responder(when=WHEN, control=CountingControlNumbers()))


def without_envelope_noise(text: str) -> list[str]:
    """Segments with control numbers and timestamps of our own envelope blanked."""
    blank = {"ISA": (9, 10, 13), "GS": (4, 5, 6), "GE": (2,), "IEA": (2,)}
    out = []
    for segment in re.split(r"~\n?", text.strip()):
        if not segment:
            continue
        elements = segment.split("*")
        for position in blank.get(elements[0], ()):
            if position < len(elements):
                elements[position] = "#"
        out.append("*".join(elements))
    return out
