"""`medcurate synth make-tiny-model DIR`: a random-weight offline model for fast plumbing tests;
`medcurate synth preset NAME`: a built-in task as a `synth.define` entry to copy into a manifest."""

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


def preset(
    name: str = typer.Argument(..., help="a built-in task: grounded_qa, mcq_cot, dialogue"),
    manifest: Path | None = typer.Option(None, help="fill the options from this manifest's synth.<name> section"),
    copy_to: Path | None = typer.Option(None, help="copy the preset's prompt templates into DIR/<name>/"),
) -> None:
    """Print a built-in task as a `synth.define` entry (YAML) to paste into a manifest and edit (docs/recipes.md)."""
    import yaml

    from curation.manifest import load_manifest
    from curation.synth.presets import as_define, copy_templates, presets

    with cli_errors():
        if name not in presets():
            raise typer.BadParameter(f"{name!r} is not a built-in task; presets: {sorted(presets())}")
        section = load_manifest(manifest).section("synth").section(name) if manifest else None
        entry = {"synth": {"define": {f"my_{name}": as_define(name, section)}}}
        copied = copy_templates(name, copy_to) if copy_to else []
    print(yaml.safe_dump(entry, sort_keys=False, allow_unicode=True, width=120), end="")
    for path in copied:
        out.print(f"# copied {path}", style="dim")


def register(app: typer.Typer) -> None:
    app.command("make-tiny-model")(make_tiny)
    app.command("preset")(preset)
