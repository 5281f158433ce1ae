"""Manifest settings for decontamination (manifest key `decontam`)."""

from __future__ import annotations

from pydantic import Field, model_validator

from curation.config_base import StrictModel


def _eval_splits() -> dict[str, list[str]]:
    from curation.ingest.benchmarks.kinds import BENCHMARKS

    return {b.name: list(b.eval_splits) for b in BENCHMARKS.values()}


def _all_splits_files() -> dict[str, list[str]]:
    from curation.ingest.benchmarks.kinds import BENCHMARKS

    return {b.name: list(b.all_splits_files) for b in BENCHMARKS.values() if b.all_splits_files}


def _synthetic_tables() -> list[str]:
    from curation.synth.presets import presets
    from curation.synth.tasks import TASKS

    return ["passages", *(p.table for p in presets().values()), *(t.table for t in TASKS.values())]


class DecontamConfig(StrictModel):
    """Which benchmark items are evaluation items, and the matching rules.

    - eval_splits: benchmark -> splits whose items are evaluation items.
    - all_splits_files: benchmark -> source-file globs whose items are evaluation items in every split (PQA-L).
    - ngram_n: word n-gram size for long items (8-13). Items with fewer words use short_n-grams plus a fuzzy check.
    - min_ngram_matches / min_overlap: a text is contaminated by a long item when it contains at least
      min_ngram_matches of the item's distinct n-grams, or at least min_overlap of them (short items with few n-grams).
    - fuzzy_threshold: rapidfuzz ratio (0-100) for short items (m1's rule: >= 95): whole-text ratio for short records,
      partial ratio (best-matching window) for a short item inside a longer text, after an n-gram candidate hit.
    - fuzzy_max_words: records with at most this many words are also compared whole-text against every item of
      similar length.
    """

    eval_splits: dict[str, list[str]] = Field(default_factory=_eval_splits)
    all_splits_files: dict[str, list[str]] = Field(default_factory=_all_splits_files)
    pmid_rule: bool = True
    ngram_n: int = Field(default=13, ge=8, le=13)
    short_n: int = Field(default=6, ge=3, le=13)
    min_ngram_matches: int = Field(default=3, ge=1)
    min_overlap: float = Field(default=0.5, gt=0.0, le=1.0)
    fuzzy_threshold: float = Field(default=95.0, ge=50.0, le=100.0)
    fuzzy_max_words: int = Field(default=64, ge=0)
    index_context: bool = Field(default=True, description="also index item contexts (PubMedQA abstracts)")
    batch_rows: int = Field(default=20_000, ge=100)
    synthetic_tables: list[str] = Field(default_factory=_synthetic_tables)

    @model_validator(mode="after")
    def _check(self) -> DecontamConfig:
        if self.short_n > self.ngram_n:
            raise ValueError("short_n must not exceed ngram_n")
        return self
