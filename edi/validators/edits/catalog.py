"""`docs/edits.md`, generated from the registered edits so the document cannot drift."""

from __future__ import annotations

from edi.validators.edits import EDITS

SNIP_NAMES = {3: "balancing", 4: "situational", 5: "external code sets",
              7: "trading partner (payer 87726)"}
CATEGORY_NAMES = {"A3": "returned as unprocessable", "A6": "rejected for missing information",
                  "A7": "rejected for invalid information",
                  "A8": "rejected for relational field in error"}


def render_markdown() -> str:
    lines = [
        "# Front-end edits",
        "",
        "Generated from `edi/validators/edits` by `claims docs` — do not edit by hand.",
        "",
        "Each edit runs on every claim of a transaction set the 999 accepted. A claim with",
        "any finding is rejected as a whole on the 277CA, one STC per finding",
        "(category:status:entity); the other claims of the file go on. Timely filing and",
        "the corrected-claim windows are not front-end edits: adjudication decides them so",
        "that the provider receives them on the remittance (CARC 29).",
        "",
        "| edit | version | SNIP | rule | 277CA codes |",
        "|---|---|---|---|---|",
    ]
    for e in EDITS:
        codes = ", ".join(f"`{c}`" for c in e.emits)
        lines.append(f"| `{e.id}` | {e.version} | {e.snip_level} ({SNIP_NAMES[e.snip_level]}) "
                     f"| {e.title} | {codes} |")
    lines += ["", "Categories: " + "; ".join(f"`{k}` {v}" for k, v in CATEGORY_NAMES.items())
              + ".", ""]
    return "\n".join(lines)
