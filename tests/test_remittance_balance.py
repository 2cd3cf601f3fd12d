"""The balancing proof (`remittance.balance`) on a hand-written 835 that balances, and
on copies of it each broken in one place: every rule can fail, and says where. And
CLP06, the claim filing code an 835 claim carries (`remittance.claims`).

The 835 below was written by hand from the TR3's balancing rules: one claim of 150.00,
CO-45 30.00 and PR-2 20.00 on its line, so the line pays 100.00, the claim 100.00 with
20.00 patient responsibility, and BPR02 100.00 with no provider adjustment."""

from __future__ import annotations

import io

import pytest

from adjudication.reference import LineOfBusiness
from edi.parsers.remit835 import read_835
from remittance.balance import prove_interchanges
from remittance.claims import CLAIM_FILING_CODES_835, filing_indicator

ISA = ("ISA*00*          *00*          *ZZ*87726          *ZZ*CLEARHOUSE01   *261129*1200*^"
       "*00501*000000001*0*P*:")
GS = "GS*HP*87726*CLEARHOUSE01*20261129*1200*1*X*005010X221A1"
BPR = ("BPR*I*100.00*C*ACH*CCP*01*999999999*DA*123456*1234567890**01*999999999*DA*654321"
       "*20261130")
BODY = (
    "ST*835*0001", BPR, "TRN*1*TRC00001*1234567890", "DTM*405*20261129",
    "N1*PR*OPTUM BEHAVIORAL HEALTH", "N3*PO BOX 30757", "N4*SALT LAKE CITY*UT*84130",
    "N1*PE*SUNRISE BEHAVIORAL HEALTH*XX*1234567893", "LX*1",
    "CLP*PCN-1*1*150.00*100.00*20.00*12*2026001000001", "NM1*QC*1*DOE*JANE****MI*M1",
    "SVC*HC:90837*150.00*100.00**1", "DTM*472*20261102", "CAS*CO*45*30.00",
    "CAS*PR*2*20.00",
)
SE = "SE*16*0001"  # ST to SE: 16 segments
CLAIM = "claim PCN-1 (2026001000001)"


def _proof(*segments: str) -> list[str]:
    text = "~".join(segments) + "~"
    return [str(p) for p in prove_interchanges(read_835(io.BytesIO(text.encode())))]


def _body(old: str, new: str) -> tuple[str, ...]:
    assert old in BODY
    return tuple(new if segment == old else segment for segment in BODY)


def test_the_hand_written_835_balances() -> None:
    assert _proof(ISA, GS, *BODY, SE, "GE*1*1", "IEA*1*000000001") == []


BROKEN = {
    "no IEA": ((ISA, GS, *BODY, SE, "GE*1*1"),
               "counts: interchange 000000001: IEA is missing"),
    "IEA counts two groups": (
        (ISA, GS, *BODY, SE, "GE*1*1", "IEA*2*000000001"),
        "counts: interchange 000000001: IEA says 2 groups and 000000001, the interchange "
        "has 1 and 000000001"),
    "no GE": ((ISA, GS, *BODY, SE, "IEA*1*000000001"), "counts: group 1: GE is missing"),
    "GE counts three sets": (
        (ISA, GS, *BODY, SE, "GE*3*1", "IEA*1*000000001"),
        "counts: group 1: GE says 3 sets and 1, the group has 1 and 1"),
    "no SE": ((ISA, GS, *BODY, "GE*1*1", "IEA*1*000000001"),
              "counts: ST 0001: SE is missing"),
    "SE01 wrong": ((ISA, GS, *BODY, "SE*99*0001", "GE*1*1", "IEA*1*000000001"),
                   "counts: ST 0001: SE01 is 99, the set has 16 segments"),
    "SE02 not ST02": ((ISA, GS, *BODY, "SE*16*0002", "GE*1*1", "IEA*1*000000001"),
                      "counts: ST 0001: SE02 does not repeat ST02"),
    "line pays too much": (
        (ISA, GS, *_body("SVC*HC:90837*150.00*100.00**1", "SVC*HC:90837*150.00*110.00**1"),
         SE, "GE*1*1", "IEA*1*000000001"),
        f"line: line 1 of {CLAIM}"),
    "claim pays too much": (
        (ISA, GS, *_body("CLP*PCN-1*1*150.00*100.00*20.00*12*2026001000001",
                         "CLP*PCN-1*1*150.00*90.00*20.00*12*2026001000001"),
         SE, "GE*1*1", "IEA*1*000000001"),
        f"claim: {CLAIM}"),
    "patient share not the PR adjustments": (
        (ISA, GS, *_body("CLP*PCN-1*1*150.00*100.00*20.00*12*2026001000001",
                         "CLP*PCN-1*1*150.00*100.00*25.00*12*2026001000001"),
         SE, "GE*1*1", "IEA*1*000000001"),
        f"patient: {CLAIM}"),
    "BPR02 not the claims' payment": (
        (ISA, GS, *_body(BPR, BPR.replace("*100.00*", "*90.00*")), SE, "GE*1*1",
         "IEA*1*000000001"),
        "payment: ST 0001: BPR02 90.00 is not the claims' paid 100.00 less provider "
        "adjustments 0"),
    "a negative payment": (
        (ISA, GS, *_body(BPR, BPR.replace("*100.00*", "*-10.00*")), SE, "GE*1*1",
         "IEA*1*000000001"),
        "no-negative-payment: ST 0001: BPR02 is -10.00"),
    "a zero payment sent by ACH": (
        (ISA, GS, *_body(BPR, BPR.replace("*100.00*", "*0.00*")), SE, "GE*1*1",
         "IEA*1*000000001"),
        "no-negative-payment: ST 0001: a zero payment is BPR01 H with BPR04 NON"),
    "money moved with no payment method": (
        (ISA, GS, *_body(BPR, BPR.replace("*ACH*", "*NON*")), SE, "GE*1*1",
         "IEA*1*000000001"),
        "no-negative-payment: ST 0001: a payment that moves money is not BPR04 NON"),
}
"""Each broken copy, and the problem the proof must name (the start of its text)."""


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_rule_fails_on_a_copy_broken_in_one_place(case: str) -> None:
    segments, expected = BROKEN[case]
    problems = _proof(*segments)
    assert any(problem.startswith(expected) for problem in problems), problems
    # and nothing else is found wrong but what the break itself causes
    assert {p.split(":")[0] for p in problems} <= {expected.split(":")[0], "readable",
                                                   "payment"}


@pytest.mark.parametrize(("sbr09", "lob", "plan_id", "clp06"), [
    ("MC", LineOfBusiness.COMMERCIAL, "COM-PPO-500", "MC"),  # the 837's own code first
    ("CI", LineOfBusiness.COMMERCIAL, "COM-PPO-500", "12"),  # CI is no 835 code: the plan
    (None, LineOfBusiness.MEDICAID, "MH-STD", "MC"),
    (None, LineOfBusiness.MEDICARE_ADVANTAGE, "MA-HMO", "16"),
    (None, LineOfBusiness.COMMERCIAL, "COM-POS-1", "13"),
    (None, LineOfBusiness.COMMERCIAL, "com-epo-2", "14"),
    (None, LineOfBusiness.COMMERCIAL, "COM-HMO-3", "HM"),
    (None, LineOfBusiness.COMMERCIAL, "COM-GOLD", "15"),
    (None, LineOfBusiness.COMMERCIAL, None, "15"),
    ("11", None, None, "ZZ"),  # the member was never identified
])
def test_clp06_is_the_claims_filing_code_else_the_line_of_business(
        sbr09: str | None, lob: LineOfBusiness | None, plan_id: str | None,
        clp06: str) -> None:
    assert filing_indicator(sbr09, lob, plan_id) == clp06
    assert clp06 in CLAIM_FILING_CODES_835
