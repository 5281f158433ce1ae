"""Gopher / FineWeb-style heuristic signals, each a column, and the rules that turn them into heuristic_pass.

Signals are computed on normalized text. They are cheap (pure Python over one pass of lines and words) and
language-agnostic except the boilerplate markers, which are English web/publisher phrases. The measures are public
functions because the synth content gate (curation/synth/gate.py) applies the same definitions to generated text.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass

from curation.clean.config import HeuristicThresholds

_WORD = re.compile(r"\S+")
_PARAGRAPH_SPLIT = re.compile(r"\n\s*\n")
_TERMINAL = (".", "!", "?", '"', "'", ")", "”", ":", ";")
_SYMBOLS = ("#", "...", "…")
_BOILERPLATE = re.compile(
    r"(all rights reserved|©|copyright \d{4}|cookie|privacy policy|terms of (use|service)|subscribe|sign up|"
    r"log ?in to|click here|javascript|accept all|newsletter|advertisement|share this|follow us)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Signals:
    n_chars: int
    word_count: int
    mean_word_length: float
    symbol_word_ratio: float
    line_punct_fraction: float
    duplicate_line_fraction: float
    duplicate_paragraph_fraction: float
    non_alpha_fraction: float
    boilerplate_lines: int

    def as_row(self) -> dict[str, float | int]:
        return asdict(self)


def words_of(text: str) -> list[str]:
    return _WORD.findall(text)


def nonblank_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def duplicate_fraction(parts: list[str]) -> float:
    """Characters in parts that occur more than once (every occurrence after the first), over all characters."""
    total = sum(len(p) for p in parts)
    if not total:
        return 0.0
    seen: Counter[str] = Counter()
    dup = 0
    for p in parts:
        if seen[p]:
            dup += len(p)
        seen[p] += 1
    return dup / total


def duplicate_ngram_fraction(words: list[str], n: int) -> float:
    """Gopher's repetition measure: characters of words inside word n-grams that occur more than once (every
    occurrence, overlaps counted once), over all word characters. 0 when the text has fewer than n words."""
    if len(words) < n:
        return 0.0
    grams = [tuple(w.lower() for w in words[i : i + n]) for i in range(len(words) - n + 1)]
    counts = Counter(grams)
    dup = [False] * len(words)
    for i, g in enumerate(grams):
        if counts[g] > 1:
            dup[i : i + n] = [True] * n
    total = sum(len(w) for w in words)
    return sum(len(w) for w, d in zip(words, dup, strict=True) if d) / total if total else 0.0


def max_token_run(words: list[str]) -> int:
    """The longest run of one word repeated back to back (case-insensitive): `no no no no` is 4."""
    best = run = 0
    prev = None
    for w in words:
        key = w.lower()
        run = run + 1 if key == prev else 1
        prev = key
        best = max(best, run)
    return best


def symbol_word_ratio(text: str, n_words: int) -> float:
    return sum(text.count(s) for s in _SYMBOLS) / n_words if n_words else 0.0


def non_alpha_fraction(text: str) -> float:
    """Non-space characters that are not letters, over non-space characters (1.0 for a text without any)."""
    non_space = sum(1 for ch in text if not ch.isspace())
    non_alpha = sum(1 for ch in text if not ch.isalpha() and not ch.isspace())
    return non_alpha / non_space if non_space else 1.0


def control_fraction(text: str) -> float:
    """Control and other non-printing characters (Unicode category C*, except tab and newline) over all
    characters."""
    if not text:
        return 0.0
    return sum(1 for ch in text if ch not in "\t\n" and unicodedata.category(ch).startswith("C")) / len(text)


def compute_signals(text: str) -> Signals:
    words = words_of(text)
    n_words = len(words)
    lines = nonblank_lines(text)
    paragraphs = [p.strip() for p in _PARAGRAPH_SPLIT.split(text) if p.strip()]
    return Signals(
        n_chars=len(text),
        word_count=n_words,
        mean_word_length=(sum(len(w) for w in words) / n_words) if n_words else 0.0,
        symbol_word_ratio=symbol_word_ratio(text, n_words),
        line_punct_fraction=(sum(ln.endswith(_TERMINAL) for ln in lines) / len(lines)) if lines else 0.0,
        duplicate_line_fraction=duplicate_fraction(lines),
        duplicate_paragraph_fraction=duplicate_fraction(paragraphs),
        non_alpha_fraction=non_alpha_fraction(text),
        boilerplate_lines=sum(1 for ln in lines if _BOILERPLATE.search(ln)),
    )


def failed_rules(s: Signals, lang: str, lang_score: float, t: HeuristicThresholds) -> list[str]:
    """Names of the rules a document fails, in a fixed order; [] means it passes."""
    rules = [
        ("too_few_words", s.word_count < t.min_words),
        ("too_many_words", s.word_count > t.max_words),
        ("short_words", s.word_count > 0 and s.mean_word_length < t.min_mean_word_length),
        ("long_words", s.mean_word_length > t.max_mean_word_length),
        ("symbol_ratio", s.symbol_word_ratio > t.max_symbol_word_ratio),
        ("line_punctuation", s.line_punct_fraction < t.min_line_punct_fraction),
        ("duplicate_lines", s.duplicate_line_fraction > t.max_duplicate_line_fraction),
        ("duplicate_paragraphs", s.duplicate_paragraph_fraction > t.max_duplicate_paragraph_fraction),
        ("non_alpha", s.non_alpha_fraction > t.max_non_alpha_fraction),
        ("boilerplate", s.boilerplate_lines > t.max_boilerplate_lines),
        ("language", bool(t.languages) and lang not in t.languages),
        ("language_confidence", lang_score < t.min_lang_score),
    ]
    return [name for name, failed in rules if failed]
