"""Install the KG views and the `kg_neighbors(node, hops)` macro (views.sql beside this module) on a DuckDB
connection whose kg_nodes / kg_edges views already exist (curation.warehouse.catalog.create_views)."""

from __future__ import annotations

from pathlib import Path

import duckdb

VIEWS_SQL = Path(__file__).with_name("views.sql")


def install_kg_views(con: duckdb.DuckDBPyConnection) -> None:
    """No-op on a connection without the KG tables' views (a catalog over a subset of the schemas)."""
    have = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    if {"kg_nodes", "kg_edges"} <= have:
        con.execute(VIEWS_SQL.read_text())
