"""X12 acknowledgment code lists used by the TA1 and 999, with plain sentences.

Values as pyx12's maps (999.5010X231.A1.xml, x12.control.00501.xml) list them;
meanings from the X12 code lists cited in DOMAIN.md section 6.
"""

from __future__ import annotations

INTERCHANGE_NOTE = {
    # TA105, X12 element I18
    "000": "no error",
    "001": "the interchange control number in the header and trailer do not match",
    "002": "this standard as noted in the control standards identifier is not supported",
    "003": "this version of the controls is not supported",
    "004": "the segment terminator is invalid",
    "005": "invalid interchange ID qualifier for sender",
    "006": "invalid interchange sender ID",
    "007": "invalid interchange ID qualifier for receiver",
    "008": "invalid interchange receiver ID",
    "009": "unknown interchange receiver ID",
    "010": "invalid authorization information qualifier value",
    "011": "invalid authorization information value",
    "012": "invalid security information qualifier value",
    "013": "invalid security information value",
    "014": "invalid interchange date value",
    "015": "invalid interchange time value",
    "016": "invalid interchange standards identifier value",
    "017": "invalid interchange version ID value",
    "018": "invalid interchange control number value",
    "019": "invalid acknowledgment requested value",
    "020": "invalid test indicator value",
    "021": "invalid number of included groups value",
    "022": "invalid control structure",
    "023": "improper (premature) end-of-file (transmission)",
    "024": "invalid interchange content (e.g. invalid GS segment)",
    "025": "duplicate interchange control number",
    "026": "invalid data element separator",
    "027": "invalid component element separator",
}

SEGMENT_SYNTAX = {
    # IK304, X12 element 620
    "1": "unrecognized segment ID",
    "2": "unexpected segment",
    "3": "required segment missing",
    "4": "loop occurs over maximum times",
    "5": "segment exceeds maximum use",
    "6": "segment not in defined transaction set",
    "7": "segment not in proper sequence",
    "8": "segment has data element errors",
    "I4": "implementation 'not used' segment present",
    "I6": "implementation dependent segment missing",
    "I7": "implementation loop occurs under minimum times",
    "I8": "implementation segment below minimum use",
    "I9": "implementation dependent 'not used' segment present",
}

ELEMENT_SYNTAX = {
    # IK403, X12 element 621
    "1": "is required and missing",
    "2": "is conditionally required and missing",
    "3": "has too many data elements",
    "4": "is too short",
    "5": "is too long",
    "6": "contains an invalid character",
    "7": "has an invalid code value",
    "8": "has an invalid date",
    "9": "has an invalid time",
    "10": "is present although an exclusion condition forbids it",
    "12": "has too many repetitions",
    "13": "has too many components",
    "I10": "is marked 'not used' by the implementation guide but is present",
    "I11": "has too few repetitions",
    "I12": "does not match the pattern the implementation guide requires",
    "I13": "is 'not used' in this situation but is present",
    "I6": "has a code value the implementation guide does not use",
    "I9": "is required in this situation and missing",
}

TRANSACTION_SET_SYNTAX = {
    # IK502, X12 element 718
    "1": "the transaction set is not supported",
    "2": "the transaction set trailer (SE) is missing",
    "3": "the control number in the ST and SE do not match",
    "4": "the number of included segments (SE01) does not match the count",
    "5": "one or more segments are in error",
    "6": "the transaction set identifier (ST01) is missing or invalid",
    "7": "the transaction set control number (ST02) is missing or invalid",
    "23": "the transaction set control number is not unique within the functional group",
    "I5": "the implementation has one or more segments in error",
    "I6": "the implementation convention (ST03) is not supported",
}

GROUP_SYNTAX = {
    # AK905, X12 element 716
    "1": "the functional group is not supported",
    "2": "the functional group version is not supported",
    "3": "the functional group trailer (GE) is missing",
    "4": "the group control number in the GS and GE do not match",
    "5": "the number of included transaction sets (GE01) does not match the count",
    "6": "the group control number violates the syntax",
    "19": "the group control number is not unique within the interchange",
}

VALID_IK304 = frozenset(SEGMENT_SYNTAX)
VALID_IK403 = frozenset(ELEMENT_SYNTAX)
VALID_IK502 = frozenset(TRANSACTION_SET_SYNTAX)
