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


class ExportFormat(StrictModel):
    """Training columns added to every exported row, from SQL expressions over the row (like rules)."""

    kind: Literal["messages", "alpaca", "think_answer"]
    prompt: str = Field(default="question", min_length=1, description="the user turn / instruction / prompt")
    response: str = Field(default="answer", min_length=1, description="the assistant turn / output (messages, alpaca)")
    input: str | None = Field(default=None, description="alpaca `input` (e.g. context); empty when unset")
    reasoning: str = Field(default="reasoning", min_length=1, description="think_answer: inside <think>")
    answer: str = Field(default="final_answer", min_length=1, description="think_answer: inside <answer>")
    system: str | None = Field(default=None, description="messages: a system turn (literal text)")
    keep_columns: bool = Field(default=True, description="keep the config's columns beside the format's")


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
    allow_empty: bool = Field(
        default=False,
        description="skip (not fail) when the rules select no row: a variant that may legitimately be empty at small "
        "scale (an upsampled clinical-case subset); otherwise an empty selection is an error (a misspelt rule)",
    )
    weight: float = Field(
        default=1.0, gt=0.0, le=100.0, description="rows exported per selected row on average: 2.0 upsamples"
    )
    order_by: str | None = Field(default=None, description="SQL ORDER BY inside each split, e.g. 'pass_rate DESC'")
    balance_by: str | None = Field(
        default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="column to balance the selection over"
    )
    balance_per_value: int | None = Field(default=None, gt=0, description="rows kept per value of balance_by")
    format: ExportFormat | None = Field(default=None, description="messages | alpaca | think_answer columns")
    require_decontam: bool = Field(default=True, description="add the built-in rule: contaminated IS FALSE")

    @model_validator(mode="after")
    def _balance_pair(self) -> DatasetConfig:
        if (self.balance_by is None) != (self.balance_per_value is None):
            raise ValueError(f"config {self.name}: balance_by and balance_per_value go together")
        return self

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
    publish: str = Field("local", description="a registered publisher: local | tar | hf")

    @field_validator("publish")
    @classmethod
    def _registered_publisher(cls, v: str) -> str:
        from curation.release.publish import PUBLISHERS

        PUBLISHERS.get(v)  # raises with the known names
        return v

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
