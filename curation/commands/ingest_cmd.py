"""`medcurate ingest`: from a manifest, or ad hoc from paths with --format."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from curation.commands.common import cli_errors, console, out, warehouse_arg
from curation.ingest.config import FORMATS


def _parse_option(kv: str) -> tuple[str, object]:
    key, sep, value = kv.partition("=")
    if not sep:
        raise ValueError(f"--option expects KEY=VALUE, got {kv!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def ingest(
    paths: list[Path] = typer.Argument(None, help="a manifest YAML, or source files with --format"),
    format: str = typer.Option(None, "--format", "-f", help=f"one of {', '.join(FORMATS)}"),
    split: str = typer.Option(None, "--split", help="benchmark split (train, validation, test, ...)"),
    source_name: str = typer.Option(None, "--source-name", help="source name for ad hoc ingest"),
    option: list[str] = typer.Option(None, "--option", "-o", help="format option KEY=VALUE (JSON values)"),
    force: bool = typer.Option(False, "--force", help="re-ingest files already in the ledger"),
    runner: str = typer.Option("threads", "--runner", help="task runner for the per-file tasks: threads | ray"),
    ray_address: str = typer.Option(None, "--ray-address", help="Ray cluster address (default: local Ray)"),
) -> None:
    """Ingest source files into the warehouse. Files already ingested with the same sha256 are skipped."""
    from curation.ingest.formats import check_options
    from curation.ingest.runner import IngestJob
    from flows.ingest import ingest_flow, ingest_paths

    with cli_errors():
        if not paths:
            raise ValueError("give a manifest, or --format and one or more paths")
        if format is None:
            if len(paths) != 1 or paths[0].suffix not in (".yaml", ".yml"):
                raise ValueError("without --format, give exactly one manifest (.yaml)")
            summary = ingest_flow(
                manifest_path=str(paths[0]),
                warehouse=warehouse_arg(),
                force=force,
                runner=runner,
                ray_address=ray_address,
            )
        else:
            options = dict(_parse_option(o) for o in option or [])
            check_options(format, options)
            for p in paths:
                if not p.exists():
                    raise FileNotFoundError(f"no such file: {p}")
            jobs = [IngestJob(str(p), format, source_name or format, split, options) for p in paths]
            summary = ingest_paths(warehouse_arg(), jobs, force=force, runner=runner, ray_address=ray_address)
    _print_summary(summary)
    if summary.get("files_failed"):
        raise typer.Exit(1)


def _print_summary(s: dict) -> None:
    out.print(
        f"run {s['run_id']}: {s['files_ingested']} files ingested, {s['files_skipped']} skipped, "
        f"{s['files_failed']} failed; {s['rows']} rows, {s['deleted']} deletions, {s['quarantined']} quarantined"
    )
    for reason, n in sorted(s.get("quarantine_reasons", {}).items()):
        console.print(f"  quarantined {n} × {reason}")
    if s.get("quarantined"):
        console.print(
            f"  see: medcurate sql \"select reason, source_ref, detail from quarantine where run_id = '{s['run_id']}'\""
        )


def register(root: typer.Typer) -> None:
    root.command("ingest")(ingest)
