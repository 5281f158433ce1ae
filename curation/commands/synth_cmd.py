"""`medcurate synth`: generate synthetic data for the manifest's tasks (or --task), with a progress bar;
`medcurate synth make-tiny-model DIR` builds an offline random-weight test model."""

from __future__ import annotations

from pathlib import Path

import typer

from curation.commands.common import cli_errors, console, out, warehouse_arg


def synth(
    args: list[str] = typer.Argument(..., help="MANIFEST, or: make-tiny-model DIR"),
    task: list[str] = typer.Option(None, "--task", "-t", help="grounded_qa, mcq_cot or dialogue (repeatable)"),
    no_cache: bool = typer.Option(False, "--no-cache", help="neither read nor write the response cache"),
    layers: int = typer.Option(2, help="make-tiny-model: decoder layers"),
    hidden: int = typer.Option(128, help="make-tiny-model: hidden size (hidden / heads must be >= 32)"),
    heads: int = typer.Option(2, help="make-tiny-model: attention heads"),
) -> None:
    """Generate synthetic data for the manifest's synth tasks (or --task); a rerun is served from the response
    cache. `medcurate synth make-tiny-model DIR` builds a random-weight offline test model."""
    if args[0] == "make-tiny-model":
        if len(args) != 2:
            raise typer.BadParameter("usage: medcurate synth make-tiny-model DIR")
        make_tiny(Path(args[1]), layers, hidden, heads)
        return
    if len(args) != 1:
        raise typer.BadParameter("give exactly one manifest")
    run(Path(args[0]), task, no_cache)


def run(manifest: Path, task: list[str] | None, no_cache: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from curation.synth import progress
    from flows.synth import synth_flow

    with (
        cli_errors(),
        Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as bar,
    ):
        bars: dict[str, int] = {}

        def show(name: str, done: int, total: int) -> None:
            if name not in bars:
                bars[name] = bar.add_task(name, total=total)
            bar.update(bars[name], completed=done, total=total)

        progress.add_listener(show)
        try:
            summary = synth_flow(
                manifest_path=str(manifest), warehouse=warehouse_arg(), tasks=task or None, no_cache=no_cache
            )
        finally:
            progress.remove_listener(show)
    if summary["status"] == "skipped":
        console.print(f"[bold red]synth skipped:[/] {summary['message']}")
        raise typer.Exit(2)
    out.print(
        f"run {summary['run_id']}: {summary['rows']} rows, {summary['quarantined']} quarantined, "
        f"{summary['cache_hits']} cache hits"
    )
    for name, s in summary["tasks"].items():
        out.print(
            f"  {name}: {s['inputs']} inputs -> {s['rows']} rows, {s['quarantined']} quarantined; "
            f"tokens in {s['prompt']} out {s['output']} ({s['output_tokens_per_s']} tok/s fresh), "
            f"{s['cache_hits']} cache hits"
        )


def make_tiny(out_dir: Path, layers: int, hidden: int, heads: int) -> None:
    from curation.synth.tiny_model import make_tiny_model

    with cli_errors():
        path = make_tiny_model(out_dir, layers=layers, hidden=hidden, heads=heads)
    out.print(f"tiny model in {path}; set `synth.model: {path}` in the manifest")


def register(root: typer.Typer) -> None:
    root.command("synth")(synth)
