"""Registry of source formats: which module parses each, which table it fills, and its options model.

A format module defines `Options` (a StrictModel) and `parse(path, options, split) -> Iterator[Item]`.
Modules are imported lazily so that reading a manifest does not load every parser.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import ValidationError

from curation.config_base import StrictModel
from curation.ingest.items import Item


@dataclass(frozen=True)
class FormatSpec:
    name: str
    module: str
    table: str  # default table; tabular formats may choose with options.table

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)

    def options(self, raw: dict[str, Any]) -> StrictModel:
        return self.load().Options.model_validate(raw)

    def table_for(self, options: StrictModel) -> str:
        return getattr(options, "table", None) or self.table

    def parser(self) -> Callable[[Path, StrictModel, str | None], Iterator[Item]]:
        return self.load().parse


FORMATS: dict[str, FormatSpec] = {
    "pubmed": FormatSpec("pubmed", "curation.ingest.pubmed", "documents"),
    "pmc": FormatSpec("pmc", "curation.ingest.pmc", "documents"),
    "medqa": FormatSpec("medqa", "curation.ingest.benchmarks.medqa", "benchmark_items"),
    "medmcqa": FormatSpec("medmcqa", "curation.ingest.benchmarks.medmcqa", "benchmark_items"),
    "pubmedqa": FormatSpec("pubmedqa", "curation.ingest.benchmarks.pubmedqa", "benchmark_items"),
    "mmlu": FormatSpec("mmlu", "curation.ingest.benchmarks.mmlu", "benchmark_items"),
    "jsonl": FormatSpec("jsonl", "curation.ingest.tabular", "documents"),
    "parquet": FormatSpec("parquet", "curation.ingest.tabular", "documents"),
    "csv": FormatSpec("csv", "curation.ingest.tabular", "documents"),
    "hf": FormatSpec("hf", "curation.ingest.hf", "documents"),
    "notes": FormatSpec("notes", "curation.ingest.notes", "documents"),
}


def get_format(name: str) -> FormatSpec:
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}; known: {sorted(FORMATS)}")
    return FORMATS[name]


def check_options(fmt: str, raw: dict[str, Any]) -> StrictModel:
    """Validate a source's options against its format; raises ValueError with the offending keys."""
    try:
        return get_format(fmt).options(raw)
    except ValidationError as e:
        msgs = []
        for err in e.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(options)"
            msgs.append(f"{loc}: {'unknown key' if err['type'] == 'extra_forbidden' else err['msg']}")
        raise ValueError("; ".join(msgs)) from None
