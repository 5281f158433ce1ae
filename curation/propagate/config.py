"""Manifest settings of the propagate stage (manifest key `propagate`): one job per labelled unit table."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from curation.config_base import StrictModel
from curation.propagate.heads import Head, edu_heads, output_columns
from curation.quality.config import EduTrainConfig

NAME = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
WRITTEN = ("unit_id", "text", "model", "run_id")  # the stage's own columns and the labels query's text


class PropagateTrainConfig(EduTrainConfig):
    """The score stage's training settings; a job's models live under `<output_dir>/<job name>/`."""

    output_dir: str = Field(default="models/propagate", description="relative to the warehouse")


class PropagateJob(StrictModel):
    """Teacher labels (`labels` SQL) train the student; the student labels every row of `units` SQL."""

    name: str = Field(pattern=NAME, description="the table is propagated_<name>")
    description: str = ""
    heads: dict[Annotated[str, Field(pattern=NAME)], Head] = Field(
        default_factory=edu_heads,
        min_length=1,
        description="the labels, one head each: {kind: score, range: [lo, hi]} | {kind: category, classes: [...]} | "
        "{kind: binary}; default Biomed-Enriched's edu (score 1-5), doc_type and domain (categories)",
    )
    labels: str = Field(
        min_length=1,
        description="SQL returning unit_id, text and one column per head: one teacher label per unit. Categories and "
        "binary words are matched case-insensitively with spaces as underscores ('Clinical Case' = clinical_case)",
    )
    units: str = Field(min_length=1, description="SQL returning unit_id, text and the carried columns: what to label")
    carry: list[str] = Field(
        default_factory=list, description="columns of `units` copied into the table (so a release can read it alone)"
    )
    min_labels: int = Field(default=8, ge=4, description="fewer usable labels: the job is skipped, with the reason")
    train: PropagateTrainConfig = Field(default_factory=PropagateTrainConfig)
    batch_size: int = Field(default=32, ge=1, description="units per forward pass")
    batch_rows: int = Field(default=1000, ge=1, description="units per written unit of the table")
    precision: Literal["auto", "fp32", "bf16"] = "auto"

    @property
    def table(self) -> str:
        return f"propagated_{self.name}"

    @model_validator(mode="after")
    def _distinct_columns(self) -> PropagateJob:
        names = [c.name for c in output_columns(self.heads)]
        clash = sorted({n for n in names if names.count(n) > 1} | (set(names) | set(self.heads)) & set(WRITTEN))
        if clash:
            raise ValueError(
                f"heads: their columns {clash} collide (with each other or {list(WRITTEN)}); rename a head"
            )
        return self


class PropagateConfig(StrictModel):
    jobs: list[PropagateJob] = Field(default_factory=list)
    threads: int | None = Field(default=None, ge=1, description="torch intra-op threads; unset = all cores")
    force: bool = Field(default=False, description="relabel units already labelled by the same model")

    @model_validator(mode="after")
    def _unique_names(self) -> PropagateConfig:
        names = [j.name for j in self.jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"propagate.jobs: names must be unique, got {names}")
        return self
