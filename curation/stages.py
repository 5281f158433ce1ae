"""The Stage contract: what every pipeline stage declares, and the context it runs in.

A stage is a package under curation/ whose `stage` module registers one `Stage` in `STAGES`. It declares its
name, its place in the pipeline, its manifest section (a config model), its run-time parameters (a model, which
the CLI and the Prefect flow expose as typed options), the tables it reads and writes, and `run(ctx) -> counts`.
It never imports Prefect: the generic runner (curation/orchestrate/runner.py) gives every stage the same life —
warehouse lock, run record, work, catalog refresh, summary artifact, failure handling — and the executor in
`ctx` runs its per-file / per-shard / per-batch work on threads, Prefect tasks or Ray.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel

from curation.config_base import StrictModel
from curation.errors import StageUnavailable
from curation.progress import Tracker, track, tracker
from curation.registry import Registry

if TYPE_CHECKING:
    from curation.manifest import Manifest
    from curation.warehouse import RunRecorder, Warehouse

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
__all__ = ["STAGES", "Executor", "NoParams", "Stage", "StageContext", "StageUnavailable", "pipeline", "stage_names"]


class NoParams(StrictModel):
    """A stage without run-time options."""


class UnitFuture(Protocol[T_co]):
    def result(self, timeout: float | None = None) -> T_co: ...


class Executor(Protocol):
    """Runs a stage's units of work: `submit(fn, *args, name=..., retries=..., retry_if=...)` returns a future.
    `name` names the unit (a Prefect task run); `retry_if` says which errors are worth retrying (transient I/O)."""

    workers: int

    def submit(
        self,
        fn: Callable[..., T],
        *args: Any,
        name: str,
        retries: int = 0,
        retry_if: Callable[[BaseException], bool] | None = None,
    ) -> UnitFuture[T]: ...

    def publish(self, key: str, markdown: str, counts: dict[str, Any]) -> None:
        """Publish a run summary where the orchestrator shows it (a Prefect artifact); a no-op elsewhere."""
        ...


@dataclass(frozen=True)
class Stage:
    name: str
    order: int  # position in the pipeline; a manifest lists its stages in this order
    run: Callable[[StageContext], dict[str, Any]]
    config: type[BaseModel]  # the manifest section
    description: str
    params: type[BaseModel] = NoParams  # run-time options (CLI options, flow parameters)
    writes: tuple[str, ...] | Callable[[], tuple[str, ...]] = ()  # tables (or a function of the registries)
    reads: tuple[str, ...] = ()
    extra_sections: tuple[str, ...] = ()  # other manifest keys its fingerprint covers (ingest: sources)
    takes_paths: bool = False  # the command accepts input paths after the manifest (ad hoc ingest)
    threads: Callable[[Any], int] = lambda cfg: int(getattr(cfg, "workers", 2))  # unit threads for a config
    check: Callable[[Any, Any], None] | None = None  # check(manifest, params): user errors before lock and record
    check_manifest: Callable[[Any], None] | None = None  # what `manifest check` verifies beyond the schema (files)
    force_in_build: bool = False  # `build --force` passes force=True to this stage (release replaces its version)
    commands: str = ""  # "module:register" adding sub-actions to the stage's command (dedup explain)
    summary: Callable[[dict[str, Any]], str] | None = None  # one line from the counts, for the console
    report: Callable[[dict[str, Any]], Any] | None = None  # a rich renderable the command prints after the line

    @property
    def section(self) -> str:
        return self.name

    def tables(self) -> tuple[str, ...]:
        """The tables this stage writes."""
        return self.writes() if callable(self.writes) else self.writes


@dataclass
class StageContext:
    """What a stage's `run` gets: where to write, its settings, the run record, a logger, an executor for its
    units of work, and the engine factory for stages that generate."""

    stage: Stage
    warehouse: Warehouse
    manifest: Manifest | None
    config: Any
    params: Any
    run: RunRecorder
    executor: Executor
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("medcurate"))
    engine: Any = None  # an already-loaded generation engine to reuse (tests, notebooks, benchmarks)

    def resolve(self, path: str) -> Path:
        """A path from the manifest: relative to the manifest file, else to the working directory."""
        return self.manifest.resolve(path) if self.manifest is not None else Path(path).expanduser()

    def submit(
        self,
        fn: Callable[..., T],
        *args: Any,
        name: str,
        retries: int = 0,
        retry_if: Callable[[BaseException], bool] | None = None,
    ) -> UnitFuture[T]:
        return self.executor.submit(fn, *args, name=name, retries=retries, retry_if=retry_if)

    def progress(
        self, items: Iterable[T], total: int | None, what: str, size: Callable[[T], int] | None = None
    ) -> Iterator[T]:
        """Iterate, reporting progress in `what` units (one per item, or `size(item)`): the live display on a
        terminal, periodic log lines elsewhere (curation/progress.py)."""
        return track(items, total, what, size=size)

    def tracker(self, total: int | None, what: str) -> Tracker:
        """Progress of a loop that is not one iterable: `advance(n, rows=...)` as work completes."""
        return tracker(total, what)


STAGES: Registry[Stage] = Registry("stages", scan=("curation.*.stage",))


def pipeline() -> list[Stage]:
    """Registered stages in pipeline order."""
    return sorted(STAGES.values(), key=lambda s: (s.order, s.name))


def stage_names() -> list[str]:
    return [s.name for s in pipeline()]
