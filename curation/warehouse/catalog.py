"""DuckDB catalog: a view per table (over its Parquet parts), latest-wins views per annotation table, the derived
views in warehouse/views.sql, and `documents_enriched` joining documents with every annotation table.

`connect()` builds the views in an in-memory database (cheap, lock-free, always current). `refresh_catalog()` writes
the same views into <warehouse>/catalog.duckdb for external tools (duckdb CLI, notebooks, BI tools).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb

from curation.kg.views import install_kg_views
from curation.resources import views_sql
from curation.warehouse.schemas import TableSchema, all_schemas
from curation.warehouse.store import Warehouse

_RUNS_COLUMNS = {
    "run_id": "VARCHAR",
    "stage": "VARCHAR",
    "status": "VARCHAR",
    "started_at": "TIMESTAMP WITH TIME ZONE",
    "finished_at": "TIMESTAMP WITH TIME ZONE",
    "duration_s": "DOUBLE",
    "code_version": "VARCHAR",
    "params": "JSON",
    "inputs": "JSON",
    "outputs": "JSON",
    "counts": "JSON",
    "quarantine_reasons": "JSON",
    "timings_s": "JSON",
    "models": "JSON",
    "tokens": "JSON",
    "errors": "JSON",
    "extra": "JSON",
}
_READ_ONLY_TYPES = {"SELECT", "EXPLAIN"}


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def view_name(schema: TableSchema) -> str:
    return schema.name.replace("/", "_")


def _base_view_sql(wh: Warehouse, schema: TableSchema) -> str:
    if not wh.files(schema.name):
        return schema.empty_select_sql()
    return f"SELECT * FROM read_parquet({_q(wh.glob(schema.name))}, union_by_name = true)"


def _latest_sql(schema: TableSchema, base: str) -> str:
    """Annotation rows are keyed by doc_id (or record_id); a later run's row replaces an earlier one."""
    key = ", ".join(f'"{k}"' for k in schema.key)
    return (
        f"SELECT * EXCLUDE (_rn) FROM (SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY run_id DESC) AS _rn "
        f"FROM ({base})) WHERE _rn = 1"
    )


def _runs_sql(wh: Warehouse) -> str:
    if not any(wh.runs_dir.glob("*.json")):
        cols = ", ".join(f'CAST(NULL AS {t}) AS "{c}"' for c, t in _RUNS_COLUMNS.items())
        return f"SELECT {cols} WHERE false"
    cols = "{" + ", ".join(f"{_q(c)}: {_q(t)}" for c, t in _RUNS_COLUMNS.items()) + "}"
    return f"SELECT * FROM read_json({_q(str(wh.runs_dir / '*.json'))}, columns = {cols}, format = 'auto')"


def _enriched_sql(annotation_schemas: list[TableSchema]) -> str:
    """documents_latest joined with every doc_id-keyed annotation table; column names must not collide."""
    seen: dict[str, str] = {}
    select, joins = ["d.*"], []
    for i, s in enumerate(annotation_schemas):
        if s.key != ("doc_id",):
            continue
        alias = f"a{i}"
        for c in s.columns:
            if c.name in ("doc_id", "run_id"):
                continue
            if c.name in seen:
                raise ValueError(f"column {c.name!r} is in both {seen[c.name]} and {s.name}; rename one")
            seen[c.name] = s.name
            select.append(f'{alias}."{c.name}"')
        stage = s.name.removeprefix("annotations_")
        select.append(f'{alias}.run_id AS "{stage}_run_id"')
        joins.append(f"LEFT JOIN {view_name(s)} {alias} USING (doc_id)")
    return f"SELECT {', '.join(select)} FROM documents_latest d {' '.join(joins)}"


def absent_enriched_columns(wh: Warehouse) -> list[str]:
    """Columns of `documents_enriched` that come from annotation tables with no written units: their placeholder
    views make them bind, but they hold no data yet (a filter on them would test NULLs, not annotations)."""
    absent = []
    for s in all_schemas().values():
        if s.annotation and s.key == ("doc_id",) and not wh.files(s.name):
            absent += [c.name for c in s.columns if c.name not in ("doc_id", "run_id")]
            absent.append(f"{s.name.removeprefix('annotations_')}_run_id")
    return absent


def _checked_sql(name: str) -> str:
    """A synthetic table with its decontamination result; `contaminated` is NULL for a record never checked, and
    release selection keeps only `contaminated IS FALSE`."""
    return (
        f"SELECT s.*, d.contaminated, d.contam_benchmark, d.contam_item_id, d.contam_rule, d.overlap "
        f"FROM {name} s LEFT JOIN synthetic_decontam d ON d.source_table = {_q(name)} AND d.record_id = s.record_id"
    )


def create_views(con: duckdb.DuckDBPyConnection, wh: Warehouse) -> None:
    schemas = all_schemas()
    annotations = []
    for schema in schemas.values():
        base = _base_view_sql(wh, schema)
        sql = _latest_sql(schema, base) if schema.annotation else base
        con.execute(f"CREATE OR REPLACE VIEW {view_name(schema)} AS {sql}")
        if schema.annotation:
            annotations.append(schema)
    con.execute(f"CREATE OR REPLACE VIEW runs AS {_runs_sql(wh)}")
    con.execute(Path(views_sql()).read_text())
    install_kg_views(con)
    con.execute(f"CREATE OR REPLACE VIEW documents_enriched AS {_enriched_sql(annotations)}")
    if "synthetic_decontam" in schemas:
        for name in schemas:
            if name.startswith("synthetic_") and name != "synthetic_decontam":
                con.execute(f"CREATE OR REPLACE VIEW {name}_checked AS {_checked_sql(name)}")


def connect(wh: Warehouse) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with every warehouse view defined."""
    con = duckdb.connect(":memory:")
    create_views(con, wh)
    return con


def refresh_catalog(wh: Warehouse) -> Path:
    """Rewrite <warehouse>/catalog.duckdb with the current views (atomically: build aside, then rename)."""
    wh.ensure()
    tmp = wh.root / f".catalog-{uuid.uuid4().hex[:8]}.duckdb"
    con = duckdb.connect(str(tmp))
    try:
        create_views(con, wh)
    finally:
        con.close()
    os.replace(tmp, wh.catalog_path)
    return wh.catalog_path


def check_read_only(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Refuse statements that could write (COPY, CREATE, INSERT, ATTACH, SET, ...); `--write` skips this."""
    for st in con.extract_statements(query):
        kind = str(st.type).rsplit(".", 1)[-1]
        if kind not in _READ_ONLY_TYPES:
            raise PermissionError(f"{kind} statements are not allowed in read-only mode (use --write)")
