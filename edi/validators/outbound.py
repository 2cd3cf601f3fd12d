"""Check what the engine itself writes (999, 277CA, 835) with pyx12's maps."""

from __future__ import annotations

import io

from edi.validators.implementation_guide import OUTBOUND_GROUPS, EnvelopePolicy, check_stream


def outbound_problems(text: str) -> list[str]:
    """pyx12's objections to a 999, 277CA or 835 the engine wrote (empty when valid)."""
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
