"""Score detection against gold spans: precision, recall and F1 per class, at token and entity level.

Gold: JSON Lines, one note per line: {"note_id", "patient_id", "text", "spans": [{"start", "end", "class"}]}.
- token level: each word token (\\w+) gets the class of the gold / predicted span that covers it, if any.
- entity level: a gold span is found when a predicted span of the same class overlaps it; a predicted span that
  overlaps no gold span of its class is a false positive.
- ANY: the same, with classes ignored (what matters for privacy: was the text removed at all).
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curation.deid.deidentify import detect
from curation.deid.spans import Span

_WORD = re.compile(r"\w+")
ANY = "ANY"


@dataclass
class GoldNote:
    note_id: str
    patient_id: str | None
    text: str
    spans: list[Span]


@dataclass
class Tally:
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)

    def add(self, cls: str, tp: int = 0, fp: int = 0, fn: int = 0) -> None:
        self.tp[cls] += tp
        self.fp[cls] += fp
        self.fn[cls] += fn

    def scores(self) -> dict[str, dict[str, float | int]]:
        out = {}
        for c in sorted(set(self.tp) | set(self.fp) | set(self.fn)):
            tp, fp, fn = self.tp[c], self.fp[c], self.fn[c]
            p = tp / (tp + fp) if tp + fp else 1.0
            r = tp / (tp + fn) if tp + fn else 1.0
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            out[c] = {"tp": tp, "fp": fp, "fn": fn, "precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4)}
        return out


def load_gold(path: str | Path) -> list[GoldNote]:
    """Gold notes; a malformed line, a span outside its text or two overlapping gold spans (which class would a
    token have?) is an error naming the line."""
    notes = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            o = json.loads(line)
            text = o["text"]
            spans = [Span(int(s["start"]), int(s["end"]), str(s["class"]), "gold", 1.0) for s in o.get("spans", [])]
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{path}:{i}: not a gold note ({type(e).__name__}: {e})") from None
        bad = [s for s in spans if not 0 <= s.start < s.end <= len(text)]
        if bad:
            raise ValueError(f"{path}:{i}: span {bad[0].start}-{bad[0].end} is outside the text ({len(text)} chars)")
        ordered = sorted(spans, key=lambda s: (s.start, s.end))
        clash = next(((a, b) for a, b in itertools.pairwise(ordered) if a.overlaps(b)), None)
        if clash:
            a, b = clash
            raise ValueError(f"{path}:{i}: gold spans {a.start}-{a.end} and {b.start}-{b.end} overlap")
        notes.append(GoldNote(str(o.get("note_id", i)), o.get("patient_id"), text, spans))
    if not notes:
        raise ValueError(f"{path}: no gold notes")
    return notes


def _token_labels(text: str, spans: list[Span]) -> list[str | None]:
    labels = []
    for m in _WORD.finditer(text):
        cls = next((s.phi_class for s in spans if s.start < m.end() and m.start() < s.end), None)
        labels.append(cls)
    return labels


def _score_note(text: str, gold: list[Span], pred: list[Span], token: Tally, entity: Tally) -> None:
    for g_cls, p_cls in zip(_token_labels(text, gold), _token_labels(text, pred), strict=True):
        if g_cls and g_cls == p_cls:
            token.add(g_cls, tp=1)
        else:
            if g_cls:
                token.add(g_cls, fn=1)
            if p_cls:
                token.add(p_cls, fp=1)
        if g_cls and p_cls:
            token.add(ANY, tp=1)
        elif g_cls or p_cls:
            token.add(ANY, fn=bool(g_cls), fp=bool(p_cls))
    for g in gold:
        same = any(p.phi_class == g.phi_class and p.overlaps(g) for p in pred)
        entity.add(g.phi_class, tp=int(same), fn=int(not same))
        found = any(p.overlaps(g) for p in pred)
        entity.add(ANY, tp=int(found), fn=int(not found))
    for p in pred:
        if not any(g.phi_class == p.phi_class and g.overlaps(p) for g in gold):
            entity.add(p.phi_class, fp=1)
        if not any(g.overlaps(p) for g in gold):
            entity.add(ANY, fp=1)


def evaluate(notes: Iterable[GoldNote], recognizers: str = "full", min_confidence: float = 0.0) -> dict[str, Any]:
    """{"token": {class: scores}, "entity": {class: scores}, "notes": n} for the detector on the gold notes."""
    token, entity = Tally(), Tally()
    n = 0
    for note in notes:
        _score_note(note.text, note.spans, detect(note.text, recognizers, min_confidence), token, entity)
        n += 1
    return {"notes": n, "recognizers": recognizers, "token": token.scores(), "entity": entity.scores()}
