"""Check a propagation job's SQL against the catalog and derive its table's schema.

Columns come from DuckDB: the labels and units queries are described against the warehouse's views (declared tasks'
tables are typed empty views until they have data), so `manifest check` needs no data. The table is an annotation
table keyed by unit_id (a later run's row replaces an earlier one in its view), registered and saved in the warehouse
so SQL, validation and release see it with no code change."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from curation.errors import UserError
from curation.propagate.config import PropagateJob
from curation.propagate.heads import output_columns
from curation.synth.recipe.plan import duck_type
from curation.warehouse import Warehouse, connect
from curation.warehouse.schemas import Column, TableSchema, register_schema, save_declared


class PropagateError(UserError, ValueError):
    """A propagation job that cannot run as written: names the key path and what to change."""


def columns_of(con: duckdb.DuckDBPyConnection, sql: str, where: str) -> dict[str, str]:
    """The query's columns in the schema grammar."""
    try:
        rel = con.sql(f"SELECT * FROM ({sql}) AS q LIMIT 0")
    except duckdb.Error as e:
        raise PropagateError(f"{where}: {str(e).splitlines()[0]}") from None
    return {n: duck_type(t) for n, t in zip(rel.columns, rel.types, strict=True)}


def table_schema(job: PropagateJob, unit_columns: dict[str, str]) -> TableSchema:
    return TableSchema(
        name=job.table,
        key=("unit_id",),
        columns=(
            Column("unit_id", "string", False, "the unit (the units query's unit_id)"),
            *[Column(c, unit_columns[c], True, "carried from the units query") for c in job.carry],
            Column("model", "string", False, "student classifier name@version"),
            *output_columns(job.heads),
            Column("run_id", "string", False),
        ),
        description=job.description or f"student labels of every unit, propagated from teacher labels ({job.name})",
        path=f"annotations/{job.table}",
        annotation=True,
    )


def check_job(con: duckdb.DuckDBPyConnection, job: PropagateJob, where: str) -> TableSchema:
    labels = columns_of(con, job.labels, f"{where}.labels")
    missing = [c for c in ("unit_id", "text", *job.heads) if c not in labels]
    if missing:
        raise PropagateError(f"{where}.labels: the query lacks {missing}; it returns {sorted(labels)}")
    units = columns_of(con, job.units, f"{where}.units")
    missing = [c for c in ("unit_id", "text", *job.carry) if c not in units]
    if missing:
        raise PropagateError(f"{where}.units: the query lacks {missing}; it returns {sorted(units)}")
    clash = sorted(set(job.carry) & {"unit_id", "model", "run_id", *(c.name for c in output_columns(job.heads))})
    if clash:
        raise PropagateError(f"{where}.carry: {clash} are columns the stage writes; carry other columns")
    return table_schema(job, units)


def plan(jobs: list[PropagateJob], wh: Warehouse | None = None) -> list[TableSchema]:
    """Check every job and register its table (and save its schema in `wh`). Without a warehouse the SQL is
    described against an empty catalog (manifest check)."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        con = connect(wh or Warehouse(Path(tmp) / "empty"))
        for i, job in enumerate(jobs):
            schema = check_job(con, job, f"propagate.jobs.{i} ({job.name})")
            try:
                register_schema(schema)
            except ValueError as e:
                raise PropagateError(f"propagate.jobs.{i}.name: {e}") from None
            if wh is not None:
                save_declared(wh.root, schema)
            out.append(schema)
    return out
