"""The tokenizer reads what the writer writes, for any legal delimiters and content."""

from __future__ import annotations

import io
import string
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edi.errors import WriterError, X12SyntaxError
from edi.isa import Delimiters
from edi.tokenizer import iter_segments, segments_from_bytes
from edi.writer import X12Writer, format_segment, isa_elements

# Delimiters are printable, non-alphanumeric, and not a space.
_DELIMITER_CHARS = [c for c in string.punctuation] + ["\x1c", "\x1d", "\x1e", "\x1f", "\n", "\r"]


@st.composite
def delimiters(draw: st.DrawFn) -> Delimiters:
    chosen = draw(st.lists(st.sampled_from(_DELIMITER_CHARS), min_size=4, max_size=4,
                           unique=True))
    return Delimiters(element=chosen[0], component=chosen[1], repetition=chosen[2],
                      segment=chosen[3])


def _content(forbidden: set[str]) -> st.SearchStrategy[str]:
    alphabet = [c for c in string.ascii_letters + string.digits + string.punctuation + " "
                if c not in forbidden]
    return st.text(alphabet=alphabet, min_size=1, max_size=12).map(str.strip).filter(bool)


@st.composite
def interchange(draw: st.DrawFn) -> tuple[Delimiters, list[list[str]], str]:
    d = draw(delimiters())
    forbidden = set(d)
    value = _content(forbidden)
    segments: list[list[str]] = []
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        seg_id = draw(st.sampled_from(["NM1", "CLM", "SV1", "REF", "HI", "DTP", "N3"]))
        elements = draw(st.lists(st.one_of(value, st.just("")), min_size=0, max_size=8))
        while elements and elements[-1] == "":
            elements.pop()
        segments.append([seg_id, *elements])
    # a line break after each terminator, of the characters it is not (a CR terminator
    # followed by LF is a file with CRLF lines)
    line_break = draw(st.sampled_from([b for b in ("", "\n", "\r\n") if d.segment not in b]))
    return d, segments, line_break


def _write(d: Delimiters, segments: list[list[str]], line_break: str) -> bytes:
    out = io.StringIO()
    writer = X12Writer(out, delimiters=d, line_break=line_break)
    writer.write("ISA", *isa_elements(
        sender_qualifier="ZZ", sender_id="SENDER", receiver_qualifier="ZZ", receiver_id="87726",
        control_number=1, when=datetime(2026, 11, 23, 8, 30), delimiters=d,
    ))
    for seg in segments:
        writer.write(seg[0], *seg[1:])
    writer.write("IEA", "0", "000000001")
    return out.getvalue().encode("latin-1")


@settings(max_examples=300, deadline=None)
@given(interchange())
def test_write_then_read_is_the_identity_for_any_legal_delimiters(
    case: tuple[Delimiters, list[list[str]], str],
) -> None:
    # Given random legal delimiters and element content, written by the writer
    d, segments, line_break = case
    data = _write(d, segments, line_break)
    # When the tokenizer reads it back, in small chunks to cross chunk boundaries
    read = list(iter_segments(io.BytesIO(data), chunk_size=7))
    # Then the delimiters and every segment between ISA and IEA come back unchanged
    assert read[0].delimiters == d
    assert [s.elements for s in read[1:-1]] == segments
    assert read[-1].id == "IEA"


def test_each_interchange_of_a_file_uses_its_own_delimiters() -> None:
    # Given two interchanges written with different delimiters, one after the other
    first = _write(Delimiters("*", ":", "^", "~"), [["REF", "EI", "1"]], "\n")
    second = _write(Delimiters("|", ">", "!", "\n"), [["REF", "EI", "2"]], "")
    # When both are read as one file
    read = segments_from_bytes(first + second)
    # Then each segment is split with its own interchange's separators
    refs = [s for s in read if s.id == "REF"]
    assert [r.elements for r in refs] == [["REF", "EI", "1"], ["REF", "EI", "2"]]
    assert refs[1].delimiters.element == "|"


def test_a_byte_order_mark_and_crlf_line_breaks_are_tolerated() -> None:
    # Given a file that starts with a UTF-8 BOM and breaks lines with CRLF
    data = b"\xef\xbb\xbf" + _write(Delimiters(), [["N3", "1 MAIN ST"]], "\r\n")
    # When it is read
    read = segments_from_bytes(data)
    # Then the BOM and line breaks are not part of any segment
    assert [s.id for s in read] == ["ISA", "N3", "IEA"]


def test_components_and_repetitions_are_split_on_request() -> None:
    out = io.StringIO()
    X12Writer(out).write("SV1", ["HC", "90837", "HO"], "150")
    sv1 = out.getvalue().encode()
    read = segments_from_bytes(_write(Delimiters(), [], "").replace(b"IEA", sv1 + b"IEA"))
    assert read[1].components(1) == ["HC", "90837", "HO"]
    assert read[1].component(1, 3) == "HO"
    assert read[1].component(1, 4) == ""


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "023"),
        (b"   \r\n", "023"),
        (b"%PDF-1.4 not an interchange", "022"),
        (b"GS*HC*A*B*20260101*1200*1*X*005010X222A1~", "022"),
        (b"ISA*00*          *00*   ", "022"),
    ],
)
def test_data_that_is_not_an_interchange_raises_a_syntax_error_with_a_ta1_code(
    data: bytes, code: str
) -> None:
    with pytest.raises(X12SyntaxError) as raised:
        segments_from_bytes(data)
    assert raised.value.code == code


def test_an_isa_with_a_wrong_width_names_the_element() -> None:
    # Given an ISA whose sender ID (ISA06) is one character short
    good = _write(Delimiters(), [], "")
    bad = good.replace(b"SENDER         ", b"SENDER        ", 1)
    # When it is read
    with pytest.raises(X12SyntaxError) as raised:
        segments_from_bytes(bad)
    # Then the TA1 note code is the one for an invalid sender ID
    assert raised.value.code == "006"
    assert raised.value.element == 6


@pytest.mark.parametrize("separator", [b"A", b"7", b" "])
def test_an_isa_whose_element_separator_is_a_letter_digit_or_space_is_refused(
        separator: bytes) -> None:
    # Given an interchange written with "*" as element separator, then "*" replaced
    good = _write(Delimiters(), [], "")
    bad = good[:106].replace(b"*", separator) + good[106:]
    # When it is read, Then the TA1 note code is 026 (invalid data element separator)
    with pytest.raises(X12SyntaxError) as raised:
        segments_from_bytes(bad)
    assert raised.value.code == "026"


def test_a_file_cut_short_inside_the_interchange_is_a_premature_end() -> None:
    data = _write(Delimiters(), [["N3", "1 MAIN ST"]], "\n")
    with pytest.raises(X12SyntaxError) as raised:
        segments_from_bytes(data[:-25])
    assert raised.value.code == "023"


@pytest.mark.parametrize("elements", [
    ["A*B"], ["A:B"], ["A^B"], ["A~B"],  # a simple value, each separator
    [["HC", "90*837"], "1"], [["HC", "90~837"], "1"],  # a component
    [["HC", "90837"], "A:B"], [["HC", "90837"], "A^B"],  # a simple value beside a composite
    ["", "", "x*"],  # after empty elements
])
def test_the_writer_refuses_a_value_containing_a_delimiter(elements: list[object]) -> None:
    with pytest.raises(WriterError):
        format_segment("NM1", elements)  # type: ignore[arg-type]


def test_the_writer_refuses_the_separators_in_force_not_the_default_ones() -> None:
    other = Delimiters(element="|", component=">", repetition="", segment="\n")
    assert format_segment("NM1", ["A*B:C^D~", ["1", "2"]], other) == "NM1|A*B:C^D~|1>2"
    for bad in (["A|B"], ["A>B"], [["1", "2>"]], ["A\nB"]):
        with pytest.raises(WriterError):
            format_segment("NM1", bad, other)  # type: ignore[arg-type]


def test_the_writer_drops_trailing_empty_elements_and_components() -> None:
    assert format_segment("SV1", [["HC", "90837", ""], "150", "", ""]) == "SV1*HC:90837*150"


def test_a_segment_past_the_length_cap_is_cut_and_the_rest_skipped_unheld() -> None:
    # Given an N3 segment of 20 MB, bigger than the 1 MB chunks the stream is read in
    import tracemalloc

    from edi.tokenizer import MAX_SEGMENT_LENGTH

    huge = "N3*" + "X" * 20_000_000
    data = _write(Delimiters(), [["N3", "1 MAIN ST"], ["REF", "EI", "1"]], "\n").replace(
        b"REF*", huge.encode() + b"~\nREF*", 1)
    # When it is read
    tracemalloc.start()
    read = segments_from_bytes(data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # Then the segment comes out cut at the cap, says so, and the next one is intact
    cut = read[2]
    assert cut.id == "N3" and cut.cut == "length"
    assert MAX_SEGMENT_LENGTH - 2 <= len("*".join(cut.elements)) <= MAX_SEGMENT_LENGTH
    assert [s.id for s in read] == ["ISA", "N3", "N3", "REF", "IEA"]
    assert read[3].elements == ["REF", "EI", "1"] and read[3].cut == ""
    # and the 20 MB were never held (the input itself is not traced: it is 20 MB of bytes
    # made before tracing started)
    assert peak < 8_000_000, peak


def test_a_segment_with_more_than_99_elements_is_cut_at_the_99th() -> None:
    data = _write(Delimiters(), [["NM1", *["A"] * 150], ["N3", "1 MAIN ST"]], "")
    read = segments_from_bytes(data)
    assert read[1].cut == "elements" and len(read[1]) == 99
    assert read[2].cut == "" and read[2].elements == ["N3", "1 MAIN ST"]


def test_a_file_ending_inside_an_overlong_segment_is_a_premature_end() -> None:
    data = _write(Delimiters(), [], "").replace(b"IEA*", b"N3*" + b"X" * 3_000_000, 1)
    with pytest.raises(X12SyntaxError) as raised:
        segments_from_bytes(data)
    assert raised.value.code == "023"


@pytest.mark.parametrize("chunk_size", [1, 7, 4096, 1 << 20])
def test_any_chunk_size_cuts_the_same_segments(chunk_size: int) -> None:
    """Whole segments already read are split at once, the rest one at a time: both give
    the same segments, cuts and delimiters wherever the chunks end (here line breaks,
    a second interchange with other delimiters, a segment past the length bound and one
    past the element bound)."""
    from edi.tokenizer import MAX_ELEMENTS, MAX_SEGMENT_LENGTH, iter_raw_segments
    from tests.paths import ACK_FIXTURES

    sample = (ACK_FIXTURES / "valid-two-claims.837").read_bytes()
    other = sample.replace(b"*", b"|").replace(b"~", b"!")
    long_name = b"NM1*IL*1*" + b"X" * (MAX_SEGMENT_LENGTH + 10) + b"~"
    many = b"REF*" + b"*".join([b"E"] * (MAX_ELEMENTS + 5)) + b"~"
    body = sample.replace(b"\nSE*", b"\n" + long_name + many + b"SE*", 1)
    data = body.replace(b"~\n", b"~\r\n") + b"\n" + other

    def segments(size: int) -> list[tuple[str, str, str]]:
        return [(raw.text, raw.cut, raw.delimiters.element)
                for raw in iter_raw_segments(io.BytesIO(data), chunk_size=size)]

    expected = segments(1 << 22)  # the whole file in one read
    assert segments(chunk_size) == expected
    assert {cut for _text, cut, _e in expected} == {"", "length", "elements"}
    assert {element for _text, _cut, element in expected} == {"*", "|"}
