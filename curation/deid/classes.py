"""The PHI classes medcurate detects: the HIPAA Safe Harbor identifiers that occur in text (45 CFR 164.514(b)(2)).

Biometric identifiers and full-face photographs (Safe Harbor items P and Q) do not occur in note text. States may
stay (Safe Harbor removes geographic units smaller than a state), and so may years alone.
"""

from __future__ import annotations

PATTERN_CLASSES = (
    "DATE",  # every date element smaller than a year: "03/14/2021", "March 14", "March 2021"
    "AGE",  # ages over 89
    "PHONE",
    "FAX",
    "EMAIL",
    "SSN",
    "MRN",  # medical record number
    "HEALTH_PLAN",  # health plan beneficiary / member number
    "ACCOUNT",
    "LICENSE",  # certificate and licence numbers (DEA, NPI, driver's licence)
    "VEHICLE",  # plates and VINs
    "DEVICE",  # device identifiers and serial numbers
    "URL",
    "IP",
    "ZIP",
    "ID",  # any other unique identifying number
)
NER_CLASSES = ("NAME", "LOCATION", "ORGANIZATION")
ALL_CLASSES = PATTERN_CLASSES + NER_CLASSES
