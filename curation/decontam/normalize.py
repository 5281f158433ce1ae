"""Text normalization and hashed word n-grams, shared by the index and the matcher so both see the same words.

Normalization: Unicode NFKC, case folding, every run of non-alphanumeric characters is a word break (so
punctuation, quotes, hyphens and whitespace edits do not hide a match). Words are hashed with xxh64; an n-gram's
hash is a polynomial of its word hashes mod 2^64, computed for all positions at once with numpy.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import xxhash

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd: the polynomial is a bijection in each word hash
_CACHE_LIMIT = 2_000_000
_word_cache: dict[str, int] = {}


def words(text: str | None) -> list[str]:
    if not text:
        return []
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def normalized(text: str | None) -> str:
    return " ".join(words(text))


def word_hashes(ws: list[str]) -> np.ndarray:
    cache = _word_cache
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    out = np.empty(len(ws), dtype=np.uint64)
    for i, w in enumerate(ws):
        h = cache.get(w)
        if h is None:
            h = cache[w] = xxhash.xxh64_intdigest(w.encode())
        out[i] = h
    return out


def ngram_hashes(wh: np.ndarray, n: int) -> np.ndarray:
    """Distinct hashes of all word n-grams (empty when there are fewer than n words)."""
    m = len(wh) - n + 1
    if m <= 0:
        return np.empty(0, dtype=np.uint64)
    acc = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(n):
            acc = acc * _MULT + wh[i : i + m]
    return np.unique(acc)
