"""Text normalization before any signal is computed: ftfy repairs mojibake and odd encodings, NFKC folds
compatibility characters (ligatures, full-width forms), so that signals and models see one spelling of a text."""

from __future__ import annotations

import unicodedata

import ftfy

_FTFY = ftfy.TextFixerConfig(normalization="NFKC", unescape_html=True, explain=False)


def normalize_text(text: str) -> str:
    """ftfy (including NFKC) plus NFKC again, since ftfy only normalizes what it touched in some modes."""
    return unicodedata.normalize("NFKC", ftfy.fix_text(text, config=_FTFY))
