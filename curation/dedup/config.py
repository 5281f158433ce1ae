"""Manifest settings for deduplication (manifest key `dedup`)."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import Field, model_validator

from curation.config_base import StrictModel

KeepCriterion = Literal[
    "is_current", "commercial_use", "longer_text", "shorter_text", "newer_published", "older_published", "lowest_doc_id"
]
DEFAULT_KEEP: list[KeepCriterion] = ["is_current", "commercial_use", "longer_text", "lowest_doc_id"]


class NormalizeConfig(StrictModel):
    """How text is normalized before the exact hash and shingling. Whitespace is always folded to single spaces."""

    nfkc: bool = True
    casefold: bool = True
    punctuation: Literal["remove", "keep"] = "remove"


class ShingleConfig(StrictModel):
    kind: Literal["word", "char"] = "word"
    n: int = Field(default=5, ge=1, le=64)
    min_shingles: int = Field(default=3, ge=1, description="below this, a document is deduplicated by exact hash only")
    max_shingles: int = Field(default=20_000, ge=1, description="shingles per document beyond this are ignored")
    max_chars: int = Field(default=1_000_000, ge=1, description="characters read per document (bounded shingling)")


class MinHashConfig(StrictModel):
    num_perm: int = Field(default=128, ge=2, le=1024)
    seed: int = Field(default=1, ge=0)
    hash: Literal["sha1", "xxh32"] = Field(
        default="sha1", description="sha1: datasketch's default sha1_hash32; xxh32: xxhash.xxh32_intdigest"
    )


class DedupConfig(StrictModel):
    fields: list[str] = Field(default_factory=lambda: ["title", "text"], min_length=1)
    normalize: NormalizeConfig = Field(default_factory=NormalizeConfig)
    shingle: ShingleConfig = Field(default_factory=ShingleConfig)
    minhash: MinHashConfig = Field(default_factory=MinHashConfig)
    threshold: float = Field(default=0.3, gt=0.0, le=1.0, description="Jaccard of word 5-gram sets; see docs/dedup.md")
    bands: int | None = Field(default=None, ge=1)
    rows: int | None = Field(default=None, ge=1)
    false_positive_weight: float = Field(default=0.2, ge=0.0, le=1.0)
    false_negative_weight: float = Field(default=0.8, ge=0.0, le=1.0)
    verify: Literal["estimate", "exact", "none"] = "estimate"
    keep: list[KeepCriterion] = Field(default_factory=lambda: list(DEFAULT_KEEP), min_length=1)
    batch_size: int = Field(default=2_000, ge=1)
    workers: int = Field(default=2, ge=1, le=64)
    sign_processes: int | None = Field(
        default=None,
        ge=0,
        le=64,
        description="worker processes that sign; unset = `workers` when more than one batch is pending, else 0 "
        "(in-process)",
    )
    max_bucket: int = Field(
        default=64,
        ge=2,
        description="band buckets with more members are not paired all-to-all but by sorted neighbourhoods "
        "(see docs/dedup.md); not part of params_id: every edge stays a verified pair",
    )
    memory_limit: str = Field(
        default="1GB", pattern=r"^\d+(\.\d+)?\s*[KMGT]i?B$", description="DuckDB memory limit; beyond it joins spill"
    )

    @model_validator(mode="after")
    def _check(self) -> DedupConfig:
        from curation.warehouse.schemas import load_schema

        docs = load_schema("documents")
        for f in self.fields:
            if f not in docs.names or docs.column(f).type != "string":
                raise ValueError(f"fields: {f!r} is not a string column of documents")
        if (self.bands is None) != (self.rows is None):
            raise ValueError("give both bands and rows, or neither (then they follow from threshold)")
        if self.bands is not None and self.rows is not None and self.bands * self.rows > self.minhash.num_perm:
            raise ValueError(f"bands × rows = {self.bands * self.rows} exceeds num_perm {self.minhash.num_perm}")
        return self

    def band_params(self) -> tuple[int, int]:
        """(bands, rows): explicit, or datasketch's optimum for the threshold."""
        if self.bands is not None and self.rows is not None:
            return self.bands, self.rows
        from curation.dedup.minhash import optimal_bands

        return optimal_bands(
            self.threshold, self.minhash.num_perm, self.false_positive_weight, self.false_negative_weight
        )

    def params_id(self) -> str:
        """Fingerprint of every setting that changes signatures, bands or edges: index rows of another id are
        ignored, so changing one of them rebuilds the index instead of mixing incompatible sketches."""
        spec = {
            "fields": self.fields,
            "normalize": self.normalize.model_dump(),
            "shingle": self.shingle.model_dump(),
            "minhash": self.minhash.model_dump(),
            "bands": self.band_params(),
            "threshold": self.threshold,
            "verify": self.verify,
        }
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
