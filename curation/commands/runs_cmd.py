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
    """Show one run: parameters, counts, outputs, quarantine reasons, timings, models, tokens, errors; for a build,
    what each stage did."""
    from curation.warehouse.runs import load_run

    with cli_errors():
        r = load_run(warehouse(), run_id)
    if as_json:
        out.print_json(json.dumps(r, default=str))
        return
    out.print(f"[bold]{r['run_id']}[/]  stage={r['stage']} status={r['status']} duration={r.get('duration_s')}s")
    out.print(f"code {r.get('code_version')}  started {r.get('started_at')}  finished {r.get('finished_at')}")
    if r.get("params"):
        out.print("[bold]params[/]")
        for k, v in r["params"].items():
            out.print(f"  {k}: {v}")
    for section, header in (
        ("counts", "count"),
        ("quarantine_reasons", "quarantine reason"),
        ("timings_s", "timing (s)"),
        ("models", "model"),
        ("tokens", "tokens"),
    ):
        if r.get(section):
            _print_pairs(header, r[section])
    if r.get("outputs"):
        by_table: dict[str, list[int]] = {}
        for o in r["outputs"]:
            units_rows = by_table.setdefault(o["table"], [0, 0])
            units_rows[0] += 1
            units_rows[1] += int(o.get("rows") or 0)
        t = Table("output table", "units", "rows")
        for table, (units, rows) in sorted(by_table.items()):
            t.add_row(table, str(units), str(rows))
        out.print(t)
    stages = r.get("extra", {}).get("stages")
    if stages:
        t = Table("stage", "status", "seconds", "run", "note")
        for stage, s in stages.items():
            t.add_row(stage, s["status"], str(s.get("seconds", "")), s.get("run_id") or "", s.get("reason", ""))
        out.print(t)
    if r.get("inputs"):
        out.print(f"[bold]inputs[/] ({len(r['inputs'])})")
        for i in r["inputs"][:50]:
            out.print(f"  {i['sha256'][:12]}  {i['path']}  {i.get('status', '')}")
    for e in r.get("errors", []):
        out.print(f"[red]error[/] {e['message']}")
        if e.get("traceback"):
            out.print(f"[dim]{e['traceback'].rstrip()}[/]")


def _print_pairs(header: str, items: dict) -> None:
    t = Table(header, "value")
    for k, v in items.items():
        t.add_row(str(k), str(v))
    out.print(t)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="runs")
