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
STATUS_STYLE = {"ran": "green", "skipped": "dim", "unavailable": "yellow", "not_run": "yellow"}


def build(
    manifest: Path = typer.Argument(..., help="manifest YAML, e.g. manifests/demo.yaml"),
    from_stage: str = typer.Option(None, "--from", help="first stage to run (pipeline order)"),
    to_stage: str = typer.Option(None, "--to", help="last stage to run (pipeline order)"),
    force: bool = typer.Option(False, "--force", help="run stages even when their inputs are unchanged"),
    runner: str = typer.Option("threads", "--runner", help="task runner for per-shard tasks: threads | ray"),
    ray_address: str = typer.Option(None, "--ray-address", help="Ray cluster address (default: local Ray)"),
) -> None:
    """Run the manifest's stages in order as one Prefect flow run; stages whose inputs are unchanged are skipped."""
    from curation.manifest import load_manifest
    from curation.warehouse.catalog import connect
    from curation.warehouse.lock import warehouse_lock
    from flows.build import build_flow, select_stages
    from flows.common import RUNNERS

    with cli_errors():
        if runner not in RUNNERS:
            raise ValueError(f"--runner must be one of {', '.join(RUNNERS)}")
        select_stages(load_manifest(manifest), from_stage, to_stage)
        with warehouse_lock(warehouse(), command=f"medcurate build {manifest}"):  # fail fast, before Prefect starts
            results = build_flow(
                manifest_path=str(manifest),
                warehouse=warehouse_arg(),
                from_stage=from_stage,
                to_stage=to_stage,
                force=force,
                runner=runner,
                ray_address=ray_address,
            )
    wh = warehouse()
    out.print(f"\n[bold green]built[/] {manifest} into {wh.root}")
    for stage, r in results.items():
        brief = {k: v for k, v in (r.get("summary") or {}).items() if isinstance(v, int | float | str)}
        note = r.get("reason") or brief
        out.print(
            f"  {stage}: [{STATUS_STYLE.get(r['status'], 'white')}]{r['status']}[/] {r.get('seconds', '')} {note}"
        )
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
