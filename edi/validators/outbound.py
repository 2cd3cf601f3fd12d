"""Check what the engine itself writes (999, 277CA, 835) with pyx12's maps."""

from __future__ import annotations

import io

from edi.validators.implementation_guide import OUTBOUND_GROUPS, EnvelopePolicy, check_stream

_ISA_LENGTH = 106


def outbound_problems(text: str) -> list[str]:
    """pyx12's objections to a 999, 277CA or 835 the engine wrote (empty when valid).

    Each interchange is checked on its own: a file answering two interchanges holds
    two, and one may be a TA1 alone (IEA01 0, no GS), which the walk would otherwise
    read as a GS missing from the interchange before it."""
    problems: list[str] = []
    for interchange in _interchanges(text):
        problems += _problems(interchange)
    return problems


def _interchanges(text: str) -> list[str]:
    """The text cut before each ISA after the first (as written: whole segments)."""
    if not text.startswith("ISA") or len(text) < _ISA_LENGTH:
        return [text]
    terminator = text[_ISA_LENGTH - 1]
    pieces: list[str] = []
    start = 0
    for segment_end in _ends(text, terminator):
        if text[segment_end:].lstrip("\r\n").startswith("ISA"):
            pieces.append(text[start:segment_end])
            start = segment_end
    return [*pieces, text[start:]]


def _ends(text: str, terminator: str) -> list[int]:
    """Offsets just after each segment terminator (and the line break that follows it)."""
    ends = []
    at = text.find(terminator)
    while at != -1:
        end = at + 1
        while end < len(text) and text[end] in "\r\n":
            end += 1
        ends.append(end)
        at = text.find(terminator, end)
    return ends


def _problems(text: str) -> list[str]:
    policy = EnvelopePolicy(receiver_ids=None, groups=OUTBOUND_GROUPS)
    check = check_stream(io.BytesIO(text.encode("latin-1")), policy)
    problems: list[str] = []
    if check.unreadable is not None:
        problems += check.unreadable.sentences
    for ic in check.interchanges:
        problems += ic.sentences
        for group in ic.groups:
            problems += group.sentences + [f"AK905 {code}" for code in group.syntax_codes]
            for ts in group.transaction_sets:
                problems += ts.sentences + [f"IK502 {code}" for code in ts.syntax_codes]
                for seg in ts.segments:
                    problems += list(seg.sentences)
    return problems
