"""`medcurate score [MANIFEST]` and `medcurate quality train-lm|annotate|train|score`."""

from __future__ import annotations

from pathlib import Path

import typer

from curation.commands.common import cli_errors, console, out, warehouse, warehouse_arg

quality_app = typer.Typer(
    help="Quality models: reference LM, teacher labels, educational classifier.", no_args_is_help=True
)

MANIFEST = typer.Argument(None, help="manifest YAML (its `quality:` section); default settings when omitted")


def _config(manifest: Path | None):
    from flows.score import quality_config

    return quality_config(str(manifest) if manifest else None)


def score(
    manifest: Path | None = MANIFEST,
    only: list[str] = typer.Option(None, "--only", help="clean, perplexity or edu (repeatable)"),
    force: bool = typer.Option(False, "--force", help="rescore documents already scored with the same settings"),
) -> None:
    """Annotate current documents: clean heuristics, perplexity, educational classifier."""
    from flows.score import score_flow

    with cli_errors():
        s = score_flow(
            manifest_path=str(manifest) if manifest else None, warehouse=warehouse_arg(), only=only or None, force=force
        )
    out.print(f"run {s['run_id']}: {s['scored']} annotations, {s['quarantined']} quarantined")
    for name in ("clean", "perplexity", "edu"):
        if name in s:
            out.print(
                f"  {name} ({s[name]['version']}): {s[name]['scored']} scored, {s[name]['quarantined']} quarantined"
            )


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
        with start_run(warehouse().ensure(), "score-train-lm", {**params, "reference": ref.model_dump()}) as run:
            dest = train_reference(warehouse(), cfg, run)
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
            raise ValueError("quality.edu.teacher is not configured in the manifest")
        wh = warehouse().ensure()
        with start_run(wh, "score-annotate", {**params, "teacher": cfg.edu.teacher.model_dump()}) as run:
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
        with start_run(warehouse().ensure(), "score-train", {**params, "train": tcfg.model_dump()}) as run:
            dest = train_edu(warehouse(), cfg, run)
    out.print(f"edu classifier saved to {dest}")
    out.print((dest / "MODEL_CARD.md").read_text())
    console.print(f"score with it: set quality.edu.model: {dest.parent} in the manifest, then `medcurate score`")


def register(root: typer.Typer) -> None:
    root.command("score")(score)
    quality_app.command("train-lm")(train_lm)
    quality_app.command("annotate")(annotate)
    quality_app.command("train")(train)
    quality_app.command("score")(score)
    root.add_typer(quality_app, name="quality")
