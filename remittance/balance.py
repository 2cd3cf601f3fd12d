"""The balancing proof of an 835, on what the project's own reader read back.

Rules (X12 835 TR3 balancing, DOMAIN.md 8.4), each failure named with the claim it
is about (CLP01 and CLP07), never with a patient's name:

- ``line``: every service line, SVC02 − Σ CAS (2110) = SVC03;
- ``claim``: every claim, CLP03 − Σ CAS (2100 and every 2110) = CLP04;
- ``patient``: every claim, CLP05 = Σ PR adjustments (claim and lines);
- ``payment``: BPR02 = Σ CLP04 − Σ PLB amounts;
- ``no-negative-payment``: BPR02 is not below zero; a zero payment is BPR01 H, BPR04
  NON, and a payment that moves money is not NON;
- ``counts``: SE01 equals the segments from ST to SE, SE02 equals ST02, GE01 the
  transaction sets of the group, IEA01 the groups, and GE02/IEA02 repeat GS06/ISA13.

Reversals (CLP02 22) carry negative amounts and balance by the same formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from edi.parsers.remit835 import ClaimRead, InterchangeRead, TransactionRead

ZERO = Decimal(0)


@dataclass(frozen=True)
class Imbalance:
    rule: str
    where: str
    """``ST 0001`` or ``claim PCN-1 (2026001000001)`` or ``line 2 of claim ...``."""
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.where}: {self.detail}"


def prove_interchanges(interchanges: list[InterchangeRead]) -> list[Imbalance]:
    """Every rule over every 835 of a file, envelopes included."""
    problems: list[Imbalance] = []
    for ic in interchanges:
        where = f"interchange {ic.control_number}"
        problems += [Imbalance("readable", where, p) for p in ic.problems]
        if ic.trailer is None:
            problems.append(Imbalance("counts", where, "IEA is missing"))
        elif ic.trailer != (str(len(ic.groups)), ic.control_number):
            problems.append(Imbalance("counts", where, f"IEA says {ic.trailer[0]} groups and "
                                      f"{ic.trailer[1]}, the interchange has {len(ic.groups)} "
                                      f"and {ic.control_number}"))
        for group in ic.groups:
            gwhere = f"group {group.control_number}"
            if group.trailer is None:
                problems.append(Imbalance("counts", gwhere, "GE is missing"))
            elif group.trailer != (str(len(group.transactions)), group.control_number):
                problems.append(Imbalance(
                    "counts", gwhere, f"GE says {group.trailer[0]} sets and {group.trailer[1]}"
                    f", the group has {len(group.transactions)} and {group.control_number}"))
            for ts in group.transactions:
                problems += prove(ts)
    return problems


def prove(ts: TransactionRead) -> list[Imbalance]:
    """Every rule over one 835 transaction set."""
    where = f"ST {ts.control_number}"
    problems = [Imbalance("readable", where, p) for p in ts.problems]
    if ts.trailer_count is None:
        problems.append(Imbalance("counts", where, "SE is missing"))
    else:
        if ts.trailer_count != str(ts.segments):
            problems.append(Imbalance("counts", where, f"SE01 is {ts.trailer_count}, the set "
                                      f"has {ts.segments} segments"))
        if ts.trailer_control_number != ts.control_number:
            problems.append(Imbalance("counts", where, "SE02 does not repeat ST02"))
    for claim in ts.claims:
        problems += prove_claim(claim)
    paid = sum((c.paid for c in ts.claims), ZERO)
    plb = sum((p.amount for p in ts.provider_adjustments), ZERO)
    if ts.amount != paid - plb:
        problems.append(Imbalance("payment", where, f"BPR02 {ts.amount} is not the claims' "
                                  f"paid {paid} less provider adjustments {plb}"))
    if ts.amount < 0:
        problems.append(Imbalance("no-negative-payment", where, f"BPR02 is {ts.amount}"))
    if ts.amount == 0 and (ts.handling_code, ts.method) != ("H", "NON"):
        problems.append(Imbalance("no-negative-payment", where,
                                  "a zero payment is BPR01 H with BPR04 NON"))
    if ts.amount > 0 and ts.method == "NON":
        problems.append(Imbalance("no-negative-payment", where,
                                  "a payment that moves money is not BPR04 NON"))
    return problems


def prove_claim(claim: ClaimRead) -> list[Imbalance]:
    where = f"claim {claim.patient_control_number} ({claim.payer_claim_control_number})"
    problems = []
    for number, service in enumerate(claim.services, start=1):
        adjusted = sum((a.amount for a in service.adjustments), ZERO)
        if service.charge - adjusted != service.paid:
            problems.append(Imbalance(
                "line", f"line {number} of {where}", f"SVC02 {service.charge} less "
                f"adjustments {adjusted} is not SVC03 {service.paid}"))
    every = claim.adjustments + [a for s in claim.services for a in s.adjustments]
    adjusted = sum((a.amount for a in every), ZERO)
    if claim.charge - adjusted != claim.paid:
        problems.append(Imbalance("claim", where, f"CLP03 {claim.charge} less adjustments "
                                  f"{adjusted} is not CLP04 {claim.paid}"))
    patient = sum((a.amount for a in every if a.group == "PR"), ZERO)
    if patient != claim.patient_responsibility:
        problems.append(Imbalance("patient", where, f"CLP05 {claim.patient_responsibility} "
                                  f"is not the PR adjustments {patient}"))
    return problems
