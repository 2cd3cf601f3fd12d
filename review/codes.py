"""Every code the screens show, in words: shown beside the code, never only on hover.

Where the words come from:

- CARC, RARC and group codes: `remittance/data/adjustment_codes.json` (X12 code lists
  139 and 411, in the project's own short words).
- 277CA codes (``category:status:entity``): the category and entity in words, and the
  title of the front-end edit that answers with that status (`edi.validators.edits`):
  the engine's own meaning of the status code, as docs/edits.md lists it.
- Rule ids: the titles the rule packs give them (`adjudication.packs`).
- Place of service: CMS's code set as `PlaceOfService` names it.
- Procedure codes: CPT's own descriptors are the AMA's and are not shipped; the
  codes the shipped fee schedules price and the generator bills carry the project's short
  descriptions (`review/data/procedure_words.json`), any other code its family (CPT
  Category I, HCPCS Level II, ...). Modifiers: the ones the rules read.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from edi.claim_status import Entity
from edi.validators.codesets.places_of_service import PlaceOfService
from edi.validators.codesets.procedures import procedure_code_kind
from remittance.era import meaning

CATEGORY_WORDS = {"A1": "acknowledged", "A2": "accepted into adjudication",
                  "A3": "returned as unprocessable", "A6": "rejected for missing information",
                  "A7": "rejected for invalid information",
                  "A8": "rejected for a relational field in error"}
ENTITY_WORDS = {**{e.value: e.name.lower().replace("_", " ") for e in Entity},
                Entity.BILLING.value: "billing provider",
                Entity.RENDERING.value: "rendering provider",
                Entity.SUPERVISING.value: "supervising provider",
                Entity.REFERRING.value: "referring provider"}
STATUS_WORDS = {"0": "no further status can be given electronically",
                "21": "missing or invalid information"}
"""The claim status codes the front end answers with that no edit names: a set it
could not read (A3:21, A3:0)."""
MODIFIER_WORDS = {
    "95": "synchronous telemedicine, audio and video",
    "GT": "interactive audio and video telecommunication",
    "93": "synchronous telemedicine, audio only",
    "FQ": "furnished using audio-only communication",
    "U5": "supervised service (the payer's supervision modifier)",
    "HO": "master's degree level", "HN": "bachelor's degree level",
    "59": "distinct procedural service", "XE": "separate encounter",
    "XS": "separate structure or organ", "XP": "separate practitioner",
    "XU": "unusual non-overlapping service",
}
"""The HCPCS/CPT modifiers the rules read: telehealth, supervision, degree level, and
the ones that let a same-day pair through."""
RELATIONSHIP_WORDS = {"01": "spouse", "18": "self", "19": "child", "20": "employee",
                      "21": "unknown", "39": "organ donor", "40": "cadaver donor",
                      "53": "life partner", "G8": "other relationship"}
"""Individual relationship codes (SBR02, PAT01)."""
CLAIM_STATUS_WORDS = {"1": "processed as primary", "2": "processed as secondary",
                      "3": "processed as tertiary", "4": "denied", "22": "reversal"}
"""CLP02 as this engine answers it."""


def adjustment_words(group: str, carc: str) -> str:
    """A CARC in words with its group's (``CO``: contractual obligation ...)."""
    return f"{meaning('carc', carc)} ({meaning('groups', group)})"


def rarc_words(code: str) -> str:
    return meaning("rarc", code)


def _group_short(group: str) -> str:
    """The group's name without its explanation: ``Contractual obligation``."""
    return meaning("groups", group).split(":", 1)[0]


@cache
def _edit_titles() -> dict[str, str]:
    """``category:status[:entity]`` (and ``category:status``) to the title of the first
    front-end edit answering with it."""
    from edi.validators.edits import EDITS

    titles: dict[str, str] = {}
    for edit in EDITS:
        for code in edit.emits:
            titles.setdefault(code, edit.title)
            titles.setdefault(":".join(code.split(":")[:2]), edit.title)
    return titles


def front_end_words(code: str) -> str:
    """``A7:562:85`` in words: the category, the entity, and the edit that answers with
    that status."""
    parts = code.split(":")
    words = [CATEGORY_WORDS.get(parts[0], "category " + parts[0])]
    if len(parts) > 2:
        words.append("the " + ENTITY_WORDS.get(parts[2], "entity " + parts[2]))
    title = _edit_titles().get(code) or _edit_titles().get(":".join(parts[:2]))
    if title is not None:
        words.append(f"failing the edit “{title}”")
    elif len(parts) > 1 and parts[0] not in ("A1", "A2"):
        words.append(STATUS_WORDS.get(parts[1], f"status {parts[1]}"))
    return ", ".join(words)


def queue_code(code: str) -> str:
    """A queue's code in words: a 277CA code, ``CO-29`` (CARC and group) or a RARC."""
    if ":" in code:
        return front_end_words(code)
    if "-" in code:
        group, carc = code.split("-", 1)
        return f"{meaning('carc', carc)} ({_group_short(group).lower()})"
    return rarc_words(code)


@cache
def _rule_titles() -> dict[str, str]:
    from adjudication.engine import ENGINE_FAULT_REASON
    from adjudication.packs import CLAIM_RULES, GATE, PACKS
    from adjudication.rules.coordination import COORDINATION
    from workers.review_cli import DENIAL_RULE

    titles = dict(CLAIM_RULES)
    for rule in (*GATE, *(r for pack in PACKS.values() for r in pack.rules), COORDINATION):
        titles.setdefault(rule.id, rule.title)
    titles["ENGINE-FAULT"] = f"Pended: {ENGINE_FAULT_REASON}"
    titles[DENIAL_RULE] = "Denied by a person on the review screens (the CARC they chose)"
    return titles


def is_rule(rule_id: str) -> bool:
    """Whether ``rule_id`` names a rule this engine runs (or a person's denial)."""
    return rule_id in _rule_titles()


def rule_words(rule_id: str) -> str:
    """What a rule checks (its pack's title), or a plain note for an id the engine no
    longer has."""
    return _rule_titles().get(rule_id, "a rule this engine no longer runs")


def place_words(code: str) -> str:
    """A CMS place of service in words: ``11`` is ``office``."""
    try:
        return PlaceOfService(code).name.lower().replace("_", " ")
    except ValueError:
        return "not a CMS place-of-service code"


def procedure_words(code: str) -> str:
    """A procedure code's short description, else its family (see the module)."""
    known = _procedure_words().get(code)
    if known is not None:
        return known
    kind = procedure_code_kind(code)
    return f"a {kind} code" if kind is not None else "not a CPT or HCPCS code"


@cache
def _procedure_words() -> dict[str, str]:
    text = resources.files("review").joinpath("data/procedure_words.json").read_text(
        encoding="utf-8")
    words: dict[str, str] = json.loads(text)["codes"]
    return words


def modifier_words(code: str) -> str:
    return MODIFIER_WORDS.get(code, "modifier (no description on file)")


def relationship_words(code: str) -> str:
    return RELATIONSHIP_WORDS.get(code, "relationship code " + code)


def claim_status_words(code: str) -> str:
    return CLAIM_STATUS_WORDS.get(code, "claim status " + code)
