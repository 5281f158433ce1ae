"""Tags ↔ spans. A sentence is its tokens joined with single spaces, so each token's character offsets follow from
the tokens alone (`token_offsets`); a span is (start, end) character offsets into that text plus the token range and
label. Generated sentences are checked with `entity_problems` before they are kept.

Schemes: `iob2` (= `bio`): every entity starts with B-X, I-X continues a B-X/I-X of the same label. `iob1`: I-X starts
an entity too; B-X only separates two adjacent entities of the same label.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Scheme = Literal["iob1", "iob2", "bio"]
_TAG = re.compile(r"^(?:O|([BI])-(\S.*))$")
_WORD = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]")


@dataclass(frozen=True)
class Span:
    start: int  # character offset into the sentence text
    end: int  # exclusive
    token_start: int
    token_end: int  # exclusive
    label: str
    text: str

    def row(self) -> dict[str, object]:
        return {
            "start": self.start,
            "end": self.end,
            "token_start": self.token_start,
            "token_end": self.token_end,
            "label": self.label,
            "text": self.text,
        }


@dataclass(frozen=True)
class TagError:
    """An invalid tag at token `index`; `repairable` when the tag's shape is fine but its place is not."""

    index: int
    message: str
    repairable: bool


def join_tokens(tokens: Sequence[str]) -> str:
    return " ".join(tokens)


def token_offsets(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """Each token's (start, end) in `join_tokens(tokens)`."""
    out, pos = [], 0
    for t in tokens:
        out.append((pos, pos + len(t)))
        pos += len(t) + 1
    return out


def tokenize(text: str) -> list[str]:
    """Words (with inner hyphens/apostrophes) and single punctuation marks: for generated sentences."""
    return _WORD.findall(text)


def _split(tag: str) -> tuple[str, str] | None:
    m = _TAG.match(tag)
    if m is None:
        return None
    return (m.group(1) or "O", m.group(2) or "")


def check_tags(tags: Sequence[str], scheme: Scheme) -> list[TagError]:
    """Every invalid tag: an unknown shape (anything but O, B-X, I-X), or, in iob2/bio, an I-X that does not
    continue a B-X/I-X of the same label."""
    errors: list[TagError] = []
    prev = ("O", "")
    for i, tag in enumerate(tags):
        parts = _split(tag)
        if parts is None:
            errors.append(TagError(i, f"unknown tag {tag!r} (expected O, B-X or I-X)", False))
            prev = ("O", "")
            continue
        if scheme != "iob1" and parts[0] == "I" and (prev[0] == "O" or prev[1] != parts[1]):
            after = tags[i - 1] if i else "sentence start"
            errors.append(TagError(i, f"{tag} after {after} (scheme {scheme})", True))
        prev = parts
    return errors


def repair_tags(tags: Sequence[str], scheme: Scheme) -> list[str]:
    """iob2/bio: an I-X that starts an entity becomes B-X (the usual reading). Unknown shapes are not repaired."""
    out = list(tags)
    for e in check_tags(tags, scheme):
        if e.repairable:
            out[e.index] = "B-" + out[e.index][2:]
    return out


def tags_to_spans(tokens: Sequence[str], tags: Sequence[str], scheme: Scheme) -> list[Span]:
    """Spans of a valid tag sequence (see `check_tags`)."""
    offsets = token_offsets(tokens)
    text = join_tokens(tokens)
    spans: list[Span] = []
    begin: int | None = None
    label = ""

    def close(end: int) -> None:
        if begin is not None:
            s, e = offsets[begin][0], offsets[end - 1][1]
            spans.append(Span(s, e, begin, end, label, text[s:e]))

    for i, tag in enumerate(tags):
        kind, lab = _split(tag) or ("O", "")
        starts = kind == "B" or (kind == "I" and (begin is None or lab != label))
        if kind == "O" or starts:
            close(i)
            begin, label = (i, lab) if starts else (None, "")
    close(len(tags))
    return spans


def spans_to_iob(tokens: Sequence[str], spans: Sequence[Span | dict], scheme: Scheme = "iob2") -> list[str]:
    """Tags for the tokens from spans (objects or rows with token_start, token_end, label). Spans must not overlap."""
    tags = ["O"] * len(tokens)
    prev_end, prev_label = -1, ""
    for sp in sorted((_as_span(s) for s in spans), key=lambda s: s.token_start):
        if sp.token_start < max(prev_end, 0) or sp.token_end > len(tokens) or sp.token_start >= sp.token_end:
            raise ValueError(f"span {sp.label} tokens [{sp.token_start}, {sp.token_end}) overlaps or is out of range")
        adjacent_same = sp.token_start == prev_end and sp.label == prev_label
        first = "B" if scheme != "iob1" or adjacent_same else "I"
        tags[sp.token_start] = f"{first}-{sp.label}"
        for i in range(sp.token_start + 1, sp.token_end):
            tags[i] = f"I-{sp.label}"
        prev_end, prev_label = sp.token_end, sp.label
    return tags


def _as_span(s: Span | dict) -> Span:
    return s if isinstance(s, Span) else Span(**{k: s[k] for k in Span.__dataclass_fields__})


def locate_all(tokens: Sequence[str], entity: str, label: str) -> list[Span]:
    """Every occurrence of `entity` (tokenized the same way) as a token run, left to right, not overlapping: the
    spans a generated sentence that was asked to mention `entity` should carry."""
    want = tokenize(entity)
    n = len(want)
    off = token_offsets(tokens)
    text = join_tokens(tokens)
    spans, i = [], 0
    while n and i <= len(tokens) - n:
        if list(tokens[i : i + n]) == want:
            s, e = off[i][0], off[i + n - 1][1]
            spans.append(Span(s, e, i, i + n, label, text[s:e]))
            i += n
        else:
            i += 1
    return spans


def locate(tokens: Sequence[str], entity: str, label: str) -> Span | None:
    """The first occurrence of `entity` as a token run (see `locate_all`)."""
    found = locate_all(tokens, entity, label)
    return found[0] if found else None


def entity_problems(tokens: Sequence[str], spans: Sequence[Span | dict], entity: str, label: str) -> list[str]:
    """Why a generated sentence cannot be kept ([] when it can): each span must sit on token boundaries and its text
    must be the text at its offsets, and one span must carry `label` with exactly `entity` (after the same
    tokenization, so "type 2 diabetes" matches tokens ["type", "2", "diabetes"])."""
    text = join_tokens(tokens)
    offsets = token_offsets(tokens)
    problems = []
    for s in map(_as_span, spans):
        if not 0 <= s.token_start < s.token_end <= len(tokens):
            problems.append(f"span {s.label} {s.text!r}: tokens [{s.token_start}, {s.token_end}) out of range")
        elif (offsets[s.token_start][0], offsets[s.token_end - 1][1]) != (s.start, s.end):
            problems.append(f"span {s.label} {s.text!r}: offsets [{s.start}, {s.end}) are not its tokens' offsets")
        elif text[s.start : s.end] != s.text:
            problems.append(f"span {s.label}: text {s.text!r} is not {text[s.start : s.end]!r} at its offsets")
    want = join_tokens(tokenize(entity))
    if not any(s.label == label and s.text == want for s in map(_as_span, spans)):
        problems.append(f"no {label} span with exactly {entity!r}")
    return problems
