"""Lexical grounding of generated text in a passage (the `grounding` check)."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_STOPWORDS = """a an the and or but if then than that this these those is are was were be been being of in on at to for
from by with without into onto over under about as it its it's they them their there here which who whom whose what
when where why how can could may might must shall should will would do does did done not no yes so such also very more
most less least many much some any each every all both either neither other another same own only just has have had
having i you he she we our your his her my me us him"""
_STOP = frozenset(_STOPWORDS.split())


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOP}


def grounding_score(claim: str, passage: str) -> float:
    """Share of the claim's content words that occur in the passage (0 when the claim has none). Cheap and
    conservative: a paraphrase scores lower than a copy, but an answer about something else scores near 0."""
    words = content_words(claim)
    if not words:
        return 0.0
    return len(words & content_words(passage)) / len(words)
