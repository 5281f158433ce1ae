"""`medcurate manifest check FILE`."""

from __future__ import annotations

from pathlib import Path

import typer

from curation.commands.common import cli_errors, out

app = typer.Typer(help="Inspect build manifests.", no_args_is_help=True)


@app.command("check")
def check(file: Path = typer.Argument(..., help="manifest YAML")) -> None:
    """Validate a manifest: unknown keys, types, format options, and that every source path matches files."""
    from curation.manifest import load_manifest

    with cli_errors():
        m = load_manifest(file)
        n_files = sum(len(m.source_files(s)) for s in m.sources)
    out.print(f"[green]ok[/] {file}: {m.name}, stages {m.stages}, {len(m.sources)} sources, {n_files} files")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="manifest")
