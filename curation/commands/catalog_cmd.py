"""`medcurate catalog refresh`: rewrite <warehouse>/catalog.duckdb, e.g. after copying or moving a warehouse."""

from __future__ import annotations

import typer

from curation.commands.common import cli_errors, out, warehouse

catalog_app = typer.Typer(
    help="The DuckDB catalog file (catalog.duckdb) that external tools open.", no_args_is_help=True
)


@catalog_app.command("refresh")
def refresh() -> None:
    """Rewrite catalog.duckdb from the tables now in the warehouse (stages do this after every run)."""
    from curation.warehouse.catalog import refresh_catalog, require_warehouse

    with cli_errors():
        path = refresh_catalog(require_warehouse(warehouse()))
    out.print(f"refreshed {path}")
    out.print(
        f"open it from Python: duckdb.connect({str(path)!r}, read_only=True, config={{'file_search_path': {str(path.parent)!r}}})"
    )


def register(root: typer.Typer) -> None:
    root.add_typer(catalog_app, name="catalog")
