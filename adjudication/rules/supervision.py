"""Services billed under supervision, by line of business (DOMAIN.md §2).

A line is supervised when a supervising provider is named (2420D, else 2310D), it
carries modifier U5, or the rendering clinician's license level is ``associate``.
What happens next comes from the SupervisionPolicy row for the line's line of
business and the member's state (plan situs) in force on the date of service, else
the line of business default (Medicare Advantage: not permitted; others: allowed).

The license level the line is priced at is decided here too: ``supervised`` for a
supervised Commercial line in every state (DOMAIN.md 2: "pay at supervisee rate via
license-level table") and for a supervised line of another line of business carrying
the modifier its policy requires (U5 signals the supervisee rate), else the rendering
clinician's own level.
"""

from __future__ import annotations

from adjudication.context import Deny, Ledger, LineRule, LineWork, Outcome
from adjudication.decision import Group
from adjudication.reference import INDEPENDENT_LICENSES, LineOfBusiness


def _inputs(work: LineWork) -> dict[str, object]:
    policy = work.supervision()
    return {"supervised": work.supervised, "state": work.coverage.state if work.coverage else "",
            "policy_state": policy.state, "supervisor_named": work.facts.supervisor_named,
            "modifiers": work.facts.modifiers,
            "license_level": work.provider.license_level if work.provider else None}


def _not_permitted(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    if work.supervised and not work.supervision().allowed:
        work.note(rule, "denied: supervisory billing is not permitted for this line of "
                        "business", **_inputs(work))
        return Deny(Group.CO, "185")
    work.note(rule, "permitted" if work.supervised else "not supervised", **_inputs(work))
    return None


SUPERVISION_NOT_PERMITTED = LineRule(
    "SUPERVISION-NOT-PERMITTED", 1, "Supervised services are denied where supervisory "
    "billing is not permitted (Medicare Advantage)", ("CO-185",), _not_permitted)


def _supervisor_named(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    policy = work.supervision()
    if work.supervised and policy.requires_supervisor and not work.facts.supervising_npi:
        work.note(rule, "denied: the supervising provider (2310D/2420D) is missing",
                  **_inputs(work))
        return Deny(Group.CO, "16", ("N297",))
    conclusion = ("supervisor named" if work.supervised and policy.requires_supervisor
                  else "no supervisor required")
    work.note(rule, conclusion, **_inputs(work))
    return None


SUPERVISOR_NAMED = LineRule(
    "SUPERVISOR-NAMED", 1, "A supervised line names its supervising provider where the "
    "policy requires it", ("CO-16 N297",), _supervisor_named)


def _supervisor_verified(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    """The named supervisor, where the policy requires one, is a real supervisor: on the
    provider file on the date of service (else CO-16 N297, an invalid supervising
    identifier), a person independently licensed (an associate may not supervise:
    CO-185) and in network (CO-185). Medicaid enrolment is MEDICAID-ENROLLMENT's."""
    policy = work.supervision()
    npi = work.facts.supervising_npi
    if not (work.supervised and policy.requires_supervisor and npi):
        work.note(rule, "no supervisor to verify", **_inputs(work))
        return None
    supervisor = work.ctx.reference.provider(npi, work.day)
    inputs = {**_inputs(work), "supervising_npi": npi,
              "supervisor_on_file": supervisor is not None,
              "supervisor_license": supervisor.license_level if supervisor else None,
              "supervisor_network": supervisor.network_status if supervisor else None,
              "supervisor_of_record": work.provider.supervisor_npi if work.provider else None}
    if supervisor is None:
        work.note(rule, "denied: the supervising NPI is not on the provider file on the date "
                        "of service", **inputs)
        return Deny(Group.CO, "16", ("N297",))
    if supervisor.entity_type != "1" or supervisor.license_level not in INDEPENDENT_LICENSES:
        work.note(rule, "denied: the supervising provider is not independently licensed",
                  **inputs)
        return Deny(Group.CO, "185")
    if supervisor.network_status != "in":
        work.note(rule, "denied: the supervising provider is not in network", **inputs)
        return Deny(Group.CO, "185")
    work.note(rule, f"supervisor on file, independently licensed "
                    f"({supervisor.license_level}), in network", **inputs)
    return None


SUPERVISOR_VERIFIED = LineRule(
    "SUPERVISOR-VERIFIED", 1, "The supervisor a policy requires is on file, independently "
    "licensed and in network", ("CO-16 N297", "CO-185"), _supervisor_verified)


def _modifier(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    required = work.supervision().requires_modifier
    if work.supervised and required and required not in work.facts.modifiers:
        work.note(rule, f"denied: a supervised line must carry modifier {required}",
                  **_inputs(work))
        return Deny(Group.CO, "4")
    work.note(rule, f"modifier {required} present" if work.supervised and required
              else "no modifier required", **_inputs(work))
    return None


SUPERVISION_MODIFIER = LineRule(
    "SUPERVISION-MODIFIER", 1, "A supervised line carries the modifier the policy requires "
    "(U5 in CA, CO, IA, MA commercial)", ("CO-4",), _modifier)


def _license_level(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    """Version 1 priced a supervised line at the supervised level only where the policy
    requires a modifier: a Commercial line in Texas rendered by a licensed clinician
    under a named supervisor was priced at that clinician's own level (an LMFT's 75 %,
    an MD's 100 %) instead of the supervisee rate DOMAIN.md 2 sets for every state."""
    assert work.provider is not None
    required = work.supervision().requires_modifier
    own = str(work.provider.license_level or "")
    if work.supervised and required and required in work.facts.modifiers:
        work.license_key = work.ctx.policy.supervised_license_key
        why = f"supervised line with {required}: priced at the supervised level"
    elif work.supervised and work.lob == LineOfBusiness.COMMERCIAL:
        work.license_key = work.ctx.policy.supervised_license_key
        why = "supervised Commercial line: priced at the supervised level in every state"
    else:
        work.license_key = own
        why = f"priced at the rendering clinician's level ({own or 'organisation'})"
    work.note(rule, why, **_inputs(work))
    return None


LICENSE_LEVEL = LineRule(
    "LICENSE-LEVEL", 2, "The license level the line is priced at: the supervised level for "
    "supervised Commercial lines and for U5 lines where the policy requires U5, else the "
    "rendering clinician's", (), _license_level)
