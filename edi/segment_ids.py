"""How a sentence names a segment ID that was read from the input.

A segment ID comes from the sender's bytes. When the delimiters are wrong, what the
reader takes for an ID can be a whole segment (names, member IDs, dates), so a
sentence names an ID only when it is one the X12 implementation guides define; any
other is described by its length alone.
"""

from __future__ import annotations

KNOWN_SEGMENT_IDS: frozenset[str] = frozenset([
    "AAA", "ACT", "ADX", "AK1", "AK2", "AK3", "AK4", "AK5", "AK9", "AMT", "ATH", "BFR", "BGN",
    "BHT", "BPR", "CAS", "CL1", "CLM", "CLP", "CN1", "COB", "CR1", "CR2", "CR3", "CR5", "CR6",
    "CR7", "CRC", "CTP", "CTT", "CTX", "CUR", "DMG", "DN1", "DN2", "DSB", "DTM", "DTP", "EB",
    "EC", "ENT", "EQ", "FRM", "FST", "GE", "GS", "HCP", "HCR", "HD", "HI", "HL", "HLH", "HSD",
    "ICM", "IDC", "IEA", "III", "IK3", "IK4", "IK5", "INS", "ISA", "IT1", "K3", "LE", "LIN", "LQ",
    "LS", "LUI", "LX", "MEA", "MIA", "MOA", "MSG", "N1", "N2", "N3", "N4", "NM1", "NTE", "OI",
    "PAT", "PER", "PID", "PLA", "PLB", "PRV", "PS1", "PWK", "QTY", "RDM", "RDT", "REF", "RMR",
    "SAC", "SBR", "SE", "SHP", "SLN", "SPI", "ST", "STC", "SV1", "SV2", "SV3", "SV5", "SVC",
    "SVD", "TA1", "TOO", "TRN", "TS2", "TS3", "TST", "UIT", "UM", "UNU",
])
"""Every segment ID of the X12 maps pyx12 ships (a test keeps the two equal)."""


def segment_name(seg_id: str) -> str:
    """``"NM1 segment"``, ``"blank segment"`` or a description that quotes nothing."""
    if seg_id in KNOWN_SEGMENT_IDS:
        return f"{seg_id} segment"
    if not seg_id.strip():
        return "blank segment"
    return f"segment with an unrecognised ID of {len(seg_id)} characters"


def element_name(seg_id: str, position: int, component: int | None = None) -> str:
    """``"NM109"`` (``"SV101-02"``) for a known segment, else ``"element 09"``."""
    prefix = seg_id if seg_id in KNOWN_SEGMENT_IDS else "element "
    return f"{prefix}{position:02d}" + (f"-{component:02d}" if component else "")


def safe_segment_id(seg_id: str) -> str:
    """The ID itself when the guides define it, else a fixed placeholder."""
    return seg_id if seg_id in KNOWN_SEGMENT_IDS else "unrecognised"


__all__ = ["KNOWN_SEGMENT_IDS", "element_name", "safe_segment_id", "segment_name"]
