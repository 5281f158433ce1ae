"""Detect and replace PHI in one text: recognizers → resolved spans → replacement, with offsets on both sides."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from curation.deid.ner import ner_spans
from curation.deid.patterns import pattern_spans
from curation.deid.spans import Span, resolve
from curation.deid.surrogates import Surrogates, avoid_set


@dataclass(frozen=True, slots=True)
class Replaced:
    span: Span
    out_start: int
    out_end: int


@dataclass
class Deidentified:
    text: str
    spans: list[Replaced]


def detect(text: str, recognizers: str = "full", min_confidence: float = 0.0, extra: Iterable[Span] = ()) -> list[Span]:
    """Resolved, non-overlapping PHI spans of `text` (`recognizers`: "pattern" or "full"; `extra`: spans from
    another recognizer, such as the LLM's)."""
    found = pattern_spans(text) + list(extra)
    if recognizers == "full":
        found += ner_spans(text)
    return resolve(s for s in found if s.confidence >= min_confidence)


def deidentify(
    text: str,
    surrogates: Surrogates,
    recognizers: str = "full",
    min_confidence: float = 0.0,
    extra: Iterable[Span] = (),
) -> Deidentified:
    """The text with every detected span replaced, and where each replacement landed."""
    parts: list[str] = []
    out: list[Replaced] = []
    pos = length = 0
    spans = detect(text, recognizers, min_confidence, extra)
    avoid = avoid_set([text[s.start : s.end] for s in spans])
    for s in spans:
        keep = text[pos : s.start]
        parts.append(keep)
        length += len(keep)
        new = surrogates.replace(s.phi_class, text[s.start : s.end], avoid)
        parts.append(new)
        out.append(Replaced(s, length, length + len(new)))
        length += len(new)
        pos = s.end
    parts.append(text[pos:])
    return Deidentified("".join(parts), out)
