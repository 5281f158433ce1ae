"""The score stage as plain functions: which registered scorers run, which models they use, and training what is
missing (the perplexity scorer's reference LM, the educational classifier from teacher labels: once, later runs
reuse the trained model under the warehouse; `score annotate` / `score train` refresh it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from curation.quality.config import EduConfig, PerplexityConfig, ScoreConfig, TeacherConfig
from curation.quality.reference_lm import NoTrustedDocuments, train_from_warehouse
from curation.quality.runtime import configure_threads
from curation.quality.scoring import Scorer, ScorerEnv, as_instance, run_scorer, scorer_specs
from curation.quality.teacher import annotate, make_engine
from curation.synth.engine import Engine
from curation.warehouse import Warehouse
from curation.warehouse.runs import RunRecorder

EngineFactory = Callable[[TeacherConfig, Warehouse], Engine]


def under_warehouse(wh: Warehouse, path: str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else wh.root / p


def model_ref(wh: Warehouse, path: str) -> str:
    """A model given in the manifest: a path as given, else relative to the warehouse, else a Hub id."""
    p = Path(path).expanduser()
    if p.is_absolute() or p.exists():
        return str(p)
    return str(wh.root / p) if (wh.root / p).exists() else path


def train_reference(wh: Warehouse, cfg: PerplexityConfig, run: RunRecorder) -> Path:
    with run.timed("train_reference_lm"):
        dest = train_from_warehouse(wh, cfg.reference, under_warehouse(wh, cfg.reference.output_dir))
    run.set("models", "reference_lm_trained", str(dest))
    return dest


def perplexity_model(wh: Warehouse, cfg: PerplexityConfig, run: RunRecorder) -> str | None:
    """The LM of a perplexity scorer (its own section: an instance may name another model)."""
    if not cfg.enabled:
        return None
    if cfg.model:
        return model_ref(wh, cfg.model)
    ref = under_warehouse(wh, cfg.reference.output_dir)
    if (ref / "LATEST").is_file():
        return str(ref)
    if not cfg.train_reference_if_missing:
        return None
    try:
        train_reference(wh, cfg, run)
    except NoTrustedDocuments as e:  # a corpus without trusted text still gets its other scores
        run.error(f"perplexity skipped: {e}")
        return None
    return str(ref)


def train_edu(wh: Warehouse, cfg: EduConfig, run: RunRecorder) -> Path:
    from curation.quality.edu_train import load_examples, train_classifier

    teacher = cfg.teacher.model if cfg.teacher else None
    examples = load_examples(wh, teacher)
    with run.timed("train_edu"):
        dest = train_classifier(
            examples, cfg.train, under_warehouse(wh, cfg.train.output_dir), {"teacher_model": teacher}
        )
    run.set("models", "edu_trained", str(dest))
    return dest


def edu_model(
    wh: Warehouse, cfg: EduConfig, run: RunRecorder, engine_factory: EngineFactory = make_engine
) -> str | None:
    if cfg.model:
        return model_ref(wh, cfg.model)
    if cfg.teacher is None:
        return None
    trained = under_warehouse(wh, cfg.train.output_dir)
    if (trained / "LATEST").is_file():  # labelled and trained by an earlier run: the teacher is not paid twice
        return str(trained)
    from curation.synth.engine import GeneratorUnavailable

    try:
        engine = engine_factory(cfg.teacher, wh)
    except GeneratorUnavailable as e:  # e.g. the default teacher's wheel is not installed: the other scores still run
        run.error(f"edu skipped: no teacher model. {e}")
        return None
    try:
        with run.timed("teacher"):
            run.set("extra", "teacher", annotate(wh, engine, cfg.teacher, run))
    finally:
        engine.close()
    from curation.quality.edu_train import TooFewLabels

    try:
        return str(train_edu(wh, cfg, run).parent)
    except TooFewLabels as e:  # the other scores still run; the run record says why edu did not
        run.error(f"edu skipped: {e}")
        return None


def scorers(
    wh: Warehouse,
    cfg: ScoreConfig,
    run: RunRecorder,
    only: set[str] | None = None,
    engine_factory: EngineFactory = make_engine,
) -> list[Scorer]:
    """The registered scorers to run, in order; models are trained or loaded only for the scorers that run."""
    out = []
    for spec in scorer_specs():
        for key in cfg.instances_of(spec.name):
            if only is not None and spec.name not in only and key not in only:
                continue
            scorer = spec.build(ScorerEnv(wh, cfg, run, engine_factory, key))
            if scorer is not None:
                out.append(as_instance(scorer, spec, key))
    for s in out:
        run.set("models", s.name, s.version)
    return out


def run_score(
    wh: Warehouse,
    cfg: ScoreConfig,
    run: RunRecorder,
    *,
    only: set[str] | None = None,
    engine_factory: EngineFactory = make_engine,
) -> dict[str, Any]:
    """Run the configured scorers (or those named in `only`) over current documents; returns per-scorer totals."""
    run.set("extra", "threads", configure_threads(cfg.threads))
    summary: dict[str, Any] = {}
    for scorer in scorers(wh, cfg, run, only, engine_factory):
        totals = run_scorer(wh, scorer, run, batch_rows=cfg.batch_rows, force=cfg.force)
        summary[scorer.name] = {"version": scorer.version, **totals}
    return summary
