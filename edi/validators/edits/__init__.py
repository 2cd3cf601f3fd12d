"""The front-end edits (SNIP 3-7 and payer 87726 rules), in the order they run.

    run_edits(claim, context) -> tuple[ClaimFinding, ...]   every finding of every edit
    EDITS                                                   the registered edits, as data

`docs/edits.md` is generated from `EDITS` (see `edi.validators.edits.catalog`).
"""

from __future__ import annotations

from edi.claim_status import ClaimFinding
from edi.claims import ParsedClaim
from edi.validators.edits import balancing, code_sets, payer, situational
from edi.validators.edits.base import REGISTRY, Edit, EditContext

#: In SNIP order (3, 4, 5, 7), and within a level in declaration order.
EDITS: tuple[Edit, ...] = tuple(sorted(REGISTRY, key=lambda e: e.snip_level))
_MODULES = (balancing, situational, code_sets, payer)


def run_edits(claim: ParsedClaim, context: EditContext) -> tuple[ClaimFinding, ...]:
    """All findings for one claim; an empty tuple means the front end accepts it."""
    findings: list[ClaimFinding] = []
    for one in EDITS:  # `Edit.run`, without a list per edit (sixteen a claim)
        findings.extend(one.check(one, claim, context))
    return tuple(findings)


__all__ = ["EDITS", "Edit", "EditContext", "run_edits"]
