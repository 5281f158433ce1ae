"""The clean scorer: normalization, language id, heuristic signals and rule outcomes per document
(annotations_clean)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from curation.clean.annotate import clean_row, clean_version
from curation.clean.config import CleanConfig
from curation.quality.corpus import Doc
from curation.quality.scoring import SCORERS, Scorer, ScorerEnv, ScorerSpec
from curation.warehouse.quarantine import Rejection


class CleanScorer:
    """The document cleaner as a Scorer."""

    name = "clean"
    table = "annotations_clean"
    version_column = "clean_version"

    def __init__(self, cfg: CleanConfig):
        self.cfg = cfg
        self.version = clean_version(cfg)

    def score(self, docs: Sequence[Doc]) -> list[dict[str, Any] | Rejection]:
        return [clean_row(d.text, self.cfg) for d in docs]


def _build(env: ScorerEnv) -> Scorer | None:
    cfg = env.config
    return CleanScorer(cfg) if cfg.enabled else None


SCORERS.register(
    ScorerSpec(
        "clean", CleanConfig, _build, "annotations_clean", order=10, description="heuristic signals, language id"
    )
)
