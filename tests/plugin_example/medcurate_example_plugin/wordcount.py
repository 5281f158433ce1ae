"""Scorer `wordcount`: words per document in annotations_wordcount."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from curation.config_base import StrictModel
from curation.quality.corpus import Doc
from curation.quality.scoring import SCORERS, ScorerEnv, ScorerSpec


class WordCountConfig(StrictModel):
    enabled: bool = False  # a manifest turns it on (score.wordcount.enabled)
    min_words: int = 3


class WordCountScorer:
    name = "wordcount"
    table = "annotations_wordcount"
    version_column = "wordcount_version"

    def __init__(self, cfg: WordCountConfig):
        self.cfg = cfg
        self.version = f"wordcount-v1-min{cfg.min_words}"

    def score(self, docs: Sequence[Doc]) -> list[dict[str, Any]]:
        return [
            {"n_words": len(d.text.split()), "enough_words": len(d.text.split()) >= self.cfg.min_words} for d in docs
        ]


def _build(env: ScorerEnv) -> WordCountScorer | None:
    cfg = env.config
    return WordCountScorer(cfg) if cfg.enabled else None


SCORERS.register(ScorerSpec("wordcount", WordCountConfig, _build, "annotations_wordcount", order=90))
