"""Install the KG views and the `kg_neighbors(node, hops)` macro (views.sql beside this module) on a DuckDB
connection whose kg_nodes / kg_edges views already exist (curation.warehouse.catalog.create_views)."""

from __future__ import annotations

from pathlib import Path

import duckdb

VIEWS_SQL = Path(__file__).with_name("views.sql")


def install_kg_views(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(VIEWS_SQL.read_text())
