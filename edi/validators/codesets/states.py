"""US state and Canadian province codes (X12 element 156, code source 22).

The list is pyx12's ``map/codes.xml`` code set ``states``: the one pyx12's 835 guide
(X221A1) applies to the payee's N402, which the 837P guide (X222A1) leaves unchecked.
A billing or pay-to state the front end let through and the 835 could not carry would
make the payee's 835 fail its check before release, holding back the whole payment
cycle; checking the 837P against the same list keeps the two in step.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyx12.codes import ExternalCodes


@functools.cache
def _codes() -> ExternalCodes:
    from pyx12.codes import ExternalCodes  # when first asked: adjudication imports the
    # code sets for ICD-10-CM and never loads pyx12

    return ExternalCodes()


def is_valid_state(code: str) -> bool:
    """Whether ``code`` is a state or province code (case matters: ``va`` is not)."""
    return bool(_codes().isValid("states", code))
