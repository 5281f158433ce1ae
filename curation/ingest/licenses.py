"""Licence normalization: URLs, JATS license-type values and licence prose to SPDX-like ids plus commercial use.

Used by the PMC connector and by release selection, so the ids and the commercial-use rule live in one place.
Ids: `CC-BY-4.0`, `CC-BY-NC-SA-3.0`, ... (SPDX spelling; the version is left off when the source does not give
one: `CC-BY`), `CC0-1.0`, `public-domain` (Public Domain Mark and US-government works), `NLM-PubMed-terms`,
`unknown`. Only licences that allow commercial reuse (BY, BY-SA, BY-ND, CC0, public domain) get commercial_use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

UNKNOWN = "unknown"
PUBLIC_DOMAIN = "public-domain"

_CC_URL = re.compile(r"creativecommons\.org/licen[cs]es/(by(?:-nc)?(?:-nd)?(?:-sa)?|by-sa|by-nd)/(\d\.\d)", re.I)
_CC0_URL = re.compile(r"creativecommons\.org/publicdomain/zero/1\.0", re.I)
_PDM_URL = re.compile(r"creativecommons\.org/publicdomain/mark/1\.0", re.I)
_VERSION = re.compile(r"\b(\d\.\d)\b")

# JATS license-type values seen in PMC; values such as "open-access" or "creative-commons" name no licence.
_TYPES = {
    "cc-by": "CC-BY",
    "cc by": "CC-BY",
    "cc-by-sa": "CC-BY-SA",
    "cc-by-nd": "CC-BY-ND",
    "cc-by-nc": "CC-BY-NC",
    "cc-by-nc-sa": "CC-BY-NC-SA",
    "cc-by-nc-nd": "CC-BY-NC-ND",
    "cc0": "CC0-1.0",
    "public-domain": PUBLIC_DOMAIN,
    "publicdomain": PUBLIC_DOMAIN,
}


@dataclass(frozen=True)
class License:
    id: str
    commercial_use: bool
    url: str | None = None


def commercial_use(license_id: str) -> bool:
    """Whether a normalized licence id allows commercial reuse (non-commercial and unknown licences do not)."""
    if license_id in ("CC0-1.0", PUBLIC_DOMAIN):
        return True
    return license_id.startswith("CC-BY") and "-NC" not in license_id


def _make(license_id: str, url: str | None = None) -> License:
    return License(license_id, commercial_use(license_id), url)


def from_url(url: str | None) -> License | None:
    """A Creative Commons licence or public-domain URL; None for anything else (e.g. a publisher's own terms)."""
    if not url:
        return None
    url = url.strip()
    if m := _CC_URL.search(url):
        return _make(f"CC-{m.group(1).upper()}-{m.group(2)}", url)
    if _CC0_URL.search(url):
        return _make("CC0-1.0", url)
    if _PDM_URL.search(url):
        return _make(PUBLIC_DOMAIN, url)
    return None


def from_type(license_type: str | None) -> License | None:
    """A JATS `license-type` attribute value; None when it names no specific licence."""
    lid = _TYPES.get((license_type or "").strip().lower())
    return _make(lid) if lid else None


def from_text(text: str | None) -> License | None:
    """Licence prose ("... Creative Commons Attribution Non-Commercial License ...", "... in the public domain")."""
    t = " ".join((text or "").split()).lower()
    if not t:
        return None
    if m := _CC_URL.search(t):
        return _make(f"CC-{m.group(1).upper()}-{m.group(2)}")
    if "cc0" in t or "public domain dedication" in t:
        return _make("CC0-1.0")
    if "creative commons attribution" in t or re.search(r"\bcc[ -]by\b", t):
        parts = ["CC-BY"]
        if re.search(r"non[- ]?commercial|\bnc\b", t):
            parts.append("NC")
        if re.search(r"no[- ]?deriv|\bnd\b", t):
            parts.append("ND")
        if re.search(r"share[- ]?alike|\bsa\b", t):
            parts.append("SA")
        version = _VERSION.search(t)
        return _make("-".join(parts) + (f"-{version.group(1)}" if version else ""))
    if "public domain" in t:
        return _make(PUBLIC_DOMAIN)
    return None


def normalize(
    *,
    urls: Sequence[str | None] = (),
    license_type: str | None = None,
    texts: Sequence[str | None] = (),
) -> tuple[License, str]:
    """First recognized evidence wins, in order: URLs (as given), license-type, prose. Returns (licence, source).

    When nothing is recognized the licence is `unknown` (no commercial use), keeping the first URL seen.
    """
    for url in urls:
        if lic := from_url(url):
            return lic, "url"
    if lic := from_type(license_type):
        return License(lic.id, lic.commercial_use, next((u for u in urls if u), None)), "license-type"
    for text in texts:
        if lic := from_text(text):
            return License(lic.id, lic.commercial_use, next((u for u in urls if u), None)), "text"
    return License(UNKNOWN, False, next((u for u in urls if u), None)), "none"


_SPDX_CC = re.compile(r"^cc[\s_\-]*(by(?:[\s_\-]*(?:nc|nd|sa))*)(?:[\s_\-]*(\d\.\d))?$", re.I)
_NAMED_IDS = {
    "cc0": "CC0-1.0",
    "cc0-1.0": "CC0-1.0",
    "public-domain": PUBLIC_DOMAIN,
    "public domain": PUBLIC_DOMAIN,
    "mit": "MIT",
    "apache-2.0": "Apache-2.0",
    "nlm-pubmed-terms": "NLM-PubMed-terms",
    "unknown": UNKNOWN,
}
_PERMISSIVE = {"MIT", "Apache-2.0"}


def normalize_license(value: str | None) -> tuple[str, bool]:
    """A tabular source's licence cell (an id such as `CC-BY-4.0` or `MIT`, a URL, or prose) → (id, commercial_use).

    Anything unrecognized is `unknown` without commercial use: rights are never assumed.
    """
    v = (value or "").strip()
    if not v:
        return UNKNOWN, False
    if named := _NAMED_IDS.get(v.lower()):
        return named, named in _PERMISSIVE or commercial_use(named)
    if m := _SPDX_CC.match(v):
        parts = [p.upper() for p in re.split(r"[\s_\-]+", m[1]) if p]
        lic_id = "CC-" + "-".join(parts) + (f"-{m[2]}" if m[2] else "")
        return lic_id, commercial_use(lic_id)
    lic, _ = normalize(urls=[v] if "://" in v else [], texts=[v])
    return lic.id, lic.commercial_use
