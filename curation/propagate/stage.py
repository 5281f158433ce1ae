"""The propagate stage: per job, teacher labels on a unit table (a declared synth task's output, or any SQL) train
the encoder student, which labels every unit into propagated_<name> (Biomed-Enriched's and FineWeb-Edu's
teacher -> student step, for units other than documents). Runs after synth, which writes the teacher labels."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from curation.config_base import StrictModel
from curation.errors import UserError
from curation.propagate.config import PropagateConfig
from curation.stages import STAGES, Stage, StageContext
from curation.warehouse.schemas import declared_tables


class PropagateParams(StrictModel):
    job: list[str] = Field(default_factory=list, description="run only these jobs (repeatable)")
    force: bool = Field(False, description="relabel units already labelled by the same student")


def run(ctx: StageContext) -> dict[str, Any]:
    from curation.propagate.job import run_job
    from curation.propagate.plan import plan
    from curation.quality.runtime import configure_threads

    cfg: PropagateConfig = ctx.config
    unknown = sorted(set(ctx.params.job) - {j.name for j in cfg.jobs})
    if unknown:
        raise UserError(f"--job {unknown}: not a job of this manifest; jobs: {[j.name for j in cfg.jobs]}")
    plan(cfg.jobs, ctx.warehouse)
    ctx.run.set("extra", "threads", configure_threads(cfg.threads))
    jobs: dict[str, Any] = {}
    for job in cfg.jobs:
        if ctx.params.job and job.name not in ctx.params.job:
            continue
        force = cfg.force or ctx.params.force
        jobs[job.name] = ctx.submit(run_job, ctx.warehouse, job, ctx.run, force, name=f"propagate:{job.name}").result()
        ctx.run.set("extra", f"propagate.{job.name}", jobs[job.name])
        ctx.log.info("propagate %s: %s", job.name, {k: v for k, v in jobs[job.name].items() if k != "metrics"})
    return {
        "jobs": jobs,
        "labelled": sum(j["labelled"] for j in jobs.values()),
        "skipped": sorted(n for n, j in jobs.items() if "skipped" in j),
    }


def check_manifest(manifest: Any) -> None:
    """`manifest check`: each job's SQL binds (against an empty catalog) and returns the columns it needs."""
    from curation.propagate.plan import plan

    plan(manifest.section("propagate").jobs)


def _summary(s: dict[str, Any]) -> str:
    parts = [
        f"{name}: skipped ({j['skipped']})"
        if "skipped" in j
        else f"{name}: {j['labels']} labels -> {j['labelled']} units labelled (held-out {_metrics(j['metrics'])})"
        for name, j in s["jobs"].items()
    ]
    return "; ".join(parts) or "no propagation job"


def _metrics(m: dict[str, Any]) -> str:
    h = m["heldout"]
    return f"n {h['n']}, " + ", ".join(f"{name} {_headline(hm)}" for name, hm in h["heads"].items())


def _headline(hm: dict[str, Any]) -> str:
    """One figure per head: MAE of a score, macro-F1 of a category, F1 of a binary head."""
    key = next(k for k in ("mae", "f1_macro", "f1") if k in hm)
    return f"{key} " + ("n/a" if hm[key] is None else f"{hm[key]:.2f}")


STAGES.register(
    Stage(
        name="propagate",
        order=55,  # after synth (teacher labels from a declared task), before validate and release
        run=run,
        config=PropagateConfig,
        params=PropagateParams,
        description="train the encoder student on teacher labels of any unit table and label every unit",
        writes=lambda: tuple(t for t in declared_tables() if t.startswith("propagated_")),
        threads=lambda cfg: 1,
        check_manifest=check_manifest,
        summary=_summary,
    )
)
