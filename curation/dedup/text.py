"""Text normalization, the exact-duplicate hash, and shingling.

`shingles()` is the plain-Python definition of a document's shingles (used by explain, exact verification and
the datasketch equality tests); `shingle_spans()` produces the same shingles for a whole batch at once, as byte
ranges into one buffer, so that hashing and permutation run vectorized instead of per shingle.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from curation.dedup.config import NormalizeConfig, ShingleConfig

_PUNCT = re.compile(r"[^\w\s]+")
# Punctuation removal without the regex (a regex scan costs ~25 ns a character): ASCII punctuation becomes a space
# through a byte translate table, and each distinct non-ASCII punctuation character of the text is replaced as a
# whole UTF-8 sequence. A run of punctuation becomes several spaces instead of one, which the whitespace folding
# that follows removes: equal to `_PUNCT.sub(" ", text)` then folding, by construction (and tested).
_ASCII_PUNCT = bytes(0x20 if b < 128 and _PUNCT.fullmatch(chr(b)) else b for b in range(256))
_ASCII = bytes(range(128))


@functools.cache
def _is_punct(ch: str) -> bool:
    return _PUNCT.fullmatch(ch) is not None


def _remove_punctuation(text: str) -> str:
    data = text.encode("utf-8", "surrogatepass").translate(_ASCII_PUNCT)
    if not text.isascii():
        for ch in set(data.translate(None, _ASCII).decode("utf-8", "surrogatepass")):
            if _is_punct(ch):
                data = data.replace(ch.encode("utf-8", "surrogatepass"), b" ")
    return data.decode("utf-8", "surrogatepass")


def normalize(text: str, cfg: NormalizeConfig) -> str:
    """NFKC, casefold, punctuation to spaces (configurable); whitespace always folded to single spaces."""
    if cfg.nfkc:
        text = unicodedata.normalize("NFKC", text)
    if cfg.casefold:
        text = text.casefold()
    if cfg.punctuation == "remove":
        text = _remove_punctuation(text)
    return " ".join(text.split())


def exact_hash(normalized: str) -> str:
    """Exact-duplicate key: sha1 of the normalized text (hex, 40 chars)."""
    return hashlib.sha1(normalized.encode("utf-8")).hexdigest()


def _units(text: str, kind: str) -> list[str]:
    return text.split(" ") if kind == "word" else list(text)


def shingle_count(normalized: str, cfg: ShingleConfig) -> int:
    """Shingle positions of a normalized text (before the max_shingles cap); 0 only for an empty text."""
    if not normalized:
        return 0
    n_units = normalized.count(" ") + 1 if cfg.kind == "word" else len(normalized)
    return max(n_units - cfg.n + 1, 1)


def shingles(normalized: str, cfg: ShingleConfig) -> list[str]:
    """Word or character n-grams, in text order. A text shorter than n is one shingle; only the first
    max_shingles positions count (bounded work on enormous documents)."""
    if not normalized:
        return []
    units = _units(normalized, cfg.kind)
    sep = " " if cfg.kind == "word" else ""
    if len(units) < cfg.n:
        return [normalized]
    count = min(len(units) - cfg.n + 1, cfg.max_shingles)
    return [sep.join(units[i : i + cfg.n]) for i in range(count)]


@dataclass
class Spans:
    """The shingles of a batch of non-empty texts: shingle i is data[start[i]:start[i]+length[i]]; the shingles of
    document d are rows offsets[d]:offsets[d+1]."""

    data: bytes
    start: np.ndarray  # int64
    length: np.ndarray  # int64
    offsets: np.ndarray  # int64, len = docs + 1


def shingle_spans(texts: list[str], cfg: ShingleConfig) -> Spans:
    """Byte ranges of every shingle of every text (all texts non-empty and normalized), matching `shingles()`."""
    encoded = [t.encode("utf-8") for t in texts]
    if cfg.kind == "word":
        # Each text followed by a space: every word ends at a space, so unit k spans [ustart[k], uend[k]).
        data = b"".join(e + b" " for e in encoded)
        buf = np.frombuffer(data, np.uint8)
        uend = np.flatnonzero(buf == 32)
        ustart = np.concatenate(([0], uend[:-1] + 1))
        n_units = np.fromiter((t.count(" ") + 1 for t in texts), np.int64, len(texts))
    else:
        data = b"".join(encoded)
        buf = np.frombuffer(data, np.uint8)
        ustart = np.flatnonzero((buf & 0xC0) != 0x80)  # first byte of each UTF-8 code point
        uend = np.concatenate((ustart[1:], [len(buf)]))
        n_units = np.fromiter((len(t) for t in texts), np.int64, len(texts))
    unit_off = np.concatenate(([0], np.cumsum(n_units)))
    count = np.minimum(np.maximum(n_units - cfg.n + 1, 1), cfg.max_shingles)
    width = np.minimum(n_units, cfg.n)
    offsets = np.concatenate(([0], np.cumsum(count)))
    doc = np.repeat(np.arange(len(texts)), count)
    first = unit_off[doc] + (np.arange(offsets[-1]) - offsets[doc])
    last = first + width[doc] - 1
    start = ustart[first]
    return Spans(data, start, uend[last] - start, offsets)
