"""PHI spans and how overlapping detections are resolved into one non-overlapping set."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A detected PHI span: [start, end) character offsets into the note, never the value itself."""

    start: int
    end: int
    phi_class: str
    method: str  # the recognizer that found it: "pattern:phone", "context:title", "dictionary:name", ...
    confidence: float

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


def resolve(spans: Iterable[Span]) -> list[Span]:
    """Non-overlapping spans in text order. Where detections overlap (an IP inside a URL, a date inside an MRN
    label's value, a name found by two recognizers) the most confident wins, then the longest: the text it covers
    is replaced whole, so no piece of the losing detection survives outside the winner."""
    kept: list[Span] = []
    for s in sorted(spans, key=lambda s: (-s.confidence, -(s.end - s.start), s.start)):
        if s.end > s.start and not any(s.overlaps(k) for k in kept):
            kept.append(s)
    kept.sort(key=lambda s: s.start)
    return _absorb_adjacent(kept)


def _absorb_adjacent(spans: list[Span]) -> list[Span]:
    """Spans of one class that touch (or are separated only by a space) become one: "John" + "Smith"."""
    out: list[Span] = []
    for s in spans:
        prev = out[-1] if out else None
        if prev and prev.phi_class == s.phi_class == "NAME" and 0 <= s.start - prev.end <= 1:
            out[-1] = Span(prev.start, s.end, s.phi_class, prev.method, min(prev.confidence, s.confidence))
        else:
            out.append(s)
    return out
