"""Stream the passages of one chunking unit, in passage_id order, as task inputs."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb

from curation.synth.passages import passages_glob
from curation.warehouse import Warehouse

PASSAGE_COLUMNS = ("passage_id", "doc_id", "text")


def passage_rows(wh: Warehouse, unit: str | None, limit: int | None) -> Iterator[dict]:
    if not unit or not wh.has_unit("passages", unit):
        return
    lim = f" LIMIT {int(limit)}" if limit else ""
    con = duckdb.connect(":memory:")
    reader = con.sql(
        f"SELECT {', '.join(PASSAGE_COLUMNS)} FROM read_parquet(?) ORDER BY passage_id{lim}",
        params=[passages_glob(wh, unit)],
    ).to_arrow_reader(1000)
    for batch in reader:
        for r in batch.to_pylist():
            yield {**r, "input_id": r["passage_id"], "source_ref": r["passage_id"]}
