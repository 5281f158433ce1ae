"""Format `kvtext`: one document per line, `id<TAB>title<TAB>text`; a line without three fields is quarantined."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from curation.config_base import StrictModel
from curation.ingest.formats import FORMATS, FormatSpec
from curation.ingest.items import Item, Record
from curation.warehouse.quarantine import Rejection


class Options(StrictModel):
    source: str = "kvtext"
    license: str = "CC0-1.0"


def parse(path: Path, options: Options, split: str | None) -> Iterator[Item]:
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            ref = f"{path.name}:{i + 1}"
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                yield Rejection("missing_field", ref, line, f"{len(parts)} fields, expected 3")
                continue
            sid, title, text = parts
            yield Record(
                {
                    "doc_id": f"{options.source}:{sid}",
                    "work_id": f"{options.source}:{sid}",
                    "source": options.source,
                    "source_id": sid,
                    "version": 1,
                    "title": title,
                    "text": text,
                    "license": options.license,
                    "commercial_use": True,
                    "record_index": i,
                    "source_ref": ref,
                }
            )


FORMATS.register(FormatSpec("kvtext", parse, Options, "documents"))
