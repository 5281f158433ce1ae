"""The generic stage runner: the same life for every stage.

    warehouse lock (waits up to `lock_timeout`, then names the holder) → run record (running) → a log file for the
    run → stage.run(ctx) → run record (completed / skipped / failed, with counts, timings, errors) → catalog
    refresh → summary artifact (through the executor: a Prefect artifact when run as a flow).

A failure becomes a failed run with its reason and trace in the run record and the run's log file, and is raised
as `StageFailed` naming both, so the CLI prints one line. `StageUnavailable` (no generator reachable) records the
run as skipped and returns a result with status "skipped" and the message (a build goes on; a command exits 2).
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curation.errors import DiskFull, StageUnavailable, UserError
from curation.native_output import RUN_LOG_MARK
from curation.orchestrate.executor import LocalExecutor
from curation.orchestrate.report import run_markdown
from curation.progress import stage_scope
from curation.stages import STAGES, Executor, Stage, StageContext
from curation.warehouse import RunRecorder, Warehouse, refresh_catalog
from curation.warehouse.lock import warehouse_lock

log = logging.getLogger("medcurate")
TRACE = logging.getLogger("medcurate_trace")  # tracebacks: the run's log file only, never the console
TRACE.propagate = False
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class StageFailed(RuntimeError):
    """A stage raised: the run is recorded as failed; the message names the run and where the trace is."""

    def __init__(self, stage: str, run_id: str, cause: BaseException, record: Path, log_file: Path):
        self.stage, self.run_id, self.cause = stage, run_id, cause
        self.record, self.log_file = record, log_file
        super().__init__(
            f"stage {stage} failed (run {run_id}): {type(cause).__name__}: {cause}; "
            f"full trace in {log_file} and {record}"
        )

    @property
    def user_error(self) -> bool:
        return isinstance(self.cause, UserError)


@dataclass
class StageResult:
    stage: str
    run_id: str
    status: str  # completed | skipped (StageUnavailable: the message says why)
    summary: dict[str, Any] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)
    message: str = ""

    def line(self) -> str:
        """One line for the console."""
        stage = STAGES.get(self.stage)
        if self.status != "completed":
            return f"{self.stage} {self.status}: {self.message}"
        detail = stage.summary(self.summary) if stage.summary else ""
        return f"{self.stage} run {self.run_id}" + (f": {detail}" if detail else "")


@contextlib.contextmanager
def run_log(path: Path) -> Iterator[Path]:
    """Everything logged during the run at INFO and above — medcurate's own lines and the libraries' (vLLM,
    transformers, Great Expectations, warnings) — in the run's own log file, on the root logger."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.setLevel(logging.INFO)
    setattr(handler, RUN_LOG_MARK, True)  # where child processes' native output goes on the quiet console
    ours = logging.getLogger("medcurate")
    old_level = ours.level
    if ours.getEffectiveLevel() > logging.INFO:
        ours.setLevel(logging.INFO)
    targets = [logging.getLogger(), TRACE] + ([] if ours.propagate else [ours])  # the CLI keeps ours off the root
    for logger in targets:
        logger.addHandler(handler)
    try:
        yield path
    finally:
        for logger in targets:
            logger.removeHandler(handler)
        ours.setLevel(old_level)
        handler.close()


def run_params(stage: Stage, manifest: Any, config: Any, params: Any) -> dict[str, Any]:
    """What a run record keeps of its inputs: the manifest (path and sha256), the section and the options."""
    return {
        "manifest": str(manifest.path) if manifest is not None and manifest.path else None,
        "manifest_sha256": manifest.sha256 if manifest is not None else None,
        stage.section: config.model_dump(mode="json"),
        **params.model_dump(mode="json"),
    }


def run_stage(
    name: str,
    warehouse: Warehouse | str | Path,
    manifest: Any = None,
    params: dict[str, Any] | None = None,
    *,
    config: Any = None,
    executor: Executor | None = None,
    engine: Any = None,
    lock_timeout: float = 0.0,
    command: str | None = None,
) -> StageResult:
    """Run one registered stage with the manifest's section (or the stage's defaults when `manifest` is None);
    `config` overrides the section (a notebook or test tuning one setting); `engine` is a loaded generation
    engine to reuse instead of loading the configured model (the caller owns it)."""
    stage = STAGES.get(name)
    wh = (warehouse if isinstance(warehouse, Warehouse) else Warehouse(warehouse)).ensure()
    if config is None:
        config = manifest.section(stage.section) if manifest is not None else stage.config()
    opts = stage.params.model_validate(params or {})
    if stage.check is not None:
        stage.check(manifest, opts)
    own_executor = executor is None
    executor = executor or LocalExecutor(stage.threads(config))
    try:
        with warehouse_lock(wh, command=command or f"medcurate {name}", timeout=lock_timeout):
            return _run_locked(stage, wh, manifest, config, opts, executor, engine)
    finally:
        if own_executor and isinstance(executor, LocalExecutor):
            executor.close()


def _run_locked(
    stage: Stage, wh: Warehouse, manifest: Any, config: Any, opts: Any, executor: Executor, engine: Any
) -> StageResult:
    run = RunRecorder(wh, stage.name, run_params(stage, manifest, config, opts))
    run.save()
    log_file = wh.root / "logs" / f"{run.run_id}.log"
    ctx = StageContext(stage, wh, manifest, config, opts, run, executor, engine=engine)
    status, message, summary = "completed", "", {}
    with run_log(log_file):
        log.info("%s run %s started", stage.name, run.run_id)
        try:
            with stage_scope(stage.name):
                summary = stage.run(ctx) or {}
        except StageUnavailable as e:
            status, message = "skipped", str(e)
            log.warning("%s skipped: %s", stage.name, e)
            run.error(message, kind=type(e).__name__)
        except BaseException as e:
            if not isinstance(e, UserError):  # a user error reaches the console once, from the CLI
                log.error("%s failed: %s: %s", stage.name, type(e).__name__, e)
            TRACE.error("%s failed: %s: %s\n%s", stage.name, type(e).__name__, e, traceback.format_exc())
            run.error(f"{type(e).__name__}: {e}", traceback=traceback.format_exc(limit=30))
            run.set("extra", "log_file", str(log_file))
            try:
                run.finish("failed" if isinstance(e, Exception) else "interrupted")
            except DiskFull as full:  # the next writer closes a record left running (warehouse/lock.py)
                log.error("could not close run record %s: %s", run.run_id, full)
            _refresh(wh)
            if isinstance(e, Exception):
                raise StageFailed(stage.name, run.run_id, e, run.path, log_file) from e
            raise
        run.set("extra", "log_file", str(log_file))
        record = run.finish(status)
        log.info("%s run %s %s in %.1f s", stage.name, run.run_id, status, record["duration_s"])
    _refresh(wh)
    executor.publish(f"{stage.name}-run", run_markdown(record), record.get("counts", {}))
    return StageResult(stage.name, run.run_id, status, {"run_id": run.run_id, **summary}, record, message)


def _refresh(wh: Warehouse) -> None:
    try:
        refresh_catalog(wh)
    except Exception as e:  # a catalog problem must not hide the stage's own outcome
        log.warning("catalog refresh failed: %s", e)
