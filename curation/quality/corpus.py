"""Reading documents for scoring: streamed in Arrow batches from DuckDB, never the whole corpus in Python."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from curation.warehouse import Warehouse, connect


@dataclass(frozen=True)
class Doc:
    doc_id: str
    text: str


def doc_text(title: str | None, text: str | None) -> str:
    """What the scorers see: the title, a blank line, then the text (abstract or body)."""
    title, text = (title or "").strip(), (text or "").strip()
    return f"{title}\n\n{text}" if title and text else title or text


def stream_docs(
    wh: Warehouse,
    *,
    where: str | None = None,
    skip_scored: tuple[str, str, str] | None = None,
    batch_rows: int = 1000,
    limit: int | None = None,
    order: str = "doc_id",
) -> Iterator[list[Doc]]:
    """Batches of current documents, optionally filtered by a SQL WHERE clause over documents_current.

    `skip_scored` = (annotation view, version column, version): documents that already have a row with that
    version are left out, which is what makes a rerun resume where a crashed run stopped.
    """
    con = connect(wh)
    try:
        sql, params = _docs_query(con, where, skip_scored)
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        reader: pa.RecordBatchReader = con.sql(sql, params=params).to_arrow_reader(batch_rows)
        for batch in reader:
            cols = batch.to_pydict()
            yield [Doc(i, doc_text(t, x)) for i, t, x in zip(cols["doc_id"], cols["title"], cols["text"], strict=True)]
    finally:
        con.close()


def count_docs(wh: Warehouse, *, where: str | None = None, skip_scored: tuple[str, str, str] | None = None) -> int:
    """How many documents `stream_docs` would yield with the same filters (the total of a progress line)."""
    con = connect(wh)
    try:
        sql, params = _docs_query(con, where, skip_scored)
        return int(con.sql(f"SELECT count(*) FROM ({sql})", params=params).fetchall()[0][0])
    finally:
        con.close()


def _docs_query(
    con: duckdb.DuckDBPyConnection, where: str | None, skip_scored: tuple[str, str, str] | None
) -> tuple[str, list[str]]:
    sql = "SELECT d.doc_id, d.title, d.text FROM documents_current d"
    conds, params = [], []
    if where:
        conds.append(f"({where})")
    if skip_scored and _has_view(con, skip_scored[0]):  # an instance's table appears with its first unit
        view, column, version = skip_scored
        conds.append(f"NOT EXISTS (SELECT 1 FROM {view} a WHERE a.doc_id = d.doc_id AND a.{column} = ?)")
        params.append(version)
    if conds:
        sql += " WHERE " + " AND ".join(conds)
    return sql, params


def _has_view(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = ?", [name]).fetchall()[0][0])
