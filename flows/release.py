"""Release flow: build a versioned, checksummed, documented release from the warehouse (curation/release/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from curation.manifest import load_manifest
from curation.release.builder import ReleaseRequest, build_release
from curation.release.errors import ReleaseError
from curation.warehouse import Warehouse, refresh_catalog, start_run
from flows.common import publish_run_artifact

DEFAULT_OUT = "release"  # beside ./warehouse, git-ignored


@flow(name="release", log_prints=True)
def release_flow(
    manifest_path: str,
    warehouse: str,
    version: str | None = None,
    out: str | None = None,
    force: bool = False,
    publish: str | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """version, out and publish default to the manifest's release section (the build flow passes none of them)."""
    logger = get_run_logger()
    manifest = load_manifest(manifest_path)
    cfg = manifest.release
    version = version or cfg.version
    if not version:
        raise ReleaseError("no release version: pass --version X.Y.Z or set release.version in the manifest")
    cfg.version = version  # validates the format
    out_dir = Path(out) if out else manifest.resolve(cfg.out) if cfg.out else Path(DEFAULT_OUT)
    req = ReleaseRequest(version=version, out=out_dir, force=force, publish=publish or cfg.publish, dry_run=dry_run)
    params = {
        "manifest": manifest_path,
        "manifest_sha256": manifest.sha256,
        "version": version,
        "out": str(req.out),
        "force": force,
        "publish": req.publish,
        "dry_run": dry_run,
    }
    wh = Warehouse(warehouse).ensure()
    with start_run(wh, "release", params) as run:
        result = build_release(wh, manifest, req, run)
        run.add_output("release", req.version, result["rows"], path=result["path"])
    refresh_catalog(wh)
    publish_run_artifact(run.snapshot())
    logger.info("release %s: %d rows", result["path"], result["rows"])
    return {"run_id": run.run_id, **result}
