"""Manifest settings for ingest: sources and their format options."""

from __future__ import annotations

from pydantic import Field, field_validator

from curation.config_base import StrictModel
from curation.ingest.limits import Limits


class SourceConfig(StrictModel):
    """One source: a format, files (paths or globs, relative to the manifest), and format options.

    `options` is checked against the format's own options model when the manifest is loaded.
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    format: str = Field(description="a registered format (`medcurate plugins` lists them)")
    paths: list[str] = Field(min_length=1)
    split: str | None = None
    options: dict = Field(default_factory=dict)

    @field_validator("format")
    @classmethod
    def _registered(cls, v: str) -> str:
        from curation.ingest.formats import FORMATS

        FORMATS.get(v)  # raises with the known names
        return v


class IngestConfig(StrictModel):
    """Ingest settings; the size bounds keep memory flat on hostile input (docs/ingest.md, "Bounds")."""

    workers: int = Field(default=2, ge=1, le=64)
    max_record_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_line_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_decompression_ratio: float = Field(default=200.0, ge=1.0)
    ratio_grace_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    max_json_depth: int = Field(default=64, ge=2, le=500)
    target_rows_per_shard: int = Field(default=250_000, ge=1)
    target_bytes_per_shard: int = Field(default=256 * 1024 * 1024, ge=1024)
    retries: int = Field(default=2, ge=0, le=10)

    def limits(self) -> Limits:
        return Limits(
            max_record_bytes=self.max_record_bytes,
            max_line_bytes=self.max_line_bytes,
            max_decompression_ratio=self.max_decompression_ratio,
            ratio_grace_bytes=self.ratio_grace_bytes,
            max_json_depth=self.max_json_depth,
        )
