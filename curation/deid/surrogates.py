"""Replacements for detected PHI: typed placeholders, or surrogates of the same type that are consistent within
a patient. Every surrogate is derived from HMAC(secret, patient, class, normalized value), so the same value of
one patient gets the same surrogate in every note and every run, and different patients get unrelated ones.
Dates move by a per-patient offset, so intervals between one patient's dates survive."""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import string

from faker import Faker
from faker.providers.person.en_US import Provider as _Person

from curation.deid import lexicon
from curation.deid.dates import shift_date

_FAKER = Faker("en_US")
_ORG_TAIL = re.compile(
    r"(Hospital|Medical Cent(?:er|re)|Health Cent(?:er|re)|Health System|Healthcare|Clinic|Infirmary|Medical Group|"
    r"Nursing Home|Rehabilitation Center|Hospice|Pharmacy|University|College|Institute|Associates|Partners|"
    r"Laboratories|Labs|Foundation|Urgent Care|LLC|Inc\.?|Corp\.?|Group|PLC|Ltd\.?|and Sons)$"
)
# Faker's en_US name lists, drawn uniformly by index: its weighted draw costs ~10x more per name.
_FIRST_NAMES = tuple(_Person.first_names)
_LAST_NAMES = tuple(_Person.last_names)
_LOCATION_TAIL = re.compile(r"(County|Parish|Township)$")
_NAME_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’]*(?:-[A-Za-z][A-Za-z'’]*)*")
_IDENTIFIER_CLASSES = {
    "PHONE",
    "FAX",
    "SSN",
    "MRN",
    "HEALTH_PLAN",
    "ACCOUNT",
    "LICENSE",
    "VEHICLE",
    "DEVICE",
    "ID",
    "ZIP",
}


def avoid_set(values: list[str]) -> frozenset[str]:
    """What surrogates in a note must not equal: its PHI values and their word tokens, normalized."""
    return frozenset(_norm(v) for v in values) | frozenset(_norm(t) for v in values for t in _NAME_TOKEN.findall(v))


def _norm(value: str) -> str:
    return " ".join(value.split()).casefold()


def _match_case(new: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return new.upper()
    if like.islower():
        return new.lower()
    return new


class Surrogates:
    """Replacement text for one patient's PHI values."""

    def __init__(self, secret: str, patient_key: str, *, placeholders: bool = False, shift_days: tuple[int, int]):
        self.secret = secret.encode()
        self.patient = patient_key
        self.placeholders = placeholders
        lo, hi = shift_days
        self.offset = lo + self._seed("date-offset", "") % (hi - lo + 1)
        self._memo: dict[tuple[str, str, frozenset[str]], str] = {}

    def _seed(self, cls: str, value: str, attempt: int = 0) -> int:
        msg = f"{self.patient}\x1f{cls}\x1f{_norm(value)}\x1f{attempt}".encode()
        return int.from_bytes(hmac.new(self.secret, msg, hashlib.sha256).digest()[:8], "big")

    def _faker(self, cls: str, value: str, attempt: int = 0) -> Faker:
        _FAKER.seed_instance(self._seed(cls, value, attempt))
        return _FAKER

    def replace(self, cls: str, value: str, avoid: frozenset[str] = frozenset()) -> str:
        """The replacement for `value` of class `cls`: never the value itself, nor anything in `avoid` (normalized
        PHI values and name tokens of the same note, so a surrogate never reads as another identifier there; the
        next candidate is taken then, which is the only case where one value can get two surrogates)."""
        if self.placeholders:
            return f"[{cls}]"
        key = (cls, value, avoid)
        if key not in self._memo:
            self._memo[key] = self._first_free(cls, value, avoid)
        return self._memo[key]

    def _first_free(self, cls: str, value: str, avoid: frozenset[str]) -> str:
        for attempt in range(8):
            new = self._surrogate(cls, value, attempt)
            pieces = {_norm(new)} | ({_norm(t) for t in _NAME_TOKEN.findall(new)} if cls == "NAME" else set())
            if _norm(new) != _norm(value) and not pieces & avoid:
                return new
        return f"[{cls}]"

    def _surrogate(self, cls: str, value: str, attempt: int) -> str:
        if cls == "DATE":
            return shift_date(value, self.offset) or f"[{cls}]"
        if cls == "AGE":
            return "90+"
        if cls == "NAME":
            return _NAME_TOKEN.sub(lambda m: self._name_token(m.group(0), attempt), value)
        if cls in _IDENTIFIER_CLASSES:
            return self._shape(cls, value, attempt)
        f = self._faker(cls, value, attempt)
        if cls == "EMAIL":
            return f"{f.user_name()}@example.org"
        if cls == "URL":
            return f"https://www.example.org/{f.slug()}"
        if cls == "IP":
            return f.ipv6() if ":" in value else f.ipv4_private()
        if cls == "LOCATION":
            return self._location(f, value)
        if cls == "ORGANIZATION":
            tail = _ORG_TAIL.search(value)
            return f"{f.last_name()} {tail.group(1)}" if tail else f"{f.last_name()}-{f.last_name()}"
        return f"[{cls}]"

    def _name_token(self, token: str, attempt: int) -> str:
        """One token of a name, mapped on its own so that "John Smith", "SMITH, JOHN" and "Smith" agree: a census
        first name becomes a first name, initials stay initials, anything else becomes a surname; case is kept."""
        if len(token) == 1:
            return string.ascii_uppercase[self._seed("NAME-INITIAL", token, attempt) % 26]
        names = _FIRST_NAMES if token.upper() in lexicon.first_names() else _LAST_NAMES
        return _match_case(names[self._seed("NAME", token, attempt) % len(names)], token)

    def _location(self, f: Faker, value: str) -> str:
        if value[:1].isdigit():
            unit = re.search(r"(?i)\b(?:apt|apartment|suite|ste|unit)\b", value)
            return f"{f.building_number()} {f.street_name()}" + (f" {f.secondary_address()}" if unit else "")
        if re.match(r"(?i)P\.?\s?O\.?\s+Box\b", value):
            return f"PO Box {f.random_int(100, 99999)}"
        tail = _LOCATION_TAIL.search(value)
        return f"{f.last_name()} {tail.group(1)}" if tail else f.city()

    def _shape(self, cls: str, value: str, attempt: int) -> str:
        """Same shape: each digit becomes a digit, each letter a letter of the same case, separators stay."""
        rng = random.Random(self._seed(cls, value, attempt))
        return "".join(
            rng.choice(string.digits)
            if ch.isdigit()
            else rng.choice(string.ascii_uppercase if ch.isupper() else string.ascii_lowercase)
            if ch.isalpha()
            else ch
            for ch in value
        )
