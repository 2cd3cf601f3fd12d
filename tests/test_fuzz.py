"""The fuzz suite in `make test`: 2,000 seeded mutations of the samples and the public
corpus with planted markers, every oracle of `workers.fuzz` holding (no traceback, an
acknowledgment for every file, every 999/TA1/277CA valid, no planted PHI in problems,
reasons or exceptions, no case slower than its bound, and the accepted claims decided
and paid in 835s that balance and pass pyx12, none lost or overpaid). `make fuzz
N=100000` is the long run."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from adjudication.decision import Decision
from adjudication.reference import LineOfBusiness
from edi.acks import CountingControlNumbers, Responder, acknowledge
from edi.claims import ParsedClaim
from edi.remit835 import ClaimPayment
from edi.validators.outbound import outbound_problems
from fixtures.fuzz import MUTATIONS, PLANTED, UNECHOABLE, blankable, blanked, mutate, plant
from tests.paths import ACK_FIXTURES, FIXTURES
from workers.fuzz import (
    KEPT_FAILING,
    KEPT_FAULT_CASES,
    WHEN,
    Outcome,
    Tally,
    main,
    ranges,
    report,
    run,
    run_case,
    run_jobs,
)

DEMO = FIXTURES / "837p"


def test_two_thousand_mutated_files_hold_every_oracle() -> None:
    tally = run(2000, seed=20261128)
    assert tally.cases == 2000
    assert [(o.mutations, o.failures) for o in tally.failing] == [], report(tally)
    assert tally.failed == 0 and not tally.failures
    # the draw covered every kind of mutation
    assert set(tally.mutations) == set(MUTATIONS)


def test_jobs_run_the_same_cases_as_one_process_in_case_order() -> None:
    assert ranges(0, 100_000, 2) == [(0, 50_000), (50_000, 100_000)]
    assert ranges(10, 13, 5) == [(10, 11), (11, 12), (12, 13)]  # never an empty job
    assert ranges(5, 5, 2) == []
    alone = run(14, seed=3, first=4)
    split, _faults = run_jobs(14, 3, 4, 3)
    # the same cases, each with the same mutations and failures (the digest is of them)
    assert (split.cases, split.last, split.digest, split.mutations) == \
        (alone.cases, alone.last, alone.digest, alone.mutations) == \
        (10, 13, alone.digest, alone.mutations)
    assert run(14, seed=3, first=5).digest != alone.digest  # one case fewer shows


def test_a_tally_stays_the_same_size_however_many_cases_it_counts() -> None:
    # Given a tally that took many cases, each failing and catching an engine fault
    tally = Tally()
    for index in range(5_000):
        tally.add(Outcome(index, ("truncation",), ["slow"], seconds=index / 1000,
                          faults=("guide-walk",)))
    # Then it counts them all but keeps a bounded few whole
    assert (tally.cases, tally.failed, tally.failures["slow"]) == (5_000, 5_000, 5_000)
    assert len(tally.failing) == KEPT_FAILING and tally.failing[0].index == 0
    assert tally.fault_cases == {"guide-walk": list(range(KEPT_FAULT_CASES))}
    assert tally.slowest is not None and tally.slowest.index == 4_999
    # and a second range merged in keeps the same bounds
    other = Tally()
    other.add(Outcome(9_000, ("nul bytes",), [], seconds=9.0))
    tally.merge(other)
    assert (tally.cases, tally.last, len(tally.failing)) == (5_001, 9_000, KEPT_FAILING)
    assert tally.slowest is not None and tally.slowest.index == 9_000
    assert "engine faults caught (guide-walk): 7 (cases 0, 1, 2" in report(
        tally, Counter({"guide-walk": 7}))


def _accepted_claims(path: Path = DEMO / "demo-small.837") -> list[tuple[str, ParsedClaim]]:
    """The claims of a file as the fuzz run hands them on: each accepted claim with its
    claim number."""
    from workers.fuzz import front_end_in_memory

    return list(front_end_in_memory(path.read_bytes())[1].accepted)


def test_accepted_claims_are_decided_and_paid_in_835s_that_balance(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Demo files planted as every fuzz case is (their people renamed to markers),
    decided as received the day they were made: the fuzz's reference covers the three
    members the markers make (one per line of business, each paid and denied on that
    line's rules), with the claims history as theirs, so there are paid,
    partly paid, denied, pended and voided claims (not only denials of a member not
    found, CO-31), and replacements and voids of history claims (their reversals,
    CLP02 22, beside their own CLPs): every oracle holds."""
    import workers.fuzz as fuzz

    plan, decide = fuzz.plan_cycle, fuzz.decide_in_memory
    planned: list[Any] = []
    decided: list[Any] = []

    def planning(*args: Any, **kwargs: Any) -> Any:
        planned.append(plan(*args, **kwargs))
        return planned[-1]

    def deciding(*args: Any, **kwargs: Any) -> Any:
        decisions = decide(*args, **kwargs)
        decided.extend(decisions)
        return decisions

    monkeypatch.setattr(fuzz, "plan_cycle", planning)
    monkeypatch.setattr(fuzz, "decide_in_memory", deciding)
    for name in ("demo-small.837", "demo-lob-mix.837", "demo-situations.837"):
        planted = tmp_path / name
        planted.write_bytes(plant((DEMO / name).read_bytes()))
        accepted = _accepted_claims(planted)
        assert accepted and fuzz.remit_failures(accepted) == []
    assert {d.status for d in decided} == {
        "paid", "partially_paid", "denied", "pended", "voided"}
    assert {(d.line_of_business, d.status) for d in decided} >= {
        (line, status) for line in LineOfBusiness for status in ("paid", "denied")}
    roles = Counter(r.role for cycle in planned for p in cycle.remittances for r in p.remitted)
    assert roles["reversal"] >= 2 and roles["claim"] > 50


def test_the_back_half_oracles_see_a_claim_lost_or_overpaid(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each oracle of `remit_failures` fails when the engine would: a claim not
    decided, or in no 835; a claim paid more than its charge (which no longer
    balances); an 835 pyx12 refuses."""
    import dataclasses

    import remittance.cycle
    import workers.fuzz as fuzz

    accepted = _accepted_claims()  # not planted: the members the shipped data has
    decide, pay, plan, render = (fuzz.decide_in_memory, remittance.cycle.claim_payment,
                                 fuzz.plan_cycle, fuzz.render_835)
    with monkeypatch.context() as m:
        m.setattr(fuzz, "decide_in_memory", lambda *a, **k: decide(*a, **k)[:-1])
        assert fuzz.remit_failures(accepted) == ["lost claim"]
    with monkeypatch.context() as m:
        m.setattr(fuzz, "plan_cycle", lambda waiting, **k: plan(waiting[1:], **k))
        assert fuzz.remit_failures(accepted) == ["lost claim"]

    def overpaid(decision: Decision, claim: ParsedClaim) -> ClaimPayment:
        payment = pay(decision, claim)
        return dataclasses.replace(payment, paid=payment.charge + 1)

    with monkeypatch.context() as m:
        m.setattr(remittance.cycle, "claim_payment", overpaid)
        failures = fuzz.remit_failures(accepted)
        assert "overpaid" in failures and "unbalanced 835" in failures
    with monkeypatch.context() as m:  # SE01 off by one
        m.setattr(fuzz, "render_835", lambda *a: re.sub(
            r"~(\s*)SE\*(\d+)\*", lambda s: f"~{s.group(1)}SE*{int(s.group(2)) + 1}*",
            render(*a)))
        assert "invalid 835" in fuzz.remit_failures(accepted)
    assert fuzz.remit_failures(accepted) == []


@pytest.mark.parametrize("argv", [["ten"], ["10", "1", "0", "--jobs", "0"],
                                  ["10", "--jobs"], ["10", "1", "0", "7"], ["-3"]])
def test_a_bad_command_line_is_a_usage_error(argv: list[str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("usage: python -m workers.fuzz")


def test_a_process_growing_too_much_during_the_run_fails_the_memory_oracle(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import workers.fuzz as fuzz

    resident = iter([100.0, 100.0 + fuzz.MB_GROWTH + 1])  # at the start, after the case
    monkeypatch.setattr(fuzz, "_resident_mb", lambda: next(resident))
    tally = run(1, seed=3)
    assert tally.failures == Counter({"memory": 1})
    assert [o.failures for o in tally.failing] == [["memory"]]


def test_the_resident_size_is_read_from_the_process() -> None:
    from workers.fuzz import _resident_mb

    held = bytearray(64 * 2**20)  # 64 MB, touched
    held[:: 4096] = b"x" * len(held[:: 4096])
    assert _resident_mb() > 64
    del held


def test_planting_replaces_names_ids_and_birth_dates() -> None:
    planted = plant((ACK_FIXTURES / "valid-two-claims.837").read_bytes())
    assert all(marker.encode() in planted for marker in PLANTED)
    assert b"OBH000001" not in planted  # the sample's member id is gone


def test_each_subscriber_gets_the_planted_member_of_its_filing_indicator() -> None:
    """By the SBR09 before it: Medicaid, a Medicare one, anything else commercial; the
    other payer's subscriber (2330A) by the 2320 SBR's."""
    data = (b"HL*2*1*22*0~SBR*P*18*G1******MC~NM1*IL*1*DOE*JO****MI*100012345678~"
            b"HL*3*1*22*0~SBR*P*18*G1******16~NM1*IL*1*ROE*AL****MI*712345678011~"
            b"SBR*S*18*******CI~NM1*IL*1*ROE*AL****MI*OTHER1~"
            b"HL*4*1*22*0~SBR*P*18*G1******ZZ~NM1*IL*1*POE*ED****MI*912345678~")
    ids = re.findall(rb"\*MI\*([^~]*)", plant(data))
    assert ids == [b"QZPLANTID77MC", b"QZPLANTID77MA", b"QZPLANTID77", b"QZPLANTID77"]


def test_the_same_seed_gives_the_same_bytes() -> None:
    data = (ACK_FIXTURES / "valid-two-claims.837").read_bytes()
    assert mutate(data, random.Random(5)) == mutate(data, random.Random(5))


def test_a_group_count_too_long_to_echo_is_replaced_by_the_sets_counted() -> None:
    """Found by the fuzz suite: GE01 of 1000000000 was echoed into AK902 (6 digits)."""
    import io

    from edi.validators.implementation_guide import EnvelopePolicy, check_stream

    data = (ACK_FIXTURES / "valid-two-claims.837").read_bytes().replace(
        b"GE*1*", b"GE*1000000000*", 1)
    ack = acknowledge(check_stream(io.BytesIO(data), EnvelopePolicy()),
                      Responder(when=WHEN, control=CountingControlNumbers()))
    ak9 = next(s.strip() for s in ack.text.split("~") if s.strip().startswith("AK9"))
    assert ak9.split("*")[2] == "1" and outbound_problems(ack.text) == []


def _acknowledged(data: bytes) -> tuple[str, str, dict[str, int]]:
    """(kind, text, engine faults counted) of the engine's answer to ``data``: the
    compiled guide's (the engine's path), which must equal pyx12's path's answer."""
    import io

    from edi.faults import FAULTS
    from edi.validators import compiled
    from edi.validators.implementation_guide import EnvelopePolicy, check_stream

    before = FAULTS.copy()
    answers = [acknowledge(check(io.BytesIO(data), EnvelopePolicy()),
                           Responder(when=WHEN, control=CountingControlNumbers()))
               for check in (compiled.check_stream, check_stream)]
    ours, oracle = answers
    assert (ours.kind, ours.text) == (oracle.kind, oracle.text)
    return ours.kind, ours.text, dict(FAULTS - before)


def test_the_trailers_of_a_group_we_do_not_take_left_open_are_no_engine_fault() -> None:
    """Found by the fuzz suite (a nested envelope in a 005010X222 file): the GS of a
    version we do not take never reaches pyx12's error tree, and a GS inside the set
    broke the envelope before GE and IEA; at the end pyx12 reported the GE missing to a
    group node it did not have (AttributeError at error_handler.py:254, counted as an
    envelope-trailers fault). The missing GE now goes on our group result."""
    from tests.pyx12_oracle import pyx12_accepts

    data = (ACK_FIXTURES / "valid-two-claims.837").read_bytes()
    data = data.replace(b"005010X222A1", b"005010X222", 1).replace(
        b"\nCLM*", b"\nGS*HC*A*B*20260101*1200*7*X*005010X222A1~\nCLM*", 1)
    kind, text, faults = _acknowledged(data)
    assert faults == {}
    assert kind == "TA1" and "TA1*000000101*261120*0930*R*022~" in text
    assert pyx12_accepts(text)


def test_the_trailer_of_a_set_the_walker_could_not_open_rejects_that_set() -> None:
    """ST01 of 8 matches no set of the 837 map, so pyx12's error tree has no node for
    the set; the SE's count and control number errors were filed under it and raised
    (error_handler.py:267, a guide-walk fault). They now reject the set itself."""
    from tests.pyx12_oracle import pyx12_accepts

    data = (ACK_FIXTURES / "valid-two-claims.837").read_bytes().replace(
        b"ST*837*0001*005010X222A1~", b"ST*8*0001~", 1)
    se = data.index(b"\nSE*") + 1
    data = data[:se] + b"SE*1*9" + data[data.index(b"~", se):]
    kind, text, faults = _acknowledged(data)
    assert faults == {}
    assert kind == "999" and "AK9*R*1*1*0~" in text
    assert outbound_problems(text) == [] and pyx12_accepts(text)


@pytest.mark.parametrize(("isa09", "isa10"), [
    (b"261399", b"0930"),  # month 13
    (b"261131", b"0930"),  # 31 November
    (b"261120", b"0977"),  # minute 77
    (b"261120", b"2400"),  # no such hour
])
def test_a_ta1_never_echoes_an_isa_date_or_time_that_is_not_one(isa09: bytes,
                                                                 isa10: bytes) -> None:
    """Found by the fuzz suite (a byte flip in ISA09/ISA10): the TA1 echoed any six or
    four digits, pyx12 rejects such a TA102/TA103 (its x12n_document even raised
    AttributeError on it, which the run counted as a traceback). The TA1 now carries
    the answer's own date and time instead."""
    from tests.pyx12_oracle import pyx12_accepts

    data = (ACK_FIXTURES / "valid-two-claims.837").read_bytes().replace(
        b"*261120*0930*", b"*" + isa09 + b"*" + isa10 + b"*", 1)
    kind, text, faults = _acknowledged(data)
    ta1 = next(s.strip() for s in text.split("~") if s.strip().startswith("TA1"))
    assert kind == "TA1" and ta1.split("*")[4] == "R"
    date, time = ta1.split("*")[2:4]
    assert date == (isa09.decode() if isa09 == b"261120" else WHEN.strftime("%y%m%d"))
    assert time == (isa10.decode() if isa10 == b"0930" else WHEN.strftime("%H%M"))
    assert pyx12_accepts(text) and faults == {}


def test_a_999_with_the_ta1_of_a_second_interchange_with_a_bad_date_is_valid() -> None:
    """The same echo inside a 999: one sender's two interchanges, the second dated
    261399, are answered in one interchange holding its TA1 and the first one's 999."""
    from tests.pyx12_oracle import pyx12_accepts

    first = (ACK_FIXTURES / "valid-two-claims.837").read_bytes()
    second = first.replace(b"*261120*0930*", b"*261399*0930*", 1).replace(
        b"000000101", b"000000102")
    kind, text, faults = _acknowledged(first + second)
    assert kind == "999" and "TA1*000000102*261123*0930*R*014~" in text
    assert outbound_problems(text) == [] and pyx12_accepts(text) and faults == {}


def test_the_outbound_check_reports_an_invalid_ta1_inside_a_999() -> None:
    """The oracle itself: pyx12's error tree has no place for an element error of a TA1
    (outside any transaction set); the check raised, counted an engine fault and
    reported nothing, so an invalid TA1 inside a 999 passed. It is now a problem."""
    kind, text, _ = _acknowledged((ACK_FIXTURES / "valid-two-claims.837").read_bytes())
    bad = text.replace("TA1*000000101*261120*", "TA1*000000101*261399*", 1)
    assert kind == "999" and bad != text and outbound_problems(text) == []
    from edi.faults import FAULTS

    before = FAULTS.copy()
    assert any("TA102" in problem for problem in outbound_problems(bad))
    assert FAULTS - before == {}


@pytest.mark.parametrize("ge01", [b"1X", b"\xb2", b""])
def test_a_group_count_that_is_no_number_rejects_the_group_not_its_last_set(
        ge01: bytes) -> None:
    """Found by the fuzz suite (a byte flip in GE01): pyx12's err_gs.close takes
    int(GE01) unguarded; the ValueError (error_handler.py:652, a guide-walk fault)
    rejected the group's last transaction set at its GE. The group is now rejected for
    its count (AK905 5) and its set keeps its own verdict."""
    from tests.pyx12_oracle import pyx12_accepts

    data = (ACK_FIXTURES / "valid-two-claims.837").read_bytes().replace(
        b"GE*1*", b"GE*" + ge01 + b"*", 1)
    kind, text, faults = _acknowledged(data)
    assert faults == {}
    assert kind == "999" and "IK5*A~" in text and "IK3*" not in text
    ak9 = next(s.strip() for s in text.split("~") if s.strip().startswith("AK9"))
    assert ak9.startswith("AK9*R*1*1*") and "5" in ak9.split("*")[5:]
    assert outbound_problems(text) == [] and pyx12_accepts(text)


def test_a_control_byte_before_gs_breaks_the_envelope_without_an_engine_fault() -> None:
    """Found by the fuzz suite (case 40947 of seed 1: a byte flip put \\x1d before GS):
    the envelope guard stripped it as whitespace and took the segment for a GS, pyx12
    did not, and the next ST found no group (IndexError, a guide-walk fault). Both now
    read the same ID: no GS there, so the interchange's structure is invalid (TA1 022).
    The compiled guide's source made the same mistake (str.isspace counts \\x1d as
    space) until the fuzz run on it found the case again."""
    from tests.pyx12_oracle import pyx12_accepts

    data = (ACK_FIXTURES / "valid-two-claims.837").read_bytes().replace(
        b"\nGS*", b"\n\x1dGS*", 1)
    kind, text, faults = _acknowledged(data)
    assert faults == {}
    assert kind == "TA1" and "*R*022~" in text and pyx12_accepts(text)


def test_a_composite_with_too_many_components_is_rejected_without_an_engine_fault() -> None:
    """Found by the fuzz run on the compiled path (cases 13402, 59867 and 78169 of seed
    1): pyx12's `is_valid_errors` raises IndexError on a composite with more
    components than the guide defines (it names the error after a child past the
    last), so the set was rejected as an engine fault. Both paths now report what
    pyx12 means to: too many sub-elements, a segment with data element errors."""
    data = (ACK_FIXTURES / "valid-two-claims.837").read_bytes()
    clm = data.index(b"CLM*")
    facility = data.index(b"*11:B:1*", clm)
    data = data[:facility] + b"*11:B:1:7:7*" + data[facility + len(b"*11:B:1*"):]
    kind, text, faults = _acknowledged(data)
    assert faults == {}
    assert kind == "999" and outbound_problems(text) == []
    assert "IK3*CLM*" in text and "IK5*R*5~" in text


def test_a_date_range_with_two_dashes_is_an_invalid_date_not_an_engine_fault() -> None:
    """Found by the fuzz run (seed 1130, case 37358: a byte flip in a repeated DTP*472):
    pyx12's `IsValidDataType` raises ValueError on an RD8 with more than one dash (it
    unpacks the split into two dates), so the set was rejected as an engine fault, IK3
    with no IK4 saying what was wrong. Both paths now report what pyx12 means to: DTP03
    holds an invalid date (IK403 8), with the value as sent."""
    from tests.pyx12_oracle import pyx12_accepts

    data = (ACK_FIXTURES / "valid-two-claims.837").read_bytes().replace(
        b"DTP*472*D8*20261110~", b"DTP*472*RD8*2026111--20261110~", 1)
    kind, text, faults = _acknowledged(data)
    assert faults == {}
    segments = [s.strip() for s in text.split("~")]
    assert kind == "999" and outbound_problems(text) == [] and pyx12_accepts(text)
    ik3 = next(n for n, s in enumerate(segments) if s.startswith("IK3*DTP*"))
    assert segments[ik3].endswith("*8")  # IK304 8: the segment has data element errors
    assert segments[ik3 + 1:ik3 + 4] == [  # the claim named (CTX), then the element
        "CTX*CLM01:PCN-0002", "IK4*3*1251*8*2026111--20261110", "IK5*R*5"]
    # the fast element test and pyx12's own check agree on such a value
    from edi.validators._pyx12_segment import valid_data_type

    assert valid_data_type("20261101-20261110", "RD8") is True
    assert valid_data_type("2026111--20261110", "RD8") is False
    assert valid_data_type("20261101-2026-1110", "RD8") is False


def test_an_overfull_composite_errors_stand_at_its_position_among_pyx12s_own() -> None:
    """`segment_errors` puts the two too-many-components errors where pyx12 would have
    reported them: at the composite's position, the rest in pyx12's own order (checked
    against pyx12 on the same segment without the extra components)."""
    import pyx12.segment

    from edi.validators._pyx12_segment import segment_errors
    from edi.validators.implementation_guide import load_map

    node = load_map("837.5010.X222.A1.xml").getnodebypath(
        "/ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A/2000B/2300/CLM")
    # a 21st element, a bad amount, a bad code in CLM06 and in CLM20
    text = "CLM*PCN1*ABC***11:B:1*Q*A*Y*I***********X*EXTRA"
    plain = pyx12.segment.Segment(text, "~", "*", ":")
    pyx12_order = [(e.err_cde, e.refdes) for e in node.is_valid_errors(plain)[1]]
    assert pyx12_order == [("3", "21"), ("6", "CLM02"), ("7", "CLM06"), ("7", "CLM20")]
    overfull = pyx12.segment.Segment(text.replace("11:B:1", "11:B:1:7:7"), "~", "*", ":")
    assert [(e.err_cde, e.refdes) for e in segment_errors(node, overfull)] == [
        ("3", "21"), ("6", "CLM02"), ("3", "05"), ("3", "CLM05"), ("7", "CLM06"),
        ("7", "CLM20")]



def test_every_element_of_a_set_given_a_value_no_answer_can_echo_leaves_every_answer_valid(
) -> None:
    # Given the two-claim sample with each element inside its set in turn set to blanks
    # or a backtick, values the 999 may take (found by an audit: a CLM01 of three blanks
    # made an empty CLP01, and the cycle's check then refused every cycle)
    data = (ACK_FIXTURES / "valid-two-claims.837").read_bytes()
    failing = {}
    for at, element in blankable(data):
        for value in UNECHOABLE[:2]:
            # Then every oracle of the fuzz suite holds: answers valid, claims paid once
            failures = run_case(blanked(data, at, element, value))
            if failures:
                segment = data.split(b"~")[at].split(b"*")[0].strip()
                failing[(segment, element, value)] = failures
    assert failing == {}
