"""The store's tables: SQLAlchemy 2 typed models.

Money is integer cents (``*_cents``), never a float. Every domain key that makes a
step idempotent is a UNIQUE constraint: a file's sha256, a sender's interchange
control number, a claim's fingerprint and its payer claim control number, a
decision's (claim number, version).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime(timezone=True)}


class TradingPartner(Base):
    """A clearinghouse that sends us files (ISA05/ISA06)."""

    __tablename__ = "trading_partners"
    __table_args__ = (UniqueConstraint("sender_qualifier", "sender_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    sender_qualifier: Mapped[str] = mapped_column(String(2))
    sender_id: Mapped[str] = mapped_column(String(15))
    created_at: Mapped[datetime]


class EraEnrollment(Base):
    """Which trading partner a payee (NPI and TIN) chose to receive its 835s (its ERA
    enrollment): each of its 835s goes to that partner's mailbox, whichever partner
    sent the claims it pays."""

    __tablename__ = "era_enrollments"
    __table_args__ = (UniqueConstraint("payee_npi", "payee_tin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payee_npi: Mapped[str] = mapped_column(String(10))
    payee_tin: Mapped[str] = mapped_column(String(9))
    partner_id: Mapped[int] = mapped_column(ForeignKey("trading_partners.id"), index=True)
    enrolled_at: Mapped[datetime]


class Run(Base):
    """One ``claims process`` command: the files it was given, in receipt order.

    A run is keyed by its output directory and the sha256 of its files, so the same
    command started again after a crash resumes the run instead of calling its own
    files duplicates.
    """

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_key: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    as_of: Mapped[date] = mapped_column(Date)


class ReceivedFile(Base):
    """A file as received: its bytes are kept content-addressed by sha256 on disk."""

    __tablename__ = "received_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("trading_partners.id"))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime]
    receipt_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), index=True)
    """received -> acknowledged -> answered -> adjudicated -> done."""
    outcome: Mapped[str | None] = mapped_column(String(20))
    """processed | rejected, once acknowledged."""
    ack_kind: Mapped[str | None] = mapped_column(String(3))
    ack_code: Mapped[str | None] = mapped_column(String(1))
    ack_sha256: Mapped[str | None] = mapped_column(String(64))
    """The TA1/999, kept in the archive under this sha256 (`workers.kept_answers`)."""
    ack_text: Mapped[str | None] = mapped_column(Text)
    """The TA1/999 of a file answered before revision 0013, which kept it in the row."""
    claim_ack_sha256: Mapped[str | None] = mapped_column(String(64))
    """The 277CA, kept in the archive under this sha256 (too large for a row: a file
    of 100,000 claims answers with some 30 MB)."""
    claim_ack_control: Mapped[list[Any] | None] = mapped_column(JSON)
    """The 277CA's ``[ISA13, GS06]`` per interchange, reserved before it is rendered
    (`workers.finish_step.finish_file`)."""
    problems: Mapped[list[Any]] = mapped_column(default=list)
    interchange_numbers: Mapped[list[Any]] = mapped_column(default=list)
    accepted_sets: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime]
    delivered_status: Mapped[str | None] = mapped_column(String(20))
    """The service's delivery of the file's answers: ``pending`` until the first one,
    then the file status the last delivery answered (``done``: the 277CA went too), or
    ``failed`` when its retries were used up. NULL: not the service's to deliver."""


class DuplicateReceipt(Base):
    """A file received again after its first receipt was finished: answered TA1 025."""

    __tablename__ = "duplicate_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("received_files.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime]
    ack_sha256: Mapped[str | None] = mapped_column(String(64))
    """The TA1s, kept in the archive under this sha256 (`workers.kept_answers`)."""
    ack_text: Mapped[str | None] = mapped_column(Text)
    """The TA1s of a receipt answered before revision 0013, which kept them in the row."""
    __table_args__ = (UniqueConstraint("run_id", "file_id"),)


class Interchange(Base):
    """A received ISA/IEA. ``dedup_key`` (sender + ISA13) is set for accepted ones only."""

    __tablename__ = "interchanges"
    __table_args__ = (UniqueConstraint("file_id", "ordinal"),
                      Index("ix_interchanges_sender_file", "sender_id", "file_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("received_files.id"), index=True)
    ordinal: Mapped[int]
    sender_qualifier: Mapped[str] = mapped_column(String(2))
    sender_id: Mapped[str] = mapped_column(String(15))
    control_number: Mapped[str] = mapped_column(String(9))
    accepted: Mapped[bool] = mapped_column(Boolean)
    note_code: Mapped[str | None] = mapped_column(String(3))
    dedup_key: Mapped[str | None] = mapped_column(String(40), unique=True)


class TransactionSet(Base):
    """A received ST/SE; once the front end ran, ``answer`` and ``totals`` hold its
    277CA's header and totals, and each of its claims its own 277CA record."""

    __tablename__ = "transaction_sets"
    __table_args__ = (UniqueConstraint("file_id", "ordinal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("received_files.id"), index=True)
    ordinal: Mapped[int]
    accepted: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(20))
    """pending -> answered (claims numbered, 277CA records kept)."""
    control_number: Mapped[str | None] = mapped_column(String(9))
    answer: Mapped[dict[str, Any] | None]
    """The 277CA's header (`edi.claim_status.TransactionStatus`, its ``claims`` empty:
    each is on its claim's row); None when the 999 did not accept the set."""
    totals: Mapped[dict[str, Any] | None]
    """The 277CA's totals (`edi.ack277.SetTotals`): the set's, then each billing
    provider's, the providers in order of first appearance."""
    first_claim_number: Mapped[int | None] = mapped_column(BigInteger)
    """The first of the block of claim numbers reserved for the set's claims before it
    is answered (`workers.steps._reserve_claim_numbers`); None until then, or when the
    set numbers no claim."""
    claims: Mapped[int | None]
    """How many CLM segments the set holds, as the acknowledge step's pass read them (the
    service sends consecutive small sets in one message: `workers.steps.answer_groups`);
    None for a set kept before revision 0012."""


class Claim(Base):
    """A claim as received and as the front end answered it."""

    __tablename__ = "claims"
    __table_args__ = (
        Index("ix_claims_file_state", "file_id", "state"),
        # the review queues: every filter and sort column of a queue in one narrow
        # index, so a count over 30,000 denials never reads a claim row (`parsed` is
        # several KB)
        Index("ix_claims_rejections", "front_end", "id", "charge_cents", "receipt_date",
              "billing_npi", "file_id", "icn", "line_of_business"),
        Index("ix_claims_decided", "decision_status", "id", "charge_cents", "receipt_date",
              "billing_npi", "file_id", "icn"),
        # a set's 277CA reads its claims' records in this order (`workers.finish_step._answer`)
        Index("ix_claims_set_answer", "set_id", "provider_group", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    """Receipt order: claims are adjudicated in id order."""
    file_id: Mapped[int] = mapped_column(ForeignKey("received_files.id"))
    set_id: Mapped[int] = mapped_column(ForeignKey("transaction_sets.id"), index=True)
    position: Mapped[int]
    """The claim's position in its transaction set (1-based)."""
    patient_control_number: Mapped[str] = mapped_column(String(38))
    charge_cents: Mapped[int] = mapped_column(BigInteger)
    front_end: Mapped[str] = mapped_column(String(12))
    """accepted | rejected | not_reached."""
    state: Mapped[str] = mapped_column(String(12))
    """closed (rejected, not reached) | accepted (waiting) | decided."""
    codes: Mapped[list[Any]] = mapped_column(default=list)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    icn: Mapped[str | None] = mapped_column(String(20), unique=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64), unique=True)
    subscriber_id: Mapped[str | None] = mapped_column(String(80), index=True)
    original_icn: Mapped[str | None] = mapped_column(String(50))
    receipt_date: Mapped[date] = mapped_column(Date)
    billing_npi: Mapped[str | None] = mapped_column(String(80), index=True)
    """The billing provider's NPI (2010AA NM109) as the 277CA names it, for accepted
    and rejected claims alike (None: the front end never reached the claim). A
    provider's identifier, not PHI: the review queues' payee filter and search."""
    decision_status: Mapped[str | None] = mapped_column(String(16))
    """The status of the claim's current decision (``decisions.status`` where
    ``current``), set in the transaction that writes that decision
    (`workers.adjudication_step.mark_decided`): the review queues read it from the claim's index."""
    line_of_business: Mapped[str | None] = mapped_column(String(24))
    """A rejected claim's line of business, named when it was answered as adjudication
    would name it (`workers.line_of_business`), or ``unknown``; None for the other
    claims (an accepted claim's decision names it). The rejections queue's filter."""
    parsed: Mapped[str | None] = mapped_column(Text)
    """The parsed 837P claim as JSON (accepted claims): what adjudication and releases read."""
    answer: Mapped[dict[str, Any] | None]
    """The claim's 277CA record (`edi.claim_status.ClaimStatus`, numbered when accepted);
    None when the 999 rejected its set."""
    provider_group: Mapped[int | None]
    """Which of its set's ``totals.providers`` the 277CA names the claim under."""


class ClaimRenderingNpi(Base):
    """A clinician who rendered a line of a claim (`ParsedClaim.rendering_npis`): search
    by rendering NPI. Kept for every claim the front end read, rejected ones too."""

    __tablename__ = "claim_rendering_npis"

    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), primary_key=True)
    npi: Mapped[str] = mapped_column(String(80), primary_key=True, index=True)


class DecisionRecord(Base):
    """One decision on a claim; a pend release adds a version, the latest is current."""

    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("icn", "version"),
        # a claim's decisions; for the queues' line-of-business and code filters the
        # current one's columns are read from the index, never the row (data, trace)
        Index("ix_decisions_claim", "claim_id", "current", "line_of_business", "codes",
              "rule_ids"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    """Decision order: state is rebuilt by applying decisions in id order."""
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    icn: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int]
    current: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16), index=True)
    paid_cents: Mapped[int] = mapped_column(BigInteger)
    patient_responsibility_cents: Mapped[int] = mapped_column(BigInteger)
    member_id: Mapped[str | None] = mapped_column(String(80), index=True)
    subscriber_id: Mapped[str | None] = mapped_column(String(80), index=True)
    line_of_business: Mapped[str | None] = mapped_column(String(24))
    codes: Mapped[str] = mapped_column(Text, default="")
    """Its adjustment and remark codes as ``|CO-29|PR-1|N130|`` (`workers.decisions.
    codes_text`): the denials queue's code filter reads this column, not the JSON."""
    rule_ids: Mapped[str] = mapped_column(Text, default="")
    """``rules`` as ``|PRICING|COST-SHARE|`` (`workers.decisions.rule_ids_text`): what
    the pends queue's rule filter reads (from the index, never the row)."""
    rule_versions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rules: Mapped[list[Any]] = mapped_column(default=list)
    """The rules that decided (what summary.json lists), kept so a summary needs no trace."""
    reference_version: Mapped[str] = mapped_column(String(80))
    data: Mapped[dict[str, Any]]
    """The decision without its trace (what state replay and the 835 read)."""
    trace: Mapped[bytes] = mapped_column()
    """The trace, orjson-encoded: written once, read by ``explain``."""
    decided_at: Mapped[datetime]


class ControlSequence(Base):
    """A counter: outbound ISA13/GS06 per receiver, claim numbers per day."""

    __tablename__ = "control_sequences"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger)


class PendRelease(Base):
    """A person's release of a pended claim, with the amounts they set."""

    __tablename__ = "pend_releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    icn: Mapped[str] = mapped_column(String(20), index=True)
    reviewer: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(Text)
    overrides: Mapped[dict[str, Any]]
    from_version: Mapped[int]
    to_version: Mapped[int]
    released_at: Mapped[datetime]


class Event(Base):
    """The append-only log: what happened, which step or who, when and why."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(String(80))
    """A file sha256, a claim number, a control number: never PHI."""
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ReferenceVersion(Base):
    """One load of the reference-data CSV directory (one transaction); decisions name it."""

    __tablename__ = "reference_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    """``csv:`` + the content hash of the directory loaded."""
    loaded_at: Mapped[datetime]
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    current: Mapped[bool] = mapped_column(Boolean)


class ReferenceRow(Base):
    """An effective-dated reference row, indexed by what the engine looks it up by.

    ``lookup`` is the key the engine asks with (a subscriber ID for members, a member
    ID for coverage, authorizations, accumulators and past claims, the natural key for
    the small tables); ``lookup2`` a second one (a member's member ID, a past claim's
    claim number). ``natural_key`` identifies the row for the overlap check.
    """

    __tablename__ = "reference_rows"
    __table_args__ = (
        Index("ix_reference_rows_lookup", "version_id", "kind", "lookup"),
        Index("ix_reference_rows_lookup2", "version_id", "kind", "lookup2"),
        Index("ix_reference_rows_natural_key", "version_id", "kind", "natural_key",
              "effective"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("reference_versions.id"))
    kind: Mapped[str] = mapped_column(String(24))
    lookup: Mapped[str] = mapped_column(String(120))
    lookup2: Mapped[str | None] = mapped_column(String(120))
    natural_key: Mapped[str] = mapped_column(String(200))
    effective: Mapped[date] = mapped_column(Date)
    termination: Mapped[date | None] = mapped_column(Date)
    tag: Mapped[str | None] = mapped_column(String(16))
    """A member's relationship (``self``), for the check that subscribers exist."""
    line: Mapped[int]
    data: Mapped[dict[str, Any]]


class PaymentCycle(Base):
    """One payment cycle: its 835s released together, or none of them."""

    __tablename__ = "payment_cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    run_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(12))
    """released | refused (an 835 did not balance: nothing remitted) | empty."""
    problems: Mapped[list[Any]] = mapped_column(default=list)
    """The balancing rules an 835 broke, by claim number (refused cycles)."""
    held: Mapped[list[Any]] = mapped_column(default=list)
    """Claim numbers of corrections held until their original is remitted."""


class RemittanceRecord(Base):
    """One 835: one payment (BPR/TRN) to one payee."""

    __tablename__ = "remittances"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("payment_cycles.id"), index=True)
    payee_npi: Mapped[str] = mapped_column(String(10), index=True)
    payee_tin: Mapped[str] = mapped_column(String(9))
    trace_number: Mapped[str] = mapped_column(String(50), unique=True)
    method: Mapped[str] = mapped_column(String(3))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    effective: Mapped[date] = mapped_column(Date)
    sha256: Mapped[str] = mapped_column(String(64))
    """The 835, kept in the archive under this sha256."""
    html_sha256: Mapped[str | None] = mapped_column(String(64))
    """The remittance advice for people, in the archive."""
    claim_count: Mapped[int]


class RemittedClaim(Base):
    """A CLP of a released 835: a claim remitted once, or the reversal of its original."""

    __tablename__ = "remitted_claims"
    __table_args__ = (UniqueConstraint("claim_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittances.id"), index=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    icn: Mapped[str] = mapped_column(String(20), index=True)
    role: Mapped[str] = mapped_column(String(10))
    """claim (the decision's own CLP) | reversal (CLP02 22 of its original)."""
    reverses_icn: Mapped[str | None] = mapped_column(String(50), unique=True)
    """The original a reversal takes back: an original is reversed at most once."""
    paid_cents: Mapped[int] = mapped_column(BigInteger)
    payment: Mapped[dict[str, Any]]
    """The CLP as remitted (`edi.remit835.ClaimPayment`): what a later reversal negates."""


class PayeeBalance(Base):
    """What a payee owes from reversals not yet recovered (PLB FB, then WO)."""

    __tablename__ = "payee_balances"
    __table_args__ = (UniqueConstraint("payee_npi", "payee_tin", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payee_npi: Mapped[str] = mapped_column(String(10))
    payee_tin: Mapped[str] = mapped_column(String(9))
    reference: Mapped[str] = mapped_column(String(50))
    """The claim number of the reversal that left the balance."""
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class ReviewUser(Base):
    """A person who signs in to the review screens: an argon2 hash, never a password."""

    __tablename__ = "review_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    """viewer | analyst | supervisor | admin (`review.roles.Role`)."""
    password_hash: Mapped[str] = mapped_column(String(200))
    release_limit_cents: Mapped[int | None] = mapped_column(BigInteger)
    """The most an analyst may release a pend for (None: the deployment's default)."""
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    """Set after repeated failed sign-ins; a disabled account is locked far ahead."""
    created_at: Mapped[datetime]


class ReviewSession(Base):
    """A signed-in browser: the cookie holds a random token, the row only its sha256."""

    __tablename__ = "review_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """sha256 of the cookie's token: a stolen database gives no usable cookie."""
    user_id: Mapped[int] = mapped_column(ForeignKey("review_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    client: Mapped[str] = mapped_column(String(64))
    """The address the session signed in from."""


class AuditEntry(Base):
    """Who did or saw what, when, from where: every PHI view and every action.

    ``subject`` is a claim number, a file or cycle id, a user name: never PHI; what
    a search looked for is kept as its kind and the claim numbers it showed."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_user_at", "user_name", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    user_name: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str] = mapped_column(String(80))
    client: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
