"""`medcurate decontam [MANIFEST]`: flag documents and synthetic records that contain benchmark evaluation items."""

from __future__ import annotations

from pathlib import Path

import typer

from curation.commands.common import cli_errors, out, warehouse_arg


def default_manifest() -> Path:
    from curation.resources import manifests_dir

    return manifests_dir() / "demo.yaml"


def decontam(manifest: Path = typer.Argument(None, help="manifest YAML (default: the demo manifest)")) -> None:
    """Build the evaluation-item index and write annotations_decontam / synthetic_decontam."""
    from flows.decontam import decontam_flow

    with cli_errors():
        manifest = manifest or default_manifest()
        if not manifest.is_file():
            raise FileNotFoundError(f"manifest not found: {manifest}")
        s = decontam_flow(manifest_path=str(manifest), warehouse=warehouse_arg())
    out.print(
        f"run {s['run_id']}: {s['contaminated']}/{s['documents']} documents contaminated "
        f"({s['index_items']} eval items indexed, {s['docs_per_s']} docs/s)"
    )
    for table, n in s["records"].items():
        out.print(f"  {table}: {n} contaminated records")


def register(root: typer.Typer) -> None:
    root.command("decontam")(decontam)
