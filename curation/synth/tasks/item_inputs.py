"""Stream benchmark items of chosen splits (the latest ingest of each item), in item_id order, as task inputs."""

from __future__ import annotations

from collections.abc import Iterator

from curation.warehouse import Warehouse, connect

ITEM_COLUMNS = ("item_id", "benchmark", "question", "options", "answer", "source_ref")


def item_rows(wh: Warehouse, splits: list[str], benchmarks: list[str] | None, limit: int | None) -> Iterator[dict]:
    con = connect(wh)
    where, params = ["split IN (SELECT unnest(?))"], [splits]
    if benchmarks:
        where.append("benchmark IN (SELECT unnest(?))")
        params.append(benchmarks)
    lim = f" LIMIT {int(limit)}" if limit else ""
    reader = con.sql(
        f"SELECT {', '.join(ITEM_COLUMNS)} FROM benchmark_items WHERE {' AND '.join(where)} "
        f"QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY run_id DESC) = 1 ORDER BY item_id{lim}",
        params=params,
    ).to_arrow_reader(1000)
    for batch in reader:
        for r in batch.to_pylist():
            yield {**r, "input_id": r["item_id"]}
