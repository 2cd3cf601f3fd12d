"""The engine's exceptions.

    EdiError
     ├── X12SyntaxError      the bytes are not a well-formed interchange (answered with a TA1)
     └── WriterError         a caller asked the writer for something X12 cannot carry

Exceptions never carry element values from a claim (no PHI): only positions,
segment IDs, control numbers and codes.
"""

from __future__ import annotations


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
