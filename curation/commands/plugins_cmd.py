"""`medcurate plugins`: every registered component of every kind, and where it came from (a built-in module or an
installed package's entry point); plugins that failed to load are listed with their error."""

from __future__ import annotations

import typer
from rich.table import Table

from curation.commands.common import out
from curation.components import registries


def plugins() -> None:
    """List registered stages, formats, benchmarks, tasks, scorers and publishers, with their origin."""
    t = Table("kind", "name", "from")
    failed = []
    from curation.synth.presets import presets

    for kind, reg in registries().items():
        for name in reg.names():
            t.add_row(kind, name, reg.origin(name))
        failed += reg.errors()
        if kind == "tasks":  # the built-in tasks: presets of the declared-task mechanism, not classes
            for p in presets().values():
                t.add_row(kind, p.name, f"preset curation/synth/presets/{p.name}/")
    out.print(t)
    for e in failed:
        out.print(f"[bold red]plugin failed to load[/] ({e.kind}) {e.entry_point}: {e.message}")
    if failed:
        raise typer.Exit(1)


def register(root: typer.Typer) -> None:
    root.command("plugins")(plugins)
