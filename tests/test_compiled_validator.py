"""The compiled implementation guide answers exactly as pyx12's path does.

Differential tests: every public 837P, every fixture 837, thousands of seeded
mutants and files of one-claim interchanges with some damaged (where the compiled
check fills and packs the finished interchanges early) go through both
`implementation_guide.check_stream` (pyx12's map walker, the oracle) and
`compiled.check.check_stream`; the findings and the rendered 999 must be the same.
So do every public 835, the 835s a `claims process` run releases, and as many mutants
of them (the payment cycle checks each 835 it writes on the tables of pyx12's X221A1
map). ``EDI_CONFORMANCE_CASES`` sets the number of mutants of each (2,000 by default;
`make conformance` runs 10,000).
"""

from __future__ import annotations

import io
import os
import random
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edi.acks import CountingControlNumbers, Responder, acknowledge
from edi.faults import FAULTS
from edi.findings import FileCheck, _CleanInterchanges
from edi.validators import implementation_guide as ig
from edi.validators import outbound
from edi.validators.compiled import check as compiled
from edi.validators.compiled.compiler import REMIT_MAP
from fixtures import fuzz
from tests.paths import ACK_FIXTURES, FIXTURES, corpus_835, corpus_837p

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = [*sorted(ACK_FIXTURES.glob("*.837")), *sorted((FIXTURES / "837p").glob("*.837")),
           *sorted((ROOT / "tests" / "data").rglob("*.837")), *corpus_837p()]
POLICY = ig.EnvelopePolicy(receiver_ids=None)
WHEN = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
CASES = int(os.environ.get("EDI_CONFORMANCE_CASES", "2000"))


def verdict(check: FileCheck) -> object:
    """Everything the 999 and the TA1 are made of, and every sentence."""
    return (
        [(ic.note_code, tuple(ic.sentences),
          [(g.ack_code, tuple(g.syntax_codes), g.included, tuple(g.sentences),
            [(ts.ordinal, ts.set_id, ts.control_number, ts.ack_code, tuple(ts.syntax_codes),
              tuple(ts.segments), tuple(ts.sentences)) for ts in g.transaction_sets])
           for g in ic.groups])
         for ic in check.interchanges],
        check.unreadable,
    )


def rendered(check: FileCheck) -> str:
    return acknowledge(check, Responder(when=WHEN, control=CountingControlNumbers())).text


def both(data: bytes, policy: ig.EnvelopePolicy = POLICY) -> tuple[FileCheck, FileCheck, int]:
    """(pyx12's check, the compiled check, how many engine faults pyx12's path hit)."""
    before = sum(FAULTS.values())
    oracle = ig.check_stream(io.BytesIO(data), policy)
    faults = sum(FAULTS.values()) - before
    return oracle, compiled.check_stream(io.BytesIO(data), policy), faults


# -- the mutator: fixtures.fuzz's structural mutations plus value-level ones ----------

_ELEMENT = re.compile(rb"[^*~:^\r\n]*")


def _pick_element(data: bytes, rng: random.Random) -> tuple[int, int] | None:
    """(start, end) of one element value somewhere after the ISA."""
    stars = [m.start() for m in re.finditer(rb"\*", data[106:])]
    if not stars:
        return None
    start = 106 + rng.choice(stars) + 1
    match = _ELEMENT.match(data, start)
    return (start, match.end() if match else start)


def _replace_element(value: Callable[[bytes, random.Random], bytes]
                     ) -> Callable[[bytes, random.Random], bytes]:
    def mutation(data: bytes, rng: random.Random) -> bytes:
        span = _pick_element(data, rng)
        if span is None:
            return data
        start, end = span
        return data[:start] + value(data[start:end], rng) + data[end:]
    return mutation


_CODES = [b"", b"ZZ", b"XX", b"1", b"D8", b"RD8", b"85", b"87", b"IL", b"PR", b"QC", b"82",
          b"77", b"DN", b"P", b"S", b"T", b"Y", b"N", b"18", b"01", b"CI", b"MC", b"HC", b"ZY",
          b"472", b"431", b"454", b"G1", b"9F", b"EI", b"SY", b"XX1", b"A", b"UN", b"MJ"]
_DATES = [b"20260230", b"20261301", b"2026010", b"19000101", b"17991231", b"20240229",
          b"20230229", b"20260101-20260102", b"20260101-2026010", b"202601011200", b"0000",
          b"2460", b"1261", b"20260101 "]


def _bad_code(old: bytes, rng: random.Random) -> bytes:
    return rng.choice(_CODES)


def _bad_length(old: bytes, rng: random.Random) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:
        return old * rng.randint(2, 40)
    if choice == 1:
        return old[: rng.randrange(len(old))] if old else b""
    if choice == 2:
        return old + b" "
    return b"-" + old + b".5"


def _bad_date(old: bytes, rng: random.Random) -> bytes:
    return rng.choice(_DATES)


def _bad_char(old: bytes, rng: random.Random) -> bytes:
    return old + rng.choice([b"\t", b"`", b"^", b"\x07", b"!", b"a", b"\xe9", b":", b"::X"])


def _extra_elements(data: bytes, rng: random.Random) -> bytes:
    segments = data.split(b"~")
    at = rng.randrange(len(segments))
    segments[at] += b"*" * rng.randint(1, 3) + rng.choice([b"", b"X", b"1"])
    return b"~".join(segments)


def _swap(data: bytes, rng: random.Random) -> bytes:
    segments = data.split(b"~")
    if len(segments) < 3:
        return data
    at = rng.randrange(len(segments) - 1)
    other = min(len(segments) - 1, at + rng.choice([1, 1, 2, 5]))
    segments[at], segments[other] = segments[other], segments[at]
    return b"~".join(segments)


def _move(data: bytes, rng: random.Random) -> bytes:
    segments = data.split(b"~")
    if len(segments) < 3:
        return data
    moved = segments.pop(rng.randrange(len(segments)))
    segments.insert(rng.randrange(len(segments)), moved)
    return b"~".join(segments)


def _drop_elements(data: bytes, rng: random.Random) -> bytes:
    segments = data.split(b"~")
    at = rng.randrange(len(segments))
    parts = segments[at].split(b"*")
    if len(parts) > 2:
        del parts[rng.randrange(1, len(parts))]
    segments[at] = b"*".join(parts)
    return b"~".join(segments)


MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    **{name: fuzz.MUTATIONS[name] for name in (
        "byte flip", "segment dropped", "segment repeated", "truncated", "empty segments",
        "huge element",
        "nested envelope", "repeated envelope", "lying count", "HL parents")},
    "bad code": _replace_element(_bad_code), "bad length": _replace_element(_bad_length),
    "bad date": _replace_element(_bad_date), "bad character": _replace_element(_bad_char),
    "extra elements": _extra_elements, "segments swapped": _swap, "segment moved": _move,
    "element dropped": _drop_elements,
}


def mutant(seed: int, sources: list[bytes]) -> tuple[bytes, tuple[str, ...]]:
    """A seeded mutant of one of the sources: one to three mutations."""
    rng = random.Random(seed)
    data = rng.choice(sources)
    names = tuple(rng.choice(sorted(MUTATIONS)) for _ in range(rng.randint(1, 3)))
    for name in names:
        data = MUTATIONS[name](data, rng)
    return data, names


def _small_sources() -> list[bytes]:
    """The samples small enough to mutate by the thousand (every file under 15 KB)."""
    return [p.read_bytes() for p in SAMPLES if p.stat().st_size < 15_000]


# -- the tests ------------------------------------------------------------------------


@pytest.mark.parametrize("source", SAMPLES, ids=lambda p: p.name)
def test_every_sample_gets_the_same_findings_and_999_as_from_pyx12(source: Path) -> None:
    oracle, ours, _faults = both(source.read_bytes())
    assert verdict(ours) == verdict(oracle)
    assert rendered(ours) == rendered(oracle)


def _reused(text: str, segment: str, old: str, new: str, trailer: str) -> str:
    """``text`` with the last ``segment`` numbered ``old`` (ST02 or GS06) and the
    ``trailer`` after it (SE02 or GE02) numbered ``new`` instead."""
    segments = text.split("~")
    position = 2 if segment == "ST" else 6
    opening = max(n for n, seg in enumerate(segments) if seg.split("*")[0].strip() == segment
                  and seg.split("*")[position] == old)
    closing = next(n for n in range(opening, len(segments))
                   if segments[n].split("*")[0].strip() == trailer)
    for n, at in ((opening, position), (closing, 2)):
        elements = segments[n].split("*")
        elements[at] = new
        segments[n] = "*".join(elements)
    return "~".join(segments)


def test_control_numbers_used_twice_in_a_file_are_caught_as_pyx12_catches_them(
        tmp_path: Path) -> None:
    from fixtures.generator import generate_837_text
    from tests.pyx12_oracle import pyx12_verdicts

    # Given one-claim transaction sets, the third numbered 0001 again (ST02 and SE02)
    sets = _reused(generate_837_text(3, 7, claims_per_transaction=1), "ST", "0003", "0001",
                   "SE")
    # Then that set alone is rejected, IK5 code 23, as pyx12's own reader rejects it
    oracle, ours, _faults = both(sets.encode())
    assert verdict(ours) == verdict(oracle)
    assert [(ts.control_number, ts.ack_code, ts.syntax_codes)
            for ts in ours.each_transaction_set()] == [
        ("0001", "A", []), ("0002", "A", []), ("0001", "R", ["23"])]
    (tmp_path / "sets.837").write_text(sets)
    assert pyx12_verdicts(tmp_path / "sets.837", tmp_path) == [
        ("0001", "A"), ("0002", "A"), ("0001", "R")]
    # And a second group numbered 1 again (GS06 and GE02) is rejected, AK905 19
    groups = _reused(generate_837_text(2, 7, claims_per_transaction=1,
                                       transactions_per_group=1), "GS", "2", "1", "GE")
    oracle, ours, _faults = both(groups.encode())
    assert verdict(ours) == verdict(oracle)
    assert [(g.control_number, g.ack_code, g.syntax_codes)
            for ic in ours.interchanges for g in ic.groups] == [("1", "A", []),
                                                                 ("1", "R", ["19"])]
    # And an interchange sent twice in one file: the second gets TA1 025
    once = generate_837_text(1, 7)
    oracle, ours, _faults = both((once + once).encode())
    assert verdict(ours) == verdict(oracle)
    assert [ic.note_code for ic in ours.interchanges] == ["000", "025"]


CHUNKS = 4
"""The mutants run as this many tests, so pytest-xdist can spread them."""


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_seeded_mutants_get_the_same_findings_and_999_as_from_pyx12(chunk: int) -> None:
    _mutants_agree(_small_sources(), chunk, POLICY)


def _mutants_agree(sources: list[bytes], chunk: int, policy: ig.EnvelopePolicy) -> None:
    """Chunk ``chunk`` of the `CASES` mutants of ``sources`` gets pyx12's verdict."""
    mismatches: list[tuple[int, tuple[str, ...]]] = []
    faulted: list[int] = []
    faulted_alike = 0
    seeds = range(chunk, CASES, CHUNKS)
    for seed in seeds:
        data, names = mutant(seed, sources)
        oracle, ours, faults = both(data, policy)
        same = verdict(ours) == verdict(oracle) and rendered(ours) == rendered(oracle)
        if faults:
            # pyx12 raised on this mutant (its path reports an engine fault and rejects):
            # the compiled check must still answer; it need not fault the same way
            faulted.append(seed)
            faulted_alike += same
            assert rendered(ours)
        elif not same:
            mismatches.append((seed, names))
    print(f"{len(seeds)} mutants; pyx12's path faulted on {len(faulted)} (seeds {faulted[:20]}), "
          f"the compiled check answered all of them, {faulted_alike} with the same 999")
    assert mismatches == []


def test_a_guide_the_tables_do_not_hold_goes_to_pyx12s_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a policy for a 999 alone, and one for the engine's three outbound guides
    # (999, 277CA, 835: more than one map)
    data = (ACK_FIXTURES / "valid-two-claims.999").read_bytes()
    alone = outbound.policy_for(data.decode())
    assert list(alone.groups) == [("FA", "005010X231A1")]
    every = ig.EnvelopePolicy(receiver_ids=None, groups=dict(ig.OUTBOUND_GROUPS))
    assert compiled.compiled_map(alone) is None and compiled.compiled_map(every) is None
    # Then the compiled check answers exactly as pyx12's path does (it is pyx12's path)
    for policy in (alone, every):
        ours = compiled.check_stream(io.BytesIO(data), policy)
        assert verdict(ours) == verdict(ig.check_stream(io.BytesIO(data), policy))
        assert ours.interchanges[0].groups[0].ack_code == "A"
    # And a policy for an 835 is checked on the tables, never on pyx12's walk
    monkeypatch.setattr(ig, "_walk_segment", _must_not_walk)
    assert compiled.compiled_map(outbound.policy_for(_REMIT_HEAD)) == REMIT_MAP


def _must_not_walk(*_arguments: object) -> None:
    raise AssertionError("pyx12's walk was asked")


# -- the 835: what every payment cycle checks its 835s with ---------------------------

REMIT_POLICY = ig.EnvelopePolicy(receiver_ids=None,
                                 groups={("HP", "005010X221A1"): (REMIT_MAP, "005010X221A1")})
_REMIT_HEAD = ("ISA*00*          *00*          *ZZ*87726          *ZZ*1000000001     *260330"
               "*0900*^*00501*000000001*0*P*:~GS*HP*87726*1000000001*20260330*0900*1*X*"
               "005010X221A1~")


@pytest.fixture(scope="module")
def engine_835s(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """The 835s `claims process` releases for 80 generated claims (one per payee: a
    few claims each, with the adjustments, corrections and balances the cycle writes)."""
    from typer.testing import CliRunner

    from fixtures.generator import default_receipt_date, generate_837_text
    from workers.cli import app

    work = tmp_path_factory.mktemp("cycle")
    (work / "claims.837").write_text(generate_837_text(80, 11))
    day = default_receipt_date(11).isoformat()
    result = CliRunner().invoke(app, ["process", str(work / "claims.837"), "--out",
                                      str(work / "out"), "--quiet", "--received", day,
                                      "--as-of", day])
    assert result.exit_code == 0, result.output
    found = [p.read_bytes() for p in sorted((work / "out").glob("*.835"))]
    assert len(found) >= 5, "the run pays several payees"
    return found


def _remit_sources(engine_835s: list[bytes]) -> list[bytes]:
    """The public 835s small enough to mutate by the thousand, and the engine's."""
    return [*(p.read_bytes() for p in corpus_835() if p.stat().st_size < 15_000),
            *engine_835s]


def test_every_835_gets_the_same_findings_and_999_as_from_pyx12(
        engine_835s: list[bytes]) -> None:
    public = [p.read_bytes() for p in corpus_835()]
    checked: list[FileCheck] = []
    for data in [*public, *engine_835s]:
        oracle, ours, _faults = both(data, REMIT_POLICY)
        assert verdict(ours) == verdict(oracle)
        assert rendered(ours) == rendered(oracle)
        checked.append(ours)
    assert len(checked) == len(public) + len(engine_835s)
    # pyx12 accepts every 835 the engine wrote, and rejects some public ones
    assert all(ts.ack_code == "A" for ours in checked[len(public):]
               for ts in ours.each_transaction_set())
    assert any(ts.ack_code == "R" for ours in checked[:len(public)]
               for ts in ours.each_transaction_set())


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_seeded_835_mutants_get_the_same_findings_and_999_as_from_pyx12(
        chunk: int, engine_835s: list[bytes]) -> None:
    _mutants_agree(_remit_sources(engine_835s), chunk, REMIT_POLICY)


def test_a_cycle_s_835_problems_are_pyx12s(engine_835s: list[bytes],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """What `outbound_problems` says of an 835 (on the tables) is what it said on
    pyx12's path: for every engine 835, and for each of them with a mutation."""
    texts = [data.decode("latin-1") for data in engine_835s]
    texts += [mutant(seed, engine_835s)[0].decode("latin-1") for seed in range(40)]
    ours = [outbound.outbound_problems(text) for text in texts]
    assert any(ours) and not all(ours), "some mutants are refused, the engine's 835s not"
    monkeypatch.setattr(outbound, "check_stream", ig.check_stream)
    assert ours == [outbound.outbound_problems(text) for text in texts]


def test_the_compiled_check_answers_where_pyx12s_walk_raises(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given pyx12's walk raising on every claim (an engine fault on its path)
    real = ig._walk_segment

    def raising(walk: object, src: object, seg: object, seg_id: str) -> object:
        if seg_id == "CLM":
            raise ValueError("pyx12 gave up")
        return real(walk, src, seg, seg_id)  # type: ignore[arg-type]

    monkeypatch.setattr(ig, "_walk_segment", raising)
    data = (ACK_FIXTURES / "valid-two-claims.837").read_bytes()
    oracle, ours, faults = both(data)
    # Then pyx12's path rejects the set, and the compiled check still answers it
    assert faults > 0 and next(oracle.each_transaction_set()).ack_code == "R"
    assert [ts.ack_code for ts in ours.each_transaction_set()] == ["A"]
    assert "IK5*A" in rendered(ours)


# -- many interchanges: the compiled check packs the finished ones ---------------------

def _interchange_segments(count: int) -> list[list[str]]:
    """``count`` one-claim interchanges, each as its segments (no terminators)."""
    from fixtures.generator import generate_837_text
    from workers.bench_shapes import one_claim_interchanges

    text = one_claim_interchanges(generate_837_text(
        count, 11, claims_per_transaction=1, transactions_per_group=1))
    interchanges: list[list[str]] = []
    for segment in (s.strip() for s in text.split("~")):
        if segment.startswith("ISA*"):
            interchanges.append([])
        if segment:
            interchanges[-1].append(segment)
    return interchanges


def _set_element(segment: str, position: int, value: str) -> str:
    elements = segment.split("*")
    elements += [""] * (position + 1 - len(elements))
    elements[position] = value
    return "*".join(elements)


def _where(segments: list[str], seg_id: str) -> int:
    """Where the first ``seg_id`` is (one damage may have taken it away: then past the
    end, and a damage that copies from it copies nothing)."""
    return next((n for n, s in enumerate(segments) if s.split("*")[0] == seg_id),
                len(segments))


DAMAGES: dict[str, Callable[[list[str]], list[str]]] = {
    "stray segment after IEA": lambda s: [*s, "NTE*ADD*AFTER THE TRAILER"],
    "no functional group": lambda s: [s[0], s[-1]],
    "group of another version": lambda s: [
        _set_element(x, 8, "004010X098A1") if x.startswith("GS*") else x for x in s],
    "GE01 lies": lambda s: [_set_element(x, 1, "7") if x.startswith("GE*") else x for x in s],
    "IEA missing": lambda s: s[:-1],
    "GE missing": lambda s: [x for x in s if not x.startswith("GE*")],
    "SE missing": lambda s: [x for x in s if not x.startswith("SE*")],
    "bad claim code": lambda s: [_set_element(x, 5, "99:Q:1") if x.startswith("CLM*") else x
                                 for x in s],
    "short ISA": lambda s: ["ISA*00*" + s[0][7:40], *s[1:]],
    "a second group": lambda s: [*s[:-1], *s[_where(s, "GS"):_where(s, "GE") + 1], s[-1]],
    "ISA13 twice": lambda s: [_set_element(s[0], 13, "000000001"), *s[1:-1],
                              _set_element(s[-1], 2, "000000001")],
    "segment before GS": lambda s: [s[0], "REF*EI*123456789", *s[1:]],
    "IEA01 lies": lambda s: [*s[:-1], _set_element(s[-1], 1, "3")],
    "ISA14 asks for a TA1": lambda s: [_set_element(s[0], 14, "1"), *s[1:]],
    "set twice": lambda s: [*s[:_where(s, "GE")], *s[_where(s, "ST"):_where(s, "SE") + 1],
                            *s[_where(s, "GE"):]],
}


def _damaged(seed: int, count: int = 12) -> tuple[bytes, list[tuple[int, str]]]:
    rng = random.Random(seed)
    interchanges = _interchange_segments(count)
    done = []
    for _ in range(rng.randint(1, 3)):
        at, name = rng.randrange(count), rng.choice(sorted(DAMAGES))
        interchanges[at] = DAMAGES[name](interchanges[at])
        done.append((at, name))
    return "".join(f"{s}~\n" for ic in interchanges for s in ic).encode(), done


@pytest.mark.parametrize("name", sorted(DAMAGES))
def test_a_damaged_interchange_among_clean_ones_gets_pyx12s_verdict(name: str) -> None:
    """Interchanges before and after one that is damaged (an error that reaches an
    earlier interchange's or group's node, a structure fault, a group we do not take):
    the same verdicts and 999 as pyx12's path, with the clean ones before it packed."""
    interchanges = _interchange_segments(9)
    interchanges[4] = DAMAGES[name](interchanges[4])
    data = "".join(f"{s}~\n" for ic in interchanges for s in ic).encode()
    oracle, ours, _faults = both(data)
    assert verdict(ours) == verdict(oracle)
    assert rendered(ours) == rendered(oracle)
    packed = ours.interchanges._items[0]
    assert isinstance(packed, _CleanInterchanges) and len(packed) >= 3


def test_an_interchange_damaged_twice_among_clean_ones_gets_pyx12s_verdict() -> None:
    """Every pair of damages on one interchange (a structure fault and an error on the
    interchange's own node, say, which the end of the file used to settle in one order)."""
    interchanges = _interchange_segments(7)
    mismatches = []
    for first in sorted(DAMAGES):
        for second in sorted(DAMAGES):
            damaged = [*interchanges]
            damaged[3] = DAMAGES[second](DAMAGES[first](damaged[3]))
            data = "".join(f"{s}~\n" for ic in damaged for s in ic).encode()
            oracle, ours, _faults = both(data)
            if verdict(ours) != verdict(oracle) or rendered(ours) != rendered(oracle):
                mismatches.append((first, second))
    assert mismatches == []


def test_interchanges_damaged_at_random_get_pyx12s_verdict() -> None:
    mismatches = []
    for seed in range(150):
        data, done = _damaged(seed)
        oracle, ours, _faults = both(data)
        if verdict(ours) != verdict(oracle) or rendered(ours) != rendered(oracle):
            mismatches.append((seed, done))
    assert mismatches == []


def test_clean_interchanges_are_packed_and_given_back_equal() -> None:
    """A file of clean interchanges: all but the last kept in one packed run, each
    given back equal to pyx12's path's result, by iteration and by index."""
    data = "".join(f"{s}~\n" for ic in _interchange_segments(30) for s in ic).encode()
    oracle, ours, _faults = both(data)
    items = ours.interchanges._items
    assert len(items) == 2 and isinstance(items[0], _CleanInterchanges) and len(items[0]) == 29
    assert verdict(ours) == verdict(oracle) and rendered(ours) == rendered(oracle)
    for index in (0, 1, 17, 28, 29, -1, -30):
        mine, theirs = ours.interchanges[index], oracle.interchanges[index]
        assert (mine.control_number, mine.date, mine.time, mine.groups[0].control_number,
                [ts.control_number for ts in mine.groups[0].transaction_sets]) == (
            theirs.control_number, theirs.date, theirs.time, theirs.groups[0].control_number,
            [ts.control_number for ts in theirs.groups[0].transaction_sets])
    with pytest.raises(IndexError):
        ours.interchanges[30]
