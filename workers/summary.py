"""The run summary (`summary.json`): a contract other tools read.

Later work adds fields; existing names never change.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from workers.files import shown

FileStatus = Literal["processed", "duplicate", "rejected"]
FrontEnd = Literal["accepted", "rejected", "not_reached"]
AckCode = Literal["A", "E", "P", "R"]
ShownPath = Annotated[str, AfterValidator(shown)]
"""A path as summary.json writes it: text, U+FFFD for a file name's bytes that are no
UTF-8 (`workers.files.shown`; JSON cannot carry them)."""


class ClaimSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_control_number: str
    front_end: FrontEnd
    front_end_codes: list[str] = Field(default_factory=list)
    charge: str
    transaction_set: str = Field(description="ST02 of the claim's transaction set")
    payer_claim_control_number: str | None = Field(
        default=None, description="the ICN, when the front end accepted the claim")
    reasons: list[str] = Field(
        default_factory=list, description="where and why the front end rejected it (no PHI)")
    status: Literal["paid", "partially_paid", "denied", "pended", "voided"] | None = Field(
        default=None, description="the adjudication outcome, for claims the front end accepted")
    paid: str | None = None
    patient_responsibility: str | None = None
    adjustments: list[dict[str, str]] = Field(
        default_factory=list, description='[{"group": "CO", "carc": "29", "amount": "180.00"}]')
    rarc: list[str] = Field(default_factory=list)
    rules: list[str] = Field(default_factory=list, description="the rule ids that decided it")
    line_of_business: str | None = None
    frequency_code: str | None = Field(
        default=None, description="CLM05-3: 1 original, 7 replacement, 8 void")
    claim_status_code: str | None = Field(
        default=None, description="CLP02: 1 processed as primary, 2 as secondary, 3 as "
                                  "tertiary, 4 member not found")
    modifiers: list[str] = Field(
        default_factory=list, description="the procedure modifiers its lines carry, each once")
    lines_partly_authorized: int = Field(
        default=0, description="lines paid for fewer units than billed: a partial "
                               "authorization, the units beyond denied CO-198")
    pairs_bypassed: int = Field(
        default=0, description="lines a bypass modifier (59, XE, XS, XP, XU) let through a "
                               "same-day pair edit, as the PROCEDURE-PAIR trace says")


class FileSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: ShownPath
    sha256: str
    status: FileStatus
    ack: Literal["999", "TA1"]
    ack_code: AckCode
    ack_path: ShownPath
    claim_ack_path: ShownPath | None = Field(default=None, description="the 277CA, when any")
    received_at: str
    interchanges: list[str] = Field(default_factory=list, description="ISA13 values")
    problems: list[str] = Field(
        default_factory=list, description="envelope and implementation-guide sentences"
    )
    claims: list[ClaimSummary] = Field(default_factory=list)


class RemittanceSummary(BaseModel):
    """One 835 of the run's payment cycle: one payment to one payee."""

    path: ShownPath | None = Field(description="the 835 in the output directory; null when "
                                               "the cycle was refused and nothing was released")
    html_path: ShownPath | None = None
    payee_npi: str
    payee_tin: str
    payment: str
    method: Literal["ACH", "CHK", "NON"]
    trace: str
    claims: list[str] = Field(default_factory=list,
                              description="payer claim control numbers remitted")
    balanced: bool


class RunSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: str
    files: list[FileSummary] = Field(default_factory=list)
    remittances: list[RemittanceSummary] = Field(default_factory=list)
    remittance_problems: list[str] = Field(
        default_factory=list, description="why the payment cycle was refused (claim numbers "
                                          "and the balancing rules broken)")
