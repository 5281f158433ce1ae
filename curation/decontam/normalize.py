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
    get = cache.get
    hs = [get(w) for w in ws]
    if None in hs:
        for i, h in enumerate(hs):
            if h is None:
                hs[i] = cache[ws[i]] = xxhash.xxh64_intdigest(ws[i].encode())
    return np.array(hs, dtype=np.uint64)


class _Powers:
    """M^k and M^-k mod 2^64 for k < size, grown on demand (M is odd, so it has an inverse mod 2^64)."""

    def __init__(self) -> None:
        self.fwd = np.ones(1, np.uint64)
        self.inv = np.ones(1, np.uint64)

    def get(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self.fwd) < size:
            n = max(size, 2 * len(self.fwd))
            self.fwd, self.inv = _cumpow(_MULT, n), _cumpow(_MULT_INV, n)
        return self.fwd, self.inv


def _cumpow(base: np.uint64, n: int) -> np.ndarray:
    a = np.full(n, base, dtype=np.uint64)
    a[0] = 1
    with np.errstate(over="ignore"):
        return np.cumprod(a, dtype=np.uint64)


_MULT_INV = np.uint64(pow(int(_MULT), -1, 2**64))
_POWERS = _Powers()


def prefix_hashes(wh: np.ndarray) -> np.ndarray:
    """P[j] = sum_{k<j} wh[k] * M^k mod 2^64; n-gram j is (P[j+n] - P[j]) * M^-j, the same at any position."""
    fwd, _ = _POWERS.get(len(wh) + 1)
    out = np.zeros(len(wh) + 1, np.uint64)
    with np.errstate(over="ignore"):
        np.cumsum(wh * fwd[: len(wh)], dtype=np.uint64, out=out[1:])
    return out


def ngram_hashes(wh: np.ndarray, n: int, prefix: np.ndarray | None = None) -> np.ndarray:
    """Distinct hashes of all word n-grams (empty when there are fewer than n words): sum_i wh[j+i] * M^i."""
    m = len(wh) - n + 1
    if m <= 0:
        return np.empty(0, dtype=np.uint64)
    p = prefix_hashes(wh) if prefix is None else prefix
    _, inv = _POWERS.get(m)
    with np.errstate(over="ignore"):
        return np.unique((p[n:] - p[:m]) * inv[:m])
