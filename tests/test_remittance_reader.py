"""The project's own 835 reader on every public 835, and the printable advice.

The reader's counts are checked against SOURCES.md, which the corpus's curators
wrote from each file independently of this code; each file's balance is reported,
never required (other payers' samples, some broken on purpose).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from lxml import html

from adjudication.packs import CLAIM_RULES, GATE, PACKS
from edi.parsers.remit835 import read_835
from remittance.balance import prove_interchanges
from remittance.era import codes, render_era
from tests.paths import CORPUS, corpus_835
from tests.test_remittance_golden import _cycle, _original_cycle, _waiting

_ROW = re.compile(r"^\| 835/(?P<name>[^ |]+) \|.*?ISA (?P<isa>\d+)/GS (?P<gs>\d+)/ST "
                  r"(?P<st>\d+); (?P<clp>\d+) CLP, (?P<svc>\d+) SVC", re.MULTILINE)


def _documented() -> dict[str, tuple[int, int, int, int]]:
    text = (CORPUS / "SOURCES.md").read_text(encoding="utf-8")
    rows = {m["name"]: (int(m["isa"]), int(m["st"]), int(m["clp"]), int(m["svc"]))
            for m in _ROW.finditer(text)}
    if not rows:
        raise FileNotFoundError(f"no 835 rows in {CORPUS / 'SOURCES.md'}")
    return rows


@pytest.mark.parametrize("path", corpus_835(), ids=lambda p: p.name)
def test_every_public_835_reads_with_the_counts_its_source_lists(path: Path) -> None:
    with path.open("rb") as stream:
        interchanges = read_835(stream)
    sets = [t for ic in interchanges for g in ic.groups for t in g.transactions]
    claims = [c for t in sets for c in t.claims]
    counted = (len(interchanges), len(sets), len(claims),
               sum(len(c.services) for c in claims))
    assert counted == _documented()[path.name]
    problems = prove_interchanges(interchanges)
    print(f"{path.name}: {len(claims)} claims, "
          f"{'balances' if not problems else f'{len(problems)} balancing problems'}")
    for problem in problems[:5]:
        print(f"  {problem}")


def test_the_balance_report_names_what_a_public_sample_gets_wrong() -> None:
    # oop-835-Example1 pays 5.75 by its claims and its PLB adds 1.27, yet BPR02 is 5.75
    with (CORPUS / "835" / "oop-835-Example1.txt").open("rb") as stream:
        problems = [str(p) for p in prove_interchanges(read_835(stream))]
    assert ("payment: ST 07504123: BPR02 5.75 is not the claims' paid 5.75 less provider "
            "adjustments -1.27") in problems


def test_a_file_that_is_not_x12_reads_as_a_problem_not_an_exception() -> None:
    problems = prove_interchanges(read_835(io.BytesIO(b"%PDF-1.7 not an 835")))
    assert problems and problems[0].rule == "readable"


def test_the_printable_advice_shows_every_claim_line_and_adjustment_in_words() -> None:
    first, _traces = _original_cycle()
    page = html.fromstring(render_era(first.remittances[0].remittance))
    text = page.text_content()
    assert "TRC00001" in text and "100.00 by electronic funds transfer" in text
    assert "CO-45 100.00: " + codes()["carc"]["45"] in text
    assert page.xpath("//script") == []
    assert "@media print" in page.xpath("//style")[0].text


def test_the_advice_gives_each_line_the_reference_the_provider_sent_with_it() -> None:
    from tests.adjudication_builders import World, build_claim, decide, line

    claim = build_claim([line(1, control="LN-7781"), line(2, "90834", "120.00")])
    plan = _cycle([_waiting(1, decide(claim, World().reference()), claim)])
    page = html.fromstring(render_era(plan.remittances[0].remittance))
    firsts = [row.xpath("./td")[0].text_content() for row in page.xpath("//tr[count(td)=8]")]
    assert firsts == ["1your ref LN-7781", "2"]


def test_a_claim_denied_whole_shows_its_claim_adjustment_and_remark_in_the_advice() -> None:
    from tests.adjudication_builders import World, build_claim, decide
    from tests.test_remittance_golden import _text, _valid_and_balanced

    # Given a recognised member's claim that reached adjudication with no service line:
    # denied at the claim level, CO-16 for the whole 200.00 charge, remark MA130
    claim = build_claim()
    claim = claim.model_copy(update={"claim": claim.claim.model_copy(update={"lines": ()})})
    plan = _cycle([_waiting(1, decide(claim, World().reference()), claim)])
    # Then its 835 says so at the claim (CLP02 stays 1: the member is recognised), with
    # no SVC, and balances
    text = _text(plan)
    _valid_and_balanced(text)
    segments = text.splitlines()
    assert [s for s in segments if s.startswith(("CLP*", "CAS*", "MOA*", "SVC*"))] == [
        "CLP*PCN-1*1*200.00*0.00**15*OBH-1*11*1~", "CAS*CO*16*200.00~", "MOA***MA130~"]
    # And the advice a provider prints names both in words, at the claim
    page = html.fromstring(render_era(plan.remittances[0].remittance)).text_content()
    assert (f"Claim adjustments: CO-16 200.00: {codes()['carc']['16']}" in page)
    assert f"Remarks: MA130: {codes()['rarc']['MA130']}" in page


def test_every_code_the_engine_can_conclude_with_has_a_meaning() -> None:
    # every answer a line rule declares ("CO-16 N297"), and the claim-level rules' codes
    answers = [a for pack in PACKS.values() for rule in (*GATE, *pack.rules)
               for a in rule.answers if a != "pend"]
    answers += re.findall(r"\b(?:CO|OA|PR)-\d+(?: [A-Z]+\d+)?", " ".join(
        title for _id, title in CLAIM_RULES))
    carcs = {a.split()[0].split("-")[1] for a in answers}
    rarcs = {a.split()[1] for a in answers if " " in a} | {"MA130"}
    assert carcs >= {"29", "31", "45", "18"} and rarcs >= {"N297", "M47"}
    assert carcs <= set(codes()["carc"])
    assert rarcs <= set(codes()["rarc"])
    assert set(codes()["groups"]) == {"CO", "PR", "OA", "PI"}
    assert codes()["retrieved"] and codes()["source"]


def test_a_reversal_reads_as_a_reversal_in_the_advice() -> None:
    first, traces = _original_cycle()
    original = first.remittances[0].remitted[0].payment
    from tests.adjudication_builders import World, build_claim, decide, past_claim

    void = build_claim(pcn="PCN-O", frequency="8", original_icn="OBH-ORIG")
    decision = decide(void, World().reference(past_claims=[past_claim("OBH-ORIG")]),
                      icn="OBH-V")
    plan = _cycle([_waiting(2, decision, void, original)], traces=traces)
    text = html.fromstring(render_era(plan.remittances[0].remittance)).text_content()
    assert "Reversal of an earlier payment OBH-ORIG" in text
    assert "FB: forward balance" in text and "-100.00" in text
