"""SNIP 3: the claim's money balances and its quantities make sense."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from edi.amounts import MAX_AMOUNT
from edi.claim_status import ClaimFinding, Location, StatusCategory
from edi.claims import ParsedClaim
from edi.validators.edits.base import Edit, EditContext, edit

A7 = StatusCategory.INVALID


@edit("SNIP3-CHARGE-BALANCE", version=1, snip=3, title="CLM02 equals the sum of SV102",
      emits=("A7:400",))
def charge_balances(e: Edit, claim: ParsedClaim, _ctx: EditContext) -> Iterator[ClaimFinding]:
    total = claim.claim.total_claim_charge_amount
    lines = sum((line.line_item_charge_amount for line in claim.claim.lines), Decimal(0))
    if claim.claim.lines and total != lines:
        yield e.finding(
            A7, ("400", "178"), None, Location("2300", "CLM", "CLM02"),
            f"The total claim charge ({total}) does not equal the sum of the service line "
            f"charges ({lines}).")


def _cents(amount: Decimal) -> bool:
    exponent = amount.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -2


_LARGEST = f"{MAX_AMOUNT:,}"


@edit("SNIP3-AMOUNT-FORMAT", version=2, snip=3,
      title="Charges have at most two decimals, are not negative and not over 99,999,999.99",
      emits=("A7:178", "A7:583"))
def amounts_in_cents(e: Edit, claim: ParsedClaim, _ctx: EditContext) -> Iterator[ClaimFinding]:
    # v2: a charge over `MAX_AMOUNT` is refused; the 837 lets one have 18 digits, and
    # a CLM02 of 17 was a traceback storing it, the file stuck without its answers
    total = claim.claim.total_claim_charge_amount
    if not _cents(total) or total < 0:
        yield e.finding(A7, ("178",), None, Location("2300", "CLM", "CLM02"),
                        "The total claim charge must be a non-negative amount with at most "
                        "two decimal places.")
    elif total > MAX_AMOUNT:
        yield e.finding(A7, ("178",), None, Location("2300", "CLM", "CLM02"),
                        f"The total claim charge is over {_LARGEST}, the largest payer "
                        f"87726 accepts on a claim.")
    for line in claim.claim.lines:
        charge = line.line_item_charge_amount
        if not _cents(charge) or charge < 0:
            yield e.finding(A7, ("583",), None,
                            Location("2400", "SV1", "SV102", line.assigned_number),
                            "The line charge must be a non-negative amount with at most two "
                            "decimal places.")
        elif charge > MAX_AMOUNT:
            yield e.finding(A7, ("583",), None,
                            Location("2400", "SV1", "SV102", line.assigned_number),
                            f"The line charge is over {_LARGEST}, the largest payer 87726 "
                            f"accepts on a line.")


@edit("SNIP3-UNITS", version=2, snip=3,
      title="Every line bills a positive whole number of units", emits=("A7:476",))
def positive_units(e: Edit, claim: ParsedClaim, _ctx: EditContext) -> Iterator[ClaimFinding]:
    # The guide lets SV104 carry decimals and leaves their precision to the payer
    # (X12 RFI 2033): a behavioural-health service is billed by the session or by the
    # time unit its code names, so a fraction of one is refused here, where before v2
    # half a unit of 90837 was accepted and paid at half the fee.
    for line in claim.claim.lines:
        units = line.service_unit_count
        if units is None or units <= 0:
            sentence = "The service unit count must be greater than zero."
        elif units != units.to_integral_value():
            sentence = ("The service unit count must be a whole number; payer 87726 does "
                        "not accept a fraction of a unit.")
        else:
            continue
        yield e.finding(A7, ("476",), None,
                        Location("2400", "SV1", "SV104", line.assigned_number), sentence)
