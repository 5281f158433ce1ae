"""Clean annotations for one document: normalization, language id, heuristic signals and rule outcomes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from curation.clean.config import CleanConfig
from curation.clean.langid import detect_language
from curation.clean.normalize import normalize_text
from curation.clean.signals import compute_signals, failed_rules
from curation.warehouse.quarantine import Rejection

SIGNALS_VERSION = "1"  # bump when a signal's definition changes, so that rescoring recomputes every row


def clean_version(cfg: CleanConfig) -> str:
    blob = json.dumps({"v": SIGNALS_VERSION, **cfg.model_dump()}, sort_keys=True)
    return f"clean-v{SIGNALS_VERSION}-{hashlib.sha256(blob.encode()).hexdigest()[:10]}"


def clean_row(text: str, cfg: CleanConfig) -> dict[str, Any] | Rejection:
    """The annotation columns for one text. An empty text is annotated (it fails `empty_text`), an oversized
    one is rejected, since computing signals over it would stall the batch."""
    if len(text) > cfg.max_chars:
        return Rejection("oversized_text", detail=f"{len(text)} chars > clean.max_chars {cfg.max_chars}")
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
