"""Manifest section `records`: record tables to sample, each with its record schema (a YAML file relative to the
manifest, or inline) and its generator (network + numeric, curation/records/sampler.py)."""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict, Field, model_validator

from curation.config_base import StrictModel
from curation.records.sampler import Generator
from curation.records.schema import RecordSchema, load_record_schema


class RecordsTable(Generator):
    model_config = ConfigDict(populate_by_name=True)

    record_schema: str | RecordSchema = Field(alias="schema", description="a YAML file, or the schema inline")
    n: int = Field(1000, ge=1, le=10_000_000, description="records to sample (rows breaking a rule are quarantined)")
    seed: int = 0

    @model_validator(mode="after")
    def _inline(self) -> RecordsTable:
        if isinstance(self.record_schema, RecordSchema):
            self.check(self.record_schema)
        return self

    def resolve(self, base: Path) -> RecordSchema:
        """The schema (a file read relative to `base`), checked with this generator; ValueError says what is wrong."""
        raw = self.record_schema
        schema = raw if isinstance(raw, RecordSchema) else load_record_schema(raw, base)
        self.check(schema)
        return schema


class RecordsConfig(StrictModel):
    tables: list[RecordsTable] = Field(default_factory=list)

    def check_files(self, base: Path) -> list[RecordSchema]:
        """Manifest check: schemas given as files are read and checked (contradictory rules included)."""
        out = []
        for i, t in enumerate(self.tables):
            try:
                out.append(t.resolve(base))
            except ValueError as e:
                raise ValueError(f"tables.{i}: {e}") from None
        return out
