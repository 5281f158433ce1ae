"""Field mapping for tabular sources (JSONL, Parquet, CSV, Hugging Face datasets): source fields → table columns.

A manifest names, per target column, the source field that fills it (dotted paths reach into nested JSON), plus
constants for columns the source lacks (licence, source name, benchmark). Every row is mapped and type-checked;
a row that lacks a required field or has a value of the wrong type is quarantined with the field named.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from curation.config_base import StrictModel
from curation.ingest.benchmarks.common import LABELS, stable_item_id
from curation.ingest.items import Record, Rejection
from curation.ingest.licenses import normalize_license
from curation.warehouse.schemas import load_schema

# Columns the runner or the mapper fills; a mapping may not set them.
LINEAGE = {"run_id", "source_file", "source_file_sha256", "record_index", "source_ref", "content_sha256"}
# Columns a row must end up with, beyond those the mapper derives.
NEEDED = {"documents": ("source", "source_id", "text"), "benchmark_items": ("benchmark", "question")}
# Source fields read when a documents column is neither in `fields` nor in `constants`; `source` defaults to the
# `source_name` option, else the file name without its suffixes.
DEFAULT_FIELDS = {"documents": {"source_id": "id", "text": "text", "title": "title"}, "benchmark_items": {}}
_TRUE, _FALSE = {"true", "t", "yes", "y", "1"}, {"false", "f", "no", "n", "0"}


class MappingError(ValueError):
    """A value that cannot fill its column; `reason` is the quarantine reason code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class MappingOptions(StrictModel):
    table: Literal["documents", "benchmark_items"] = "documents"
    fields: dict[str, str] = Field(default_factory=dict)  # column -> source field (dotted path)
    constants: dict[str, Any] = Field(default_factory=dict)  # column -> value for every row
    meta: list[str] = Field(default_factory=list)  # source fields copied into the `meta` JSON column
    split: str | None = None  # benchmark_items: the split, unless mapped
    source_name: str | None = None  # documents: `source` when neither mapped nor a constant (default: file stem)

    @model_validator(mode="after")
    def _check(self) -> MappingOptions:
        columns = set(load_schema(self.table).names) - LINEAGE
        for section in ("fields", "constants"):
            for key in getattr(self, section):
                if key not in columns:
                    raise ValueError(f"{section}.{key}: not a column of {self.table} (known: {sorted(columns)})")
        both = sorted(set(self.fields) & set(self.constants))
        if both:
            raise ValueError(f"fields and constants both set {both}")
        given = set(self.fields) | set(self.constants) | set(DEFAULT_FIELDS[self.table])
        if self.table == "documents":
            given.add("source")  # source_name, else the file stem
        missing = [c for c in NEEDED[self.table] if c not in given]
        if missing:
            raise ValueError(f"fields: {self.table} needs {missing} mapped in `fields` or set in `constants`")
        return self


def file_stem(path: Path) -> str:
    """`docs.jsonl.gz` → `docs`: the default source name of a tabular file."""
    return path.name.removesuffix(".gz").rsplit(".", 1)[0] if "." in path.name else path.name


def get_path(obj: Any, path: str) -> Any:
    """`a.b.c` into nested mappings; a key that itself contains dots is tried whole first."""
    if isinstance(obj, dict) and path in obj:
        return obj[path]
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def _options(value: Any) -> list[dict[str, str]]:
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, dict):
        return [{"label": str(k), "text": str(v)} for k, v in value.items()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [{"label": LABELS[i], "text": v} for i, v in enumerate(value)]
    if isinstance(value, list) and all(isinstance(v, dict) and {"label", "text"} <= set(v) for v in value):
        return [{"label": str(v["label"]), "text": str(v["text"])} for v in value]
    raise TypeError("options must be a list of strings, a {label: text} mapping or a list of {label, text}")


def coerce(value: Any, type_: str) -> Any:
    """Convert a source value to a column type, or raise TypeError/ValueError. Lossless conversions only."""
    if type_ == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    elif type_ == "json":
        return value if isinstance(value, dict | list) else json.loads(value) if isinstance(value, str) else value
    elif type_ == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
    elif type_ in ("int32", "int64"):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
    elif type_ in ("float32", "float64"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            return float(value)
    elif type_ == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            return dt.date.fromisoformat(value.strip()[:10])
    elif type_ == "list<string>":
        if isinstance(value, str):
            value = json.loads(value) if value.lstrip().startswith("[") else [value]
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return list(value)
    elif type_.startswith("list<struct<label"):
        return _options(value)
    raise TypeError(f"{type(value).__name__} {str(value)[:60]!r} is not a {type_}")


class Mapper:
    """Maps raw rows (dicts) of one source file to table rows."""

    def __init__(self, options: MappingOptions, split: str | None = None, path: Path | None = None):
        self.o = options
        given = {*options.fields, *options.constants}
        defaults = {c: f for c, f in DEFAULT_FIELDS[options.table].items() if c not in given}
        self.fields = {**defaults, **options.fields}
        self.constants = dict(options.constants)
        if options.table == "documents" and "source" not in given:
            self.constants["source"] = options.source_name or (file_stem(path) if path else None)
        self.schema = load_schema(options.table)
        self.split = split or options.split
        self.types = {c.name: c.type for c in self.schema.columns}
        self.required = set(NEEDED[options.table]) | {c for c in self.schema.required() if c not in LINEAGE}

    def __call__(self, raw: dict[str, Any], index: int, ref: str) -> Record | Rejection:
        try:
            row = self._map(raw)
        except MappingError as e:
            return Rejection(e.reason, ref, raw, str(e))
        row.update(record_index=index, source_ref=ref)
        return Record(row)

    def _value(self, column: str, raw: dict[str, Any]) -> Any:
        if column in self.constants:
            value, origin = self.constants[column], "constant"
        else:
            value, origin = get_path(raw, self.fields[column]), f"field {self.fields[column]!r}"
        if value is None or value == "":
            return None
        try:
            return coerce(value, self.types[column])
        except (TypeError, ValueError) as e:
            raise MappingError("wrong_type", f"{origin} → {column}: {e}") from None

    def _map(self, raw: dict[str, Any]) -> dict[str, Any]:
        row = {c: self._value(c, raw) for c in (*self.fields, *self.constants)}
        if self.o.table == "documents":
            self._documents(row, raw)
        else:
            self._items(row)
        missing = sorted(c for c in self.required if row.get(c) in (None, ""))
        if missing:
            named = [f"{c} (field {self.fields[c]!r})" if c in self.fields else c for c in missing]
            raise MappingError("missing_field", f"missing {', '.join(named)}")
        if self.o.meta:
            row["meta"] = {**(row.get("meta") or {}), **{k: get_path(raw, k) for k in self.o.meta}}
        return row

    def _documents(self, row: dict[str, Any], raw: dict[str, Any]) -> None:
        if row.get("source") and row.get("source_id"):
            row.setdefault("doc_id", f"{row['source']}:{row['source_id']}")
            row.setdefault("work_id", row["doc_id"])
        row["version"] = row.get("version") or 1
        license_id, commercial = normalize_license(row.get("license"))
        if isinstance(row.get("license"), str) and row["license"].startswith("http"):
            row.setdefault("license_url", row["license"])
        row["license"] = license_id
        if row.get("commercial_use") is None:
            row["commercial_use"] = commercial

    def _items(self, row: dict[str, Any]) -> None:
        row["split"] = row.get("split") or self.split
        labels = {o["label"]: o["text"] for o in row.get("options") or []}
        if labels and row.get("answer") is not None:
            if row["answer"] not in labels:
                raise MappingError("answer_not_in_options", f"answer {row['answer']!r} not in {sorted(labels)}")
            row.setdefault("answer_text", labels[row["answer"]])
        if row.get("benchmark") and row.get("split") and row.get("question") and not row.get("item_id"):
            texts = [o["text"] for o in row.get("options") or []]
            row["item_id"] = stable_item_id(row["benchmark"], row["split"], row["question"], *texts)
