"""`medcurate validate [MANIFEST] [--table T]`: expectation suites and row rules over the warehouse tables."""

from __future__ import annotations

from pathlib import Path

import typer

from curation.commands.common import cli_errors, out, warehouse_arg
from curation.commands.decontam_cmd import default_manifest


def validate(
    manifest: Path = typer.Argument(None, help="manifest YAML (default: the demo manifest)"),
    table: list[str] = typer.Option(None, "--table", "-t", help="validate only this table (repeatable)"),
) -> None:
    """Validate tables; writes JSON + Data Docs under <warehouse>/validation/<run_id>/. Exit 1 when one fails."""
    from curation.manifest import load_manifest
    from flows.validate import tables_to_validate, validate_flow

    with cli_errors():
        manifest = manifest or default_manifest()
        tables_to_validate(load_manifest(manifest).validate_, table or None)  # unknown tables: fail before the flow
        s = validate_flow(manifest_path=str(manifest), warehouse=warehouse_arg(), tables=table or None)
    out.print(
        f"run {s['run_id']}: {s['tables']} tables, failed {s['failed'] or 'none'}, "
        f"skipped {s['skipped'] or 'none'}, {s['failing_rows']} failing rows quarantined"
    )
    out.print(f"reports: {s['report_dir']}")


def register(root: typer.Typer) -> None:
    root.command("validate")(validate)
