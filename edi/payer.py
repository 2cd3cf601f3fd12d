"""Who we are on every X12 file: the one definition of the payer's id and name."""

from __future__ import annotations

PAYER_ID = "87726"
"""Optum Behavioral Health's EDI payer id: ISA08/GS03 we answer to, NM109 of the
837's payer, ISA06/GS02 of what we send, REF*2U of the 835."""
PAYER_NAME = "OPTUM BEHAVIORAL HEALTH"
