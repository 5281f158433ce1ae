"""Helpers shared by the stage flows: task runner choice, the warehouse lock, and the run-record artifact.

A stage flow typically looks like:

    @flow(name="dedup")
    def dedup_flow(manifest_path: str, warehouse: str, runner: str = "threads", ray_address: str | None = None):
        with stage_lock(warehouse, "dedup"):
            ...  # submit per-shard tasks on with_runner(inner_flow, runner, workers, ray_address)
        publish_run_artifact(record)
"""

from __future__ import annotations

import json
from typing import Any

from prefect.artifacts import create_markdown_artifact
from prefect.task_runners import ThreadPoolTaskRunner

from curation.warehouse.lock import warehouse_lock

RUNNERS = ("threads", "ray")


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
    raise ValueError(f"unknown runner {kind!r}; use one of {', '.join(RUNNERS)}")


def with_runner(inner_flow, kind: str, workers: int, address: str | None = None):
    """`inner_flow` with its per-shard tasks on the chosen runner."""
    return inner_flow.with_options(task_runner=task_runner(kind, workers, address))


def stage_lock(warehouse: str, stage: str):
    """The warehouse lock for a stage flow (re-entrant: free when a build already holds it)."""
    return warehouse_lock(warehouse, command=f"{stage} flow")


def publish_markdown(key: str, markdown: str, description: str) -> None:
    """A markdown artifact in the Prefect UI; the key is normalised to what Prefect accepts."""
    key = "".join(c if c.isalnum() else "-" for c in key.lower()).strip("-")
    create_markdown_artifact(markdown=markdown, key=key, description=description)


def _table(header: tuple[str, str], items: dict[str, Any]) -> str:
    if not items:
        return ""
    rows = "\n".join(f"| {k} | {v} |" for k, v in sorted(items.items()))
    return f"| {header[0]} | {header[1]} |\n|---|---|\n{rows}\n\n"


def run_markdown(record: dict[str, Any]) -> str:
    """A run record as markdown: status, counts, quarantine reasons, timings, models, tokens, errors."""
    outputs: dict[str, int] = {}
    for o in record.get("outputs", []):
        outputs[o["table"]] = outputs.get(o["table"], 0) + int(o.get("rows") or 0)
    errors = "".join(f"- {e.get('message', '')[:500]}\n" for e in record.get("errors", [])[:20])
    return (
        f"# {record['stage']} run `{record['run_id']}`\n\nstatus: **{record['status']}**, "
        f"{record.get('duration_s')} s, code `{record.get('code_version')}`\n\n"
        + _table(("count", "n"), record.get("counts", {}))
        + _table(("output table", "rows"), outputs)
        + _table(("quarantine reason", "n"), record.get("quarantine_reasons", {}))
        + _table(("timing", "s"), record.get("timings_s", {}))
        + _table(("model", "id"), record.get("models", {}))
        + _table(("tokens", "n"), record.get("tokens", {}))
        + (f"## errors\n\n{errors}\n" if errors else "")
        + f"<details><summary>record</summary>\n\n```json\n{json.dumps(record, indent=1, default=str)[:20000]}\n```\n"
        "</details>\n"
    )


def publish_run_artifact(record: dict[str, Any]) -> None:
    """A markdown summary of a stage run (key `<stage>-run`), visible in the Prefect UI."""
    publish_markdown(f"{record['stage']}-run", run_markdown(record), f"{record['stage']} run summary")
