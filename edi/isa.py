"""The interchange control header (ISA): its fixed width, and the delimiters read from it.

Every ISA is 106 characters: the element separator at offset 3, the repetition
separator ISA11 at offset 82, the component separator ISA16 at offset 104 and the
segment terminator at offset 105. The tokenizer (`edi.tokenizer`) reads each
interchange with the delimiters of its own ISA, and the data between interchanges
(`edi.between_interchanges`) is searched for the next ISA that can be read.
"""

from __future__ import annotations

from typing import NamedTuple

from edi.errors import X12SyntaxError

ISA_LENGTH = 106
ISA_ELEMENT_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
"""The fixed width of ISA01 .. ISA16."""


class Delimiters(NamedTuple):
    """The four X12 separators of one interchange."""

    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"

    def all(self) -> frozenset[str]:
        """The separator characters in force (no repetition separator is ``""``)."""
        return frozenset(c for c in self if c)


DEFAULT_DELIMITERS = Delimiters()


def delimiters_from_isa(isa: str) -> Delimiters:
    """Read the separators from a complete 106-character ISA segment.

    Raises `X12SyntaxError` naming the first ISA element whose width is wrong, so the
    envelope check can answer with the matching TA1 note code.
    """
    if not isa.startswith("ISA") or len(isa) < 4:
        raise X12SyntaxError("the interchange does not start with an ISA segment", code="022")
    element = isa[3]
    if element.isalnum() or element == " ":
        raise X12SyntaxError("the ISA element separator is not a delimiter", code="026")
    parts = isa.split(element)
    if len(parts) < 17:
        raise X12SyntaxError("the ISA segment has fewer than 16 elements", code="022")
    for position, width in enumerate(ISA_ELEMENT_WIDTHS, start=1):
        value = parts[position] if position < 16 else parts[16][:1]
        if len(value) != width:
            raise X12SyntaxError(
                f"ISA{position:02d} is {len(value)} characters long, the standard fixes {width}",
                code=isa_element_note_code(position),
                element=position,
            )
    if len(isa) < ISA_LENGTH:
        raise X12SyntaxError("the ISA segment is cut short", code="023")
    # ISA11 was the standards identifier ("U") before 5010; senders still put it there.
    # An alphanumeric ISA11 means the interchange has no repetition separator.
    repetition = "" if isa[82].isalnum() else isa[82]
    delimiters = Delimiters(element, isa[104], repetition, isa[105])
    chosen = delimiters.all()
    if len(chosen) != (4 if repetition else 3) or any(c.isalnum() for c in chosen):
        raise X12SyntaxError(
            "the ISA delimiters are not four distinct non-alphanumeric characters", code="026"
        )
    return delimiters


def isa_element_note_code(position: int) -> str:
    """TA105 note code (X12 element I18) for a bad ISA element at ``position``."""
    return {
        1: "010", 2: "011", 3: "012", 4: "013", 5: "005", 6: "006", 7: "007", 8: "008",
        9: "014", 10: "015", 11: "026", 12: "017", 13: "018", 14: "019", 15: "020", 16: "027",
    }[position]


def readable_isa(isa: str) -> bool:
    """Whether ``isa`` (106 characters) is an ISA whose delimiters can be read."""
    try:
        delimiters_from_isa(isa)
    except X12SyntaxError:
        return False
    return True
