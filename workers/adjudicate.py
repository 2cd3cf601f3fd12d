"""Adjudicate the claims the front end accepts, in receipt order, and keep the decisions.

The engine (`adjudication.engine.adjudicate`) is pure; this edge threads the run
state (accumulators, authorization units, decided lines) from one claim to the next,
gives each decision its claim number once the transaction set has been read to its
end, rolls the state back when a set cannot be finished, and writes every decision
to ``decisions.jsonl`` (what `claims explain` and `claims pends` read).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from adjudication.decision import (
    AccumulatorChange,
    Adjustment,
    Decision,
    Group,
    LineDecision,
    Reversal,
    TraceStep,
)
from adjudication.engine import DEFAULT_POLICY, EnginePolicy, adjudicate
from adjudication.reference import LineOfBusiness, ReferenceData
from adjudication.state import AdjudicationState
from edi.claims import ParsedClaim

DECISIONS = "decisions.jsonl"


@dataclass(frozen=True)
class Source:
    """Where a claim was read: enough to read it again (pend release, replay)."""

    file: str
    transaction_set: int
    position: int


@dataclass
class Adjudicator:
    """The run's adjudication state and the decisions of the transaction set being read."""

    reference: ReferenceData
    as_of: date
    state: AdjudicationState = field(default_factory=AdjudicationState)
    policy: EnginePolicy = DEFAULT_POLICY
    _set_start: AdjudicationState | None = None
    _pending: list[tuple[Decision, Source]] = field(default_factory=list)

    def begin_set(self) -> None:
        self._set_start = self.state
        self._pending = []

    def decide(self, claim: ParsedClaim, received: date, source: Source) -> None:
        """Adjudicate a front-end-accepted claim under a provisional number."""
        provisional = f"PROVISIONAL-{source.transaction_set}-{source.position}"
        decision = adjudicate(claim, icn=provisional, reference=self.reference,
                              as_of=self.as_of, received=received, state=self.state,
                              policy=self.policy)
        self.state = self.state.apply(decision)
        self._pending.append((decision, source))

    def abandon_set(self) -> None:
        """The set could not be read to its end: none of its decisions stand."""
        if self._set_start is not None:
            self.state = self._set_start
        self._pending = []

    def finish_set(self, numbers: Sequence[str]) -> list[tuple[Decision, Source]]:
        """Give the set's decisions their claim numbers (in order) and keep them."""
        if len(numbers) != len(self._pending):
            raise ValueError("one claim number per decided claim")
        start = self._set_start if self._set_start is not None else self.state
        final = [(replace(decision, icn=number), source)
                 for (decision, source), number in zip(self._pending, numbers, strict=True)]
        state = start
        for decision, _source in final:
            state = state.apply(decision)
        self.state = state
        self._pending = []
        return final


def summary_fields(decision: Decision) -> dict[str, Any]:
    """The adjudication fields of a claim in summary.json."""
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
        "rules": deciding_rules(decision),
        "line_of_business": str(decision.line_of_business) if decision.line_of_business
        else None,
    }


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


def write_decisions(out_dir: Path, decided: Iterable[tuple[Decision, Source]]) -> None:
    with (out_dir / DECISIONS).open("a") as out:
        for decision, source in decided:
            record = {"icn": decision.icn, "source": source.__dict__,
                      "decision": decision.to_dict()}
            out.write(json.dumps(record, sort_keys=True) + "\n")


def read_decisions(out_dir: Path) -> dict[str, dict[str, Any]]:
    """The latest decision record per claim number (a release supersedes a pend)."""
    path = out_dir / DECISIONS
    latest: dict[str, dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            record = json.loads(line)
            latest[record["icn"]] = record
    return latest


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
            authorization=d["authorization"])

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


def replayed_state(out_dir: Path) -> AdjudicationState:
    """The run state after every decision kept in ``out_dir``, in the order they were made."""
    state = AdjudicationState()
    path = out_dir / DECISIONS
    if path.exists():
        for line in path.read_text().splitlines():
            state = state.apply(decision_from_dict(json.loads(line)["decision"]))
    return state
