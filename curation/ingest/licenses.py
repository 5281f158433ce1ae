"""Licence normalization: free-text names and URLs to SPDX-like ids, with whether commercial use is allowed.

Minimal version written for the tabular connectors; the PMC work owns the full table (same function name).
"""

from __future__ import annotations

import re

_CC = re.compile(r"(?:creativecommons\.org/(?:licenses|publicdomain)/|\bcc[\s_\-]*)"
                 r"(?P<kind>by(?:[\s_\-]*(?:nc|nd|sa))*|zero|0)(?:[/\s_\-]*(?P<ver>\d\.\d))?", re.I)
_NAMED = {
    "cc0": ("CC0-1.0", True),
    "public domain": ("public-domain", True),
    "pd": ("public-domain", True),
    "mit": ("MIT", True),
    "apache-2.0": ("Apache-2.0", True),
    "nlm-pubmed-terms": ("NLM-PubMed-terms", False),
    "unknown": ("unknown", False),
}


def normalize_license(text_or_url: str | None) -> tuple[str, bool]:
    """Return (licence id, commercial_use). Anything unrecognized is ('unknown', False): never assume rights."""
    text = (text_or_url or "").strip()
    if not text:
        return "unknown", False
    m = _CC.search(text)
    if m:
        kind = m["kind"].lower()
        if kind in ("zero", "0"):
            return "CC0-1.0", True
        parts = [p for p in re.split(r"[\s_\-]+", kind) if p]
        lic = "CC-" + "-".join(p.upper() for p in parts) + f"-{m['ver'] or '4.0'}"
        return lic, "nc" not in parts
    key = text.lower()
    if key in _NAMED:
        return _NAMED[key]
    for spdx in ("CC-BY-NC-ND-4.0", "CC-BY-NC-SA-4.0", "CC-BY-NC-4.0", "CC-BY-SA-4.0", "CC-BY-ND-4.0", "CC-BY-4.0"):
        if key == spdx.lower():
            return spdx, "-nc" not in key
    return "unknown", False
