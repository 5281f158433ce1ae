"""An LLM recognizer in the style of DeID-GPT (RECIPES.md 8d): the model is prompted with the HIPAA Safe Harbor
classes and a note, and answers with the identifiers it finds as JSON. Its answers become spans wherever the
returned string occurs in the note as a whole word, and join the rule-based spans in the same resolution step, so
the model can add what the rules miss but cannot undo what they found. A string the note does not contain is
dropped (counted: a model that paraphrases gains nothing).

The engine is the synth engine interface (curation/synth/engine.py) WITHOUT the response cache: cached prompts
would copy raw notes out of the raw documents. Point it at an in-process model or a local server only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from curation.deid.classes import ALL_CLASSES
from curation.deid.spans import Span
from curation.synth.engine import Engine, Message, Sampling, parse_json

PROMPT_VERSION = "deid-v1"
CONFIDENCE = 0.6
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["phi"],
    "properties": {
        "phi": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["text", "class"],
                "properties": {
                    "text": {"type": "string", "minLength": 2, "maxLength": 200},
                    "class": {"type": "string", "enum": list(ALL_CLASSES)},
                },
            },
        }
    },
}
_SYSTEM = (
    "You de-identify clinical notes under the HIPAA Safe Harbor rule. List every identifier in the note, copied "
    "exactly as written: names of patients, relatives and staff (NAME); street addresses, cities, counties and "
    "other places smaller than a state (LOCATION); hospitals, clinics and employers (ORGANIZATION); every date "
    "element except the year alone (DATE); ages over 89 (AGE); phone (PHONE) and fax (FAX) numbers; e-mail "
    "addresses (EMAIL); social security numbers (SSN); medical record (MRN), health plan (HEALTH_PLAN), account "
    "(ACCOUNT) and certificate or licence (LICENSE) numbers; vehicle (VEHICLE) and device (DEVICE) identifiers; "
    "URLs (URL); IP addresses (IP); ZIP codes (ZIP); any other identifying number (ID). "
    'Answer with JSON only: {"phi": [{"text": "...", "class": "NAME"}, ...]}; an empty list when there is none.'
)


@dataclass
class LLMStats:
    calls: int = 0
    failed: int = 0  # engine error or an answer that is not the JSON asked for
    found: int = 0  # returned strings that occur in their note
    unmatched: int = 0  # returned strings that do not

    def as_dict(self) -> dict[str, int]:
        return {f"llm_{k}": v for k, v in vars(self).items()}


def prompt(text: str) -> list[Message]:
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": text}]


def spans_from_answer(text: str, answer: Any, stats: LLMStats) -> list[Span]:
    """Spans for every whole-word occurrence of each returned identifier; malformed items are skipped."""
    items = answer.get("phi") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        stats.failed += 1
        return []
    spans = []
    for item in items:
        if not isinstance(item, dict) or item.get("class") not in ALL_CLASSES:
            continue
        value = str(item.get("text") or "").strip()
        if len(value) < 2:
            continue
        hits = list(re.finditer(rf"(?<!\w){re.escape(value)}(?!\w)", text))
        stats.found += bool(hits)
        stats.unmatched += not hits
        spans += [Span(m.start(), m.end(), item["class"], "llm", CONFIDENCE) for m in hits]
    return spans


def llm_spans(engine: Engine, texts: list[str], sampling: Sampling, stats: LLMStats) -> list[list[Span]]:
    """One request per note, batched through the engine; a failed request contributes no spans (and is counted)."""
    results = engine.generate([prompt(t) for t in texts], sampling, json_schema=SCHEMA)
    out: list[list[Span]] = []
    for text, res in zip(texts, results, strict=True):
        stats.calls += 1
        if not res.ok:
            stats.failed += 1
            out.append([])
            continue
        out.append(spans_from_answer(text, res.parsed if res.parsed is not None else parse_json(res.text), stats))
    return out
