"""277CA (005010X214): what the engine tells the submitter about each claim it received."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edi.ack277 import (
    SetAnswer,
    TallyBuilder,
    render_277ca,
    render_277ca_by_sender,
    sender_key,
)
from edi.acks import CountingControlNumbers, Responder
from edi.claim_status import (
    ClaimFinding,
    ClaimStatus,
    Entity,
    LineStatus,
    Location,
    Provider277,
    StatusCategory,
    TransactionStatus,
)
from edi.tokenizer import Segment, segments_from_bytes
from edi.validators.outbound import outbound_problems
from tests.ackhelp import WHEN, without_envelope_noise
from tests.paths import FIXTURES
from tests.pyx12_oracle import pyx12_accepts

GOLDEN = FIXTURES / "ack277" / "mixed.277ca"
RECEIVED = date(2026, 11, 22)

CLINIC = Provider277("2", "SUNRISE BEHAVIORAL HEALTH", None, "1234567893", "123456789")
THERAPIST = Provider277("1", "RIVERA", "ANA", "1987654325", None)
GROUP = Provider277("2", "LAKESIDE COUNSELING", None, "1639172896", "987654321")

BAD_DIAGNOSIS = ClaimFinding(
    "SNIP4-DX-PRINCIPAL", 1, 4, StatusCategory.INVALID, ("254",), None,
    Location("2300", "HI", "HI01-2"), "The principal diagnosis code is not a valid ICD-10-CM code.",
)
NO_SUPERVISOR_NPI = ClaimFinding(
    "SNIP4-SUPERVISING-NPI", 1, 4, StatusCategory.MISSING, ("562", "21"), Entity.SUPERVISING,
    Location("2310D", "NM1", "NM109"), "The supervising provider has no NPI.",
)
WRONG_PAYER = ClaimFinding(
    "87726-PAYER", 1, 7, StatusCategory.INVALID, ("116", "21"), Entity.PAYER,
    Location("2010BB", "NM1", "NM109"), "The claim was sent to the wrong payer.",
)
BAD_PROCEDURE = ClaimFinding(
    "SNIP5-HCPCS", 1, 5, StatusCategory.INVALID, ("454",), None,
    Location("2400", "SV1", "SV101-2", line=2), "The procedure code is not valid on the date.",
)


def _claim(pcn: str, charge: str, provider: Provider277 = CLINIC,
           *findings: ClaimFinding, **changes: object) -> ClaimStatus:
    claim = ClaimStatus(
        patient_control_number=pcn, total_charge=Decimal(charge),
        service_from=date(2026, 11, 2), service_to=date(2026, 11, 2),
        patient_last_name="DOE", patient_first_name="JANE", patient_member_id="M12345678",
        billing_provider=provider, findings=findings,
        payer_claim_control_number=None if findings else f"26326{pcn[-4:]}",
    )
    return replace(claim, **changes)  # type: ignore[arg-type]


def _line(number: int, *findings: ClaimFinding) -> LineStatus:
    return LineStatus(number, "90837", ("HJ", "GT"), Decimal("150.00"), Decimal("1"),
                      date(2026, 11, 2), None, f"LINE-{number}", findings)


def _status(*claims: ClaimStatus, **changes: object) -> TransactionStatus:
    status = TransactionStatus(
        submitter_name="ACME CLEARINGHOUSE", submitter_id="ACME01",
        receiver_sender_qualifier="ZZ", receiver_sender_id="ACMESENDER",
        application_sender="ACMEAPP", transaction_set_control_number="0001",
        batch_reference="BATCH-42", received=RECEIVED, claims=list(claims),
    )
    return replace(status, **changes)  # type: ignore[arg-type]


def _render(*statuses: TransactionStatus) -> str:
    return render_277ca(statuses, Responder(when=WHEN, control=CountingControlNumbers()))


def _segments(text: str) -> list[Segment]:
    return segments_from_bytes(text.encode("latin-1"))


def _lines(text: str, *seg_ids: str) -> list[str]:
    return [s for s in without_envelope_noise(text) if s.split("*")[0] in seg_ids]


def _mixed() -> TransactionStatus:
    """Three billing providers, accepted and rejected claims, a line finding, a dated range."""
    return _status(
        _claim("PCN-0001", "150.00", CLINIC, clearinghouse_trace="CH-777"),
        _claim("PCN-0002", "225.50", THERAPIST, NO_SUPERVISOR_NPI),
        _claim("PCN-0003", "300", CLINIC, BAD_PROCEDURE,
               lines=(_line(1), _line(2, BAD_PROCEDURE)), service_to=date(2026, 11, 9)),
        _claim("PCN-0004", "80.25", GROUP),
        _claim("PCN-0005", "99.99", THERAPIST),
    )


SCENARIOS: dict[str, Callable[[], TransactionStatus]] = {
    "all-accepted": lambda: _status(_claim("PCN-0001", "150.00"), _claim("PCN-0002", "75.5")),
    "all-rejected": lambda: _status(_claim("PCN-0001", "150.00", CLINIC, BAD_DIAGNOSIS),
                                    _claim("PCN-0002", "75.5", CLINIC, WRONG_PAYER,
                                           NO_SUPERVISOR_NPI)),
    "mixed": _mixed,
    "line-finding": lambda: _status(_claim("PCN-0003", "300", CLINIC, BAD_PROCEDURE,
                                           lines=(_line(2, BAD_PROCEDURE),))),
    "two-status-codes": lambda: _status(_claim("PCN-0002", "225.50", THERAPIST,
                                               NO_SUPERVISOR_NPI)),
    "delimiters-in-values": lambda: _status(
        _claim("PCN*00~1", "10", replace(CLINIC, last_or_organization_name="A*B~C:D^E"),
               patient_last_name="O*BRIEN~", patient_member_id="M1:2^3",
               clearinghouse_trace="~*:^"),
        submitter_name="ACME*~", batch_reference="B:1~"),
}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_every_277ca_the_engine_writes_is_valid_for_pyx12(scenario: str) -> None:
    # Given one of the typical outcomes of a transaction set
    status = SCENARIOS[scenario]()
    # When the engine writes its 277CA
    text = _render(status)
    # Then our check with pyx12's X214 map finds nothing, and neither does pyx12 itself
    assert outbound_problems(text) == []
    assert pyx12_accepts(text)


def test_an_accepted_claim_is_received_then_accepted_with_its_payer_claim_number() -> None:
    # Given a transaction set whose claims all pass the front-end edits
    text = _render(SCENARIOS["all-accepted"]())
    # Then each claim says received (A1:19 by the payer) and accepted (A2:20), with REF*1K
    assert _lines(text, "STC", "REF")[-6:] == [
        "STC*A1:19:PR*20261122*WQ*150.00", "STC*A2:20*20261123*WQ*150.00", "REF*1K*263260001",
        "STC*A1:19:PR*20261122*WQ*75.50", "STC*A2:20*20261123*WQ*75.50", "REF*1K*263260002",
    ]
    # And the totals name accepted claims only
    assert _lines(text, "QTY", "AMT") == ["QTY*90*2", "AMT*YU*225.50", "QTY*QA*2",
                                          "AMT*YU*225.50"]


def test_a_rejected_claim_gets_one_u_status_per_finding_and_no_payer_claim_number() -> None:
    # Given a transaction set whose claims all fail an edit, one of them two edits
    text = _render(SCENARIOS["all-rejected"]())
    stcs = [s for s in _lines(text, "STC") if "*U*" in s]
    # Then the receiver and provider levels say received-but-rejected (U) for the whole amount
    assert stcs[:2] == ["STC*A1:19:PR*20261122*U*225.50", "STC*A1:19:PR**U*225.50"]
    # And each finding is one STC with the claim charge and its sentence in STC12
    assert [s.split("*")[1] for s in stcs[2:]] == ["A7:254", "A7:116:PR", "A6:562:DQ"]
    assert stcs[2].endswith("*U*150.00********The principal diagnosis code is not a valid "
                            "ICD-10-CM code. (loop 2300, HI01-2)")
    # And no claim number is given, and only rejected totals are sent
    assert not any(s.startswith("REF*1K") for s in without_envelope_noise(text))
    assert _lines(text, "QTY", "AMT") == ["QTY*AA*2", "AMT*YY*225.50", "QTY*QC*2",
                                          "AMT*YY*225.50"]


def test_a_second_status_code_of_a_finding_goes_to_stc10_with_the_same_entity() -> None:
    # Given a missing supervising NPI reported as 562 (entity's NPI) and 21 (missing info)
    text = _render(SCENARIOS["two-status-codes"]())
    # Then STC01 and STC10 both name the supervising provider
    assert _lines(text, "STC")[-1] == (
        "STC*A6:562:DQ*20261123*U*225.50******A6:21:DQ**The supervising provider has no NPI. "
        "(loop 2310D, NM109)")


def test_the_payer_entity_is_named_in_stc01_only_because_the_guide_list_for_stc10_lacks_it(
) -> None:
    # Given a wrong-payer finding with two codes whose entity is the payer
    text = _render(_status(_claim("PCN-0001", "10", CLINIC, WRONG_PAYER)))
    # Then STC10 carries the category and code without PR, and the 277CA stays valid
    assert _lines(text, "STC")[-1].startswith("STC*A7:116:PR*20261123*U*10.00******A7:21**")
    assert outbound_problems(text) == []


def test_a_finding_on_a_service_line_echoes_that_line_in_2220d() -> None:
    # Given a claim with two lines, the second with a bad procedure code
    text = _render(SCENARIOS["mixed"]())
    body = without_envelope_noise(text)
    start = body.index("SVC*HC:90837:HJ:GT*150.00*****1")
    # Then only that line is echoed, with a U status, its control number and its date
    assert body[start:start + 4] == ["SVC*HC:90837:HJ:GT*150.00*****1",
                                     "STC*A7:454*20261123*U", "REF*FJ*LINE-2",
                                     "DTP*472*D8*20261102"]
    assert sum(s.startswith("SVC") for s in body) == 1
    # And the claim itself reports the finding too, over its service period
    assert "DTP*472*RD8*20261102-20261109" in body


def test_claims_are_grouped_by_billing_provider_in_order_of_first_appearance() -> None:
    # Given five claims of three providers, interleaved
    segments = _segments(_render(SCENARIOS["mixed"]()))
    hls = [(s.get(1), s.get(2), s.get(3)) for s in segments if s.id == "HL"]
    providers = [s.get(3) for s in segments if s.id == "NM1" and s.get(1) == "85"]
    claims = [s.get(2) for s in segments if s.id == "TRN" and s.get(1) == "2"][1:]
    # Then HL numbers run 1..n, each child naming its parent
    assert hls == [("1", "", "20"), ("2", "1", "21"),
                   ("3", "2", "19"), ("4", "3", "PT"), ("5", "3", "PT"),
                   ("6", "2", "19"), ("7", "6", "PT"), ("8", "6", "PT"),
                   ("9", "2", "19"), ("10", "9", "PT")]
    assert providers == ["SUNRISE BEHAVIORAL HEALTH", "RIVERA", "LAKESIDE COUNSELING"]
    assert claims == ["PCN-0001", "PCN-0003", "PCN-0002", "PCN-0005", "PCN-0004"]


def _read_back(status: TransactionStatus, order: Callable[[list[tuple[int, int]]], None]
               = list.sort) -> SetAnswer:
    """The set as the store gives it back (`workers.finish_step._answer`): its header without
    claims, its totals counted claim by claim as it was answered, and its claims one at
    a time in (provider group, position) order, or in the order ``order`` leaves them."""
    counted = TallyBuilder()
    keys = [(counted.add(claim), position) for position, claim in enumerate(status.claims)]
    order(keys)
    return SetAnswer(replace(status, claims=[]), counted.totals(),
                     (status.claims[position] for _group, position in keys))


def _render_answers(*answers: SetAnswer) -> str:
    return render_277ca_by_sender([(sender_key(answers[0].header), answers)],
                                  Responder(when=WHEN, control=CountingControlNumbers()))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_a_set_read_back_claim_by_claim_gives_the_277ca_of_the_set_in_memory(
        scenario: str) -> None:
    # Given a set whose claims come back one at a time (interleaved providers too)
    status = SCENARIOS[scenario]()
    # Then its 277CA is the one written from the whole set in memory
    assert _render_answers(_read_back(status)) == _render(status)


def test_claims_that_do_not_follow_the_totals_are_refused() -> None:
    # Given the mixed set read back in file order (its providers interleave), or with a
    # claim missing, or with one more than its totals count
    status = _mixed()
    extra = _read_back(status)
    # Then the renderer refuses to write a 277CA whose totals would not match its claims
    with pytest.raises(ValueError, match="do not follow"):
        _render_answers(_read_back(status, lambda keys: keys.sort(key=lambda k: k[1])))
    with pytest.raises(ValueError, match="do not follow"):
        _render_answers(_read_back(status, lambda keys: keys.pop()))
    with pytest.raises(ValueError, match="outnumber"):
        _render_answers(replace(extra, claims=[*extra.claims, status.claims[0]]))


def test_the_envelope_answers_the_837_sender_and_se01_counts_the_segments() -> None:
    # Given two accepted transaction sets of a test (ISA15 T) file
    text = _render(_mixed(), replace(_mixed(), usage_indicator="T"))
    segments = _segments(text)
    isa, gs = segments[0], segments[1]
    # Then the interchange goes from 87726 to the 837's sender, in one HN group
    assert (isa.get(5), isa.get(6).strip(), isa.get(7), isa.get(8).strip()) == (
        "ZZ", "87726", "ZZ", "ACMESENDER")
    assert (gs.get(1), gs.get(2), gs.get(3), gs.get(8)) == ("HN", "87726", "ACMEAPP",
                                                            "005010X214")
    # And the usage indicator follows the first transaction set
    assert isa.get(15) == "P"
    # And each ST..SE counts itself, ST02 = SE02, and GE counts the sets
    starts = [i for i, s in enumerate(segments) if s.id == "ST"]
    for start in starts:
        end = next(i for i in range(start, len(segments)) if segments[i].id == "SE")
        assert segments[end].get(1) == str(end - start + 1)
        assert segments[end].get(2) == segments[start].get(2)
    assert [s.get(1) for s in segments if s.id == "GE"] == ["2"]


def test_a_test_837_gets_a_test_277ca() -> None:
    # Given the 837 came with ISA15 = T
    text = _render(replace(_mixed(), usage_indicator="T"))
    # Then the 277CA says T too
    assert _segments(text)[0].get(15) == "T"


def test_values_with_our_delimiters_are_cleaned_and_never_break_the_277ca() -> None:
    # Given names, IDs and CLM01 that contain *, ~, : and ^
    text = _render(SCENARIOS["delimiters-in-values"]())
    body = without_envelope_noise(text)
    # Then they are echoed without those characters, and the file still reads back
    assert "NM1*41*2*ACME*****46*ACME01" in body
    assert "NM1*85*2*ABCDE*****XX*1234567893" in body
    assert "NM1*QC*1*OBRIEN*JANE****MI*M123" in body
    assert "TRN*2*PCN001" in body and "TRN*2*B1" in body
    assert not any(s.startswith("REF*D9") for s in body)
    assert len(_segments(text)) == len(body)


def test_the_same_input_gives_the_same_277ca() -> None:
    # Given a fixed clock and fresh control numbers
    # Then rendering twice gives identical text (no hidden clock or state)
    assert _render(_mixed()) == _render(_mixed())


def test_a_277ca_needs_something_to_acknowledge() -> None:
    # Given no transaction set, or one without claims
    # Then the renderer refuses rather than write a 277CA the guide does not allow
    with pytest.raises(ValueError):
        _render()
    with pytest.raises(ValueError):
        _render(_status())


def test_the_mixed_277ca_equals_its_reviewed_golden_file() -> None:
    # Given the mixed transaction set (three providers, a line finding, two status codes)
    text = _render(_mixed())
    # Then the 277CA equals the golden file, written and reviewed by hand, envelope
    # numbers and times aside
    assert without_envelope_noise(text) == without_envelope_noise(GOLDEN.read_text())


# Property: the totals of every level add up, whatever the mix of claims.

_PROVIDERS = (CLINIC, THERAPIST, GROUP, replace(GROUP, npi=None))
_FINDINGS = (BAD_DIAGNOSIS, NO_SUPERVISOR_NPI, WRONG_PAYER, BAD_PROCEDURE)
_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12)


@st.composite
def claim_statuses(draw: st.DrawFn) -> ClaimStatus:
    charge = Decimal(draw(st.integers(min_value=0, max_value=10**8))) / 100
    findings = tuple(draw(st.lists(st.sampled_from(_FINDINGS), max_size=3, unique=True)))
    lines = (_line(2, BAD_PROCEDURE),) if BAD_PROCEDURE in findings else ()
    return ClaimStatus(
        patient_control_number=draw(_TEXT), total_charge=charge,
        service_from=draw(st.none() | st.just(date(2026, 11, 1))), service_to=None,
        patient_last_name=draw(_TEXT), patient_first_name=draw(st.none() | _TEXT),
        patient_member_id=draw(st.none() | _TEXT),
        billing_provider=draw(st.sampled_from(_PROVIDERS)), findings=findings,
        payer_claim_control_number=None if findings else "2632600001", lines=lines,
    )


def _claim_charges(segments: list[Segment]) -> list[tuple[bool, Decimal]]:
    """(accepted, charge) of each 2000D, read from its first claim-level STC."""
    out: list[tuple[bool, Decimal]] = []
    first_stc = False
    for seg in segments:
        if seg.id == "HL":
            first_stc = seg.get(3) == "PT"
        elif seg.id == "STC" and first_stc:
            out.append((seg.get(3) == "WQ", Decimal(seg.get(4))))
            first_stc = False
    return out


def _by_level(segments: list[Segment]) -> list[tuple[dict[str, str], list[tuple[bool, Decimal]]]]:
    """Each 2000B/2000C level's QTY/AMT and the (accepted, charge) of the claims below it."""
    charges = iter(_claim_charges(segments))
    levels: list[tuple[str, dict[str, str], list[tuple[bool, Decimal]]]] = []
    for seg in segments:
        if seg.id == "HL" and seg.get(3) in ("21", "19"):
            levels.append((seg.get(3), {}, []))
        elif seg.id in ("QTY", "AMT"):
            levels[-1][1][seg.get(1)] = seg.get(2)
        elif seg.id == "HL" and seg.get(3) == "PT":
            claim = next(charges)
            receiver = next(level for level in levels if level[0] == "21")
            receiver[2].append(claim)
            levels[-1][2].append(claim)
    return [(values, claims) for _, values, claims in levels]


@settings(max_examples=60, deadline=None)
@given(st.lists(claim_statuses(), min_size=1, max_size=10))
def test_any_mix_of_claims_gives_a_valid_277ca_whose_totals_add_up(
    claims: list[ClaimStatus],
) -> None:
    # Given any claims, accepted or rejected, of a few billing providers
    text = _render(_status(*claims))
    # Then the 277CA is valid for the X214 map
    assert outbound_problems(text) == []
    # And at the receiver and at each provider: accepted + rejected = the claims below,
    # and the accepted and rejected amounts add up to their charges
    levels = _by_level(_segments(text))
    assert len(levels[0][1]) == len(claims)
    qualifiers = {"21": ("90", "AA"), "19": ("QA", "QC")}
    for (values, below), level in zip(levels, ["21"] + ["19"] * (len(levels) - 1), strict=True):
        accepted_qty, rejected_qty = qualifiers[level]
        accepted = [charge for ok, charge in below if ok]
        rejected = [charge for ok, charge in below if not ok]
        assert int(values.get(accepted_qty, "0")) == len(accepted)
        assert int(values.get(rejected_qty, "0")) == len(rejected)
        assert int(values.get(accepted_qty, "0")) + int(values.get(rejected_qty, "0")) == len(
            below)
        assert Decimal(values.get("YU", "0")) == sum(accepted, Decimal(0))
        assert Decimal(values.get("YY", "0")) == sum(rejected, Decimal(0))
    # And the receiver's totals are those of the input claims
    receiver = levels[0][0]
    assert int(receiver.get("90", "0")) == sum(c.accepted for c in claims)
    assert Decimal(receiver.get("YU", "0")) + Decimal(receiver.get("YY", "0")) == sum(
        (c.total_charge for c in claims), Decimal(0))
