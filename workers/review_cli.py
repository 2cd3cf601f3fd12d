"""`claims explain` and `claims pends`: read and act on the decisions of a run directory."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from adjudication.decision import Decision
from adjudication.engine import adjudicate
from adjudication.reference import ReferenceData
from edi.claims import ParsedClaim
from workers.adjudicate import (
    Source,
    decision_from_dict,
    read_decisions,
    replayed_state,
    summary_fields,
    write_decisions,
)
from workers.transaction_sets import SetReading, read_sets

AUDIT = "audit.jsonl"


class ReviewError(Exception):
    """A review command cannot be carried out (unknown claim, not pended, bad amount)."""


def explain(console: Console, out_dir: Path, icn: str) -> None:
    record = read_decisions(out_dir).get(icn)
    if record is None:
        raise ReviewError(f"no decision for claim number {icn} in {out_dir}")
    d = record["decision"]
    fields = summary_fields(decision_from_dict(d))
    console.print(f"[bold]{icn}[/] claim {d['patient_control_number']}: {d['status']}, "
                  f"paid {d['paid']}, patient responsibility {d['patient_responsibility']} "
                  f"({d['line_of_business']}, plan {d['plan_id']}, state {d['state']}); "
                  f"decided by {', '.join(fields['rules'])}")
    lines = Table(title="Lines")
    for column in ("line", "procedure", "charge", "allowed", "paid", "status", "adjustments",
                   "RARC"):
        lines.add_column(column)
    for line in d["lines"]:
        lines.add_row(str(line["line_number"]), ":".join([line["procedure_code"],
                                                           *line["modifiers"]]),
                      line["charge"], line["allowed"], line["paid"],
                      line["status"] + (f" ({line['pend_reason']})" if line["pend_reason"] else ""),
                      " ".join(f"{a['group']}-{a['carc']} {a['amount']}"
                               for a in line["adjustments"]), " ".join(line["rarcs"]))
    console.print(lines)
    trace = Table(title="Trace: every rule that ran, its inputs and what it concluded")
    for column in ("rule", "v", "line", "inputs", "conclusion"):
        trace.add_column(column)
    for step in d["trace"]:
        trace.add_row(step["rule_id"], str(step["version"]),
                      "" if step["line_number"] is None else str(step["line_number"]),
                      "; ".join(f"{k}={v}" for k, v in step["inputs"]), step["conclusion"])
    console.print(trace)


def pended(out_dir: Path) -> list[dict[str, Any]]:
    return [r for r in read_decisions(out_dir).values() if r["decision"]["status"] == "pended"]


def list_pends(console: Console, out_dir: Path) -> None:
    table = Table(title=f"Pended claims in {out_dir}")
    for column in ("claim number", "claim", "charge", "reasons"):
        table.add_column(column)
    for record in pended(out_dir):
        d = record["decision"]
        reasons = [f"line {line['line_number']}: {line['pend_reason']}" for line in d["lines"]
                   if line["pend_reason"]]
        table.add_row(record["icn"], d["patient_control_number"], d["charge"],
                      "\n".join(reasons))
    console.print(table)


def parse_overrides(values: list[str]) -> dict[int, Decimal]:
    overrides: dict[int, Decimal] = {}
    for value in values:
        line, _, amount = value.partition("=")
        try:
            overrides[int(line)] = Decimal(amount)
        except (ValueError, InvalidOperation):
            raise ReviewError(f"--allowed takes LINE=AMOUNT, e.g. 1=120.00, not {value!r}") \
                from None
    return overrides


def release(out_dir: Path, icn: str, overrides: dict[int, Decimal], reviewer: str,
            note: str, reference: ReferenceData) -> Decision:
    """Re-adjudicate a pended claim with the allowed amounts a person entered."""
    record = read_decisions(out_dir).get(icn)
    if record is None or record["decision"]["status"] != "pended":
        raise ReviewError(f"claim number {icn} is not pended in {out_dir}")
    original = decision_from_dict(record["decision"])
    source = Source(**record["source"])
    claim = read_claim(source)
    decision = adjudicate(claim, icn=icn, reference=reference, as_of=original.as_of,
                          received=original.received, state=replayed_state(out_dir),
                          overrides=overrides)
    write_decisions(out_dir, [(decision, source)])
    event = {"event": "pend.released", "icn": icn, "reviewer": reviewer, "note": note,
             "overrides": {str(k): str(v) for k, v in overrides.items()},
             "status": decision.status, "at": datetime.now(tz=UTC).isoformat()}
    with (out_dir / AUDIT).open("a") as out:
        out.write(json.dumps(event) + "\n")
    return decision


def read_claim(source: Source) -> ParsedClaim:
    """The claim at ``source`` (file, transaction set ordinal, CLM position), read again."""
    found: list[ParsedClaim] = []

    def keep(_reading: SetReading, claim: ParsedClaim) -> None:
        if claim.position == source.position:
            found.append(claim)

    with Path(source.file).open("rb") as stream:
        for _reading in read_sets(stream, frozenset({source.transaction_set}), keep):
            if found:
                return found[0]
    raise ReviewError(f"the claim is no longer in {source.file}")
