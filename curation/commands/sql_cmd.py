"""`medcurate sql QUERY`: ad hoc SQL over the warehouse views, one sandboxed query unless --write."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import typer
from rich.table import Table

from curation.commands.common import cli_errors, out, warehouse
from curation.errors import UserError

CELL_CHARS = 60  # table cells longer than this are cut (the full value: --wide, --format csv/json/jsonl)


class OutFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


def _cell(value: Any, wide: bool) -> str:
    """A table cell: NULL spelled out; unless wide, on one line and cut to CELL_CHARS so a row stays a line."""
    if value is None:
        return "NULL"
    text = str(value)
    if wide:
        return text
    text = text.replace("\r\n", "⏎").replace("\n", "⏎").replace("\r", "⏎")
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def _print_table(cols: list[str], rows: Sequence[tuple], limit: int, wide: bool) -> None:
    t = Table(show_lines=False)
    for c in cols:
        t.add_column(c, overflow="fold" if wide else "ellipsis", no_wrap=not wide)
    for r in rows[:limit]:
        t.add_row(*(_cell(v, wide) for v in r))
    out.print(t)
    if len(rows) > limit:
        out.print(f"… {len(rows) - limit} more rows (use --max-rows, or --format csv/jsonl for all)")


def sql(
    query: str = typer.Argument(
        ...,
        help="one SQL query; views: documents, documents_latest, documents_current, "
        "documents_enriched, benchmark_items, quarantine, runs, annotations_*",
    ),
    format: OutFormat = typer.Option(OutFormat.table, "--format", help="table | csv | json | jsonl"),
    write: bool = typer.Option(
        False,
        "--write",
        help="run any SQL with full access: several statements; COPY, CREATE, ATTACH, SET, INSTALL, EXPLAIN ANALYZE; "
        "files and URLs outside the warehouse; extension installs. Without it: one query, warehouse files only.",
    ),
    limit: int = typer.Option(1000, "--max-rows", help="rows printed in table format"),
    wide: bool = typer.Option(False, "--wide", help=f"table format: show whole cells (default: cut at {CELL_CHARS})"),
    show_raw_phi: bool = typer.Option(
        False, "--show-raw-phi", help="show the text of raw clinical notes (masked as NULL by default)"
    ),
) -> None:
    """Run SQL over the warehouse with DuckDB (read-only and sandboxed to the warehouse unless --write)."""
    import duckdb

    from curation.deid.guard import mask_raw_text
    from curation.warehouse.catalog import connect, connect_sandboxed, read_only_statement, require_warehouse

    with cli_errors():
        wh = require_warehouse(warehouse())
        try:
            statement: str | duckdb.Statement
            if write:
                con = connect(wh)
                statement = query
            else:
                statement = read_only_statement(query)
                con = connect_sandboxed(wh)
            if not show_raw_phi:
                mask_raw_text(con)
            cur = con.execute(statement)
        except duckdb.PermissionException as e:
            first = str(e).splitlines()[0]
            raise PermissionError(
                f"{first} (read-only mode reads only files inside {wh.root}; --write lifts this)"
            ) from None
        except duckdb.Error as e:
            raise UserError(str(e)) from None
        if cur.description is None:
            out.print("ok")
            return
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
    if format is OutFormat.csv:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(cols)
        w.writerows(rows)
    elif format is OutFormat.json:
        sys.stdout.write(json.dumps([dict(zip(cols, r, strict=True)) for r in rows], default=str, indent=1) + "\n")
    elif format is OutFormat.jsonl:
        for r in rows:
            sys.stdout.write(json.dumps(dict(zip(cols, r, strict=True)), default=str, ensure_ascii=False) + "\n")
    else:
        _print_table(cols, rows, limit, wide)


def register(root: typer.Typer) -> None:
    root.command("sql")(sql)
