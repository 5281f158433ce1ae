"""Manifest settings for validation."""

from __future__ import annotations

from curation.config_base import StrictModel


class ValidateConfig(StrictModel):
    pass
