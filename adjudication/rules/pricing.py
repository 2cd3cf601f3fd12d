"""Pricing: allowed = min(charge, fee per unit x units x license factor / 100), to cents.

For a line a partial authorization split, the charge and units are the payable part
(`LineWork.payable_charge`, `payable_units`).

The fee row (line of business, procedure, modifier, license level) and the license
factor are those in force on the date of service. No fee on file pends the line
(never a guess); so does no license factor for the level the line is priced at
(version 2 paid 100 % of the fee), and a charge more than `EnginePolicy.pend_charge_ratio` (10)
times the scheduled amount. A reviewer releasing a pend passes the allowed amount in
``overrides``; it replaces the fee schedule (capped at the charge) and the trace says
so. The difference between charge and allowed is CO-45.
"""

from __future__ import annotations

from adjudication.context import Ledger, LineRule, LineWork, Outcome, Pend
from adjudication.decision import cents


def _pricing(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    ctx = work.ctx
    facts = work.facts
    override = ctx.overrides.get(facts.number)
    charge, units = work.payable_charge, work.payable_units
    if override is not None:
        work.allowed = min(charge, override)
        work.note(rule, f"allowed {work.allowed} set by a reviewer releasing a pend",
                  reviewer_allowed=override, charge=charge)
        return None
    license_level = str(work.provider.license_level or "") if work.provider else ""
    fee = ctx.reference.fee(work.lob, facts.procedure_code, facts.modifiers, license_level,
                            work.day)
    if fee is None:
        work.note(rule, "pended: no fee on file", line_of_business=work.lob,
                  procedure_code=facts.procedure_code, modifiers=facts.modifiers,
                  license_level=license_level, date_of_service=work.day)
        return Pend(f"no fee on file for {facts.procedure_code} ({work.lob}) on {work.day}")
    scheduled = fee.allowed_per_unit * units * work.rate_percent / 100
    factor = ctx.reference.license_factor(work.lob, work.license_key, work.day)
    if factor is None:
        work.note(rule, "pended: no license factor on file", line_of_business=work.lob,
                  license_key=work.license_key, date_of_service=work.day)
        return Pend(f"no license factor on file for {work.license_key or 'no level'} "
                    f"({work.lob}) on {work.day}")
    inputs = {"fee_per_unit": fee.allowed_per_unit, "units": units,
              "rate_percent": work.rate_percent,
              "license_key": work.license_key, "license_percent": factor,
              "charge": charge}
    if charge > ctx.policy.pend_charge_ratio * scheduled:
        work.note(rule, f"pended: the charge is more than {ctx.policy.pend_charge_ratio} times "
                        "the fee schedule", **inputs)
        return Pend(f"charge {charge} is more than {ctx.policy.pend_charge_ratio} times "
                    f"the fee schedule amount {cents(scheduled)}")
    oon = work.out_of_network
    if oon is not None:  # out of network: a percent of the in-network amount
        work.allowed = min(charge, cents(scheduled * factor / 100 * oon.allowed_percent / 100))
        work.note(rule, f"allowed {work.allowed} (out of network: {oon.allowed_percent}% of "
                        "the fee schedule)", out_of_network_percent=oon.allowed_percent,
                  **inputs)
        return None
    work.allowed = min(charge, cents(scheduled * factor / 100))
    work.note(rule, f"allowed {work.allowed}", **inputs)
    return None


PRICING = LineRule(
    "PRICING", 3, "Allowed amount from the fee schedule and the license-level factor (the "
    "units a partial authorization covers; out of network, the plan's percent of it)",
    ("CO-45", "pend"), _pricing)
