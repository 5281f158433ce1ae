"""Pattern recognizers: regular expressions with context words and checks, one per identifier format.

Each recognizer yields Spans. Identifier numbers that have no fixed shape (MRN, account, plan, licence, device,
vehicle) are recognized by their label ("MRN: 1234567", "Acct # 99-1234"); a long digit run with no label is an ID.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from curation.deid.spans import Span

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
_WEEKDAY = r"(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+)?"
_MON_NUM = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:19|20)\d{2}"

# (class, method, confidence, regex); the span is group "v" when the regex has one, else the whole match.
_RAW: list[tuple[str, str, float, str]] = [
    ("EMAIL", "email", 0.99, r"\b[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b"),
    ("URL", "url", 0.98, r"\b(?:https?://|www\.)[^\s<>\"')\]]*[^\s<>\"')\].,;:!?]"),
    (
        "IP",
        "ipv4",
        0.97,
        r"\b(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b(?![\d.]\d)",
    ),
    ("IP", "ipv6", 0.97, r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])"),
    (
        "IP",
        "ipv6",
        0.95,
        r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,5})?(?![\w:])",
    ),
    ("SSN", "ssn", 0.97, r"\b(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}\b"),
    (
        "SSN",
        "ssn-label",
        0.97,
        r"(?i:\b(?:SSN|SS#|social security(?: number| no\.?| #)?))\s*[:#]?\s*(?P<v>\d{3}-?\d{2}-?\d{4})\b",
    ),
    (
        "FAX",
        "fax",
        0.97,
        r"(?i:\b(?:fax|fx)(?:\s*(?:number|no\.?|#))?)\s*[:#]?\s*(?P<v>(?:\+?1[-.\s]?)?\(?\d{3}\)?[-.\s]?\d{3}[-.\s]?\d{4}(?:\s*(?:x|ext\.?)\s*\d{1,5})?)\b",
    ),
    (
        "FAX",
        "fax",
        0.97,
        r"(?i:\bfax(?:ed)?\s+(?:to|at)\s+)(?P<v>(?:\+?1[-.\s]?)?\(?\d{3}\)?[-.\s]?\d{3}[-.\s]?\d{4})\b",
    ),
    ("FAX", "fax", 0.97, r"(?P<v>(?:\+?1[-.\s]?)?\(?\d{3}\)?[-.\s]?\d{3}[-.\s]?\d{4})\s*\((?i:fax)\)"),
    (
        "PHONE",
        "phone",
        0.95,
        r"(?<![\w-])(?:\+?1[-.\s]?)?(?:\(\d{3}\)\s?|\d{3}[-.\s])\d{3}[-.\s]\d{4}(?:\s*(?:x|ext\.?)\s*\d{1,5})?\b",
    ),
    (
        "PHONE",
        "phone-label",
        0.95,
        r"(?i:\b(?:phone|tel|telephone|cell|mobile|pager|call(?:ed)?|contact)\b)\D{0,12}?(?P<v>\d{10})\b",
    ),
    ("AGE", "age-over-89", 0.95, r"\b(?P<v>(?:9\d|1[01]\d))(?=[- ]?(?:years?|yrs?|y/?o\b|yo\b|-year-old))"),
    ("AGE", "age-over-89", 0.9, r"(?i:\b(?:aged?|age:))\s*(?P<v>(?:9\d|1[01]\d))\b"),
    ("AGE", "age-over-89", 0.85, r"\b(?P<v>(?:9\d|1[01]\d))\s?(?=(?:[MF]|y\.o\.|yo)\b)"),
    # dates: numeric with a year, ISO, month names with or without year, month and year
    ("DATE", "date-numeric", 0.97, rf"\b{_MON_NUM}([/-]){_DAY}\1(?:{_YEAR}|\d{{2}})\b"),
    ("DATE", "date-iso", 0.97, rf"\b{_YEAR}([/-]){_MON_NUM}\1{_DAY}\b"),
    ("DATE", "date-dotted", 0.9, rf"\b{_DAY}\.{_MON_NUM}\.{_YEAR}\b"),
    ("DATE", "date-text", 0.96, rf"\b{_WEEKDAY}{_MONTHS}\.?\s+{_DAY}(?:,?\s+{_YEAR})?\b"),
    ("DATE", "date-day-first", 0.9, rf"\b(?:1[3-9]|2\d|3[01])/{_MON_NUM}/{_YEAR}\b"),
    ("DATE", "date-text", 0.96, rf"\b{_DAY}(?:\s+of)?\s+{_MONTHS}\.?(?:,?\s+{_YEAR})?\b"),
    ("DATE", "date-text", 0.96, rf"\b{_DAY}-{_MONTHS}-(?:{_YEAR}|\d{{2}})\b"),
    ("DATE", "date-compact", 0.93, rf"\b\d{{2}}(?i:{_MONTHS}){_YEAR}\b"),
    ("DATE", "date-month-year", 0.9, rf"\b{_MONTHS}\.?,?\s+{_YEAR}\b"),
    ("DATE", "date-month-year", 0.85, rf"\b{_MON_NUM}/{_YEAR}\b"),
    (
        "DATE",
        "date-short",
        0.8,
        rf"(?i:\b(?:on|since|from|until|through|dated?|admitted|discharged|seen)\s+){_MON_NUM}/{_DAY}\b(?!/)",
    ),
    ("ZIP", "zip-state", 0.95, r"\b[A-Z]{2},?\s+(?P<v>\d{5}(?:-\d{4})?)\b"),
    ("ZIP", "zip-label", 0.95, r"(?i:\b(?:zip|postal)(?:\s*code)?)\s*[:#]?\s*(?P<v>\d{5}(?:-\d{4})?)\b"),
    ("VEHICLE", "vin", 0.9, r"\b(?=[A-HJ-NPR-Z0-9]*\d)(?=[A-HJ-NPR-Z0-9]*[A-HJ-NPR-Z])[A-HJ-NPR-Z0-9]{17}\b"),
]

# Labelled identifiers: label regex -> class. The value must contain a digit.
_LABELS: list[tuple[str, str]] = [
    (
        "MRN",
        r"MRN|MR\s?#|medical record(?:\s+(?:number|no\.?|#))?|med(?:ical)?\s+rec(?:ord)?\s*#|unit\s+(?:no\.?|number)|hospital\s+(?:no\.?|number)",
    ),
    (
        "HEALTH_PLAN",
        r"member\s+id|policy(?:\s+(?:number|no\.?|#))?|health\s+plan(?:\s+(?:id|number|no\.?))?|insurance(?:\s+(?:id|number|no\.?|#))?|beneficiary\s+(?:id|number|no\.?)|subscriber\s+id|medicaid(?:\s+id)?|medicare(?:\s+id)?|group\s+(?:number|no\.?|#)",
    ),
    (
        "ACCOUNT",
        r"account(?:\s+(?:number|no\.?|#))?|claim(?:\s+(?:number|no\.?|#))?|acct\.?(?:\s*(?:number|no\.?|#))?|billing\s+(?:id|number)",
    ),
    ("VEHICLE", r"licen[cs]e\s+plate|plate(?:\s+(?:number|no\.?|#))?|VIN"),
    (
        "LICENSE",
        r"(?:driver'?s\s+)?licen[cs]e(?:\s+(?:number|no\.?|#))?|DEA(?:\s+(?:number|no\.?|#))?|NPI|certificate(?:\s+(?:number|no\.?|#))?|DL\s?#",
    ),
    ("DEVICE", r"serial(?:\s+(?:number|no\.?|#))?|S/N|device\s+(?:id|serial|identifier)|UDI|model/serial"),
    (
        "ID",
        r"patient\s+id|encounter\s+(?:id|number|no\.?)|case\s+(?:number|no\.?|#)|visit\s+(?:id|number)|ID\s+(?:number|no\.?|#)",
    ),
]
_VALUE = r"(?P<v>(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{2,}[A-Z0-9])\b"
_GENERIC_ID = re.compile(r"(?<![\w./-])(?P<v>\d{6,})(?![\w/-])")

_COMPILED: list[tuple[str, str, float, re.Pattern[str]]] = [(c, m, p, re.compile(rx)) for c, m, p, rx in _RAW] + [
    (cls, f"label:{cls.lower()}", 0.95, re.compile(rf"(?i:\b(?:{label}))\s*(?:[:#=]|is)?\s*{_VALUE}", re.IGNORECASE))
    for cls, label in _LABELS
]


def _spans(pattern: re.Pattern[str], text: str, cls: str, method: str, conf: float) -> Iterator[Span]:
    for m in pattern.finditer(text):
        g = "v" if "v" in pattern.groupindex else 0
        yield Span(m.start(g), m.end(g), cls, f"pattern:{method}", conf)


def pattern_spans(text: str) -> list[Span]:
    """Every pattern detection (overlaps included; `spans.resolve` picks among them)."""
    out: list[Span] = []
    for cls, method, conf, rx in _COMPILED:
        out.extend(_spans(rx, text, cls, method, conf))
    out.extend(_spans(_GENERIC_ID, text, "ID", "long-number", 0.6))
    return out
