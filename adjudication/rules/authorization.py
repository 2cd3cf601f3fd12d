"""Prior authorization: plans that require it for a service category need one on file.

Whether a line needs one: the service category of its procedure and the plan's
PriorAuthRequirement rows, on the date of service. A procedure with no category in
force pends for a person when the plan requires authorization for any category then
(it may be one of them); version 4 took it as needing none and paid it unchecked. A
plan that requires authorization for nothing needs no category. An authorization fits when it is
the member's, names the rendering or the billing NPI, lists the procedure code, and
its span holds the line's dates. Authorizations the claim cites (REF*G1) are tried
first, then by start date and number. Units used so far: paid history lines that
fit the authorization (not reversed, voided or replayed in this run), the run's
paid lines under it (`AdjudicationState`), and this claim's earlier lines; never the
units of the original a replacement reverses (a history original's lines are not
counted, a run original's are taken off): the replacement reprices that service.
Version 3 took a run original's units off only after the replacement was decided,
so a replacement of an original that had used every unit was denied CO-198.

When none fits, the member's authorizations whose span holds the line's dates say why
(DOMAIN.md 9): one for this provider but other procedures is CO-284 (valid, not for
the billed service), one for this procedure but another provider CO-296 (valid, not
for this provider), a cited one (REF*G1) first; otherwise CO-197 (none on file).

When no authorization holds every unit of the line, the one with the most units left
pays for those (a partial authorization): the line is split in the decision, the
units within are priced and paid, the units beyond are denied CO-198 for their share
of the charge. With nothing left the whole line is CO-198.
"""

from __future__ import annotations

from decimal import Decimal

from adjudication.context import Deny, Ledger, LineRule, LineWork, Outcome
from adjudication.decision import ZERO, Group
from adjudication.reference import Authorization
from edi.amounts import quantity_text


def _history_units(work: LineWork, auth: Authorization) -> Decimal:
    ctx = work.ctx
    skip = ctx.not_history
    total = ZERO
    for row in ctx.reference.past_claims_for(ctx.member.member_id):
        if (row.status == "paid" and row.icn not in skip and ctx.state.closed(row.icn) is None
                and ctx.state.claim(row.icn) is None
                and row.procedure_code in auth.procedure_codes
                and auth.start <= row.service_date <= auth.end
                and auth.provider_npi in (row.rendering_npi, row.billing_npi)):
            total += row.units
    return total


def _replaced_units(work: LineWork, auth: Authorization) -> Decimal:
    """The units of ``auth`` the run's original of a replacement used: the state counts
    them until the replacement is applied (`AdjudicationState.apply` gives them back)."""
    original = work.ctx.original
    record = work.ctx.state.claim(original.icn) if original is not None else None
    if record is None:
        return ZERO
    return sum((units for number, units in record.authorization_units
                if number == auth.auth_number), ZERO)


def _units_left(work: LineWork, ledger: Ledger, auth: Authorization) -> Decimal:
    used = (_history_units(work, auth) + work.ctx.state.authorization_units_used(
        auth.auth_number) - _replaced_units(work, auth) + ledger.units_used(auth.auth_number))
    return auth.units - used


def _spanning(work: LineWork) -> list[Authorization]:
    """The member's authorizations in force whose span holds the line's dates, the ones
    the claim cites (REF*G1) first, then by start date and number."""
    facts = work.facts
    assert facts.start is not None and facts.through is not None
    cited = facts.authorization_numbers
    return sorted(
        (a for a in work.ctx.reference.authorizations_for(work.ctx.member.member_id, work.day)
         if a.start <= facts.start and facts.through <= a.end),
        key=lambda a: (a.auth_number not in cited, a.start, a.auth_number))


def _misfit(work: LineWork, spanning: list[Authorization], npis: tuple[str, str]) -> Deny:
    """The denial of a line none of the ``spanning`` authorizations fits: CO-284 or CO-296
    when one names this provider (one of ``npis``) but other procedures, or this
    procedure but another provider (the first such in order), else CO-197."""
    for auth in spanning:
        if auth.provider_npi in npis:  # this provider: so another service
            return Deny(Group.CO, "284")
        if work.facts.procedure_code in auth.procedure_codes:  # this service, another provider
            return Deny(Group.CO, "296")
    return Deny(Group.CO, "197")


def _prior_authorization(rule: LineRule, work: LineWork, ledger: Ledger) -> Outcome | None:
    assert work.plan is not None
    reference = work.ctx.reference
    category = reference.service_category(work.facts.procedure_code, work.day)
    inputs: dict[str, object] = {"plan_id": work.plan.plan_id, "service_category": category,
                                 "units": work.facts.units}
    required = reference.prior_auth_categories(work.plan.plan_id, work.day)
    if category is None and required:  # it may be one of them: fail closed
        return work.pend_without_category(
            rule, f"whether plan {work.plan.plan_id} requires prior authorization for it "
                  "cannot be told",
            categories_requiring_authorization=" ".join(sorted(required)), **inputs)
    if category not in required:
        work.note(rule, "no authorization required", **inputs)
        return None
    spanning = _spanning(work)
    npis = (work.facts.rendering_npi, work.facts.billing_npi)
    fits = [a for a in spanning
            if a.provider_npi in npis and work.facts.procedure_code in a.procedure_codes]
    if not fits:
        denial = _misfit(work, spanning, npis)
        work.note(rule, _MISFIT_SAID[denial.carc], **inputs)
        return denial
    left = {a.auth_number: _units_left(work, ledger, a) for a in fits}
    inputs["units_left"] = " ".join(f"{number}={units}" for number, units in left.items())
    chosen = next((a for a in fits if work.facts.units <= left[a.auth_number]), None)
    if chosen is not None:
        work.authorization = chosen.auth_number
        ledger.use_units(chosen.auth_number, work.facts.units)
        work.note(rule, f"authorized by {chosen.auth_number}", **inputs)
        return None
    # no authorization holds every unit: the one with the most left pays what it holds
    partial = max(fits, key=lambda a: left[a.auth_number])  # first of equals: cited first
    units = left[partial.auth_number]
    if units <= 0:
        work.note(rule, "denied: no units left on the authorization", **inputs)
        return Deny(Group.CO, "198")
    work.authorization, work.authorized_units = partial.auth_number, units
    ledger.use_units(partial.auth_number, units)
    billed = work.facts.units
    work.note(rule, f"partly authorized by {partial.auth_number}: {quantity_text(units)} of "
                    f"{quantity_text(billed)} units paid, {quantity_text(billed - units)} "
                    "denied CO-198", **inputs)
    return None


_MISFIT_SAID = {
    "197": "denied: no authorization on file for this member, provider, procedure and dates",
    "284": "denied: the member's authorization for these dates is for this provider but "
           "not for this procedure",
    "296": "denied: the member's authorization for these dates is for this procedure but "
           "another provider",
}

PRIOR_AUTHORIZATION = LineRule(
    "PRIOR-AUTHORIZATION", 5, "Services the plan requires authorization for have one with "
    "units left (units beyond it denied, the units within paid; a procedure without a "
    "service category pends where the plan requires any)",
    ("CO-197", "CO-284", "CO-296", "CO-198", "pend"), _prior_authorization)
