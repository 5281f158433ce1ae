"""Score flow: clean heuristics, perplexity and the educational classifier as annotation tables (nothing is
deleted), one Prefect task per scorer, one run record for the stage."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from curation.manifest import load_manifest
from curation.quality.config import QualityConfig
from curation.quality.pipeline import run_score
from curation.quality.scoring import STAGE
from curation.warehouse import Warehouse, refresh_catalog, start_run
from curation.warehouse.runs import RunRecorder
from flows.common import publish_run_artifact

SCORERS = ("clean", "perplexity", "edu")


@task(name="score-annotations", cache_policy=NO_CACHE)
def score_task(warehouse: str, cfg: QualityConfig, run: RunRecorder, name: str) -> dict[str, Any]:
    """One scorer over every unscored current document (its model is trained first when configured so)."""
    return run_score(Warehouse(warehouse), cfg, run, only={name})


def quality_config(manifest_path: str | None) -> tuple[QualityConfig, dict[str, Any]]:
    if not manifest_path:
        return QualityConfig(), {"manifest": None}
    m = load_manifest(manifest_path)
    return m.quality, {"manifest": manifest_path, "manifest_sha256": m.sha256}


@flow(name="score", log_prints=True)
def score_flow(
    manifest_path: str | None, warehouse: str, only: list[str] | None = None, force: bool = False
) -> dict[str, Any]:
    logger = get_run_logger()
    cfg, params = quality_config(manifest_path)
    if force:
        cfg = cfg.model_copy(update={"force": True})
    unknown = set(only or ()) - set(SCORERS)
    if unknown:
        raise ValueError(f"unknown scorers {sorted(unknown)}; choose from {list(SCORERS)}")
    wh = Warehouse(warehouse).ensure()
    summary: dict[str, Any] = {}
    with start_run(wh, STAGE, {**params, "only": only, "quality": cfg.model_dump()}) as run:
        for name in only or SCORERS:
            result = score_task(str(wh.root), cfg, run, name)
            summary.update(result)
            for scorer, totals in result.items():
                logger.info(
                    "%s (%s): %d scored, %d quarantined",
                    scorer,
                    totals["version"],
                    totals["scored"],
                    totals["quarantined"],
                )
    refresh_catalog(wh)
    publish_run_artifact(run.snapshot())
    return {
        "run_id": run.run_id,
        **summary,
        "scored": sum(v["scored"] for v in summary.values()),
        "quarantined": sum(v["quarantined"] for v in summary.values()),
    }
