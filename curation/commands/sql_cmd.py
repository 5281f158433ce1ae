"""`medcurate sql QUERY`: ad hoc SQL over the warehouse views (read-only unless --write)."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum

import typer
from rich.table import Table

from curation.commands.common import cli_errors, out, warehouse


class OutFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def sql(
    query: str = typer.Argument(
        ...,
        help="SQL; views: documents, documents_latest, documents_current, "
        "documents_enriched, benchmark_items, quarantine, runs, annotations_*",
    ),
    format: OutFormat = typer.Option(OutFormat.table, "--format", help="table | csv | json"),
    write: bool = typer.Option(False, "--write", help="allow statements other than SELECT/EXPLAIN"),
    limit: int = typer.Option(1000, "--max-rows", help="rows printed in table format"),
) -> None:
    """Run SQL over the warehouse with DuckDB."""
    import duckdb

    from curation.warehouse.catalog import check_read_only, connect

    with cli_errors():
        con = connect(warehouse())
        try:
            if not write:
                check_read_only(con, query)
            cur = con.execute(query)
        except duckdb.Error as e:
            raise ValueError(str(e)) from None
        if cur.description is None:
            out.print("ok")
            return
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
    if format is OutFormat.csv:
        w = csv.writer(sys.stdout)
        w.writerow(cols)
        w.writerows(rows)
    elif format is OutFormat.json:
        sys.stdout.write(json.dumps([dict(zip(cols, r, strict=True)) for r in rows], default=str, indent=1) + "\n")
    else:
        t = Table(*cols, show_lines=False)
        for r in rows[:limit]:
            t.add_row(*("NULL" if v is None else str(v) for v in r))
        out.print(t)
        if len(rows) > limit:
            out.print(f"… {len(rows) - limit} more rows (use --format csv for all)")


def register(root: typer.Typer) -> None:
    root.command("sql")(sql)
