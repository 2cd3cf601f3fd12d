"""Decisions as the store keeps them and as summary.json and the CLI show them.

A decision is stored as two parts: ``data`` (everything but the trace, what state
replay, summaries and the 835 read) and the trace, encoded once with orjson (what
``claims explain`` reads). Amounts stay exact: strings in JSON, integer cents in
the columns, rounded by the engine's one rule (`adjudication.decision.cents`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import orjson

from adjudication.decision import (
    AccumulatorChange,
    Adjustment,
    Decision,
    Group,
    LineDecision,
    Reversal,
    TraceStep,
    cents,
)
from adjudication.policy import DEFAULT_POLICY
from adjudication.reference import LineOfBusiness
from adjudication.rules.coding import PROCEDURE_PAIR


def to_cents(amount: Decimal) -> int:
    """Integer cents of an amount, rounded by the engine's one rule."""
    return int(cents(amount) * 100)


def split_decision(decision: Decision) -> tuple[dict[str, Any], bytes]:
    """(data without the trace, the trace as orjson bytes).

    The trace (some 26 steps a claim) is encoded by orjson straight from its frozen
    dataclasses without building dicts first, each input in its own JSON type (an
    amount as exact text, a date ISO); `TraceStep.shown` reads either form the same.
    """
    return decision.to_dict(with_trace=False), orjson.dumps(decision.trace, default=_typed)


def _typed(value: object) -> str:
    """What orjson cannot encode itself among trace inputs: amounts, as exact text."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"a trace input of type {type(value).__name__} has no JSON form")


def decision_from_record(data: dict[str, Any], trace: bytes | None = None) -> Decision:
    """The decision a stored row holds (without its trace unless ``trace`` is given)."""
    return decision_from_dict({**data, "trace": orjson.loads(trace) if trace else []})


def summary_fields(decision: Decision, rules: list[str]) -> dict[str, Any]:
    """The adjudication fields of a claim in summary.json.

    ``rules`` are the deciding rules kept with the decision (`deciding_rules`, worked
    out from the trace when it was made): a decision read back without its trace
    cannot tell them."""
    totals: dict[tuple[str, str], Decimal] = {}
    for adjustment in (*decision.claim_adjustments,
                       *(a for line in decision.lines for a in line.adjustments)):
        key = (str(adjustment.group), adjustment.carc)
        totals[key] = totals.get(key, Decimal(0)) + adjustment.amount
    rarcs = list(dict.fromkeys([*decision.rarcs, *(r for line in decision.lines
                                                    for r in line.rarcs)]))
    return {
        "status": decision.status,
        "paid": f"{decision.paid:.2f}",
        "patient_responsibility": f"{decision.patient_responsibility:.2f}",
        "adjustments": [{"group": group, "carc": carc, "amount": f"{amount:.2f}"}
                        for (group, carc), amount in totals.items()],
        "rarc": rarcs,
        "rules": list(rules),
        "line_of_business": str(decision.line_of_business) if decision.line_of_business
        else None,
        "frequency_code": decision.frequency_code,
        "claim_status_code": decision.claim_status_code,
        "modifiers": list(dict.fromkeys(m for line in decision.lines for m in line.modifiers)),
        "lines_partly_authorized": sum(line.units_paid is not None for line in decision.lines
                                       if line.status == "paid"),
        "pairs_bypassed": pairs_bypassed(decision.trace),
    }


def pairs_bypassed(trace: Sequence[TraceStep]) -> int:
    """Lines a bypass modifier (59, XE, XS, XP, XU) let through a same-day pair edit:
    those with a PROCEDURE-PAIR step whose ``bypassed`` input is true. Zero for a
    decision read back without its trace (`may_show_a_bypass` says when to read it)."""
    return len({step.line_number for step in trace
                if step.rule_id == PROCEDURE_PAIR.id
                and dict(step.shown).get("bypassed") == "yes"})


def may_show_a_bypass(data: dict[str, Any]) -> bool:
    """Whether a stored decision (without its trace) has a line carrying one of the
    engine's pair-bypass modifiers: only then can its trace show a bypass, so a
    summary reads the trace of those decisions alone."""
    bypass = DEFAULT_POLICY.pair_bypass_modifiers
    return any(bypass.intersection(line.get("modifiers", ())) for line in data.get("lines", ()))


def adjustment_codes(data: dict[str, Any]) -> list[str]:
    """A stored decision's codes, each once: group and CARC (``CO-29``) of the claim's
    and its lines' adjustments, then the remark codes (``N130``)."""
    found = [f"{a['group']}-{a['carc']}" for a in data.get("claim_adjustments", [])]
    for line in data.get("lines", []):
        found += [f"{a['group']}-{a['carc']}" for a in line.get("adjustments", [])]
        found += list(line.get("rarcs", []))
    found += list(data.get("rarcs", []))
    return list(dict.fromkeys(found))


def codes_text(data: dict[str, Any]) -> str:
    """`adjustment_codes` as the ``decisions.codes`` column keeps them: ``|CO-29|N130|``
    (every code between bars, so one reads as ``LIKE '%|CO-29|%'`` or, by its CARC
    alone, ``LIKE '%-29|%'``); empty when there is none."""
    codes = adjustment_codes(data)
    return f"|{'|'.join(codes)}|" if codes else ""


def codes_of(text: str) -> list[str]:
    """The codes a ``decisions.codes`` (or ``rule_ids``) value holds, in order."""
    return [code for code in text.split("|") if code]


def rule_ids_text(rules: list[str]) -> str:
    """The deciding rules (`deciding_rules`) as the ``decisions.rule_ids`` column keeps
    them, ``|PRICING|COST-SHARE|``: the pends queue matches ``LIKE '%|PRICING|%'``."""
    return f"|{'|'.join(rules)}|" if rules else ""


def deciding_rules(decision: Decision) -> list[str]:
    """The rules that decided: per line the last rule that looked at it (the one that
    denied or pended it, or cost share after pricing for a paid line), and the
    claim-level rules when no line was reached."""
    last: dict[int | None, str] = {}
    for step in decision.trace:
        last[step.line_number] = step.rule_id
    rules: list[str] = []
    if not any(key is not None for key in last):
        rules += [step.rule_id for step in decision.trace]
    for line, rule in last.items():
        if line is None:
            continue
        if rule == "COST-SHARE":
            rules.append("PRICING")
        rules.append(rule)
    return list(dict.fromkeys(rules))


def decision_from_dict(data: dict[str, Any]) -> Decision:
    """The inverse of `Decision.to_dict` (decisions kept in ``decisions.jsonl``)."""
    def adjustments(items: list[dict[str, Any]]) -> tuple[Adjustment, ...]:
        return tuple(Adjustment(Group(a["group"]), a["carc"], Decimal(a["amount"]))
                     for a in items)

    def line(d: dict[str, Any]) -> LineDecision:
        return LineDecision(
            line_number=d["line_number"], procedure_code=d["procedure_code"],
            modifiers=tuple(d["modifiers"]), service_date=date.fromisoformat(d["service_date"]),
            charge=Decimal(d["charge"]), units=Decimal(d["units"]), status=d["status"],
            allowed=Decimal(d["allowed"]), paid=Decimal(d["paid"]),
            adjustments=adjustments(d["adjustments"]), rarcs=tuple(d["rarcs"]),
            pend_reason=d["pend_reason"], rendering_npi=d["rendering_npi"],
            authorization=d["authorization"],
            units_paid=Decimal(d["units_paid"]) if d.get("units_paid") is not None else None)

    def changes(items: list[dict[str, Any]]) -> tuple[AccumulatorChange, ...]:
        return tuple(AccumulatorChange(c["member_id"], c["plan_id"], c["benefit_year"],
                                       Decimal(c["deductible"]), Decimal(c["out_of_pocket"]))
                     for c in items)

    reversal = data["reversal"]
    lob = data["line_of_business"]
    return Decision(
        icn=data["icn"], patient_control_number=data["patient_control_number"],
        billing_npi=data["billing_npi"], member_id=data["member_id"],
        line_of_business=LineOfBusiness(lob) if lob else None, plan_id=data["plan_id"],
        state=data["state"], status=data["status"],
        claim_status_code=data["claim_status_code"], frequency_code=data["frequency_code"],
        charge=Decimal(data["charge"]), paid=Decimal(data["paid"]),
        patient_responsibility=Decimal(data["patient_responsibility"]),
        lines=tuple(line(d) for d in data["lines"]),
        claim_adjustments=adjustments(data["claim_adjustments"]), rarcs=tuple(data["rarcs"]),
        trace=tuple(TraceStep(t["rule_id"], t["version"], t["line_number"],
                              tuple((name, value) for name, value in t["inputs"]),
                              t["conclusion"]) for t in data["trace"]),
        accumulator_changes=changes(data["accumulator_changes"]),
        reversal=Reversal(reversal["original_icn"],
                          tuple(line(d) for d in reversal["lines"]),
                          changes(reversal["accumulator_changes"])) if reversal else None,
        received=date.fromisoformat(data["received"]), as_of=date.fromisoformat(data["as_of"]),
    )
