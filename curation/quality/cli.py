"""Sub-actions of `medcurate score`: train the reference LM, label a sample with the teacher, train the
educational classifier. Each writes a run record of the score stage and holds the warehouse lock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from curation.commands.common import cli_errors, console, out, warehouse, writing
from curation.errors import UserError

MANIFEST = typer.Argument(None, help="manifest YAML (its `score:` section); default settings when omitted")


def _config(manifest: Path | None) -> tuple[Any, dict[str, Any]]:
    from curation.manifest import load_manifest
    from curation.quality.config import ScoreConfig

    if manifest is None:
        console.print("no manifest given: using the score stage's default settings")
        return ScoreConfig(), {"manifest": None}
    m = load_manifest(manifest, check_paths=False)
    return m.section("score"), {"manifest": str(m.path), "manifest_sha256": m.sha256}


def train_lm(
    manifest: Path | None = MANIFEST,
    sql: str = typer.Option(None, "--sql", help="WHERE clause over documents_current choosing the trusted subset"),
    steps: int = typer.Option(None, "--steps", help="training steps"),
    output: str = typer.Option(None, "--output", help="model directory (versions go inside)"),
) -> None:
    """Train the small GPT-2-style reference LM on a trusted subset chosen by SQL."""
    from curation.quality.pipeline import train_reference
    from curation.warehouse import start_run

    with cli_errors():
        cfg, params = _config(manifest)
        ref = cfg.perplexity.reference.model_copy(
            update={k: v for k, v in {"trusted_sql": sql, "steps": steps, "output_dir": output}.items() if v}
        )
        cfg = cfg.model_copy(update={"perplexity": cfg.perplexity.model_copy(update={"reference": ref})})
        with (
            writing("score train-lm"),
            start_run(warehouse().ensure(), "score", {**params, "reference": ref.model_dump()}) as run,
        ):
            dest = train_reference(warehouse(), cfg.perplexity, run)
    out.print(f"reference LM saved to {dest}")
    out.print((dest / "MODEL_CARD.md").read_text())


def annotate(manifest: Path | None = MANIFEST) -> None:
    """Label a stratified sample with the teacher LLM (quality.edu.teacher) through the generation engine."""
    from curation.quality.teacher import annotate as run_annotate
    from curation.quality.teacher import make_engine
    from curation.warehouse import refresh_catalog, start_run

    with cli_errors():
        cfg, params = _config(manifest)
        if cfg.edu.teacher is None:
            raise UserError("score.edu.teacher is not configured in the manifest")
        wh = warehouse().ensure()
        with (
            writing("score annotate"),
            start_run(wh, "score", {**params, "teacher": cfg.edu.teacher.model_dump()}) as run,
        ):
            engine = make_engine(cfg.edu.teacher, wh)
            try:
                s = run_annotate(wh, engine, cfg.edu.teacher, run)
            finally:
                engine.close()
        refresh_catalog(wh)
    out.print(
        f"run {run.run_id}: {s['labelled']} of {s['sampled']} sampled documents labelled, "
        f"{s['quarantined']} quarantined"
    )


def train(
    manifest: Path | None = MANIFEST,
    finetune: bool = typer.Option(None, "--finetune/--frozen", help="fine-tune the encoder or keep it frozen"),
    encoder: str = typer.Option(None, "--encoder", help="encoder HF id or path (default all-MiniLM-L6-v2)"),
) -> None:
    """Train the educational classifier on the teacher labels in the warehouse; prints the model card."""
    from curation.quality.pipeline import train_edu
    from curation.warehouse import start_run

    with cli_errors():
        cfg, params = _config(manifest)
        tcfg = cfg.edu.train.model_copy(
            update={k: v for k, v in {"finetune": finetune, "encoder": encoder}.items() if v is not None}
        )
        cfg = cfg.model_copy(update={"edu": cfg.edu.model_copy(update={"train": tcfg})})
        with (
            writing("score train"),
            start_run(warehouse().ensure(), "score", {**params, "train": tcfg.model_dump()}) as run,
        ):
            dest = train_edu(warehouse(), cfg.edu, run)
    out.print(f"edu classifier saved to {dest}")
    out.print((dest / "MODEL_CARD.md").read_text())
    console.print(f"score with it: set score.edu.model: {dest.parent} in the manifest, then `medcurate score`")


def register(app: typer.Typer) -> None:
    app.command("train-lm")(train_lm)
    app.command("annotate")(annotate)
    app.command("train")(train)
