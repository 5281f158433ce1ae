"""Ingest flow: one Prefect task per source file (retried on transient I/O errors), one run record."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prefect import flow, get_run_logger, task

from curation.ingest.config import IngestConfig
from curation.ingest.ledger import Ledger
from curation.ingest.runner import STAGE, FileResult, IngestJob, ingest_file, summarize
from curation.manifest import Manifest
from curation.progress import progress
from curation.warehouse import Quarantine, Warehouse, refresh_catalog, start_run
from flows.common import publish_run_artifact, stage_lock, with_runner


def _transient(task, task_run, state) -> bool:
    """Retry I/O hiccups (NFS, object-store mounts), never a file that is simply absent or unreadable."""
    try:
        state.result()
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        return False
    except OSError:
        return True
    except Exception:
        return False
    return False


@task(name="ingest-file", retries=2, retry_delay_seconds=[1, 5], retry_condition_fn=_transient)
def ingest_file_task(
    warehouse: str, job: IngestJob, run_id: str, ledger: Ledger, cfg: IngestConfig, force: bool
) -> FileResult:
    return ingest_file(Warehouse(warehouse), job, run_id, ledger, cfg, force=force)


def jobs_from_manifest(manifest: Manifest) -> list[IngestJob]:
    jobs = []
    for src in manifest.sources:
        for path in manifest.source_files(src):
            jobs.append(IngestJob(str(path), src.format, src.name, src.split, src.options))
    return jobs


def run_ingest(
    warehouse: str,
    jobs: list[IngestJob],
    cfg: IngestConfig,
    *,
    force: bool = False,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Submit one task per file and write the run record. Must run inside a flow."""
    logger = get_run_logger()
    wh = Warehouse(warehouse).ensure()
    with start_run(wh, STAGE, params) as run:
        ledger = Ledger(wh)
        futures = [ingest_file_task.submit(str(wh.root), j, run.run_id, ledger, cfg, force) for j in jobs]
        results: list[FileResult] = []
        failed = Quarantine(wh, STAGE, run.run_id)
        for job, fut in progress(zip(jobs, futures, strict=True), len(jobs), "ingest: files"):
            try:
                r = fut.result()
            except Exception as e:  # retries exhausted: record it and go on with the other files
                r = FileResult(path=job.path, format=job.format, status="failed", message=f"{type(e).__name__}: {e}")
            if r.status == "failed":
                failed.add("unreadable_file", r.path, None, r.message)
                run.error(r.message, path=r.path)
            else:
                run.add_input(r.path, r.sha256, format=r.format, status=r.status, bytes=r.bytes)
                if r.status == "ingested":
                    run.add_output(r.table, r.unit, r.rows, deleted=r.deleted, quarantined=r.quarantined)
            logger.info("%s %s: %d rows, %d quarantined %s", r.status, r.path, r.rows, r.quarantined, r.message)
            results.append(r)
        failed.commit()
        summary = summarize(results)
        for k in ("files_ingested", "files_skipped", "files_failed", "rows", "deleted"):
            run.count(k, summary[k])
        run.quarantined(summary["quarantine_reasons"])
        run.quarantined({"unreadable_file": failed.n} if failed.n else {})
        run.set("extra", "files", [asdict(r) for r in results])
    refresh_catalog(wh)
    record = run.snapshot()
    publish_run_artifact(record)
    return {"run_id": run.run_id, **summary, "quarantined": summary["quarantined"] + failed.n}


@flow(name="ingest", log_prints=True)
def ingest_flow(
    manifest_path: str, warehouse: str, force: bool = False, runner: str = "threads", ray_address: str | None = None
) -> dict[str, Any]:
    from curation.manifest import load_manifest

    manifest = load_manifest(manifest_path)
    jobs = jobs_from_manifest(manifest)
    params = {"manifest": manifest_path, "manifest_sha256": manifest.sha256, "force": force, "runner": runner}
    with stage_lock(warehouse, STAGE):
        files_flow = with_runner(_files_flow, runner, manifest.ingest.workers, ray_address)
        return files_flow(warehouse, jobs, manifest.ingest, force, params)


@flow(name="ingest-files", log_prints=True)
def _files_flow(
    warehouse: str, jobs: list[IngestJob], cfg: IngestConfig, force: bool = False, params: dict | None = None
) -> dict[str, Any]:
    return run_ingest(warehouse, jobs, cfg, force=force, params=params)


def ingest_paths(
    warehouse: str,
    jobs: list[IngestJob],
    cfg: IngestConfig | None = None,
    force: bool = False,
    runner: str = "threads",
    ray_address: str | None = None,
) -> dict[str, Any]:
    """Ad hoc ingest (`medcurate ingest --format F PATH...`), through the same flow."""
    cfg = cfg or IngestConfig()
    params = {"ad_hoc": True, "files": [j.path for j in jobs], "force": force, "runner": runner}
    with stage_lock(warehouse, STAGE):
        return with_runner(_files_flow, runner, cfg.workers, ray_address)(warehouse, jobs, cfg, force, params)
