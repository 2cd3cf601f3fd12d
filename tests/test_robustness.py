"""Bad input never crashes the engine: it always answers with a TA1 or a valid 999."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi.acks import CountingControlNumbers, Responder, acknowledge
from edi.validators.implementation_guide import EnvelopePolicy, check_stream
from edi.validators.outbound import outbound_problems
from tests.paths import ACK_FIXTURES
from tests.pyx12_oracle import pyx12_accepts

BASE = (ACK_FIXTURES / "valid-two-claims.837").read_bytes()
BASE_SEGMENTS = [s for s in BASE.split(b"~\n") if s]
WHEN = datetime(2026, 11, 23, 12, 0)


def _answer(data: bytes) -> tuple[str, str]:
    check = check_stream(io.BytesIO(data), EnvelopePolicy())
    ack = acknowledge(check, Responder(when=WHEN, control=CountingControlNumbers()))
    return ack.kind, ack.text


def _assert_answered(data: bytes) -> None:
    kind, text = _answer(data)
    assert kind in ("999", "TA1")
    assert text.startswith("ISA*") and text.rstrip().endswith("~")
    if kind == "999":
        assert outbound_problems(text) == []
        # every transaction set of an accepted interchange is answered with an AK2
        received = data.count(b"\nST*") + data.startswith(b"ST*")
        assert text.count("AK2*") <= received
    else:
        assert "TA1*" in text
        assert pyx12_accepts(text), text[:300]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_always_get_an_acknowledgment(data: bytes) -> None:
    _assert_answered(data)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes_after_a_valid_isa_always_get_an_acknowledgment(tail: bytes) -> None:
    _assert_answered(BASE[:107] + tail)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    segments = list(BASE_SEGMENTS)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        op = draw(st.sampled_from(["drop", "duplicate", "swap", "change", "truncate", "bytes"]))
        i = draw(st.integers(min_value=1, max_value=len(segments) - 1))
        if op == "drop":
            del segments[i]
        elif op == "duplicate":
            segments.insert(i, segments[i])
        elif op == "swap":
            j = draw(st.integers(min_value=1, max_value=len(segments) - 1))
            segments[i], segments[j] = segments[j], segments[i]
        elif op == "change":
            elements = segments[i].split(b"*")
            k = draw(st.integers(min_value=0, max_value=len(elements) - 1))
            elements[k] = draw(st.binary(max_size=12)).replace(b"~", b"")
            segments[i] = b"*".join(elements)
        elif op == "truncate":
            segments = segments[:i]
        else:
            segments.insert(i, draw(st.binary(min_size=1, max_size=20)).replace(b"~", b""))
        if len(segments) < 2:
            break
    return b"~\n".join(segments) + b"~\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_valid_files_always_get_a_valid_acknowledgment(data: bytes) -> None:
    # Given a valid 837P with segments dropped, duplicated, swapped, changed or cut off
    # When the engine checks and acknowledges it
    # Then it answers, and any 999 it writes is valid for pyx12
    _assert_answered(data)


def test_errors_reported_in_a_999_are_capped_per_set() -> None:
    """5,000 empty segments inside a claim: the set is rejected, the 999 lists the first
    100 segment errors (MAX_SEGMENT_ERRORS_PER_SET), not 5,000, and stays valid."""
    from edi.findings import MAX_SEGMENT_ERRORS_PER_SET

    source = (ACK_FIXTURES / "valid-two-claims.837").read_bytes()
    after_clm = source.index(b"~", source.index(b"CLM*")) + 1
    data = source[:after_clm] + b"~" * 5000 + source[after_clm:]
    kind, text = _answer(data)
    segments = [s.strip() for s in text.split("~")]
    assert kind == "999"
    assert sum(1 for s in segments if s.startswith("IK3*")) == MAX_SEGMENT_ERRORS_PER_SET == 100
    assert any(s.startswith("IK5*R") for s in segments)
    assert outbound_problems(text) == []


@pytest.mark.parametrize("path", ["pyx12", "compiled"])
def test_a_set_keeps_only_the_segment_findings_its_999_names(path: str) -> None:
    """20,000 NTE segments in a claim, each beyond the one the guide allows: both checks
    keep the set's first 100 findings, in segment order, not 20,000 (about 14 MB held
    until the 999, from a 300 KB file)."""
    from edi.findings import MAX_SEGMENT_ERRORS_PER_SET
    from edi.validators import compiled

    check_of = compiled.check_stream if path == "compiled" else check_stream
    after_clm = BASE.index(b"~", BASE.index(b"CLM*")) + 2
    data = _counted(BASE[:after_clm] + b"NTE*ADD*NOTE~\n" * 20_000 + BASE[after_clm:])
    check = check_of(io.BytesIO(data), EnvelopePolicy())
    ts = check.interchanges[0].groups[0].transaction_sets[0]
    first = _segment_position(data, b"NTE*ADD*NOTE")
    assert ts.ack_code == "R"
    assert [f.position for f in ts.segments] == list(
        range(first + 1, first + 1 + MAX_SEGMENT_ERRORS_PER_SET))


@pytest.mark.parametrize("path", ["pyx12", "compiled"])
def test_a_files_sets_keep_a_hundred_findings_each_until_the_file_has_ten_thousand(
        path: str) -> None:
    """102 sets, each with 101 NTE segments beyond the one the guide allows: the first
    100 sets keep 100 findings each (SEGMENT_FINDINGS_PER_FILE, 10,000), the last two
    their first only, and the 999 names every set's first segment in error."""
    from edi.findings import MAX_SEGMENT_ERRORS_PER_SET, SEGMENT_FINDINGS_PER_FILE
    from edi.validators import compiled

    assert SEGMENT_FINDINGS_PER_FILE == 100 * MAX_SEGMENT_ERRORS_PER_SET
    check_of = compiled.check_stream if path == "compiled" else check_stream
    after_clm = BASE.index(b"~", BASE.index(b"CLM*")) + 2
    one = _counted(BASE[:after_clm] + b"NTE*ADD*NOTE~\n" * 102 + BASE[after_clm:])
    head, rest = one.split(b"ST*837*", 1)
    body, tail = rest.split(b"GE*", 1)
    data = head + b"".join(
        b"ST*837*" + body.replace(b"0001*", b"%04d*" % k, 1).replace(b"*0001~", b"*%04d~" % k)
        for k in range(1, 103)) + b"GE*102*" + tail.split(b"*", 1)[1]
    check = check_of(io.BytesIO(data), EnvelopePolicy())
    sets = check.interchanges[0].groups[0].transaction_sets
    assert [len(ts.segments) for ts in sets] == [100] * 100 + [1, 1]
    assert all(ts.ack_code == "R" and ts.syntax_codes == ["5"] for ts in sets)
    first = _segment_position(data, b"NTE*ADD*NOTE") + 1
    assert {ts.segments[0].position for ts in sets} == {first}
    text = acknowledge(check, Responder(when=WHEN, control=CountingControlNumbers())).text
    assert text.count("IK3*") == 10_002 and text.count("AK2*") == 102
    assert text.count("IK5*R*5~") == 102 and "AK9*R*102*102*0~" in text


@pytest.mark.parametrize("path", ["compiled", "pyx12"])
def test_the_envelope_texts_a_files_sets_repeat_are_kept_once(path: str) -> None:
    """Every set's and interchange's result is kept until the 999 is written: the texts
    they repeat (ST01, ST03, the GS and ISA identities) are one string each, the
    control numbers their own."""
    from edi.validators import compiled

    check_of = compiled.check_stream if path == "compiled" else check_stream
    text = (ACK_FIXTURES.parent / "837p" / "demo-multi-st.837").read_bytes()
    isa, rest = text.split(b"~", 1)
    number = isa.split(b"*")[13]
    body = rest[:rest.index(b"IEA*")]
    again = b"%09d" % (int(number) + 1)
    data = b"".join((isa, b"~", body, b"IEA*1*", number, b"~\n",
                     isa.replace(number, again), b"~", body, b"IEA*1*", again, b"~\n"))
    check = check_of(io.BytesIO(data), EnvelopePolicy())
    first, other = check.interchanges
    assert first.control_number != other.control_number
    sets = [ts for ic in check.interchanges for g in ic.groups for ts in g.transaction_sets]
    assert len(sets) == 8 and len({ts.control_number for ts in sets}) == 4
    for field in ("set_id", "implementation_reference"):
        assert len({id(getattr(ts, field)) for ts in sets}) == 1, field
    for field in ("sender_id", "receiver_id", "date", "usage"):
        assert getattr(first, field) is getattr(other, field), field
    groups = [g for ic in check.interchanges for g in ic.groups]
    assert groups[0].version is groups[1].version


def _reachable(root: object) -> int:
    """How many objects ``root`` holds, itself included (strings and numbers too)."""
    import gc

    seen: set[int] = set()
    todo = [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        todo.extend(gc.get_referents(obj))
    return len(seen)


def test_the_compiled_check_keeps_its_clean_sets_compact_until_the_999() -> None:
    """A file of 300 one-claim sets, the 120th broken: the check holds the sets it
    accepted with nothing to say as their control numbers in two runs, around the
    rejected set and before the last (still open when the file ended), so what it keeps
    does not grow with the sets; iterated, they are the file's sets, and its 999 is
    the pyx12 path's."""
    from edi.findings import TransactionSetResult
    from edi.validators import compiled
    from fixtures.generator import generate_837_text

    lines = generate_837_text(300, 3, claims_per_transaction=1).encode().split(b"\n")
    clms = [at for at, line in enumerate(lines) if line.startswith(b"CLM*")]
    clm = lines[clms[119]].split(b"*")
    clm[2] = b"12X.00"  # CLM02 not a number: IK4 on the element
    lines[clms[119]] = b"*".join(clm)
    data = b"\n".join(lines)
    controls = [line.split(b"*")[2].rstrip(b"~").decode() for line in lines
                if line.startswith(b"ST*")]

    check = compiled.check_stream(io.BytesIO(data), EnvelopePolicy())
    sets = check.interchanges[0].groups[0].transaction_sets
    kept = sets._items
    assert [type(item).__name__ for item in kept] == [
        "_CleanRun", "TransactionSetResult", "_CleanRun", "TransactionSetResult"]
    assert [len(item) for item in kept[::2]] == [119, 179]  # type: ignore[arg-type]
    assert _reachable(sets) < 100  # 300 results held as objects would be over 1,500
    results = list(sets)
    assert all(type(ts) is TransactionSetResult for ts in results)
    assert [ts.ordinal for ts in results] == list(range(1, 301))
    assert [ts.control_number for ts in results] == controls
    assert [ts.ack_code for ts in results].count("R") == 1 and results[119].ack_code == "R"
    assert len(sets) == 300 and sets[-1] is kept[-1] and sets[119] == results[119]
    assert check.accepted_ordinals() == frozenset(range(1, 301)) - {120}
    assert check.interchanges[0].groups[0].accepted_count == 299

    def ack(of: object) -> str:
        return acknowledge(of, Responder(  # type: ignore[arg-type]
            when=WHEN, control=CountingControlNumbers())).text

    text = ack(check)
    assert text == ack(check_stream(io.BytesIO(data), EnvelopePolicy()))
    assert text.count("AK2*837*") == 300 and "IK5*R*5~" in text and "AK9*P*300*300*299~" in text


def test_a_settled_set_joins_a_run_only_in_order_and_alike() -> None:
    """A clean set starts a run of its own after a set that is not clean, after a gap in
    the ordinals, or with another ST03; a set that is not one of the last two
    appended, or not clean, is left as it is."""
    from edi.findings import SetResults, TransactionSetResult, _CleanRun

    def ts(ordinal: int, reference: str = "005010X222A1", ack: str = "A") -> TransactionSetResult:
        return TransactionSetResult(ordinal, "837", f"{ordinal:04d}", reference, ack_code=ack)

    made = [ts(1), ts(2), ts(3, ack="R"), ts(4), ts(6), ts(7, "005010X223A2"), ts(8), ts(9)]
    sets = SetResults()
    for one in made:
        sets.append(one)
        sets.settle(one)
    sets.settle(made[0])  # settled already, and not one of the last two: nothing changes
    assert [len(item) if isinstance(item, _CleanRun) else item.ordinal
            for item in sets._items] == [2, 3, 1, 1, 1, 2]  # runs' sizes, the one set
    assert list(sets) == made and sets[2] is made[2] and sets[0] == made[0]
    assert list(sets.accepted_ordinals()) == [1, 2, 4, 6, 7, 8, 9]
    assert sets.accepted_count() == 7 and len(sets) == 8
    with pytest.raises(IndexError):
        sets[8]
    odd = SetResults()  # control numbers are any text the sender wrote
    for ordinal, control in enumerate(["\ud800x", "\xe99", "", "\udcff", "12345678901"], 1):
        odd.append(TransactionSetResult(ordinal, "837", control, "005010X222A1"))
        odd.settle(odd[-1])
    assert len(odd._items) == 1
    assert [ts.control_number for ts in odd] == ["\ud800x", "\xe99", "", "\udcff", "12345678901"]


def test_finished_interchanges_are_packed_only_when_clean_alike_and_in_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A packed run takes the clean interchanges that follow on (the same sender,
    receiver and group values, set ordinals with no gap); one with something to say,
    another sender, a gap, more than one group or a GE01 no array holds stays as it is;
    the last ones, not yet offered to `pack`, too. Each is given back equal, by
    iteration and by index, and a change to the one `held` gives is kept."""
    from edi.findings import (
        GroupResult,
        InterchangeIdentity,
        InterchangeResult,
        Interchanges,
        TransactionSetResult,
        _CleanInterchanges,
    )

    ordinal = 0

    def ic(number: int, sender: str = "CH", sets: int = 1, *, gap: int = 0, groups: int = 1,
           note: str = "000", included: int = 1, control: str = "") -> InterchangeResult:
        nonlocal ordinal
        ordinal += gap
        result = InterchangeResult(f"{number:09d}", "260601", f"{number % 2400:04d}", "ZZ",
                                   sender, "ZZ", "87726", "P", "0", note_code=note)
        for g in range(groups):
            group = GroupResult("HC", f"{number}{g}", "005010X222A1", sender, "87726",
                                included=included)
            for _ in range(sets):
                ordinal += 1
                ts = TransactionSetResult(ordinal, "837", control or f"{ordinal:04d}",
                                          "005010X222A1")
                group.transaction_sets.append(ts)
                group.transaction_sets.settle(ts)
            result.groups.append(group)
        return result

    made = [ic(1), ic(2, sets=3), ic(3), ic(4, note="024"), ic(5), ic(6, "OTHER"), ic(7, gap=2),
            ic(8, groups=2), ic(9, included=2**40), ic(10, control="\ud800\xe9"), ic(11),
            ic(12), ic(13)]
    interchanges = Interchanges()
    for one in made:
        interchanges.append(one)
    interchanges.pack(len(made) - 2)
    interchanges.pack(3)  # offered already: nothing changes

    def shape(item: object) -> object:
        return len(item) if isinstance(item, _CleanInterchanges) else item.control_number[-2:]  # type: ignore[attr-defined]

    assert [shape(item) for item in interchanges._items] == [
        3, "04", 1, 1, 1, "08", "09", 2, "12", "13"]

    def seen(one: InterchangeResult) -> object:
        return (one.control_number, one.date, one.time, one.sender_id, one.note_code,
                [(g.control_number, g.included, [(ts.ordinal, ts.control_number)
                                                 for ts in g.transaction_sets])
                 for g in one.groups])

    assert [seen(one) for one in interchanges] == [seen(one) for one in made]
    assert [seen(interchanges[i]) for i in range(-13, 13)] == [seen(one) for one in made * 2]
    assert interchanges[3] is made[3] and interchanges[-1] is made[-1]
    with pytest.raises(IndexError):
        interchanges[13]
    kept = interchanges.held(1)
    kept.note_code = "025"
    assert interchanges.held(1) is kept and interchanges[1] is kept
    assert [one.note_code for one in interchanges][:3] == ["000", "025", "000"]
    assert len(interchanges) == 13
    # identities read the packed ones without making them again, the held one as changed
    assert list(interchanges.identities()) == [InterchangeIdentity.of(one) for one in interchanges]
    assert [i.rejected for i in interchanges.identities()].count(True) == 2  # 4, and 2
    # what may have something to say: all but the packed ones (the held one is given),
    # in file order, and no packed one made again for it
    with monkeypatch.context() as patched:
        patched.setattr(_CleanInterchanges, "at", None)  # made again: a TypeError
        said = list(interchanges.with_something_to_say())
    assert [one.control_number[-2:] for one in said] == ["02", "04", "08", "09", "12", "13"]
    assert said[0] is kept


def test_own_findings_join_pyx12s_in_segment_order() -> None:
    """The engine's own findings (a walk that raised, a segment cut short) among
    pyx12's: one at a segment pyx12 also flagged joins that finding (codes and IK4s of
    both, one IK3); one pyx12 did not flag takes its place in segment order, as
    pyx12's own 999 lists IK3s, so a set's first hundred are its first hundred
    segments in error."""
    from edi.findings import ElementFinding, SegmentFinding
    from edi.validators._pyx12_results import merged

    def finding(position: int, code: str, element: int) -> SegmentFinding:
        return SegmentFinding(
            segment_id="NTE", position=position, loop_id="2300", codes=(code,),
            sentences=(f"at {position}",), elements=(ElementFinding(
                position=element, component=None, repeat=None, element_ref=None,
                code="3", sentence=f"element {element}"),))

    own = [finding(30, "8", 99), finding(40, "8", 99)]
    pyx12s = [finding(12, "8", 2), finding(40, "5", 2), finding(40, "8", 3)]
    result = merged(own, pyx12s)
    assert [(f.position, f.codes) for f in result] == [
        (12, ("8",)), (30, ("8",)), (40, ("8", "5")), (40, ("8",))]
    assert [e.position for e in result[2].elements] == [99, 2]
    assert result[2].sentences == ("at 40", "at 40")


def _counted(data: bytes) -> bytes:
    """The file with its first SE01 counting the segments its set now has."""
    segments = data.split(b"~\n")
    st = next(i for i, s in enumerate(segments) if s.startswith(b"ST*"))
    se = next(i for i, s in enumerate(segments) if s.startswith(b"SE*"))
    segments[se] = b"SE*%d*" % (se - st + 1) + segments[se].split(b"*")[2]
    return b"~\n".join(segments)


def test_a_garbled_sender_is_never_copied_into_the_answers_header() -> None:
    """Deleting the separator between ISA04 and ISA05 shifts every field: what lands in
    ISA05/ISA06 is not a sender. The TA1 goes to the documented fallback (ZZ/UNKNOWN),
    and pyx12's control map accepts it."""
    data = BASE.replace(b"*          *ZZ*CLEARHOUSE01", b"*          ZZ*CLEARHOUSE01", 1)
    assert data != BASE
    kind, text = _answer(data)
    isa = text.split("~", 1)[0].split("*")
    assert kind == "TA1" and (isa[7], isa[8].strip()) == ("ZZ", "UNKNOWN")
    assert pyx12_accepts(text)


def test_a_valid_sender_is_answered_as_received() -> None:
    kind, text = _answer(BASE)
    isa = text.split("~", 1)[0].split("*")
    assert kind == "999" and (isa[7], isa[8].strip()) == ("ZZ", "CLEARHOUSE01")


def _lines(text: str, *ids: str) -> list[str]:
    return [s.strip() for s in text.split("~") if s.strip()[:3] in ids]


def test_a_segment_longer_than_the_cap_rejects_its_set_with_ik4_too_long() -> None:
    """A 5 MB subscriber name: the reader keeps the first 65,536 characters, skips the
    rest unread, and the 999 rejects the set at that segment with IK4 5 (too long)."""
    data = BASE.replace(b"NM1*IL*1*", b"NM1*IL*1*" + b"X" * 5_000_000, 1)
    kind, text = _answer(data)
    assert kind == "999"
    position = _segment_position(data, b"NM1*IL*1*")
    ik3 = _lines(text, "IK3")
    assert ik3 == [f"IK3*NM1*{position}**8"]
    assert "IK4*3*1035*5" in _lines(text, "IK4")
    assert _lines(text, "IK5", "AK9") == ["IK5*R*5", "AK9*R*1*1*0"]
    assert outbound_problems(text) == [] and pyx12_accepts(text)


def test_a_segment_with_more_than_99_elements_rejects_its_set_with_ik4_too_many() -> None:
    """Element 100 onward is never read; the IK4 names the first element the guide does
    not define for the segment (NM113), code 3 (too many data elements)."""
    data = BASE.replace(b"NM1*IL*1*", b"NM1*IL*1*" + b"A*" * 150, 1)
    kind, text = _answer(data)
    position = _segment_position(data, b"NM1*IL*1*")
    assert kind == "999" and _lines(text, "IK3") == [f"IK3*NM1*{position}**8"]
    assert _lines(text, "IK4")[0] == "IK4*13**3"
    assert _lines(text, "IK5") == ["IK5*R*5"]
    assert outbound_problems(text) == [] and pyx12_accepts(text)


def test_an_envelope_segment_longer_than_the_cap_rejects_the_interchange_with_ta1_024() -> None:
    data = BASE.replace(b"GS*HC*", b"GS*HC*" + b"Y" * 100_000 + b"*", 1)
    kind, text = _answer(data)
    assert kind == "TA1" and _lines(text, "TA1")[0].endswith("*R*024")
    assert pyx12_accepts(text)


def _segment_position(data: bytes, prefix: bytes) -> int:
    """1-based position in its transaction set (ST = 1) of the segment starting so."""
    segments = [s.strip() for s in data.split(b"~")]
    at = next(i for i, s in enumerate(segments) if s.startswith(prefix))
    st = max(i for i, s in enumerate(segments[:at]) if s.startswith(b"ST*"))
    return at - st + 1
