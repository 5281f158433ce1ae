"""`medcurate build MANIFEST`: run every stage the manifest lists, then print what was built."""

from __future__ import annotations

from pathlib import Path

import typer

from curation.commands.common import cli_errors, out, warehouse, warehouse_arg

# What a build leaves behind, as (label, query returning one number).
BUILT = [
    ("documents (all occurrences)", "select count(*) from documents"),
    ("documents_current (current, not deleted)", "select count(*) from documents_current"),
    ("deleted works", "select count(*) from documents_latest where is_deleted"),
    ("superseded versions", "select count(*) from documents_latest where not is_current"),
    ("benchmark_items", "select count(*) from benchmark_items"),
    ("quarantined", "select count(*) from quarantine"),
]

EXAMPLES = [
    "select source, count(*) as docs from documents_current group by 1 order by 1",
    "select benchmark, split, count(*) from benchmark_items group by all order by all",
    "select stage, reason, n from quarantine_summary",
    "select run_id, stage, status, duration_s from runs order by run_id",
]


def build(manifest: Path = typer.Argument(..., help="manifest YAML, e.g. manifests/demo.yaml")) -> None:
    """Run the manifest's stages in order as one Prefect flow run."""
    from curation.manifest import load_manifest
    from curation.warehouse.catalog import connect
    from flows.build import build_flow

    with cli_errors():
        load_manifest(manifest)
        summaries = build_flow(manifest_path=str(manifest), warehouse=warehouse_arg())
    wh = warehouse()
    out.print(f"\n[bold green]built[/] {manifest} into {wh.root}")
    for stage, s in summaries.items():
        brief = {k: v for k, v in (s or {}).items() if isinstance(v, int | float | str)}
        out.print(f"  {stage}: {brief}")
    con = connect(wh)
    out.print("\n[bold]warehouse contents[/]")
    for label, q in BUILT:
        out.print(f"  {label}: {con.execute(q).fetchone()[0]}")
    out.print("\nTry:")
    for q in EXAMPLES:
        n = len(con.execute(q).fetchall())
        out.print(f'  medcurate sql "{q}"   [dim]({n} rows)[/]')


def register(root: typer.Typer) -> None:
    root.command("build")(build)
