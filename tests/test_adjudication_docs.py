"""The adjudication README names every rule the engine runs, with the codes it answers."""

from __future__ import annotations

from adjudication.packs import CLAIM_RULES, GATE, PACKS
from tests.paths import ROOT


def test_the_readme_lists_every_rule_and_its_codes() -> None:
    # Given the README of the adjudication package
    text = (ROOT / "adjudication" / "README.md").read_text()
    # Then every claim rule, gate rule and pack rule is in it with each code it answers
    for rule_id, _title in CLAIM_RULES:
        assert f"`{rule_id}`" in text, rule_id
    for rule in {r.id: r for pack in PACKS.values() for r in (*GATE, *pack.rules)}.values():
        assert f"`{rule.id}`" in text, rule.id
        for answer in rule.answers:
            for code in answer.split():
                assert code == "pend" or f"`{code}`" in text, (rule.id, code)
