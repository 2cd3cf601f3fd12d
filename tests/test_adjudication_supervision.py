"""Supervision by line of business, license-level pricing, network and Medicaid enrolment."""

from __future__ import annotations

from datetime import date

import pytest

from adjudication.packs import PACKS, describe
from adjudication.reference import LicenseLevel, LineOfBusiness
from tests.adjudication_builders import (
    BILLING_NPI,
    CLINICIAN_NPI,
    COMMERCIAL,
    MEDICAID,
    MEDICARE_ADVANTAGE,
    SUPERVISOR_NPI,
    World,
    build_claim,
    codes,
    coverage,
    decide,
    every_license_factor,
    fee,
    line,
    money,
    plan,
    provider,
    supervision,
)

ASSOCIATE_NPI = "1000000004"


def _world(lob: LineOfBusiness, state: str, *policies: object, rendering_enrolled: bool = True,
           supervisor_enrolled: bool = True) -> World:
    """A member in ``state`` under ``lob``; an associate and a PhD supervisor; fee 100.00;
    associate level paid at 70 %, supervised (U5) lines at 85 %."""
    return World(
        coverage=(coverage(plan_id="P", lob=lob, state=state),), plans=(plan("P", lob=lob),),
        providers=(provider(CLINICIAN_NPI),
                   provider(ASSOCIATE_NPI, license=LicenseLevel.ASSOCIATE,
                            medicaid_enrolled=rendering_enrolled),
                   provider(SUPERVISOR_NPI, license=LicenseLevel.PHD,
                            medicaid_enrolled=supervisor_enrolled),
                   provider(BILLING_NPI, license=None, entity_type="2")),
        fees=(fee(lob=lob),),
        license_factors=every_license_factor(lob, associate="70", supervised="85"),
        supervision=tuple(policies),  # type: ignore[arg-type]
    )


def _claim(*, modifiers: tuple[str, ...] = (), supervisor: bool = False,
           rendering: str = ASSOCIATE_NPI):
    return build_claim([line(modifiers=modifiers)], rendering_npi=rendering,
                       supervising_npi=SUPERVISOR_NPI if supervisor else None)


# -- Medicare Advantage: supervisory billing is not permitted -------------------------------
MA_POLICY = supervision(MEDICARE_ADVANTAGE, allowed=False)


def test_medicare_advantage_denies_a_u5_line_co185() -> None:
    world = _world(MEDICARE_ADVANTAGE, "MA", MA_POLICY)
    decision = decide(_claim(modifiers=("U5",), supervisor=True,
                             rendering=CLINICIAN_NPI), world.reference())
    assert codes(decision) == ["CO-185"]
    assert decision.claim_status_code == "1"


def test_medicare_advantage_denies_an_associate_without_markers_co185() -> None:
    world = _world(MEDICARE_ADVANTAGE, "TX", MA_POLICY)
    assert codes(decide(_claim(), world.reference())) == ["CO-185"]


def test_medicare_advantage_denies_supervision_even_without_a_policy_row() -> None:
    world = _world(MEDICARE_ADVANTAGE, "TX")
    assert codes(decide(_claim(supervisor=True), world.reference())) == ["CO-185"]


def test_medicare_advantage_pays_an_independent_clinician() -> None:
    world = _world(MEDICARE_ADVANTAGE, "MA", MA_POLICY)
    assert decide(_claim(rendering=CLINICIAN_NPI), world.reference()).status == "paid"


# -- Commercial in CA, CO, IA, MA: supervisor named and U5 -----------------------------------
MA_COMMERCIAL = supervision(COMMERCIAL, "MA", supervisor=True, modifier="U5")


def test_commercial_massachusetts_supervised_line_without_u5_is_denied_co4() -> None:
    world = _world(COMMERCIAL, "MA", MA_COMMERCIAL, supervision(COMMERCIAL))
    decision = decide(_claim(supervisor=True), world.reference())
    assert codes(decision) == ["CO-4"]


def test_commercial_massachusetts_u5_line_without_supervisor_is_denied_co16_n297() -> None:
    world = _world(COMMERCIAL, "MA", MA_COMMERCIAL, supervision(COMMERCIAL))
    decision = decide(_claim(modifiers=("U5",)), world.reference())
    assert codes(decision) == ["CO-16"]
    assert decision.lines[0].rarcs == ("N297",)


def test_commercial_massachusetts_compliant_line_is_paid_at_the_supervised_rate() -> None:
    # Given an associate's line with U5 and a supervising provider
    world = _world(COMMERCIAL, "MA", MA_COMMERCIAL, supervision(COMMERCIAL))
    decision = decide(_claim(modifiers=("U5",), supervisor=True), world.reference())
    # Then it is paid at the supervised level: 85 % of 100.00
    assert decision.status == "paid"
    assert decision.lines[0].allowed == 85
    step = next(s for s in decision.trace if s.rule_id == "PRICING")
    assert ("license_key", "supervised") in step.shown


def test_a_supervisor_not_on_file_is_denied_co16_n297() -> None:
    # Given a compliant-looking U5 line whose supervising NPI is on no provider row
    world = _world(COMMERCIAL, "MA", MA_COMMERCIAL, supervision(COMMERCIAL))
    providers = [p for p in world.providers if p.npi != SUPERVISOR_NPI]
    decision = decide(_claim(modifiers=("U5",), supervisor=True),
                      world.reference(providers=providers))
    # Then nothing is paid: the supervising identifier is invalid for this payer
    assert codes(decision) == ["CO-16"] and decision.lines[0].rarcs == ("N297",)
    # By hand: the whole 200.00 charge is CO-16, 200.00 - 200.00 = 0.00 paid, nothing
    # billed to the member (a compliant line would have been allowed 85 % of 100.00)
    (denied,) = decision.lines
    assert [(a.code, a.amount) for a in denied.adjustments] == [("CO-16", money("200.00"))]
    assert (denied.paid, decision.patient_responsibility) == (money("0.00"), money("0.00"))
    step = next(s for s in decision.trace if s.rule_id == "SUPERVISOR-VERIFIED")
    assert ("supervisor_on_file", "no") in step.shown


def test_an_associate_named_as_supervisor_is_denied_co185() -> None:
    world = _world(COMMERCIAL, "MA", MA_COMMERCIAL, supervision(COMMERCIAL))
    providers = [p for p in world.providers if p.npi != SUPERVISOR_NPI] + [
        provider(SUPERVISOR_NPI, license=LicenseLevel.ASSOCIATE)]
    decision = decide(_claim(modifiers=("U5",), supervisor=True),
                      world.reference(providers=providers))
    assert codes(decision) == ["CO-185"]
    step = next(s for s in decision.trace if s.rule_id == "SUPERVISOR-VERIFIED")
    assert step.conclusion == "denied: the supervising provider is not independently licensed"


def test_an_out_of_network_supervisor_is_denied_co185() -> None:
    world = _world(COMMERCIAL, "MA", MA_COMMERCIAL, supervision(COMMERCIAL))
    providers = [p for p in world.providers if p.npi != SUPERVISOR_NPI] + [
        provider(SUPERVISOR_NPI, license=LicenseLevel.PHD, network="out")]
    decision = decide(_claim(modifiers=("U5",), supervisor=True),
                      world.reference(providers=providers))
    assert codes(decision) == ["CO-185"]


def test_commercial_massachusetts_licensed_clinician_alone_is_not_supervised() -> None:
    world = _world(COMMERCIAL, "MA", MA_COMMERCIAL)
    decision = decide(_claim(rendering=CLINICIAN_NPI), world.reference())
    assert decision.status == "paid" and decision.lines[0].allowed == 100


def test_commercial_texas_supervised_line_is_priced_at_the_supervisee_rate() -> None:
    # Given Texas asks nothing of a supervised line (the every-state row): DOMAIN.md 2,
    # "Commercial (all states): pay at supervisee rate via license-level table"
    world = _world(COMMERCIAL, "TX", MA_COMMERCIAL, supervision(COMMERCIAL))
    # When an associate bills with U5 and no supervisor
    decision = decide(_claim(modifiers=("U5",)), world.reference())
    # Then the line is paid, at the supervised level: 85 % of 100.00
    assert decision.status == "paid"
    assert decision.lines[0].allowed == 85


def test_commercial_texas_licensed_clinician_under_a_supervisor_is_priced_as_supervised(
) -> None:
    """LICENSE-LEVEL v1 priced this line at the clinician's own level (100 % here; an
    LMFT's 75 % in the shipped factors) in every state that does not require U5."""
    world = _world(COMMERCIAL, "TX", supervision(COMMERCIAL))
    decision = decide(_claim(rendering=CLINICIAN_NPI, supervisor=True), world.reference())
    assert decision.status == "paid" and decision.lines[0].allowed == 85
    step = next(s for s in decision.trace if s.rule_id == "LICENSE-LEVEL")
    assert step.version == 2 and "supervised Commercial line" in step.conclusion
    alone = decide(_claim(rendering=CLINICIAN_NPI), world.reference())  # not supervised
    assert alone.lines[0].allowed == 100


def _shipped_supervision() -> tuple[object, ...]:
    from workers.reference import SHIPPED_REFERENCE_DIRECTORY, load_reference_dir

    return tuple(load_reference_dir(SHIPPED_REFERENCE_DIRECTORY).supervision)


@pytest.mark.parametrize("state", ["CA", "CO", "IA", "MA"])
def test_the_shipped_policy_requires_supervisor_and_u5_in_four_states_from_october_2024(
        state: str) -> None:
    # DOMAIN.md 2: commercial, CA/CO/IA/MA, services from 2024-10-01
    world = _world(COMMERCIAL, state, *_shipped_supervision())
    assert codes(decide(_claim(supervisor=True), world.reference())) == ["CO-4"]
    missing = decide(_claim(modifiers=("U5",)), world.reference())
    assert codes(missing) == ["CO-16"] and missing.lines[0].rarcs == ("N297",)
    paid = decide(_claim(modifiers=("U5",), supervisor=True), world.reference())
    assert paid.status == "paid" and paid.lines[0].allowed == 85  # the supervised level
    policy = world.reference().supervision_policy(COMMERCIAL, state, date(2024, 10, 1))
    before = world.reference().supervision_policy(COMMERCIAL, state, date(2024, 9, 30))
    assert policy is not None and (policy.requires_supervisor, policy.requires_modifier) == (
        True, "U5")
    assert before is not None and (before.requires_supervisor, before.requires_modifier) == (
        False, "")


def test_the_shipped_policy_asks_nothing_of_a_texas_commercial_associate() -> None:
    world = _world(COMMERCIAL, "TX", *_shipped_supervision())
    decision = decide(_claim(), world.reference())
    # paid, with no supervisor or U5 asked, at the supervisee rate (the supervised level)
    assert decision.status == "paid" and decision.lines[0].allowed == 85


# -- MassHealth: supervisor named, Medicaid-enrolled NPIs ------------------------------------
MASSHEALTH = supervision(MEDICAID, "MA", supervisor=True, medicaid=True)


def test_masshealth_supervised_line_without_supervisor_is_denied_co16_n297() -> None:
    world = _world(MEDICAID, "MA", MASSHEALTH)
    decision = decide(_claim(), world.reference())
    assert codes(decision) == ["CO-16"] and decision.lines[0].rarcs == ("N297",)


def test_masshealth_rendering_clinician_not_enrolled_is_denied_co185() -> None:
    world = _world(MEDICAID, "MA", MASSHEALTH, rendering_enrolled=False)
    assert codes(decide(_claim(supervisor=True), world.reference())) == ["CO-185"]


def test_masshealth_supervisor_not_enrolled_is_denied_co185() -> None:
    world = _world(MEDICAID, "MA", MASSHEALTH, supervisor_enrolled=False)
    decision = decide(_claim(supervisor=True), world.reference())
    assert codes(decision) == ["CO-185"]
    assert "supervising" in next(s.conclusion for s in decision.trace
                                 if s.rule_id == "MEDICAID-ENROLLMENT")


def test_masshealth_enrolled_supervised_line_is_paid_at_the_clinicians_level() -> None:
    world = _world(MEDICAID, "MA", MASSHEALTH)
    decision = decide(_claim(supervisor=True), world.reference())
    assert decision.status == "paid" and decision.lines[0].allowed == 70


def test_medicaid_outside_massachusetts_has_no_enrolment_rule_by_default() -> None:
    world = _world(MEDICAID, "TX", MASSHEALTH, rendering_enrolled=False)
    assert decide(_claim(), world.reference()).status == "paid"


# -- network and the provider file ----------------------------------------------------------
BILLING = provider(BILLING_NPI, license=None, entity_type="2")


def test_an_out_of_network_clinician_without_an_oon_benefit_is_denied_co242() -> None:
    world = World(providers=(provider(network="out"), BILLING))
    assert codes(decide(build_claim(), world.reference())) == ["CO-242"]


def test_an_out_of_network_clinician_pends_when_the_plan_covers_oon_but_says_not_how() -> None:
    # (tests/test_adjudication_out_of_network.py prices such lines under the benefit)
    world = World(providers=(provider(network="out"), BILLING), plans=(plan(oon=True),))
    assert decide(build_claim(), world.reference()).status == "pended"


def test_a_billing_provider_not_on_file_or_with_another_tin_is_denied_n257() -> None:
    # DOMAIN.md 4: the billing NPI pairs with the 2010AA REF*EI TIN on a provider record
    assert decide(build_claim(), World().reference()).status == "paid"
    unknown = decide(build_claim(billing_npi="1999999999"), World().reference())
    assert unknown.status == "denied" and codes(unknown) == ["CO-16"]
    assert [line.rarcs for line in unknown.lines] == [("N257",)]
    assert unknown.paid == 0
    step = next(t for t in unknown.trace if t.rule_id == "BILLING-PROVIDER")
    assert dict(step.inputs)["on_file"] is False
    other_tin = BILLING.model_copy(update={"tin": "987654321"})
    world = World(providers=(provider(), other_tin))
    moved = decide(build_claim(), world.reference())
    assert codes(moved) == ["CO-16"] and moved.lines[0].rarcs == ("N257",)
    assert dict(next(t for t in moved.trace if t.rule_id == "BILLING-PROVIDER")
                .inputs)["tin_matches"] is False
    no_tin = World(providers=(provider(), BILLING.model_copy(update={"tin": None})))
    assert codes(decide(build_claim(), no_tin.reference())) == ["CO-16"]
    # a record that ended before the date of service does not pair either
    ended = BILLING.model_copy(update={"termination": date(2026, 1, 31)})
    assert codes(decide(build_claim(), World(providers=(provider(), ended)).reference())) == [
        "CO-16"]


def test_a_rendering_provider_not_on_file_is_denied_n290() -> None:
    # DOMAIN.md 4: a valid NPI not on file, at adjudication: CO-16 + N290 (rendering)
    decision = decide(build_claim(rendering_npi="1888888888"), World().reference())
    assert decision.status == "denied" and codes(decision) == ["CO-16"]
    assert decision.lines[0].rarcs == ("N290",) and decision.paid == 0
    step = next(t for t in decision.trace if t.rule_id == "PROVIDER-ON-FILE")
    assert (step.version, step.conclusion) == (
        2, "denied: the rendering provider is not on the provider file")


def test_a_group_billing_without_naming_its_clinician_is_denied_n290() -> None:
    # no 2310B: the billing provider renders, and a group (type 2) is no clinician
    decision = decide(build_claim(rendering_npi=None), World().reference())
    assert codes(decision) == ["CO-16"] and decision.lines[0].rarcs == ("N290",)
    assert "is an organisation" in next(
        t for t in decision.trace if t.rule_id == "PROVIDER-ON-FILE").conclusion
    # a solo clinician (type 1) billing for their own services is paid
    solo = World(providers=(provider(BILLING_NPI),))
    assert decide(build_claim(rendering_npi=None), solo.reference()).status == "paid"


# -- the packs ------------------------------------------------------------------------------
def test_each_line_of_business_has_a_pack_naming_its_supervision_rules() -> None:
    ids = {lob: [rule.id for rule in pack.rules] for lob, pack in PACKS.items()}
    assert set(ids) == set(LineOfBusiness)
    assert "SUPERVISION-NOT-PERMITTED" in ids[MEDICARE_ADVANTAGE]
    assert "SUPERVISOR-NAMED" not in ids[MEDICARE_ADVANTAGE]
    assert "SUPERVISION-MODIFIER" in ids[COMMERCIAL]
    assert "MEDICAID-ENROLLMENT" in ids[MEDICAID]
    assert "MEDICAID-ENROLLMENT" not in ids[COMMERCIAL]
    text = describe()
    assert "medicare_advantage:" in text and "CO-185" in text and "MEMBER-IDENTIFICATION" in text
