"""Dates from XML Year/Month/Day elements (PubMed capitalizes the tags, JATS does not), with their precision."""

from __future__ import annotations

import datetime as dt

from lxml import etree

MONTHS = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}


def ymd(
    elem: etree._Element | None, tags: tuple[str, str, str] = ("Year", "Month", "Day")
) -> tuple[dt.date | None, str | None]:
    """The date and its precision (day, month, year); a missing or impossible month or day falls back to 1."""
    if elem is None:
        return None, None
    parts = {c.tag: c.text for c in elem}  # one pass over the few children instead of three lookups
    year = (parts.get(tags[0]) or "").strip()
    if not year.isdigit():
        return None, None
    month = _month(parts.get(tags[1]))
    day_text = (parts.get(tags[2]) or "").strip()
    day = int(day_text) if day_text.isdigit() else None
    for m, d, precision in ((month, day, "day"), (month, None, "month"), (None, None, "year")):
        if (precision == "day" and d is None) or (precision == "month" and m is None):
            continue
        try:
            return dt.date(int(year), m or 1, d or 1), precision
        except ValueError:
            continue
    return None, None


def _month(text: str | None) -> int | None:
    """A month as a number (01, 3) or an English name or abbreviation (Jan, March)."""
    t = (text or "").strip().lower()
    if t.isdigit():
        return int(t) if 1 <= int(t) <= 12 else None
    return MONTHS.get(t[:3])
