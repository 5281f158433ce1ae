"""Manifest settings for decontamination (manifest key `decontam`)."""

from __future__ import annotations

from pydantic import Field, model_validator

from curation.config_base import StrictModel

DEFAULT_EVAL_SPLITS: dict[str, list[str]] = {
    "medqa": ["test"],
    "medmcqa": ["validation", "dev", "test"],  # MedMCQA's "dev" file is its validation split
    "pubmedqa": ["test"],
    "mmlu": ["test"],
}
# PubMedQA's expert-labelled PQA-L is used as an evaluation set whole: its items count in every split. The
# pubmedqa loader reads the PQA-L file layout, so by default every PubMedQA item is an evaluation item; to train on
# PQA-A/PQA-U files, narrow this to the PQA-L file names (e.g. ["*pqal*", "*pqa_labeled*"]).
DEFAULT_ALL_SPLITS_FILES: dict[str, list[str]] = {"pubmedqa": ["*"]}


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

    eval_splits: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_EVAL_SPLITS.items()}
    )
    all_splits_files: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_ALL_SPLITS_FILES.items()}
    )
    pmid_rule: bool = True
    ngram_n: int = Field(default=13, ge=8, le=13)
    short_n: int = Field(default=6, ge=3, le=13)
    min_ngram_matches: int = Field(default=3, ge=1)
    min_overlap: float = Field(default=0.5, gt=0.0, le=1.0)
    fuzzy_threshold: float = Field(default=95.0, ge=50.0, le=100.0)
    fuzzy_max_words: int = Field(default=64, ge=0)
    index_context: bool = Field(default=True, description="also index item contexts (PubMedQA abstracts)")
    batch_rows: int = Field(default=20_000, ge=100)
    synthetic_tables: list[str] = Field(
        default_factory=lambda: ["passages", "synthetic_grounded_qa", "synthetic_mcq_cot", "synthetic_dialogue"]
    )

    @model_validator(mode="after")
    def _check(self) -> DecontamConfig:
        if self.short_n > self.ngram_n:
            raise ValueError("short_n must not exceed ngram_n")
        return self
