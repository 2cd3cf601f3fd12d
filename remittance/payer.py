"""The payer as every 835 names it: 1000A, TRN03, and the account payments leave from.

The payer's address, contacts and tax id are what providers see on their ERAs;
the account is the one the CCD+ entries are drawn on. The values below are the
engine's defaults for the demo and tests (the TIN and the account are placeholders,
marked as such): a deployment passes its own `Payer` to the cycle.
"""

from __future__ import annotations

from edi.payer import PAYER_ID, PAYER_NAME
from edi.remit835 import BankAccount, Party, Payer

DEFAULT_PAYER = Payer(
    party=Party(name=PAYER_NAME, address=("PO BOX 30757",), city="SALT LAKE CITY",
                state="UT", postal_code="841300757"),
    payer_id=PAYER_ID,
    tax_id="999999999",  # placeholder: the payer's federal tax id
    business_contact=("PROVIDER SERVICES", "8778423210"),
    technical_contact=("EDI SUPPORT", "8008423210"),
    bank=BankAccount(routing="011000015", account="9000000001"),  # placeholder account
)
