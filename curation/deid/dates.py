"""Shift a date string by a number of days and write it back in the format it came in.

"03/14/2021" → "01/27/2021", "March 3rd, 2020" → "January 16th, 2020", "4-Jan-19" → "18-Nov-18", "March 2021" →
"January 2021". Intervals between dates of one patient survive because every date of that patient moves by the
same offset. A date without a year is shifted within a leap year (so 29 Feb stays valid) and written without one.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

_MONTH_NAMES = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTH_ABBR = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m} | {"sept": 9}
_MONTH_RX = re.compile(
    r"(?i)(?<![A-Za-z])(?P<m>January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Sept|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec)(?![a-z])"
)
_DAY_RX = re.compile(r"(?<![\d])(?P<d>\d{1,2})(?P<suf>st|nd|rd|th)?(?![\d])")
_YEAR_RX = re.compile(r"(?<![\d])(?P<y>(?:19|20)\d{2}|\d{2})(?![\d])")
_NUMERIC = re.compile(r"^(?P<m>\d{1,2})(?P<sep>[/-])(?P<d>\d{1,2})(?:(?P=sep)(?P<y>\d{4}|\d{2}))?$")
_ISO = re.compile(r"^(?P<y>\d{4})(?P<sep>[/-])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})$")
_DOTTED = re.compile(r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})$")
_MONTH_YEAR = re.compile(r"^(?P<m>\d{1,2})/(?P<y>\d{4})$")
_NO_YEAR = 2000  # a leap year


def _year(y: str | None) -> int:
    if y is None:
        return _NO_YEAR
    return int(y) if len(y) == 4 else (2000 + int(y) if int(y) < 50 else 1900 + int(y))


def _num(value: int, like: str, fixed_width: bool = False) -> str:
    """`value` padded like `like`: numeric formats keep their width ("14" → "04"), text keeps a leading zero."""
    return f"{value:0{len(like)}d}" if like.startswith("0") or (fixed_width and len(like) == 2) else str(value)


def _year_text(year: int, like: str | None) -> str:
    return "" if like is None else (str(year) if len(like) == 4 else f"{year % 100:02d}")


def _ordinal(day: int) -> str:
    return "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _month_text(month: int, like: str) -> str:
    full = like.lower() in _MONTH_NAMES
    name = (
        calendar.month_name[month]
        if full
        else ("Sept" if like.lower() == "sept" and month == 9 else calendar.month_abbr[month])
    )
    return name.upper() if like.isupper() and len(like) > 1 else name.lower() if like.islower() else name


def _shift_numeric(s: str, days: int) -> str | None:
    for rx in (_NUMERIC, _ISO, _DOTTED):
        m = rx.match(s)
        if m:
            new = dt.date(_year(m["y"]), int(m["m"]), int(m["d"])) + dt.timedelta(days=days)
            parts = {
                "m": _num(new.month, m["m"], True),
                "d": _num(new.day, m["d"], True),
                "y": _year_text(new.year, m["y"]),
            }
            if rx is _ISO:
                return f"{parts['y']}{m['sep']}{parts['m']}{m['sep']}{parts['d']}"
            if rx is _DOTTED:
                return f"{parts['d']}.{parts['m']}.{parts['y']}"
            return f"{parts['m']}{m['sep']}{parts['d']}" + (f"{m['sep']}{parts['y']}" if m["y"] else "")
    m = _MONTH_YEAR.match(s)
    if m:
        new = dt.date(int(m["y"]), int(m["m"]), 15) + dt.timedelta(days=days)
        return f"{_num(new.month, m['m'], True)}/{new.year}"
    return None


def _shift_text(s: str, days: int) -> str | None:
    month = _MONTH_RX.search(s)
    if not month:
        return None
    rest = s[: month.start()] + " " * (month.end() - month.start()) + s[month.end() :]
    day = _DAY_RX.search(rest)
    year = None
    for y in _YEAR_RX.finditer(rest):
        if day is None or y.start() != day.start():
            year = y
    mnum = _MONTH_NAMES.get(month["m"].lower()) or _MONTH_ABBR[month["m"].lower()]
    base = dt.date(_year(year["y"] if year else None), mnum, int(day["d"]) if day else 15)
    new = base + dt.timedelta(days=days)
    edits = [(month.start(), month.end(), _month_text(new.month, month["m"]))]
    if day:
        suffix = _ordinal(new.day) if day["suf"] else ""
        edits.append((day.start(), day.end(), _num(new.day, day["d"]) + suffix))
    if year:
        edits.append((year.start(), year.end(), _year_text(new.year, year["y"])))
    out = s
    for a, b, text in sorted(edits, reverse=True):
        out = out[:a] + text + out[b:]
    return out


def shift_date(s: str, days: int) -> str | None:
    """The date shifted by `days` in the same format, or None when `s` is not a valid date it can read."""
    try:
        return _shift_numeric(s.strip(), days) if s[:1].isdigit() and not _MONTH_RX.search(s) else _shift_text(s, days)
    except (ValueError, KeyError, OverflowError):
        return None
