"""A reviewer's denial of a pend, as the 835 will carry it: the group its CARC's usage
requires and the remark code a CARC needs (DOMAIN.md 8.3; X12 CARC notes)."""

from __future__ import annotations

import pytest

from adjudication.decision import Decision, Group
from edi.acks import CountingControlNumbers, Responder
from edi.remit835 import render_835
from remittance.claims import claim_payment, payee_of
from remittance.cycle import Waiting, plan_cycle
from remittance.payer import DEFAULT_PAYER
from tests.adjudication_builders import World, build_claim, decide, line
from tests.test_remittance_golden import EFFECTIVE, WHEN, _valid_and_balanced
from workers.review_cli import DENIAL_RULE, NEEDS_REMARK, ReviewError, denial

CLAIM = build_claim([line(1, "90832", "150.00")])  # no fee on file for 90832: a pend


def _pended() -> Decision:
    decision = decide(CLAIM, World().reference())
    assert decision.status == "pended"
    return decision


def _835(decision: Decision) -> str:
    waiting = Waiting(1, payee_of(CLAIM), claim_payment(decision, CLAIM), None, None)
    plan = plan_cycle([waiting], payer=DEFAULT_PAYER, carried={}, account=lambda _p: None,
                      next_trace=lambda: "TRC00001", effective=EFFECTIVE, produced=WHEN.date())
    return render_835(plan.remittances[0].remittance,
                      Responder(when=WHEN, control=CountingControlNumbers()))


@pytest.mark.parametrize("carc", ["16", "96", "234", "252"])
def test_a_carc_that_needs_a_remark_code_is_refused_without_one(carc: str) -> None:
    with pytest.raises(ReviewError, match=f"CARC {carc} needs a remark code"):
        denial(_pended(), carc)


def test_every_carc_that_needs_a_remark_code_can_be_given_with_one() -> None:
    # Given the CARCs whose X12 text requires a remark code (DOMAIN.md 8.3)
    for carc in sorted(NEEDS_REMARK):
        # When a reviewer denies with one of them and a remark code
        (only,) = denial(_pended(), carc, "N130").lines
        # Then the denial carries both, in group CO
        assert [(a.group, a.carc) for a in only.adjustments] == [(Group.CO, carc)]
        assert only.rarcs == ("N130",)


def test_a_procedure_not_paid_separately_is_denied_with_its_bundling_remark() -> None:
    text = _835(denial(_pended(), "234", "M15"))
    assert "CAS*CO*234*150.00~" in text and "LQ*HE*M15~" in text
    _valid_and_balanced(text)


def test_a_denial_with_its_remark_code_reaches_the_835() -> None:
    denied = denial(_pended(), "96", "N130")
    (only,) = denied.lines
    assert (only.status, only.paid, only.rarcs) == ("denied", 0, ("N130",))
    assert [(a.group, a.carc, str(a.amount)) for a in only.adjustments] == [
        (Group.CO, "96", "150.00")]
    assert (denied.trace[-1].rule_id, denied.trace[-1].version) == (DENIAL_RULE, 2)
    assert dict(denied.trace[-1].inputs) == {"group": "CO", "carc": "96", "rarc": "N130"}
    text = _835(denied)
    assert "CAS*CO*96*150.00~" in text and "LQ*HE*N130~" in text
    _valid_and_balanced(text)


def test_an_exact_duplicate_is_denied_in_group_oa() -> None:
    (only,) = denial(_pended(), "18").lines
    assert [(a.group, a.carc) for a in only.adjustments] == [(Group.OA, "18")]
    assert only.rarcs == ()
    text = _835(denial(_pended(), "18"))
    assert "CAS*OA*18*150.00~" in text and "CAS*CO" not in text
    _valid_and_balanced(text)


@pytest.mark.parametrize(("carc", "rarc", "says"), [
    ("45", "", "45 is not a claim adjustment reason code a denial can give"),
    ("999", "", "999 is not a claim adjustment reason code"),
    ("96", "N999", "N999 is not a remark code (RARC) a denial can give"),
    ("96", "<b>", "<b> is not a remark code"),
])
def test_a_code_a_denial_cannot_give_is_a_clear_refusal(carc: str, rarc: str,
                                                        says: str) -> None:
    with pytest.raises(ReviewError, match=says.replace("(", r"\(").replace(")", r"\)")):
        denial(_pended(), carc, rarc)
