"""The engine's exceptions.

    EdiError
     ├── X12SyntaxError      the bytes are not a well-formed interchange (answered with a TA1)
     ├── WriterError         a caller asked the writer for something X12 cannot carry
     └── ParseError          a transaction set cannot be read into the typed 837P models

Exceptions never carry element values from a claim (no PHI): only positions,
segment IDs, control numbers and codes.
"""

from __future__ import annotations

import copyreg
from typing import Any, SupportsIndex

from edi.segment_ids import safe_segment_id


class EdiError(Exception):
    """Base class of the engine's X12 errors."""


class X12SyntaxError(EdiError):
    """The data cannot be read as an X12 interchange.

    ``code`` is the TA105 interchange note code (X12 element I18) that answers it,
    ``element`` the ISA element position at fault when there is one.
    """

    def __init__(self, message: str, *, code: str = "022", element: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.element = element


class WriterError(EdiError):
    """A value cannot be written with the chosen delimiters."""


class ParseError(EdiError):
    """A transaction set cannot be read into the typed 837P claim models.

    ``position`` is the 1-based ordinal of the offending segment within its transaction
    set (ST = 1), or within the file for a segment outside any transaction set
    (``in_transaction_set`` tells which); ``file_position`` is always the file ordinal.
    The message names the position, the segment ID and a fixed reason, never a value;
    ``segment_id`` is the ID as read when X12 defines it, else a placeholder
    (`segment_ids.safe_segment_id`).
    """

    def __init__(
        self,
        reason: str,
        *,
        position: int,
        segment_id: str,
        file_position: int,
        in_transaction_set: bool = True,
    ) -> None:
        where = "transaction set" if in_transaction_set else "file"
        # the ID may be whatever the reader took for one: kept, and named, only if X12
        # defines it
        self.segment_id = safe_segment_id(segment_id)
        super().__init__(f"segment {position} ({self.segment_id}) of the {where}: {reason}")
        self.reason = reason
        self.position = position
        self.file_position = file_position
        self.in_transaction_set = in_transaction_set

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        """Pickled as the object it is (its keyword-only arguments are not in ``args``):
        a spooled set outcome holds its reading's `ParseError`."""
        return (copyreg.__newobj_ex__,  # type: ignore[attr-defined]
                (type(self), self.args, {}), self.__dict__)
