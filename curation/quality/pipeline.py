"""The score stage as plain functions: which scorers run, which models they use, and training what is missing.

- clean always runs (unless disabled);
- perplexity runs with `perplexity.model`, else with the reference LM under the warehouse, trained first when it
  is missing and `train_reference_if_missing` is set;
- edu runs with `edu.model`, else when a teacher is configured: label a sample, train, then score (once: later
  runs reuse the trained classifier under the warehouse; `quality annotate` / `quality train` refresh it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from curation.clean.annotate import CleanScorer
from curation.quality.config import QualityConfig, TeacherConfig
from curation.quality.reference_lm import NoTrustedDocuments, train_from_warehouse
from curation.quality.runtime import configure_threads
from curation.quality.scoring import Scorer, run_scorer
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


def train_reference(wh: Warehouse, cfg: QualityConfig, run: RunRecorder) -> Path:
    with run.timed("train_reference_lm"):
        dest = train_from_warehouse(
            wh, cfg.perplexity.reference, under_warehouse(wh, cfg.perplexity.reference.output_dir)
        )
    run.set("models", "reference_lm_trained", str(dest))
    return dest


def perplexity_model(wh: Warehouse, cfg: QualityConfig, run: RunRecorder) -> str | None:
    if not cfg.perplexity.enabled:
        return None
    if cfg.perplexity.model:
        return model_ref(wh, cfg.perplexity.model)
    ref = under_warehouse(wh, cfg.perplexity.reference.output_dir)
    if (ref / "LATEST").is_file():
        return str(ref)
    if not cfg.perplexity.train_reference_if_missing:
        return None
    try:
        train_reference(wh, cfg, run)
    except NoTrustedDocuments as e:  # a corpus without trusted text still gets its other scores
        run.error(f"perplexity skipped: {e}")
        return None
    return str(ref)


def train_edu(wh: Warehouse, cfg: QualityConfig, run: RunRecorder) -> Path:
    from curation.quality.edu_train import load_examples, train_classifier

    teacher = cfg.edu.teacher.model if cfg.edu.teacher else None
    examples = load_examples(wh, teacher)
    with run.timed("train_edu"):
        dest = train_classifier(
            examples, cfg.edu.train, under_warehouse(wh, cfg.edu.train.output_dir), {"teacher_model": teacher}
        )
    run.set("models", "edu_trained", str(dest))
    return dest


def edu_model(
    wh: Warehouse, cfg: QualityConfig, run: RunRecorder, engine_factory: EngineFactory = make_engine
) -> str | None:
    if cfg.edu.model:
        return model_ref(wh, cfg.edu.model)
    if cfg.edu.teacher is None:
        return None
    trained = under_warehouse(wh, cfg.edu.train.output_dir)
    if (trained / "LATEST").is_file():  # labelled and trained by an earlier run: the teacher is not paid twice
        return str(trained)
    from curation.synth.engine import GeneratorUnavailable

    try:
        engine = engine_factory(cfg.edu.teacher, wh)
    except GeneratorUnavailable as e:  # e.g. the default teacher's wheel is not installed: the other scores still run
        run.error(f"edu skipped: no teacher model. {e}")
        return None
    try:
        with run.timed("teacher"):
            run.set("extra", "teacher", annotate(wh, engine, cfg.edu.teacher, run))
    finally:
        engine.close()
    return str(train_edu(wh, cfg, run).parent)


def scorers(
    wh: Warehouse,
    cfg: QualityConfig,
    run: RunRecorder,
    only: set[str] | None = None,
    engine_factory: EngineFactory = make_engine,
) -> list[Scorer]:
    """The scorers to run, in order; models are trained or loaded only for the scorers that run."""
    from curation.quality.edu_score import EduScorer
    from curation.quality.perplexity import PerplexityScorer

    def wanted(name: str) -> bool:
        return only is None or name in only

    out: list[Scorer] = [CleanScorer(cfg.clean)] if cfg.clean.enabled and wanted("clean") else []
    if wanted("perplexity") and (lm := perplexity_model(wh, cfg, run)) is not None:
        out.append(PerplexityScorer(lm, cfg.perplexity))
    if wanted("edu") and (clf := edu_model(wh, cfg, run, engine_factory)) is not None:
        out.append(EduScorer(clf, cfg.edu))
    for s in out:
        run.set("models", s.name, s.version)
    return out


def run_score(
    wh: Warehouse,
    cfg: QualityConfig,
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
