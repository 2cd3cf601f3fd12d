"""The line of business of a claim the front end rejected, named when it is answered.

A rejected claim is never adjudicated, so no decision names its line of business;
yet the review queue of rejections filters by it as the other queues do. The set's
answer step names it as adjudication would (`adjudication.engine.line_of_business`:
the member the claim identifies, then the coverage the claim would be reported
under), from the reference data adjudication reads, as of the run's date, and keeps
it on the claim row (``claims.line_of_business``, store revision 0008).

It is `UNKNOWN` when it cannot be named: no member matches, the member has no
coverage on file, the set could not be read, the run has no reference data (front end
only), or the engine faulted (counted, never a lost answer).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from adjudication.engine import line_of_business
from adjudication.rules.member import PatientKey
from edi.faults import record_fault
from workers.reference_store import ReferenceSource

UNKNOWN = "unknown"


def rejected_lines_of_business(session: Session, source: ReferenceSource | None,
                               patients: Sequence[PatientKey | None],
                               as_of: date) -> list[str]:
    """Each claim's line of business (`UNKNOWN` when it cannot be named), in order."""
    keys = [key for key in patients if key is not None]
    if source is None or not keys:
        return [UNKNOWN] * len(patients)
    reference = source.for_claims(session, {k.subscriber_id for k in keys if k.subscriber_id},
                                  ())
    found = []
    for key in patients:
        lob = None
        if key is not None:
            try:
                lob = line_of_business(key, reference, as_of)
            except Exception as exc:  # an engine bug: the claim is answered all the same
                record_fault("line-of-business", exc)
        found.append(UNKNOWN if lob is None else lob.value)
    return found
