"""Manifest settings for deduplication."""

from __future__ import annotations

from curation.config_base import StrictModel


class DedupConfig(StrictModel):
    pass
