"""`medcurate release MANIFEST --version X.Y.Z` and `medcurate release verify DIR`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from typer.core import TyperGroup

from curation.commands.common import cli_errors, console, out, warehouse_arg


class _BuildByDefault(TyperGroup):
    """`release MANIFEST ...` means `release build MANIFEST ...`; `release verify DIR` is the other command."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["build", *args]
        return super().parse_args(ctx, args)


class Target(StrEnum):
    local = "local"
    tar = "tar"
    hf = "hf"


app = typer.Typer(cls=_BuildByDefault, help="Build, publish and verify versioned releases.", no_args_is_help=True)


@app.command("build")
def build(
    manifest: Path = typer.Argument(..., help="manifest YAML"),
    version: str = typer.Option(None, "--version", help="X.Y.Z (default: release.version in the manifest)"),
    out_dir: Path = typer.Option(None, "--out", help="releases directory (default: release.out)"),
    force: bool = typer.Option(False, "--force", help="replace an existing release of this version"),
    publish: Target = typer.Option(None, "--publish", help="local | tar | hf (default: release.publish)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="list the publish operations instead of running them"),
) -> None:
    """Select, split, shard, validate and document a release; then publish it."""
    from flows.release import release_flow

    with cli_errors():
        r = release_flow(
            manifest_path=str(manifest),
            warehouse=warehouse_arg(),
            version=version,
            out=str(out_dir) if out_dir else None,
            force=force,
            publish=publish.value if publish else None,
            dry_run=dry_run,
        )
    out.print(f"[bold green]released[/] {r['path']}: {r['rows']} rows (run {r['run_id']})")
    if r.get("archive"):
        out.print(f"archive {r['archive']}")
    if r["operations"]:
        out.print("operations" + (" (dry run, nothing sent)" if dry_run else ""))
        for op in r["operations"]:
            out.print(f"  {op}")


@app.command("verify")
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


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="release")
