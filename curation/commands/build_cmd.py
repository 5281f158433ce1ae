"""`medcurate build MANIFEST`: run every stage the manifest lists, then print what was built."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from curation.commands.common import cli_errors, console, out, warehouse, warehouse_arg, writing

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


def run_local(manifest: Any, force: bool, from_stage: str | None, to_stage: str | None) -> dict[str, Any]:
    """The build in this process: each stage through the generic runner."""
    from curation.orchestrate.build import run_build
    from curation.orchestrate.runner import run_stage
    from curation.progress import display

    def run_one(stage: str, params: dict[str, Any]):
        res = run_stage(stage, warehouse(), manifest, params)
        console.print(f"[green]✓[/] {res.line()}" if res.status == "completed" else f"[yellow]![/] {res.line()}")
        return res

    with display(console):  # one live line per stage on a terminal; periodic log lines elsewhere
        outcome = run_build(manifest, warehouse(), run_one, from_stage=from_stage, to_stage=to_stage, force=force)
    return outcome.stages


def results_table(wh: Any, results: dict[str, Any]) -> Table:
    """Stage, status, rows written, rows quarantined, seconds, and why a stage was skipped or unavailable."""
    from curation.warehouse.runs import load_run

    t = Table("stage", "status", "rows", "quarantined", "seconds", "note")
    for stage, r in results.items():
        record = load_run(wh, r["run_id"]) if r.get("run_id") else {}
        rows = sum(int(o.get("rows") or 0) for o in record.get("outputs", []))
        quarantined = record.get("counts", {}).get("quarantined", 0)
        style = STATUS_STYLE.get(r["status"], "white")
        t.add_row(
            stage,
            f"[{style}]{r['status']}[/]",
            str(rows),
            str(quarantined),
            str(r.get("seconds", "")),
            str(r.get("reason") or ""),
        )
    return t


def build(
    manifest: Path = typer.Argument(..., help="manifest YAML, e.g. manifests/demo.yaml"),
    from_stage: str = typer.Option(None, "--from", help="first stage to run (pipeline order)"),
    to_stage: str = typer.Option(None, "--to", help="last stage to run (pipeline order)"),
    force: bool = typer.Option(False, "--force", help="run stages even when their inputs are unchanged"),
    runner: str = typer.Option("threads", "--runner", help="task runner for per-shard tasks: threads | ray"),
    ray_address: str = typer.Option(None, "--ray-address", help="Ray cluster address (default: local Ray)"),
    prefect: bool = typer.Option(
        False, "--prefect", help="run as a Prefect flow (default when PREFECT_API_URL is set)"
    ),
) -> None:
    """Run the manifest's stages in order; stages whose inputs are unchanged are skipped."""
    from curation.commands.stage_cmd import use_prefect
    from curation.flows.executor import RUNNERS
    from curation.manifest import load_manifest
    from curation.orchestrate.build import select_stages
    from curation.warehouse.catalog import connect

    with cli_errors():
        if runner not in RUNNERS:
            raise typer.BadParameter(f"--runner must be one of {', '.join(RUNNERS)}")
        m = load_manifest(manifest)
        select_stages(m, from_stage, to_stage)
        with writing(f"build {manifest}"):  # fail fast, before Prefect starts
            if use_prefect(prefect, runner):
                from curation.flows.build import build_flow
                from curation.flows.server import temporary_server

                with temporary_server():
                    results = build_flow(
                        manifest_path=str(manifest),
                        warehouse=warehouse_arg(),
                        from_stage=from_stage,
                        to_stage=to_stage,
                        force=force,
                        runner=runner,
                        ray_address=ray_address,
                    )
            else:
                results = run_local(m, force, from_stage, to_stage)
    wh = warehouse()
    out.print(f"\n[bold green]built[/] {manifest} into {wh.root}")
    out.print(results_table(wh, results))
    con = connect(wh)
    out.print("\n[bold]warehouse contents[/]")
    for label, q in BUILT:
        out.print(f"  {label}: {con.execute(q).fetchall()[0][0]}")
    out.print("\nTry:")
    for q in EXAMPLES:
        n = len(con.execute(q).fetchall())
        out.print(f'  medcurate sql "{q}"   [dim]({n} rows)[/]')


def register(root: typer.Typer) -> None:
    root.command("build")(build)
