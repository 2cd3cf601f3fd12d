"""The 835 writer's segment rules that the golden files do not reach."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from edi.acks import CountingControlNumbers, Responder
from edi.parsers.remit835 import read_835
from edi.remit835 import (
    CasAdjustment,
    ClaimPayment,
    Party,
    Payee,
    Person,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
    render_835,
)
from edi.validators.outbound import outbound_problems
from remittance.balance import prove_interchanges
from remittance.payer import DEFAULT_PAYER
from tests.pyx12_oracle import pyx12_accepts

RESPONDER = Responder(when=datetime(2026, 3, 30, 9, 0, tzinfo=UTC),
                      control=CountingControlNumbers())
D = Decimal


def _remittance(adjustments: tuple[CasAdjustment, ...], plb: tuple[ProviderAdjustment, ...],
                amount: str) -> Remittance:
    charge = D("700.00")
    paid = charge - sum((a.amount for a in adjustments), D(0))
    line = ServicePayment("90837", ("HO", "U5"), charge, paid, D(1), date(2026, 3, 2),
                          adjustments, None, ())
    claim = ClaimPayment("PCN-7", "1", charge, paid, sum(
        (a.amount for a in adjustments if a.group == "PR"), D(0)), "12", "OBH-7", "11", "1",
        Person("DOE", "JO", "M1"), services=(line,))
    return Remittance(DEFAULT_PAYER, Payee(Party("PRACTICE"), "1000000001", "123456789"),
                      "CHK", D(amount), "T1", date(2026, 4, 1), date(2026, 3, 30), (claim,),
                      plb)


def test_seven_reasons_of_one_group_take_two_cas_segments_and_seven_plb_pairs_two_plbs() -> None:
    reasons = tuple(CasAdjustment("CO", str(code), D("10.00"))
                    for code in (45, 97, 151, 185, 197, 198, 242))
    plb = tuple(ProviderAdjustment("WO", f"OBH-{n}", D("1.00")) for n in range(7))
    text = render_835(_remittance(reasons, plb, "623.00"), RESPONDER)
    segments = [s.strip() for s in text.split("~")]
    assert [s for s in segments if s.startswith("CAS")] == [
        "CAS*CO*45*10.00**97*10.00**151*10.00**185*10.00**197*10.00**198*10.00",
        "CAS*CO*242*10.00"]
    plbs = [s for s in segments if s.startswith("PLB")]
    assert len(plbs) == 2 and plbs[1] == "PLB*1000000001*20261231*WO:OBH-6*1.00"
    assert "SVC*HC:90837:HO:U5*700.00*630.00**1" in segments
    assert prove_interchanges(read_835(io.BytesIO(text.encode()))) == []
    # The guide lets PLB repeat (max use >1); pyx12's walk re-enters its one-time
    # footer loop on a second PLB and objects, so the payment cycle never plans more
    # than six pairs (tests/test_remittance_properties.py): this is the only objection
    assert outbound_problems(text) == ["IK502 5", "PLB segment at position 21: loop occurs "
                                                  "over maximum times"]
    assert not pyx12_accepts(text)


@pytest.mark.parametrize(("method", "amount"), [("NON", "5.00"), ("CHK", "0.00"),
                                                ("ACH", "-1.00")])
def test_a_method_that_does_not_fit_the_amount_is_refused(method: str, amount: str) -> None:
    remittance = replace(_remittance((), (), "0.00"), method=method, amount=D(amount))
    with pytest.raises(ValueError):
        render_835(remittance, RESPONDER)


def test_delimiters_inside_a_value_never_reach_the_file() -> None:
    remittance = _remittance((), (), "700.00")
    claim = replace(remittance.claims[0], patient=Person("O*BRIEN~", "J:O", "M^1"))
    text = render_835(replace(remittance, claims=(claim,)), RESPONDER)
    assert "NM1*QC*1*OBRIEN*JO****MI*M1~" in text


@pytest.mark.parametrize("pcn", ["   ", "`", "~*"])
def test_a_patient_control_number_no_answer_can_carry_is_echoed_as_the_277ca_echoes_it(
        pcn: str) -> None:
    # Given a claim the 999 and 277CA accepted with a CLM01 none of whose characters an
    # 835 can carry (found by an audit: CLP01 came out empty, the cycle's check refused
    # the 835, and so every cycle, for every payee, for good)
    remittance = _remittance((), (), "700.00")
    claim = replace(remittance.claims[0], patient_control_number=pcn)
    text = render_835(replace(remittance, claims=(claim,)), RESPONDER)
    # Then CLP01 is the 277CA's TRN02 fallback, the claim known by its claim number
    assert "CLP*0*1*700.00*700.00**12*OBH-7*11*1~" in text
    assert outbound_problems(text) == [] and pyx12_accepts(text)


@pytest.mark.parametrize("party", [Party("   "), Party("PRACTICE", ("   ",), "   ", "MA", "02110"),
                                   Party("`", ("1 MAIN ST",), "`", "", "")])
def test_a_payee_name_or_city_no_answer_can_carry_leaves_a_valid_835(party: Party) -> None:
    # A billing provider name or city of blanks passes the 999, and an empty N102 or
    # N401 made the payee's 835 fail the cycle's check, and with it every cycle
    remittance = replace(_remittance((), (), "700.00"),
                         payee=Payee(party, "1000000001", "123456789"))
    text = render_835(remittance, RESPONDER)
    assert outbound_problems(text) == [] and pyx12_accepts(text)
    assert "N1*PE*" in text and "N1*PE**" not in text and "N4**" not in text


@pytest.mark.parametrize("control", ["`", "   ", "~*"])
def test_a_line_item_control_number_no_answer_can_carry_is_left_out(control: str) -> None:
    # Given a line the 999 and 277CA accepted with a REF*6R none of whose characters an
    # 835 can carry (found by the fuzz run, seed 20261201 case 10824: a REF02 of "`"
    # came out as a REF*6R without REF02, the cycle's check refused the 835, and with
    # it the whole cycle)
    remittance = _remittance((), (), "700.00")
    claim = remittance.claims[0]
    line = replace(claim.services[0], line_item_control_number=control)
    text = render_835(replace(remittance, claims=(replace(claim, services=(line,)),)),
                      RESPONDER)
    # Then the line goes without its REF*6R, as the 277CA echoes no REF*FJ for it
    assert "REF*6R" not in text
    assert outbound_problems(text) == [] and pyx12_accepts(text)


def test_names_no_answer_can_carry_leave_a_valid_835() -> None:
    remittance = _remittance((), (), "700.00")
    claim = replace(remittance.claims[0], patient=Person("`", "`", "`"),
                    rendering=Person("   ", "", "1000000001"))
    text = render_835(replace(remittance, claims=(claim,)), RESPONDER)
    assert outbound_problems(text) == [] and pyx12_accepts(text)
