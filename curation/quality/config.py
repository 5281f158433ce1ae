"""Manifest settings for quality scoring (clean, perplexity, educational classifier)."""

from __future__ import annotations

from curation.config_base import StrictModel


class QualityConfig(StrictModel):
    pass
