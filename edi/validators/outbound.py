"""Check what the engine itself writes (999, 277CA, 835) with pyx12's maps.

An interchange of 835s (every payment cycle checks each 835 it writes before releasing
any) is checked on the compiled tables of pyx12's X221A1 map, which give pyx12's own
verdicts (tests/test_compiled_validator.py compares them on the public 835s, the
engine's and their mutants); the 999 and 277CA on pyx12's own path.
"""

from __future__ import annotations

import io
import re
from itertools import pairwise

from edi.isa import ISA_LENGTH
from edi.validators.compiled import check_stream
from edi.validators.implementation_guide import OUTBOUND_GROUPS, EnvelopePolicy


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
    """The text cut before each ISA after the first (as written: whole segments), each
    cut just after a segment terminator and the line breaks that follow it."""
    if not _opens_with_isa(text):
        return [text]
    opening = re.compile(re.escape(text[ISA_LENGTH - 1]) + r"[\r\n]*(?=ISA)")
    bounds = [0, *(found.end() for found in opening.finditer(text)), len(text)]
    return [text[start:end] for start, end in pairwise(bounds)]


def policy_for(text: str) -> EnvelopePolicy:
    """The outbound groups one interchange holds (each GS01 after a segment terminator):
    an interchange of one kind is checked with that kind's map alone, which the compiled
    tables may hold (`compiled.compiled_map`). Anything else (a kind the engine does not
    write, a text that does not open with a whole ISA) takes every outbound group, so a
    group read wrongly here is refused, never let through."""
    if not _opens_with_isa(text):
        return EnvelopePolicy(receiver_ids=None, groups=OUTBOUND_GROUPS)
    element, terminator = re.escape(text[3]), re.escape(text[ISA_LENGTH - 1])
    kinds = set(re.findall(rf"{terminator}\s*GS{element}([^{element}{terminator}]*)", text))
    groups = {key: found for key, found in OUTBOUND_GROUPS.items() if key[0] in kinds}
    return EnvelopePolicy(receiver_ids=None,
                          groups=groups if len(groups) == len(kinds) else OUTBOUND_GROUPS)


def _opens_with_isa(text: str) -> bool:
    """Whether the text opens with a whole ISA, whose delimiters can be read."""
    return text.startswith("ISA") and len(text) >= ISA_LENGTH


def _problems(text: str) -> list[str]:
    check = check_stream(io.BytesIO(text.encode("latin-1")), policy_for(text))
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
