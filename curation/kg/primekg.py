"""PrimeKG-style CSV (`kg.csv`): one edge per row with both endpoints described inline
(`relation, display_relation, x_index, x_id, x_type, x_name, x_source, y_index, y_id, y_type, y_name, y_source`).

Node ids are `{source}:{id}` (e.g. `MONDO:8019`); the relation is `display_relation` (what MedReason puts in its
paths) and the metaedge is `relation`. PrimeKG edges are undirected (it lists both directions)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from curation.config_base import StrictModel
from curation.ingest.textio import open_text
from curation.kg.items import Bad, Edge, Item, Node
from curation.kg.licenses import UNKNOWN, fixed

REQUIRED = (
    "relation",
    "display_relation",
    "x_id",
    "x_type",
    "x_name",
    "x_source",
    "y_id",
    "y_type",
    "y_name",
    "y_source",
)


class Options(StrictModel):
    license: str = UNKNOWN
    commercial_use: bool | None = None
    delimiter: str = ","


def read(paths: list[Path], options: Options) -> Iterator[Item]:
    licence = fixed(options.license, options.commercial_use, "PrimeKG")
    for path in paths:
        if path.is_dir():
            raise ValueError(f"primekg: give the CSV file, not a directory: {path}")
        with open_text(path) as f:
            reader = csv.reader(f, delimiter=options.delimiter)
            header = next(reader, None) or []
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise ValueError(f"{path}: not a PrimeKG CSV, missing columns {missing}")
            col = {c: header.index(c) for c in REQUIRED}
            for cols in reader:
                ref = f"{path}:{reader.line_num}"
                if len(cols) != len(header) or any(not cols[i].strip() for i in col.values()):
                    yield Bad(
                        "malformed_line",
                        ref,
                        options.delimiter.join(cols),
                        f"{len(cols)} fields, header has {len(header)}",
                    )
                    continue
                ends = []
                for side in ("x", "y"):
                    node_id = f"{cols[col[side + '_source']]}:{cols[col[side + '_id']]}"
                    ends.append(node_id)
                    yield Node(node_id, cols[col[side + "_name"]], cols[col[side + "_type"]], licence, ref, path)
                yield Edge(
                    ends[0], cols[col["display_relation"]], ends[1], cols[col["relation"]], False, licence, ref, path
                )
