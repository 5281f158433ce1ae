"""Names, locations and organizations without a trained NER model: context rules plus dictionaries.

- names: a title (Dr., Mrs.), a field label (Patient:, Attending:, Signed by), a credential after the name (", MD"),
  or a census first name followed by a capitalized census surname; "LAST, FIRST" after a label.
- locations: street addresses (number + words + USPS street suffix, optional unit), "City, ST" before a state code,
  GeoNames cities after a location preposition, "X County", an "Address:" label.
- organizations: capitalized words ending in a facility or company word (Hospital, Medical Center, Clinic, LLC,
  Inc, Group, ...), or after "works at / employed by".
- propagation: a name found once is found everywhere in the same note (a surname alone, later).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from curation.deid import lexicon
from curation.deid.spans import Span

_CAP = r"[A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)*"  # Smith, O'Neil, Smith-Jones
_UPPER = r"[A-Z]{2,}(?:['’-][A-Z]+)*"
_PERSON = rf"{_CAP}(?:\s+[A-Z]\.)?(?:\s+{_CAP}){{0,2}}"
_TITLES = r"Dr|Doctor|Mr|Mrs|Ms|Miss|Mx|Prof|Professor|Nurse"
_NAME_LABELS = (
    r"Patient(?:\s+name)?|Name|Pt|Attending|Resident|Fellow|Intern|PCP|Primary care(?:\s+physician)?|Provider|"
    r"(?:Electronically\s+)?Signed(?:\s+by)?|Dictated\s+by|Transcribed\s+by|Referring(?:\s+physician)?|Surgeon|"
    r"Consultant|Nurse|Case\s+manager|Social\s+worker|Emergency\s+contact|Contact|Mother|Father|Wife|Husband|Son|"
    r"Daughter|Sister|Brother|Spouse|Partner|Guardian|Proxy|Health\s+care\s+proxy|cc|Re|Seen\s+with|Discussed\s+with"
)
_RELATIONS = r"(?:wife|husband|son|daughter|mother|father|sister|brother|partner|spouse|friend|caregiver|niece|nephew|aunt|uncle|grandson|granddaughter|fianc[ée]e?)"
_CREDENTIALS = r"MD|M\.D\.|DO|D\.O\.|RN|NP|PA-C|PA|PT|DPT|OT|SLP|LPN|CNA|PhD|MSW|LCSW|PharmD|FNP|CNM|DDS"
_STREET_SUFFIX = (
    "Alley|Avenue|Ave|Branch|Bridge|Brook|Brooks|Burg|Bypass|Camp|Canyon|Cape|Causeway|Center|Circle|Cir|Cliff|"
    "Cliffs|Club|Common|Corner|Corners|Course|Court|Ct|Courts|Cove|Coves|Creek|Crescent|Crest|Crossing|Crossroad|"
    "Curve|Dale|Dam|Divide|Drive|Dr|Drives|Estate|Estates|Expressway|Expy|Extension|Ext|Fall|Falls|Ferry|Field|"
    "Fields|Flat|Flats|Ford|Fords|Forest|Forge|Forges|Fork|Forks|Fort|Freeway|Fwy|Garden|Gardens|Gateway|Glen|Glens|"
    "Green|Greens|Grove|Groves|Harbor|Harbors|Haven|Heights|Hts|Highway|Hwy|Hill|Hills|Hollow|Inlet|Island|Islands|"
    "Isle|Junction|Junctions|Key|Keys|Knoll|Knolls|Lake|Lakes|Land|Landing|Lane|Ln|Light|Lights|Loaf|Lock|Locks|Lodge|"
    "Loop|Mall|Manor|Manors|Meadow|Meadows|Mews|Mill|Mills|Mission|Motorway|Mount|Mountain|Mountains|Neck|Orchard|"
    "Oval|Overpass|Park|Parks|Parkway|Pkwy|Parkways|Pass|Passage|Path|Pike|Pine|Pines|Place|Pl|Plain|Plains|Plaza|"
    "Point|Points|Port|Ports|Prairie|Radial|Ramp|Ranch|Rapid|Rapids|Rest|Ridge|Ridges|River|Road|Rd|Roads|Route|Rte|"
    "Row|Rue|Run|Shoal|Shoals|Shore|Shores|Skyway|Spring|Springs|Spur|Spurs|Square|Sq|Squares|Station|Stravenue|"
    "Stream|Street|St|Streets|Summit|Terrace|Ter|Throughway|Trace|Track|Trafficway|Trail|Trl|Tunnel|Turnpike|"
    "Underpass|Union|Unions|Valley|Valleys|Via|Viaduct|View|Views|Village|Villages|Ville|Vista|Walk|Walks|Wall|Way|"
    "Ways|Well|Wells|Burgs|Centers|Circles|Extensions"
)
_UNIT = r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Bldg|Building|Room|Rm|Floor|Fl|#)\.?\s*#?\s*[A-Za-z0-9-]+)?"
_ORG_WORDS = (
    r"Hospital|Medical Center|Medical Centre|Health Center|Health Centre|Health System|Healthcare|Health|Clinic|"
    r"Clinics|Infirmary|Medical Group|Nursing Home|Nursing Facility|Rehabilitation Center|Rehab Center|Hospice|"
    r"Pharmacy|University|College|Institute|Associates|Partners|Laboratories|Laboratory|Labs|Foundation|Practice|"
    r"Surgery Center|Urgent Care|Care Center|Senior Living|Assisted Living|Manor|LLC|L\.L\.C\.|Inc|Inc\.|Corp|Corp\.|"
    r"Corporation|Company|Co\.|Group|PLC|Ltd|Ltd\.|and Sons|& Sons"
)
_ORG_HEAD = r"(?:(?:St\.|Saint|Mount|Mt\.)\s+)?(?:[A-Z][\w'’&.-]*,?\s+(?:and\s+|&\s+)?){1,4}"

_RULES: list[tuple[str, str, float, re.Pattern[str]]] = [
    ("NAME", "context:title", 0.95, re.compile(rf"\b(?:{_TITLES})\.?\s+(?P<v>{_PERSON})")),
    (
        "NAME",
        "context:label",
        0.9,
        re.compile(
            rf"(?i:\b(?:{_NAME_LABELS}))\s*[:\-]\s*(?:(?:{_TITLES})\.?\s+)?(?P<v>{_PERSON}|{_CAP},\s*{_CAP}|{_UPPER},\s*{_UPPER}(?:\s+{_UPPER})?)"
        ),
    ),
    (
        "NAME",
        "context:label",
        0.85,
        re.compile(
            rf"(?i:\b(?:signed\s+by|dictated\s+by|seen\s+with|discussed\s+with|accompanied\s+by|lives\s+with\s+(?:her|his)\s+\w+))\s+(?:(?:{_TITLES})\.?\s+)?(?P<v>{_PERSON})"
        ),
    ),
    ("NAME", "context:relation", 0.85, re.compile(rf"\b(?i:{_RELATIONS}),?\s+(?P<v>{_PERSON})")),
    ("NAME", "context:family", 0.8, re.compile(rf"\b(?P<v>{_CAP})\s+family\b")),
    (
        "NAME",
        "context:closing",
        0.85,
        re.compile(rf"(?i:\b(?:regards|sincerely|thanks|thank\s+you|yours\s+truly)),?\s*(?P<v>{_PERSON})"),
    ),
    ("NAME", "context:credential", 0.93, re.compile(rf"(?P<v>{_PERSON}),?\s+(?:{_CREDENTIALS})\b(?!\s*\d{{5}})")),
    (
        "LOCATION",
        "context:street",
        0.95,
        re.compile(
            rf"\b(?P<v>\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][\w'’-]*\s+){{1,3}}(?:{_STREET_SUFFIX})\b\.?{_UNIT})"
        ),
    ),
    ("LOCATION", "context:po-box", 0.95, re.compile(r"(?i:\b(?P<v>P\.?\s?O\.?\s+Box\s+\d+))")),
    (
        "LOCATION",
        "context:city-state",
        0.9,
        re.compile(
            r"(?:^|(?<=[\n,;:(]\s)|(?<=[\n,;:(])|(?<=\bin\s)|(?<=\bof\s)|(?<=\bfrom\s)|(?<=\bto\s)|(?<=\bnear\s)|(?<=\bat\s))(?P<v>(?:[A-Z][a-z]+\s){0,3}[A-Z][a-z]+)(?:,\s+|\s+(?=[A-Z]{2}\s+\d{5}))(?P<st>[A-Z]{2})\b",
            re.MULTILINE,
        ),
    ),
    ("LOCATION", "context:county", 0.9, re.compile(rf"\b(?P<v>(?:{_CAP}\s+){{1,2}}(?:County|Parish|Township))\b")),
    (
        "LOCATION",
        "context:label",
        0.9,
        re.compile(
            rf"(?i:\b(?:city|town|hometown|birthplace|(?:born|raised|grew\s+up|resides|lives(?:\s+alone)?|living|visiting\s+(?:her|his|their)\s+\w+)\s+in|moved\s+(?:here\s+)?(?:from|to)|travel(?:l?ed)?\s+to))\s*:?\s+(?P<v>(?:{_CAP}\s){{0,2}}{_CAP})"
        ),
    ),
    ("ORGANIZATION", "context:org-word", 0.9, re.compile(rf"(?P<v>{_ORG_HEAD}(?:{_ORG_WORDS}))(?![\w])")),
    (
        "ORGANIZATION",
        "context:employer",
        0.85,
        re.compile(
            rf"(?i:\b(?:works?\s+(?:at|for)|employed\s+(?:at|by)|employer\s*:|transferred\s+(?:from|to)|worked\s+(?:at|for)))\s+(?P<v>{_CAP}(?:[-\s]{_CAP}){{0,3}}(?:,\s+{_CAP}\s+and\s+{_CAP})?)"
        ),
    ),
]
_CITY_CONTEXT = re.compile(
    r"\b(?:in|from|to|near|at|of|visiting|lives in|moved to)\s+(?P<v>(?:[A-Z][a-z]+\s){0,2}[A-Z][a-z]+)\b"
)
_CAP_PAIR = re.compile(rf"\b(?P<f>{_CAP})\s+(?:[A-Z]\.\s+)?(?P<l>{_CAP})\b")
_UPPER_PAIR = re.compile(r"\b(?P<l>[A-Z]{2,}(?:['’-][A-Z]+)*),\s*(?P<f>[A-Z]{2,})\b")
_HYPHENATED = re.compile(r"(?P<prep>\b(?:at|from|for|with)\s+)?\b(?P<v>(?P<a>[A-Z][a-z]+)-(?P<b>[A-Z][a-z]+))\b")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]+")
_MIN_PROPAGATE = 3  # shorter tokens ("Al", "Ed") are not propagated


def _rule_spans(text: str) -> Iterator[Span]:
    states, _ = lexicon.us_states()
    for cls, method, conf, rx in _RULES:
        for m in rx.finditer(text):
            if "st" in rx.groupindex and m.group("st") not in states:
                continue
            v = m.group("v").rstrip(",. ")
            start = m.start("v")
            if cls == "NAME" and " and " in v:
                continue
            yield Span(start, start + len(v), cls, method, conf)


def _dictionary_spans(text: str) -> Iterator[Span]:
    firsts, lasts, cities = lexicon.first_names(), lexicon.last_names(), lexicon.cities()
    for m in _CAP_PAIR.finditer(text):
        if m.group("f").upper() in firsts and m.group("l").upper() in lasts:
            yield Span(m.start(), m.end(), "NAME", "dictionary:name", 0.8)
    for m in _HYPHENATED.finditer(text):  # "Mata-Casey": two surnames, a practice after at/from/for, else a person
        if m.group("a").upper() in lasts and m.group("b").upper() in lasts:
            cls = "ORGANIZATION" if m.group("prep") else "NAME"
            yield Span(m.start("v"), m.end("v"), cls, "dictionary:surnames", 0.7)
    for m in _UPPER_PAIR.finditer(text):
        if m.group("l") in lasts and m.group("f") in firsts:
            yield Span(m.start(), m.end(), "NAME", "dictionary:name", 0.8)
    for m in _CITY_CONTEXT.finditer(text):
        v = m.group("v")
        words = v.split()
        for i in range(len(words)):  # the longest city name that ends the match
            cand = " ".join(words[i:])
            if cand in cities:
                start = m.end("v") - len(cand)
                yield Span(start, m.end("v"), "LOCATION", "dictionary:city", 0.75)
                break


def _propagate(text: str, found: list[Span]) -> Iterator[Span]:
    """Every other whole-word occurrence of a token of a detected name ("Mr. Smith" ... later "Smith")."""
    tokens = {
        t
        for s in found
        if s.phi_class == "NAME"
        for t in _TOKEN.findall(text[s.start : s.end])
        if len(t) >= _MIN_PROPAGATE and t[0].isupper() and t.upper() not in lexicon.NOT_NAMES
    }
    if not tokens:
        return
    rx = re.compile(r"\b(?:" + "|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True)) + r")\b")
    for m in rx.finditer(text):
        yield Span(m.start(), m.end(), "NAME", "propagated", 0.7)


def ner_spans(text: str) -> list[Span]:
    """Names, locations and organizations (overlaps included)."""
    found = list(_rule_spans(text)) + list(_dictionary_spans(text))
    return found + list(_propagate(text, found))
