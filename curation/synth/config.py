"""Manifest settings for synthetic data generation."""

from __future__ import annotations

from curation.config_base import StrictModel


class SynthConfig(StrictModel):
    pass
