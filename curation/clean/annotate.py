"""Clean annotations for one document: normalization, language id, heuristic signals and rule outcomes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from curation.clean.langid import detect_language
from curation.clean.normalize import normalize_text
from curation.clean.signals import compute_signals, failed_rules
from curation.quality.config import CleanConfig
from curation.quality.corpus import Doc
from curation.quality.scoring import Rejected

SIGNALS_VERSION = "1"  # bump when a signal's definition changes, so that rescoring recomputes every row


def clean_version(cfg: CleanConfig) -> str:
    blob = json.dumps({"v": SIGNALS_VERSION, **cfg.model_dump()}, sort_keys=True)
    return f"clean-v{SIGNALS_VERSION}-{hashlib.sha256(blob.encode()).hexdigest()[:10]}"


def clean_row(text: str, cfg: CleanConfig) -> dict[str, Any] | Rejected:
    """The annotation columns for one text. An empty text is annotated (it fails `empty_text`), an oversized
    one is rejected, since computing signals over it would stall the batch."""
    if len(text) > cfg.max_chars:
        return Rejected("oversized_text", f"{len(text)} chars > clean.max_chars {cfg.max_chars}")
    norm = normalize_text(text)
    lang, lang_score = detect_language(norm)
    signals = compute_signals(norm)
    failed = failed_rules(signals, lang, lang_score, cfg.thresholds)
    if not norm.strip():
        failed = ["empty_text", *failed]
    return {
        "normalized_changed": norm != text,
        "lang_detected": lang,
        "lang_score": lang_score,
        **signals.as_row(),
        "heuristic_pass": not failed,
        "failed_rules": failed,
    }


class CleanScorer:
    """The clean stage as a Scorer (see curation.quality.scoring)."""

    name = "clean"
    table = "annotations_clean"
    version_column = "clean_version"

    def __init__(self, cfg: CleanConfig):
        self.cfg = cfg
        self.version = clean_version(cfg)

    def score(self, docs: Sequence[Doc]) -> list[dict[str, Any] | Rejected]:
        return [clean_row(d.text, self.cfg) for d in docs]
