"""Manifest settings for decontamination."""

from __future__ import annotations

from curation.config_base import StrictModel


class DecontamConfig(StrictModel):
    pass
