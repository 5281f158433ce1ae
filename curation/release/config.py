"""Manifest settings for releases (manifest key `release`).

A release is a set of *configs*; each config is one source view of the warehouse, a list of named SQL selection rules
over it, and the columns to export. Rules are plain DuckDB predicates, so any annotation column a stage adds can be
used without code changes; a rule that names a column no stage produced is an error, not a silently empty filter.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from curation.config_base import StrictModel
from curation.release.paths import safe_name

VERSION_RE = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.\-]+)?$")
DOCUMENT_COLUMNS = [
    "doc_id",
    "source",
    "source_id",
    "title",
    "text",
    "lang",
    "license",
    "license_url",
    "commercial_use",
    "published",
    "journal",
    "pmid",
    "pmcid",
    "doi",
    "mesh",
    "pub_types",
    "url",
    "run_id",
]


class Rule(StrictModel):
    """Keep rows for which `where` is true (NULL counts as false: an unannotated row is not kept by a rule on it)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    where: str = Field(min_length=1)


class DatasetConfig(StrictModel):
    """One dataset config of the release (a Hugging Face `config_name`)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    source: str = Field(
        default="documents_enriched",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="warehouse view the rows come from",
    )
    key: str = "doc_id"
    split_key: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="column hashed into train/validation, so rows sharing it share a split; default: doc_id, "
        "else item_id, else the key",
    )
    rules: list[Rule] = Field(default_factory=list)
    columns: list[str] | None = Field(default=None, description="columns to export; default: all of the source")
    task_category: str = "text-generation"
    validate_table: str | None = Field(
        default=None,
        description="suite to validate against; default: the source table (documents for documents_* views)",
    )
    optional: bool = Field(default=False, description="skip (not fail) when the source has no rows at all")
    require_decontam: bool = Field(default=True, description="add the built-in rule: contaminated IS FALSE")

    @model_validator(mode="after")
    def _rule_names_unique(self) -> DatasetConfig:
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError(f"config {self.name}: rule names must be unique, got {names}")
        return self


def _default_configs() -> list[DatasetConfig]:
    return [DatasetConfig(name="documents", columns=list(DOCUMENT_COLUMNS))]


class ReleaseConfig(StrictModel):
    name: str | None = Field(default=None, description="release name; default: the manifest name")
    version: str | None = Field(default=None, description="X.Y.Z; the CLI --version overrides it")
    out: str | None = Field(
        default=None,
        description="releases directory, relative to the manifest; default: "
        "./release in the working directory, like ./warehouse",
    )
    configs: list[DatasetConfig] = Field(default_factory=_default_configs)
    validation_fraction: float = Field(default=0.05, ge=0.0, lt=1.0)
    shard_target_bytes: int = Field(default=256 * 1024 * 1024, gt=0)
    shard_target_rows: int = Field(default=1_000_000, gt=0)
    publish: Literal["local", "tar", "hf"] = "local"
    hf_repo: str | None = Field(default=None, description="owner/name on the Hugging Face Hub")
    hf_private: bool = True
    validate_: bool = Field(default=True, alias="validate", description="run the validation suites on the release")
    pretty_name: str | None = None
    description: str = ""
    limitations: list[str] = Field(default_factory=list)
    citations: dict[str, str] = Field(
        default_factory=dict,
        description="BibTeX per source or benchmark name, added to (or replacing) the built-in citations on the card",
    )

    model_config = StrictModel.model_config | {"populate_by_name": True}

    @field_validator("version")
    @classmethod
    def _version(cls, v: str | None) -> str | None:
        if v is not None and not VERSION_RE.match(v):
            raise ValueError(f"version must look like X.Y.Z, got {v!r}")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return v if v is None else safe_name("release.name", v)

    @model_validator(mode="after")
    def _config_names_unique(self) -> ReleaseConfig:
        names = [c.name for c in self.configs]
        if len(set(names)) != len(names):
            raise ValueError(f"release.configs: names must be unique, got {names}")
        return self
