"""DuckDB catalog: a view per table (over its Parquet parts), latest-wins views per annotation table, the derived
views in warehouse/views.sql, and `documents_enriched` joining documents with every annotation table.

`connect()` builds the views in an in-memory database (cheap, lock-free, always current); `connect_sandboxed()` is
the same for untrusted SQL (`medcurate sql`): DuckDB may read only files inside the warehouse. `refresh_catalog()`
writes the views into <warehouse>/catalog.duckdb for external tools (duckdb CLI, notebooks, BI tools) with paths
relative to the warehouse, so a copied or moved warehouse stays self-contained: open it with the warehouse as the
working directory or as DuckDB's `file_search_path`.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import duckdb

from curation.errors import DiskFull, is_disk_full
from curation.kg.views import install_kg_views
from curation.resources import views_sql
from curation.warehouse.schemas import TableSchema, all_schemas, warehouse_schemas
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
# catalog.duckdb holds only views, so it loses nothing by using an older storage format that the `duckdb` CLI on PyPI
# (duckdb-cli, released behind the Python package) can open too.
CATALOG_STORAGE_VERSION = "v1.4.0"
# Applied in this order: allowed_directories can only be set while external access is still enabled, and nothing can
# be changed once the configuration is locked.
_SANDBOX_SETTINGS = (
    ("autoinstall_known_extensions", "false"),
    ("autoload_known_extensions", "false"),
    ("enable_external_access", "false"),
    ("lock_configuration", "true"),
)


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def view_name(schema: TableSchema) -> str:
    return schema.name.replace("/", "_")


def _path(wh: Warehouse, path: str | Path, relative: bool) -> str:
    """A path as the views spell it: absolute, or relative to the warehouse root (for catalog.duckdb)."""
    return str(Path(path).relative_to(wh.root)) if relative else str(path)


def _base_view_sql(wh: Warehouse, schema: TableSchema, relative: bool) -> str:
    if not wh.files(schema.name):
        return schema.empty_select_sql()
    return f"SELECT * FROM read_parquet({_q(_path(wh, wh.glob(schema.name), relative))}, union_by_name = true)"


def _latest_sql(schema: TableSchema, base: str) -> str:
    """Annotation rows are keyed by doc_id (or record_id); a later run's row replaces an earlier one."""
    key = ", ".join(f'"{k}"' for k in schema.key)
    return (
        f"SELECT * EXCLUDE (_rn) FROM (SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY run_id DESC) AS _rn "
        f"FROM ({base})) WHERE _rn = 1"
    )


def _runs_sql(wh: Warehouse, relative: bool) -> str:
    if not any(wh.runs_dir.glob("*.json")):
        cols = ", ".join(f'CAST(NULL AS {t}) AS "{c}"' for c, t in _RUNS_COLUMNS.items())
        return f"SELECT {cols} WHERE false"
    cols = "{" + ", ".join(f"{_q(c)}: {_q(t)}" for c, t in _RUNS_COLUMNS.items()) + "}"
    return (
        f"SELECT * FROM read_json({_q(_path(wh, wh.runs_dir / '*.json', relative))}, columns = {cols}, format = 'auto')"
    )


def _enriched_sql(annotation_schemas: list[TableSchema]) -> str:
    """documents_latest joined with every doc_id-keyed annotation table; column names must not collide."""
    seen: dict[str, str] = {}
    select, joins = ["d.*"], []
    for i, s in enumerate(annotation_schemas):
        if s.key != ("doc_id",):
            continue
        alias = f"a{i}"
        stage = s.name.removeprefix("annotations_")
        prefix = f"{stage}__" if "__" in stage else ""  # an instance's columns: <scorer>__<instance>__<column>
        for c in s.columns:
            if c.name in ("doc_id", "run_id"):
                continue
            name = prefix + c.name
            if name in seen:
                raise ValueError(f"column {name!r} is in both {seen[name]} and {s.name}; rename one")
            seen[name] = s.name
            select.append(f'{alias}."{c.name}" AS "{name}"')
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


def create_views(con: duckdb.DuckDBPyConnection, wh: Warehouse, *, relative: bool = False) -> None:
    schemas = warehouse_schemas(wh.root)
    annotations = []
    for schema in schemas.values():
        base = _base_view_sql(wh, schema, relative)
        sql = _latest_sql(schema, base) if schema.annotation else base
        con.execute(f"CREATE OR REPLACE VIEW {view_name(schema)} AS {sql}")
        if schema.annotation:
            annotations.append(schema)
    con.execute(f"CREATE OR REPLACE VIEW runs AS {_runs_sql(wh, relative)}")
    con.execute(Path(views_sql()).read_text())
    install_kg_views(con)
    con.execute(f"CREATE OR REPLACE VIEW documents_enriched AS {_enriched_sql(annotations)}")
    if "synthetic_decontam" in schemas:
        for name in schemas:
            if name.startswith("synthetic_") and name != "synthetic_decontam":
                con.execute(f"CREATE OR REPLACE VIEW {name}_checked AS {_checked_sql(name)}")


def require_warehouse(wh: Warehouse) -> Warehouse:
    """Refuse a directory that is not a warehouse: querying it would answer 0 rows, as if the tables were empty."""
    if not wh.is_warehouse():
        raise FileNotFoundError(
            f"no warehouse at {wh.root} (no runs/, catalog.duckdb or table directory there); "
            "pass --warehouse DIR or set MEDCURATE_WAREHOUSE"
        )
    return wh


def connect(wh: Warehouse) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with every warehouse view defined."""
    con = duckdb.connect(":memory:")
    create_views(con, wh)
    return con


def connect_sandboxed(wh: Warehouse) -> duckdb.DuckDBPyConnection:
    """`connect()` for untrusted SQL: files and URLs outside the warehouse are unreachable (DuckDB refuses them as
    they are bound, `..` and symlinks out of the warehouse included), no extension is installed or loaded, and the
    configuration is locked so the SQL cannot undo any of it. It does not stop writes inside the warehouse: only
    `read_only_statement` does, by admitting nothing but one query."""
    con = connect(wh)
    con.execute("SET allowed_directories = ?", [[str(wh.root) + os.sep]])
    for name, value in _SANDBOX_SETTINGS:
        con.execute(f"SET {name} = {value}")
    return con


def refresh_catalog(wh: Warehouse) -> Path:
    """Rewrite <warehouse>/catalog.duckdb with the current views (atomically: build aside, then rename)."""
    wh.ensure()
    tmp = wh.root / f".catalog-{uuid.uuid4().hex[:8]}.duckdb"
    try:
        con = duckdb.connect(str(tmp), config={"storage_compatibility_version": CATALOG_STORAGE_VERSION})
        try:
            con.execute("SET file_search_path = ?", [str(wh.root)])  # the relative views bind as they are created
            create_views(con, wh, relative=True)
        finally:
            con.close()
        os.replace(tmp, wh.catalog_path)
    except (OSError, duckdb.Error) as e:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        if is_disk_full(e):
            raise DiskFull("catalog", wh.catalog_path) from e
        raise
    return wh.catalog_path


def read_only_statement(query: str) -> duckdb.Statement:
    """The one query in `query`, classified by DuckDB's own parser; anything else is refused (`--write` skips this).

    Only SELECT statements pass (which includes WITH, VALUES, FROM-first, DESCRIBE, SUMMARIZE and SHOW). EXPLAIN is
    refused because EXPLAIN ANALYZE runs the statement it explains (`explain analyze copy ... to` writes files)."""
    statements = duckdb.extract_statements(query)
    if len(statements) != 1:
        raise PermissionError(
            f"read-only mode runs exactly one statement, got {len(statements)}; use --write to run several"
        )
    kind = statements[0].type.name
    if kind != "SELECT":
        raise PermissionError(
            f"{kind} statements are not allowed in read-only mode, only a single query (SELECT, WITH, VALUES, "
            "DESCRIBE, SUMMARIZE, SHOW); use --write to run it with full access"
        )
    return statements[0]
