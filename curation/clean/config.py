"""Settings of the document cleaner: heuristic thresholds (Gopher / FineWeb style) and limits."""

from __future__ import annotations

from pydantic import Field

from curation.config_base import StrictModel


class HeuristicThresholds(StrictModel):
    """Gopher / FineWeb-style rule thresholds; a document failing any rule gets heuristic_pass = false."""

    min_words: int = Field(default=50, ge=0)
    max_words: int = Field(default=100_000, ge=1)
    min_mean_word_length: float = Field(default=3.0, ge=0)
    max_mean_word_length: float = Field(default=10.0, gt=0)
    max_symbol_word_ratio: float = Field(default=0.1, ge=0)
    min_line_punct_fraction: float = Field(default=0.0, ge=0, le=1)
    max_duplicate_line_fraction: float = Field(default=0.3, ge=0, le=1)
    max_duplicate_paragraph_fraction: float = Field(default=0.3, ge=0, le=1)
    max_non_alpha_fraction: float = Field(default=0.4, ge=0, le=1)
    max_boilerplate_lines: int = Field(default=2, ge=0)
    languages: list[str] = Field(default_factory=lambda: ["en"], description="accepted language codes; [] = any")
    min_lang_score: float = Field(default=0.5, ge=0, le=1)


class CleanConfig(StrictModel):
    enabled: bool = True
    thresholds: HeuristicThresholds = Field(default_factory=HeuristicThresholds)
    max_chars: int = Field(default=2_000_000, ge=1000, description="longer texts are quarantined (oversized_text)")
