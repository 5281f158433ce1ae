"""The Prefect executor: each unit of work of a stage is a Prefect task run (named for its file, shard or batch,
with retries), on the flow's task runner (threads, or Ray through prefect-ray); the run summary becomes markdown
and table artifacts on the stage's own flow run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from curation.errors import UserError

T = TypeVar("T")
RUNNERS = ("threads", "ray")
RETRY_DELAYS_S: list[float] = [1, 5, 10]  # seconds before each retry of a unit


@task(name="unit", cache_policy=NO_CACHE)
def _unit(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


def _retry_condition(retry_if: Callable[[BaseException], bool] | None):
    if retry_if is None:
        return None

    def condition(task, task_run, state) -> bool:
        try:
            state.result()
        except Exception as e:
            return retry_if(e)
        return False

    return condition


class PrefectExecutor:
    def __init__(self, workers: int):
        self.workers = workers

    def submit(
        self,
        fn: Callable[..., T],
        *args: Any,
        name: str,
        retries: int = 0,
        retry_if: Callable[[BaseException], bool] | None = None,
    ) -> Any:
        unit = _unit.with_options(
            name=name.split(":")[0] or "unit",
            task_run_name=name,
            retries=retries,
            retry_delay_seconds=RETRY_DELAYS_S[:retries] or 0,
            retry_condition_fn=_retry_condition(retry_if),
        )
        return unit.submit(fn, *args)

    def publish(self, key: str, markdown: str, counts: dict[str, Any]) -> None:
        key = "".join(c if c.isalnum() else "-" for c in key.lower()).strip("-")
        create_markdown_artifact(markdown=markdown, key=key, description=f"{key} summary")
        if counts:
            create_table_artifact(table=[{"count": k, "n": v} for k, v in sorted(counts.items())], key=f"{key}-counts")


def task_runner(kind: str = "threads", workers: int = 2, address: str | None = None):
    """Threads by default; `ray` runs tasks on a Ray cluster (`address`, e.g. ray://head:10001 or `auto`), or on a
    local Ray started with `workers` CPUs when no address is given."""
    if kind == "threads":
        return ThreadPoolTaskRunner(max_workers=workers)
    if kind == "ray":
        from prefect_ray import RayTaskRunner

        init: dict[str, Any] = {"include_dashboard": False}
        if address is None:
            init["num_cpus"] = workers
        return RayTaskRunner(address=address, init_kwargs=init)
    raise UserError(f"unknown runner {kind!r}; use one of {', '.join(RUNNERS)}")
