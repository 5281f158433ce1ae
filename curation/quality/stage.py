"""The score stage: every registered scorer (clean heuristics, perplexity, educational classifier, plugins) writes
its annotation table; nothing is deleted. One unit of work per scorer, one run record for the stage."""

from __future__ import annotations

from functools import partial
from typing import Any

from pydantic import Field

from curation.config_base import StrictModel
from curation.errors import UserError
from curation.quality.config import ScoreConfig
from curation.quality.scoring import SCORERS, scorer_specs
from curation.stages import STAGES, Stage, StageContext


class ScoreParams(StrictModel):
    only: list[str] = Field(default_factory=list, description="run only these scorers (repeatable)")
    force: bool = Field(False, description="rescore documents already scored with the same settings")


def run(ctx: StageContext) -> dict[str, Any]:
    from curation.quality.pipeline import run_score

    cfg: ScoreConfig = ctx.config
    if ctx.params.force:
        cfg = cfg.model_copy(update={"force": True})
    unknown = sorted(set(ctx.params.only) - set(SCORERS.names()))
    if unknown:
        raise UserError(f"unknown scorers {unknown}; registered: {SCORERS.names()}")
    summary: dict[str, Any] = {}
    for spec in scorer_specs():
        if ctx.params.only and spec.name not in ctx.params.only:
            continue
        future = ctx.submit(
            partial(run_score, only={spec.name}), ctx.warehouse, cfg, ctx.run, name=f"score:{spec.name}"
        )
        for scorer, totals in future.result().items():
            summary[scorer] = totals
            ctx.log.info(
                "%s (%s): %d scored, %d quarantined", scorer, totals["version"], totals["scored"], totals["quarantined"]
            )
    return {
        **summary,
        "scored": sum(v["scored"] for v in summary.values()),
        "quarantined": sum(v["quarantined"] for v in summary.values()),
    }


def _summary(s: dict[str, Any]) -> str:
    per = ", ".join(f"{k} {v['scored']}" for k, v in s.items() if isinstance(v, dict))
    return f"{s['scored']} annotations ({per or 'no scorer ran'}), {s['quarantined']} quarantined"


STAGES.register(
    Stage(
        name="score",
        order=30,
        run=run,
        config=ScoreConfig,
        params=ScoreParams,
        description="quality annotations from every registered scorer (heuristics, perplexity, classifier)",
        reads=("documents_current",),
        writes=lambda: tuple(s.table for s in scorer_specs()),
        threads=lambda cfg: 1,
        commands="curation.quality.cli:register",
        summary=_summary,
    )
)
