"""`medcurate runs` and `medcurate runs show RUN_ID`."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from curation.commands.common import cli_errors, out, warehouse

app = typer.Typer(help="List and inspect run records.", invoke_without_command=True)


@app.callback()
def runs(ctx: typer.Context, stage: str = typer.Option(None, help="only this stage")) -> None:
    """List runs, newest last."""
    if ctx.invoked_subcommand:
        return
    from curation.warehouse.runs import load_runs

    t = Table("run_id", "stage", "status", "duration_s", "counts", "quarantined")
    for r in load_runs(warehouse()):
        if stage and r["stage"] != stage:
            continue
        counts = ", ".join(f"{k}={v}" for k, v in sorted(r.get("counts", {}).items()) if k != "quarantined")
        t.add_row(
            r["run_id"],
            r["stage"],
            r["status"],
            str(r.get("duration_s")),
            counts,
            str(r.get("counts", {}).get("quarantined", 0)),
        )
    out.print(t)


@app.command("show")
def show(
    run_id: str = typer.Argument(..., help="a run id (or a unique part of one)"),
    as_json: bool = typer.Option(False, "--json", help="print the raw record"),
) -> None:
    """Show one run: parameters, inputs, counts, quarantine reasons, timings, models, tokens, errors."""
    from curation.warehouse.runs import load_run

    with cli_errors():
        r = load_run(warehouse(), run_id)
    if as_json:
        out.print_json(json.dumps(r, default=str))
        return
    out.print(f"[bold]{r['run_id']}[/]  stage={r['stage']} status={r['status']} duration={r.get('duration_s')}s")
    out.print(f"code {r.get('code_version')}  started {r.get('started_at')}  finished {r.get('finished_at')}")
    for section in ("params", "counts", "quarantine_reasons", "timings_s", "models", "tokens"):
        if r.get(section):
            out.print(f"[bold]{section}[/]")
            for k, v in r[section].items():
                out.print(f"  {k}: {v}")
    if r.get("inputs"):
        out.print(f"[bold]inputs[/] ({len(r['inputs'])})")
        for i in r["inputs"][:50]:
            out.print(f"  {i['sha256'][:12]}  {i['path']}  {i.get('status', '')}")
    for e in r.get("errors", []):
        out.print(f"[red]error[/] {e['message']}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="runs")
