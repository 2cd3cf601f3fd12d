"""The billing provider: on the provider file with the TIN the claim gives; the
rendering clinician: on the provider file, in network, Medicaid-enrolled.

Provider rows are read on the line's first date of service (licensing, network
status and enrolment as they stood when the service was given).
"""

from __future__ import annotations

from adjudication.context import Deny, Ledger, LineRule, LineWork, Outcome, Pend
from adjudication.decision import Group


def _billing_provider(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    """DOMAIN.md 4: the billing NPI pairs with the TIN of 2010AA REF*EI on a provider
    record in force; otherwise the payment would go to a payee the payer cannot tie to
    a contract, so the line is denied CO-16 + N257 (fails closed: a record without a
    TIN, or a claim without one, does not pair)."""
    npi = work.facts.billing_npi
    sent = work.ctx.claim.billing_provider.tax_id or ""
    provider = work.ctx.reference.provider(npi, work.day)
    inputs: dict[str, object] = {"billing_npi": npi, "date_of_service": work.day,
                                 "on_file": provider is not None}
    if provider is None:
        work.note(rule, "denied: the billing provider is not on the provider file", **inputs)
        return Deny(Group.CO, "16", ("N257",))
    inputs["tin_matches"] = bool(sent) and provider.tin == sent
    if not inputs["tin_matches"]:
        work.note(rule, "denied: the claim's billing TIN (2010AA REF) is not the one on the "
                        "provider file for this NPI", **inputs)
        return Deny(Group.CO, "16", ("N257",))
    work.note(rule, "billing provider on file with the claim's TIN", **inputs)
    return None


BILLING_PROVIDER = LineRule(
    "BILLING-PROVIDER", 1, "The billing provider is on the provider file on the date of "
    "service, with the TIN the claim gives", ("CO-16 N257",), _billing_provider)


def _provider_on_file(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    npi = work.facts.rendering_npi
    provider = work.ctx.reference.provider(npi, work.day)
    if provider is None:  # DOMAIN.md 4: the provider corrects the NPI and sends it again
        work.note(rule, "denied: the rendering provider is not on the provider file",
                  rendering_npi=npi, date_of_service=work.day)
        return Deny(Group.CO, "16", ("N290",))
    if provider.entity_type != "1":  # DOMAIN.md 4: a group billing names its clinician
        work.note(rule, "denied: the rendering provider is an organisation, not a clinician "
                        "(no 2310B or 2420A names who gave the service)",
                  rendering_npi=npi, entity_type=provider.entity_type, date_of_service=work.day)
        return Deny(Group.CO, "16", ("N290",))
    work.provider = provider
    work.note(rule, f"rendering provider on file ({provider.license_level or 'organisation'}, "
                    f"{provider.network_status} network)",
              rendering_npi=npi, date_of_service=work.day)
    return None


PROVIDER_ON_FILE = LineRule(
    "PROVIDER-ON-FILE", 2, "The rendering provider is a clinician (type 1) on the provider "
    "file on the date of service", ("CO-16 N290",), _provider_on_file)


def _out_of_network(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    assert work.provider is not None and work.plan is not None
    plan = work.plan
    inputs: dict[str, object] = {"network_status": work.provider.network_status,
                                 "out_of_network_covered": plan.out_of_network_covered}
    if work.provider.network_status != "out":
        work.note(rule, "network benefit applies", **inputs)
        return None
    if not plan.out_of_network_covered:
        work.note(rule, "denied: out of network and the plan has no out-of-network benefit",
                  **inputs)
        return Deny(Group.CO, "242")
    benefit = work.ctx.reference.oon_benefit(plan.plan_id, work.day.year, work.day)
    if benefit is None:  # covered, but nothing says how: a person decides (fails closed)
        work.note(rule, "pended: the plan covers out-of-network care but no out-of-network "
                        "benefit is on file", plan_id=plan.plan_id, benefit_year=work.day.year,
                  **inputs)
        return Pend(f"no out-of-network benefit on file for plan {plan.plan_id} "
                    f"{work.day.year}")
    work.out_of_network = benefit
    work.note(rule, f"out-of-network benefit: {benefit.allowed_percent}% of the fee schedule, "
                    "the charge above it the member's", plan_id=plan.plan_id,
              allowed_percent=benefit.allowed_percent, oon_deductible=benefit.deductible,
              oon_coinsurance_percent=benefit.coinsurance_percent,
              oon_out_of_pocket_max=benefit.out_of_pocket_max, source=benefit.source,
              verified=benefit.verified, **inputs)
    return None


OUT_OF_NETWORK = LineRule(
    "OUT-OF-NETWORK", 2, "An out-of-network clinician is paid only when the plan has an "
    "out-of-network benefit, and then under it", ("CO-242", "pend"), _out_of_network)


def _medicaid_enrollment(rule: LineRule, work: LineWork, _ledger: Ledger) -> Outcome | None:
    policy = work.supervision()
    if not policy.requires_medicaid_enrollment:
        work.note(rule, "enrolment not required", state=policy.state)
        return None
    assert work.provider is not None
    reference = work.ctx.reference
    supervisor_npi = work.facts.supervising_npi
    supervisor = reference.provider(supervisor_npi, work.day) if supervisor_npi else None
    inputs = {"rendering_npi": work.provider.npi,
              "rendering_enrolled": work.provider.medicaid_enrolled,
              "supervising_npi": supervisor_npi,
              "supervising_enrolled": supervisor.medicaid_enrolled if supervisor else None}
    if not work.provider.medicaid_enrolled:
        work.note(rule, "denied: the rendering provider is not Medicaid-enrolled", **inputs)
        return Deny(Group.CO, "185")
    if supervisor_npi and (supervisor is None or not supervisor.medicaid_enrolled):
        work.note(rule, "denied: the supervising provider is not Medicaid-enrolled", **inputs)
        return Deny(Group.CO, "185")
    work.note(rule, "enrolled", **inputs)
    return None


MEDICAID_ENROLLMENT = LineRule(
    "MEDICAID-ENROLLMENT", 1, "Rendering and supervising NPIs are Medicaid-enrolled where the "
    "state requires it (MassHealth, 130 CMR 450.231)", ("CO-185",), _medicaid_enrollment)
