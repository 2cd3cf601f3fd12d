"""Property: over several cycles of random claims, replacements and voids, every 835
balances when read back, payments never go negative, and nothing is paid twice."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from edi.acks import CountingControlNumbers, Responder
from edi.parsers.remit835 import read_835
from edi.remit835 import (
    CasAdjustment,
    ClaimPayment,
    Party,
    Payee,
    Person,
    ServicePayment,
    render_835,
)
from remittance.balance import prove_interchanges
from remittance.cycle import Carried, Waiting, plan_cycle
from remittance.payer import DEFAULT_PAYER

PAYEES = [Payee(Party(f"PRACTICE {n}"), npi, tin)
          for n, (npi, tin) in enumerate((("1000000001", "111111111"),
                                          ("1000000002", "222222222")))]
CENT = Decimal("0.01")


@dataclass(frozen=True)
class LineSpec:
    charge: int
    write_off: int
    patient: int


lines = st.builds(LineSpec, st.integers(1, 50_000), st.integers(0, 50_000), st.integers(0, 50_000))
claims = st.tuples(st.integers(0, 1), st.lists(lines, min_size=1, max_size=3))
# per cycle: new claims, and for each remitted claim an action: keep, replace, void
cycles = st.lists(st.tuples(st.lists(claims, max_size=4),
                            st.lists(st.sampled_from(["keep", "keep", "replace", "void"]),
                                     max_size=6)),
                  min_size=1, max_size=4)


def _payment(icn: str, spec: list[LineSpec], *, original: str | None = None) -> ClaimPayment:
    services = []
    for n, line in enumerate(spec):
        charge = Decimal(line.charge) * CENT
        off = min(Decimal(line.write_off) * CENT, charge)
        patient = min(Decimal(line.patient) * CENT, charge - off)
        adjustments = tuple(a for a in (CasAdjustment("CO", "45", off),
                                        CasAdjustment("PR", "2", patient)) if a.amount)
        services.append(ServicePayment("90837", (), charge, charge - off - patient, Decimal(1),
                                       date(2026, 3, 1 + n), adjustments,
                                       charge - off, ()))
    return ClaimPayment(
        patient_control_number=f"P{icn}", status="1",
        charge=sum((s.charge for s in services), Decimal(0)),
        paid=sum((s.paid for s in services), Decimal(0)),
        patient_responsibility=sum((a.amount for s in services for a in s.adjustments
                                    if a.group == "PR"), Decimal(0)),
        filing_indicator="12", payer_claim_control_number=icn, place_of_service="11",
        frequency_code="7" if original else "1", patient=Person("DOE", "JO", "M1"),
        original_claim_number=original, services=tuple(services))


@settings(max_examples=60, deadline=None)
@given(cycles)
def test_every_cycle_balances_and_nothing_is_paid_twice(plan: list) -> None:
    remitted: dict[str, tuple[int, ClaimPayment]] = {}  # icn -> (payee, CLP as remitted)
    reversed_: set[str] = set()
    carried: dict[tuple[str, str], list[Carried]] = {}
    bpr: defaultdict[str, Decimal] = defaultdict(Decimal)
    clp: defaultdict[str, Decimal] = defaultdict(Decimal)
    plb: defaultdict[str, Decimal] = defaultdict(Decimal)
    paid_claims: Counter[str] = Counter()
    number = 0
    trace = 0
    for new, actions in plan:
        waiting: list[Waiting] = []
        for payee_index, spec in new:
            number += 1
            icn = f"C{number:05d}"
            waiting.append(Waiting(number, PAYEES[payee_index], _payment(icn, spec)))
        standing = [icn for icn in remitted if icn not in reversed_]
        for icn, action in zip(standing, actions, strict=False):
            if action == "keep":
                continue
            payee_index, original = remitted[icn]
            number += 1
            correction = (_payment(f"C{number:05d}", [LineSpec(10_000, 2_000, 1_000)],
                                   original=icn) if action == "replace" else None)
            waiting.append(Waiting(number, PAYEES[payee_index], correction, icn, original))
            reversed_.add(icn)

        def next_trace() -> str:
            nonlocal trace
            trace += 1
            return f"T{trace:06d}"

        cycle = plan_cycle(waiting, payer=DEFAULT_PAYER, carried=carried,
                           account=lambda _p: None, next_trace=next_trace,
                           effective=date(2026, 4, 1), produced=date(2026, 3, 30))
        assert cycle.held == ()
        by_key = {w.key: w for w in waiting}
        for planned in cycle.remittances:
            r = planned.remittance
            text = render_835(r, Responder(datetime(2026, 3, 30, tzinfo=UTC),
                                           CountingControlNumbers()))
            read = read_835(io.BytesIO(text.encode()))
            assert prove_interchanges(read) == []
            (ts,) = [t for ic in read for g in ic.groups for t in g.transactions]
            assert ts.amount >= 0
            assert len(ts.provider_adjustments) <= 6  # one PLB segment
            npi = r.payee.npi
            bpr[npi] += ts.amount
            clp[npi] += sum((c.paid for c in ts.claims), Decimal(0))
            plb[npi] += sum((p.amount for p in ts.provider_adjustments), Decimal(0))
            paid_claims.update(c.payer_claim_control_number for c in ts.claims
                               if c.status != "22")
            carried[(npi, r.payee.tax_id)] = list(planned.carried)
            for item in planned.remitted:
                if item.role == "claim":
                    payee_index = PAYEES.index(by_key[item.key].payee)
                    remitted[item.payment.payer_claim_control_number] = (payee_index,
                                                                         item.payment)
    assert set(paid_claims.values()) <= {1}
    for npi in bpr:
        owed = sum((c.amount for (p, _t), items in carried.items() if p == npi
                    for c in items), Decimal(0))
        # what was paid is what the claims paid less what was recovered; what is still
        # owed is exactly the forward balances not yet recovered
        assert bpr[npi] == clp[npi] - plb[npi]
        assert -plb[npi] == owed and owed >= 0


def test_a_cycle_recovers_the_six_oldest_balances_and_carries_the_rest() -> None:
    owed = [Carried(f"C{n}", Decimal("10.00")) for n in range(8)]
    waiting = [Waiting(1, PAYEES[0], _payment("N1", [LineSpec(100_000, 0, 0)]))]
    cycle = plan_cycle(waiting, payer=DEFAULT_PAYER,
                       carried={(PAYEES[0].npi, PAYEES[0].tax_id): owed},
                       account=lambda _p: None, next_trace=lambda: "T1",
                       effective=date(2026, 4, 1), produced=date(2026, 3, 30))
    (planned,) = cycle.remittances
    assert [(a.reason, a.reference) for a in planned.remittance.provider_adjustments] == [
        ("WO", f"C{n}") for n in range(6)]
    assert planned.remittance.amount == Decimal("940.00")
    assert planned.carried == (Carried("C6", Decimal("10.00")), Carried("C7", Decimal("10.00")))


def test_a_forward_balance_names_the_reversal_that_took_back_the_most() -> None:
    # Given a payee's cycle with a replacement that pays back nearly all it reverses,
    # then a void (found by an audit: the FB named the replacement's original, the first
    # reversal, though the shortfall was the void's)
    replaced = _payment("OBH-1", [LineSpec(10_000, 0, 0)])  # paid 100.00
    again = _payment("OBH-2", [LineSpec(9_900, 0, 0)], original="OBH-1")  # pays 99.00
    voided = _payment("OBH-3", [LineSpec(5_000, 0, 0)])  # paid 50.00
    payee = PAYEES[0]
    plan = plan_cycle([Waiting(1, payee, again, "OBH-1", replaced),
                       Waiting(2, payee, None, "OBH-3", voided)],
                      payer=DEFAULT_PAYER, carried={}, account=lambda _p: None,
                      next_trace=lambda: "T1", effective=date(2026, 4, 1),
                      produced=date(2026, 4, 1))
    (planned,) = plan.remittances
    # Then the payment is 0.00 and the FB of -51.00 names the void's original
    assert planned.remittance.amount == 0
    (fb,) = planned.remittance.provider_adjustments
    assert (fb.reason, fb.reference, fb.amount) == ("FB", "OBH-3", Decimal("-51.00"))
    assert planned.carried == (Carried("OBH-3", Decimal("51.00")),)
