"""`medcurate synth make-tiny-model DIR`: a random-weight offline model for fast plumbing tests."""

from __future__ import annotations

from pathlib import Path

import typer

from curation.commands.common import cli_errors, out


def make_tiny(
    out_dir: Path = typer.Argument(..., help="where to write the model"),
    layers: int = typer.Option(2, help="decoder layers"),
    hidden: int = typer.Option(128, help="hidden size (hidden / heads must be >= 32)"),
    heads: int = typer.Option(2, help="attention heads"),
) -> None:
    """Build a tiny random-weight model (transformers config + a locally trained tokenizer), for tests."""
    from curation.synth.tiny_model import make_tiny_model

    with cli_errors():
        path = make_tiny_model(out_dir, layers=layers, hidden=hidden, heads=heads)
    out.print(f"tiny model in {path}; set `synth.model: {path}` in the manifest")


def register(app: typer.Typer) -> None:
    app.command("make-tiny-model")(make_tiny)
