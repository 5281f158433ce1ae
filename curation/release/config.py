"""Manifest settings for releases."""

from __future__ import annotations

from curation.config_base import StrictModel


class ReleaseConfig(StrictModel):
    pass
