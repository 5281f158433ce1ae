"""`medcurate release verify DIR`: re-check a release against its manifest.json."""

from __future__ import annotations

from pathlib import Path

import typer

from curation.commands.common import cli_errors, console, out


def verify(directory: Path = typer.Argument(..., help="a release directory (with manifest.json)")) -> None:
    """Re-check every file's sha256, size and rows, and the card's counts, against manifest.json."""
    from curation.release.verify import verify as run_verify

    with cli_errors():
        problems = run_verify(directory)
    for p in problems:
        console.print(f"[red]FAIL[/] {p}")
    if problems:
        raise typer.Exit(1)
    out.print(f"[green]ok[/] {directory}: every checksum, row count and card count matches manifest.json")


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
