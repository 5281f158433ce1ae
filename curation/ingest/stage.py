"""The ingest stage: one unit of work per source file (parsed by its registered format, retried on transient I/O
errors), from the manifest's sources or from paths given ad hoc with a format."""

from __future__ import annotations

from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import Field

from curation.config_base import StrictModel
from curation.errors import UserError
from curation.ingest.config import IngestConfig
from curation.ingest.ledger import Ledger
from curation.ingest.runner import FileResult, IngestJob, ingest_file, summarize
from curation.stages import STAGES, Stage, StageContext
from curation.warehouse import Quarantine


class IngestParams(StrictModel):
    paths: list[str] = Field(default_factory=list, description="ad hoc: files to ingest with --format")
    format: str | None = Field(None, description="ad hoc: the files' format (`medcurate plugins` lists them)")
    split: str | None = Field(None, description="ad hoc: benchmark split (train, validation, test, ...)")
    source_name: str | None = Field(None, description="ad hoc: the source name (default: the format)")
    option: dict[str, Any] = Field(default_factory=dict, description="ad hoc: format options")
    force: bool = Field(False, description="re-ingest files already in the ledger")


def _transient(e: BaseException) -> bool:
    """Retry I/O hiccups (NFS, object-store mounts), never a file that is simply absent or unreadable."""
    return isinstance(e, OSError) and not isinstance(e, FileNotFoundError | PermissionError | IsADirectoryError)


def check(manifest: Any, p: IngestParams) -> None:
    """What the user can fix, before the lock is taken or a run recorded: inputs, format and its options."""
    if not p.paths:
        if manifest is None:
            raise UserError("give a manifest with sources, or --format and one or more paths")
        return
    if not p.format:
        raise UserError("ad hoc ingest needs --format with the paths (or give one manifest .yaml)")
    from curation.ingest.formats import check_options

    try:
        check_options(p.format, p.option)
    except ValueError as e:
        raise UserError(f"--format {p.format}: {e}") from None
    missing = [x for x in p.paths if not Path(x).exists()]
    if missing:
        raise UserError(f"no such file: {', '.join(missing)}")


def jobs(ctx: StageContext) -> list[IngestJob]:
    p: IngestParams = ctx.params
    if p.paths:
        return [
            IngestJob(str(Path(x)), p.format or "", p.source_name or p.format or "", p.split, p.option) for x in p.paths
        ]
    m = ctx.manifest
    if m is None:  # check() refuses this before the run starts
        raise UserError("give a manifest with sources, or --format and one or more paths")
    return [IngestJob(str(f), s.format, s.name, s.split, s.options) for s in m.sources for f in m.source_files(s)]


def run(ctx: StageContext) -> dict[str, Any]:
    cfg: IngestConfig = ctx.config
    todo = jobs(ctx)
    run = ctx.run
    ledger = Ledger(ctx.warehouse)
    futures = [
        ctx.submit(
            partial(ingest_file, force=ctx.params.force),
            ctx.warehouse,
            job,
            run.run_id,
            ledger,
            cfg,
            name=f"ingest:{Path(job.path).name}",
            retries=cfg.retries,
            retry_if=_transient,
        )
        for job in todo
    ]
    results: list[FileResult] = []
    failed = Quarantine(ctx.warehouse, "ingest", run.run_id)
    bar = ctx.tracker(len(todo), "files")
    for job, fut in zip(todo, futures, strict=True):
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
                for table, n in r.children.items():
                    run.add_output(table, r.unit, n)
        ctx.log.info("%s %s: %d rows, %d quarantined %s", r.status, r.path, r.rows, r.quarantined, r.message)
        results.append(r)
        bar.advance(rows=r.rows)
    bar.close()
    failed.commit()
    summary = summarize(results)
    for k in ("files_ingested", "files_skipped", "files_failed", "rows", "deleted"):
        run.count(f"ingest.{k}", summary[k])
    for k, v in summary["counts"].items():
        run.count(k, v)
    run.quarantined(summary["quarantine_reasons"])
    run.quarantined({"unreadable_file": failed.n} if failed.n else {})
    run.set("extra", "files", [asdict(r) for r in results])
    return {**summary, "quarantined": summary["quarantined"] + failed.n}


def _summary(s: dict[str, Any]) -> str:
    return (
        f"{s['files_ingested']} files ingested, {s['files_skipped']} skipped, {s['files_failed']} failed; "
        f"{s['rows']} rows, {s['deleted']} deletions, {s['quarantined']} quarantined"
    )


STAGES.register(
    Stage(
        name="ingest",
        order=10,
        run=run,
        config=IngestConfig,
        params=IngestParams,
        description="parse source files into documents and benchmark_items (streaming, quarantining bad records)",
        writes=("documents", "benchmark_items", "deletions", "source_files", "paragraphs"),
        extra_sections=("sources",),
        takes_paths=True,
        check=check,
        summary=_summary,
    )
)
