"""835s for hand-built claims, compared with 835s written by hand from the rules.

Each expected file below was written from the X221A1 segment rules in
`edi/remit835.py`'s docstring, DOMAIN.md 8 and the amounts worked out in the comments
(the World of `tests/adjudication_builders.py`: 90837 at a fee of 100.00, charge
200.00, an in-network LCSW rendering for billing provider 1000000001, TIN 123456789).
Every one also validates with pyx12's X221A1 map and balances when read back by the
project's own reader.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime

from adjudication.decision import Decision
from edi.acks import CountingControlNumbers, Responder
from edi.claims import ParsedClaim
from edi.parsers.remit835 import read_835
from edi.remit835 import BankAccount, ClaimPayment, Payee, render_835
from edi.validators.outbound import outbound_problems
from remittance.balance import prove_interchanges
from remittance.claims import claim_payment, payee_of, reversal_of
from remittance.cycle import Carried, CyclePlan, Waiting, plan_cycle
from remittance.payer import DEFAULT_PAYER
from tests.adjudication_builders import (
    World,
    accumulator,
    build_claim,
    category,
    copay,
    decide,
    line,
    past_claim,
    plan,
    provider,
)
from tests.pyx12_oracle import pyx12_accepts

PAYEE_BANK = BankAccount("011000138", "70012340")
WHEN = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
EFFECTIVE = date(2026, 4, 1)

ISA = ("ISA*00*          *00*          *ZZ*87726          *ZZ*1000000001     *260330*0900*^"
       "*00501*000000001*0*P*:~\n")
HEAD = ISA + """\
GS*HP*87726*1000000001*20260330*0900*1*X*005010X221A1~
ST*835*0001~
{bpr}~
TRN*1*{trace}*1999999999~
DTM*405*20260330~
N1*PR*OPTUM BEHAVIORAL HEALTH~
N3*PO BOX 30757~
N4*SALT LAKE CITY*UT*841300757~
REF*2U*87726~
PER*CX*PROVIDER SERVICES*TE*8778423210~
PER*BL*EDI SUPPORT*TE*8008423210~
N1*PE*RIVERSIDE COUNSELING*XX*1000000001~
N3*12 RIVER RD~
N4*AUSTIN*TX*78701~
REF*TJ*123456789~
"""
ACH = ("BPR*C*{amount}*C*ACH*CCP*01*011000015*DA*9000000001*1999999999**01*011000138*DA"
       "*70012340*20260401")
NON = "BPR*H*0.00*C*NON************20260401"
CHK = "BPR*I*{amount}*C*CHK************20260401"
# the patient is the subscriber; the rendering LCSW is not the payee
PATIENT = """\
NM1*QC*1*RIVERA*ANA****MI*M100~
NM1*82*1*CLINICIAN*PAT****XX*1000000002~
"""
DATES = """\
DTM*232*20260302~
DTM*233*20260302~
DTM*050*20260320~
"""


def _tail(segments_in_set: int) -> str:
    return f"SE*{segments_in_set}*0001~\nGE*1*1~\nIEA*1*000000001~\n"


def _traces() -> Iterator[str]:
    n = 0
    while True:
        n += 1
        yield f"TRC{n:05d}"


def _waiting(key: int, decision: Decision, claim: ParsedClaim,
             original: ClaimPayment | None = None) -> Waiting:
    reverses = decision.reversal.original_icn if decision.reversal else None
    payment = None if decision.status == "voided" else claim_payment(decision, claim)
    return Waiting(key, payee_of(claim), payment, reverses, original)


def _cycle(items: list[Waiting], *, bank: BankAccount | None = PAYEE_BANK,
           carried: dict[tuple[str, str], list[Carried]] | None = None,
           traces: Iterator[str] | None = None) -> CyclePlan:
    trace = traces or _traces()
    return plan_cycle(items, payer=DEFAULT_PAYER, carried=carried or {},
                      account=lambda _payee: bank, next_trace=lambda: next(trace),
                      effective=EFFECTIVE, produced=WHEN.date())


def _text(plan: CyclePlan, index: int = 0) -> str:
    return render_835(plan.remittances[index].remittance,
                      Responder(when=WHEN, control=CountingControlNumbers()))


def _valid_and_balanced(text: str) -> None:
    assert outbound_problems(text) == [] and pyx12_accepts(text)
    assert prove_interchanges(read_835(io.BytesIO(text.encode()))) == []


def test_a_paid_claim_is_one_ach_payment_with_the_contract_write_off() -> None:
    # charge 200.00, fee 100.00: CO-45 100.00, paid 100.00, nothing for the patient
    claim = build_claim()
    plan_ = _cycle([_waiting(1, decide(claim, World().reference()), claim)])
    text = _text(plan_)
    assert text == (HEAD.format(bpr=ACH.format(amount="100.00"), trace="TRC00001") + """\
LX*1~
CLP*PCN-1*1*200.00*100.00**15*OBH-1*11*1~
""" + PATIENT + DATES + """\
SVC*HC:90837*200.00*100.00**1~
DTM*472*20260302~
CAS*CO*45*100.00~
AMT*B6*100.00~
""" + _tail(26))
    _valid_and_balanced(text)


def test_deductible_copay_and_coinsurance_are_the_patients_share_paid_by_check() -> None:
    # allowed 100.00: deductible 30.00 (PR-1), copay 25.00 (PR-3), 20 % of the other
    # 45.00 (PR-2 9.00); paid 36.00, the patient 64.00. No account on file: a check.
    world = World(plans=(plan(deductible="30", coinsurance="20"),))
    reference = world.reference(copays=[copay("psychotherapy", "25")],
                                service_categories=[category("90837", "psychotherapy")],
                                accumulators=[accumulator("0", "0")])
    claim = build_claim()
    text = _text(_cycle([_waiting(1, decide(claim, reference), claim)], bank=None))
    assert text == (HEAD.format(bpr=CHK.format(amount="36.00"), trace="TRC00001") + """\
LX*1~
CLP*PCN-1*1*200.00*36.00*64.00*15*OBH-1*11*1~
""" + PATIENT + DATES + """\
SVC*HC:90837*200.00*36.00**1~
DTM*472*20260302~
CAS*CO*45*100.00~
CAS*PR*1*30.00**3*25.00**2*9.00~
AMT*B6*100.00~
""" + _tail(27))
    _valid_and_balanced(text)


def test_a_payee_with_only_a_late_claim_gets_a_notification_of_zero() -> None:
    # received 200 days after the service, over the 90-day limit: CO-29 on the line,
    # the member recognised (CLP02 1, not 4); no money moves: BPR H, NON, 0.00
    claim = build_claim()
    decision = decide(claim, World().reference(), received=date(2026, 9, 18))
    text = _text(_cycle([_waiting(1, decision, claim)]))
    assert text == (HEAD.format(bpr=NON, trace="TRC00001") + """\
LX*1~
CLP*PCN-1*1*200.00*0.00**15*OBH-1*11*1~
""" + PATIENT + """\
DTM*232*20260302~
DTM*233*20260302~
DTM*050*20260918~
SVC*HC:90837*200.00*0.00**1~
DTM*472*20260302~
CAS*CO*29*200.00~
""" + _tail(25))
    _valid_and_balanced(text)


def test_a_duplicate_and_an_out_of_network_denial_ride_with_a_paid_claim() -> None:
    # PCN-1 paid 100.00; PCN-2 repeats a remitted service (OA-18, the whole charge);
    # PCN-3 rendered by an out-of-network clinician on a plan without that benefit
    # (CO-242). One payment of 100.00 for the three.
    out_npi = "1000000004"
    reference = World().reference(
        past_claims=[past_claim("OBH-ORIG", service_date=date(2026, 3, 3))],
        providers=[*World().providers, provider(out_npi, network="out")])
    first = build_claim()
    repeat = build_claim([line(dos=date(2026, 3, 3))], pcn="PCN-2")
    outside = build_claim(pcn="PCN-3", rendering_npi=out_npi)
    items = [_waiting(1, decide(first, reference, icn="OBH-1"), first),
             _waiting(2, decide(repeat, reference, icn="OBH-2"), repeat),
             _waiting(3, decide(outside, reference, icn="OBH-3"), outside)]
    text = _text(_cycle(items))
    assert text == (HEAD.format(bpr=ACH.format(amount="100.00"), trace="TRC00001") + """\
LX*1~
CLP*PCN-1*1*200.00*100.00**15*OBH-1*11*1~
""" + PATIENT + DATES + """\
SVC*HC:90837*200.00*100.00**1~
DTM*472*20260302~
CAS*CO*45*100.00~
AMT*B6*100.00~
CLP*PCN-2*1*200.00*0.00**15*OBH-2*11*1~
""" + PATIENT + """\
DTM*232*20260303~
DTM*233*20260303~
DTM*050*20260320~
SVC*HC:90837*200.00*0.00**1~
DTM*472*20260303~
CAS*OA*18*200.00~
CLP*PCN-3*1*200.00*0.00**15*OBH-3*11*1~
NM1*QC*1*RIVERA*ANA****MI*M100~
NM1*82*1*CLINICIAN*PAT****XX*1000000004~
""" + DATES + """\
SVC*HC:90837*200.00*0.00**1~
DTM*472*20260302~
CAS*CO*242*200.00~
""" + _tail(44))
    _valid_and_balanced(text)


def test_each_line_gives_back_the_line_item_control_number_it_was_sent_with() -> None:
    # X221A1 2110 REF*6R, required when the 837P line had one (2400 REF*6R): after the
    # line's CAS, before AMT*B6; a line sent without one gets none. Line 1: charge
    # 200.00, fee 100.00, paid 100.00; line 2 (90834 at the World's fee of 80.00):
    # charge 120.00, CO-45 40.00, paid 80.00; the payment 180.00.
    claim = build_claim([line(1, control="LN-7781"), line(2, "90834", "120.00")])
    text = _text(_cycle([_waiting(1, decide(claim, World().reference()), claim)]))
    assert text == (HEAD.format(bpr=ACH.format(amount="180.00"), trace="TRC00001") + """\
LX*1~
CLP*PCN-1*1*320.00*180.00**15*OBH-1*11*1~
""" + PATIENT + DATES + """\
SVC*HC:90837*200.00*100.00**1~
DTM*472*20260302~
CAS*CO*45*100.00~
REF*6R*LN-7781~
AMT*B6*100.00~
SVC*HC:90834*120.00*80.00**1~
DTM*472*20260302~
CAS*CO*45*40.00~
AMT*B6*80.00~
""" + _tail(31))
    _valid_and_balanced(text)
    read = read_835(io.BytesIO(text.encode()))[0].groups[0].transactions[0].claims[0]
    assert [s.line_item_control_number for s in read.services] == ["LN-7781", ""]
    # a later reversal gives the line back as it was remitted, control number and all
    reversed_ = reversal_of(_cycle([_waiting(1, decide(claim, World().reference()), claim)])
                            .remittances[0].remitted[0].payment)
    assert [s.line_item_control_number for s in reversed_.services] == ["LN-7781", None]


def _original_cycle() -> tuple[CyclePlan, Iterator[str]]:
    """Cycle 1: OBH-ORIG paid 100.00 (charge 200.00, CO-45 100.00)."""
    traces = _traces()
    claim = build_claim(pcn="PCN-O")
    decision = decide(claim, World().reference(), icn="OBH-ORIG")
    return _cycle([_waiting(1, decision, claim)], traces=traces), traces


REVERSAL = """\
CLP*PCN-O*22*-200.00*-100.00**15*OBH-ORIG*11*1~
""" + PATIENT + DATES + """\
SVC*HC:90837*-200.00*-100.00**1~
DTM*472*20260302~
CAS*CO*45*-100.00~
AMT*B6*-100.00~
"""


def _replacement_world(charge: str) -> tuple[Decision, ParsedClaim]:
    """A replacement (frequency 7) of OBH-ORIG billing ``charge``; the original is on
    file as remitted (a past claim row) so the engine reverses it."""
    reference = World().reference(past_claims=[past_claim("OBH-ORIG")])
    claim = build_claim([line(charge=charge)], pcn="PCN-O", frequency="7",
                        original_icn="OBH-ORIG")
    return decide(claim, reference, icn="OBH-R"), claim


def test_a_replacement_reverses_the_original_as_remitted_then_pays_the_correction() -> None:
    first, traces = _original_cycle()
    original = first.remittances[0].remitted[0].payment
    # the corrected claim bills 150.00: CO-45 50.00, paid 100.00; the reversal takes
    # back the 100.00 paid before: the payment is 0.00, a notification
    decision, claim = _replacement_world("150.00")
    text = _text(_cycle([_waiting(2, decision, claim, original)], traces=traces))
    assert text == (HEAD.format(bpr=NON, trace="TRC00002") + "LX*1~\n" + REVERSAL + """\
CLP*PCN-O*1*150.00*100.00**15*OBH-R*11*7~
""" + PATIENT + """\
REF*F8*OBH-ORIG~
""" + DATES + """\
SVC*HC:90837*150.00*100.00**1~
DTM*472*20260302~
CAS*CO*45*50.00~
AMT*B6*100.00~
""" + _tail(37))
    _valid_and_balanced(text)


def test_a_void_is_the_reversal_alone_and_its_shortfall_is_carried_then_recovered() -> None:
    first, traces = _original_cycle()
    original = first.remittances[0].remitted[0].payment
    void = build_claim(pcn="PCN-O", frequency="8", original_icn="OBH-ORIG")
    reference = World().reference(past_claims=[past_claim("OBH-ORIG")])
    decision = decide(void, reference, icn="OBH-V")
    second = _cycle([_waiting(2, decision, void, original)], traces=traces)
    # the reversal takes back 100.00 and nothing is paid: BPR 0.00 with a forward
    # balance of -100.00 naming the reversed claim, and 100.00 carried
    text = _text(second)
    assert text == (HEAD.format(bpr=NON, trace="TRC00002") + "LX*1~\n" + REVERSAL
                    + "PLB*1000000001*20261231*FB:OBH-ORIG*-100.00~\n" + _tail(27))
    _valid_and_balanced(text)
    assert second.remittances[0].carried == (Carried("OBH-ORIG", 100),)
    # the next cycle pays a new claim 100.00 and recovers the 100.00 first (WO)
    fresh = build_claim([line(dos=date(2026, 3, 9))], pcn="PCN-N")
    third = _cycle([_waiting(3, decide(fresh, World().reference(), icn="OBH-N"), fresh)],
                   carried={("1000000001", "123456789"): list(second.remittances[0].carried)},
                   traces=traces)
    text = _text(third)
    assert text == (HEAD.format(bpr=NON, trace="TRC00003") + """\
LX*1~
CLP*PCN-N*1*200.00*100.00**15*OBH-N*11*1~
""" + PATIENT + """\
DTM*232*20260309~
DTM*233*20260309~
DTM*050*20260320~
SVC*HC:90837*200.00*100.00**1~
DTM*472*20260309~
CAS*CO*45*100.00~
AMT*B6*100.00~
PLB*1000000001*20261231*WO:OBH-ORIG*100.00~
""" + _tail(27))
    _valid_and_balanced(text)
    assert third.remittances[0].carried == ()


def test_a_correction_whose_original_was_never_remitted_is_held() -> None:
    decision, claim = _replacement_world("150.00")
    plan_ = _cycle([_waiting(7, decision, claim)])
    assert plan_.held == (7,) and plan_.remittances == ()


def test_an_original_from_history_is_rebuilt_only_when_its_lines_say_what_was_paid() -> None:
    from remittance.claims import original_from_history

    decision, claim = _replacement_world("150.00")
    like = claim_payment(decision, claim)
    # a history line that accounts for its charge: 200.00 - CO-45 100.00 = 100.00 paid
    whole = past_claim("OBH-ORIG", adjustments="CO-45:100.00")
    rebuilt = original_from_history([whole], like)
    assert rebuilt is not None
    assert (rebuilt.payer_claim_control_number, rebuilt.charge, rebuilt.paid) == (
        "OBH-ORIG", whole.charge, whole.paid)
    assert rebuilt.services[0].adjustments[0].amount == whole.charge - whole.paid
    # the history cannot say exactly what was remitted: no reversal is made up
    unsaid = {
        "no lines": [],
        "a line never remitted": [whole, past_claim("OBH-ORIG", line_number=2,
                                                    adjustments="CO-45:100.00",
                                                    remitted=None)],
        "a line already reversed": [past_claim("OBH-ORIG", adjustments="CO-45:100.00",
                                               status="reversed")],
        "adjustments short of the charge": [past_claim("OBH-ORIG", adjustments="CO-45:90.00")],
        # CLP05 must be the PR adjustments (DOMAIN.md 8.4); a reversal of a patient
        # responsibility the CAS do not say made an 835 the cycle's check refused, and
        # with it every payee's cycle (found by an audit, 2026-12-01)
        "patient responsibility not its PR adjustments": [
            past_claim("OBH-ORIG", pr="5.00", adjustments="CO-45:100.00")],
        "PR adjustments without the patient responsibility": [
            past_claim("OBH-ORIG", adjustments="CO-45:70.00 PR-2:30.00")],
    }
    for case, lines in unsaid.items():
        assert original_from_history(lines, like) is None, case


def test_the_payee_is_the_billing_provider_at_its_address() -> None:
    payee = payee_of(build_claim())
    assert payee == Payee(payee.party, "1000000001", "123456789")
    assert (payee.party.name, payee.party.city) == ("RIVERSIDE COUNSELING", "AUSTIN")
