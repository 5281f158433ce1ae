"""The release stage: a versioned, checksummed, documented release from the warehouse (selection, splits, shards,
validation, card, publish)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from curation.config_base import StrictModel
from curation.release.config import ReleaseConfig
from curation.release.errors import ReleaseError
from curation.stages import STAGES, Stage, StageContext

DEFAULT_OUT = "release"  # beside ./warehouse, git-ignored


class ReleaseParams(StrictModel):
    version: str | None = Field(None, description="X.Y.Z (default: release.version in the manifest)")
    out: str | None = Field(None, description="releases directory (default: release.out)")
    force: bool = Field(False, description="replace an existing release of this version")
    publish: str | None = Field(None, description="a registered publisher: local | tar | hf (default: release.publish)")
    dry_run: bool = Field(False, description="list the publish operations instead of running them")


def run(ctx: StageContext) -> dict[str, Any]:
    from curation.release.builder import ReleaseRequest, build_release  # here: it loads datasets and matplotlib

    if ctx.manifest is None:
        raise ReleaseError("a release needs a manifest (its release section says what to select)")
    cfg: ReleaseConfig = ctx.config
    p: ReleaseParams = ctx.params
    version = p.version or cfg.version
    if not version:
        raise ReleaseError("no release version: pass --version X.Y.Z or set release.version in the manifest")
    cfg.version = version  # validates the format
    out_dir = Path(p.out) if p.out else ctx.resolve(cfg.out) if cfg.out else Path(DEFAULT_OUT)
    req = ReleaseRequest(
        version=version, out=out_dir, force=p.force, publish=p.publish or cfg.publish, dry_run=p.dry_run
    )
    result = build_release(ctx.warehouse, ctx.manifest, req, ctx.run)
    ctx.run.add_output("release", req.version, result["rows"], path=result["path"])
    ctx.log.info("release %s: %d rows", result["path"], result["rows"])
    return result


def _summary(s: dict[str, Any]) -> str:
    extra = f", archive {s['archive']}" if s.get("archive") else ""
    ops = "".join(f"\n  {op}" for op in s.get("operations") or [])
    if s.get("dry_run"):
        return f"dry run, nothing written or sent: {s['path']} would hold {s['rows']} rows; operations:{ops}"
    return f"released {s['path']}: {s['rows']} rows{extra}{ops}"


STAGES.register(
    Stage(
        name="release",
        order=70,
        run=run,
        config=ReleaseConfig,
        params=ReleaseParams,
        description="select, split, shard, validate, document and publish a versioned release",
        reads=("documents_enriched", "synthetic_*"),
        writes=(),
        threads=lambda cfg: 1,
        force_in_build=True,
        commands="curation.release.cli:register",
        summary=_summary,
    )
)
