"""Hugging Face `datasets` sources (format `hf`) into `documents` or `benchmark_items`, with the tabular mapping.

The path is a `save_to_disk` directory (memory-mapped Arrow, read row by row) or data files that
`load_dataset("json" | "parquet" | "csv", data_files=..., streaming=True)` reads without building a cache.
`open_dataset("hf://org/name", ...)` streams a hub dataset when online; the ingest runner hashes local files
for its ledger, so manifests use local paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from curation.errors import IngestConfigError
from curation.ingest.formats import FORMATS, FormatSpec
from curation.ingest.items import Item
from curation.ingest.mapping import Mapper, MappingOptions
from curation.ingest.tabular import format_of, map_rows

HUB_PREFIX = "hf://"


class Options(MappingOptions):
    loader: Literal["auto", "disk", "json", "parquet", "csv"] = "auto"  # auto: directory → disk, else suffix
    hf_split: str | None = None  # which split of a DatasetDict / hub dataset (default: the source split)
    config: str | None = None  # hub dataset configuration name


def open_dataset(source: str | Path, options: Options, split: str | None = None) -> Iterable[dict[str, Any]]:
    import datasets

    wanted = options.hf_split or split
    if isinstance(source, str) and source.startswith(HUB_PREFIX):
        return datasets.load_dataset(source[len(HUB_PREFIX) :], options.config, split=wanted or "train", streaming=True)
    path = Path(source)
    loader = options.loader if options.loader != "auto" else "disk" if path.is_dir() else format_of(path)
    if loader == "disk":
        ds = datasets.load_from_disk(str(path))
        if isinstance(ds, datasets.DatasetDict):
            if wanted not in ds:
                raise IngestConfigError(f"{path}: choose a split with option hf_split: one of {sorted(ds)}")
            ds = ds[wanted]
        return ds
    builder = {"jsonl": "json"}.get(loader, loader)
    return datasets.load_dataset(builder, data_files=str(path), split="train", streaming=True)


def check(path: Path, options: Options, split: str | None) -> None:
    """A data file must name its format by suffix (or option loader): IngestConfigError before any row is read."""
    if options.loader == "auto" and not path.is_dir():
        format_of(path)


def parse(path: Path, options: Options, split: str | None) -> Iterator[Item]:
    rows = ((i, f"{path}#row{i}", row) for i, row in enumerate(open_dataset(path, options, split)))
    yield from map_rows(rows, Mapper(options, split, path))


FORMATS.register(FormatSpec("hf", parse, Options, "documents", check, reads_directories=True))
