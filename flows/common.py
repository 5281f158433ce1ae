"""Helpers shared by the stage flows: task runner choice and the run-record artifact."""

from __future__ import annotations

import json
from typing import Any

from prefect.artifacts import create_markdown_artifact
from prefect.task_runners import ThreadPoolTaskRunner


def task_runner(kind: str = "threads", workers: int = 2, address: str | None = None):
    """Threads by default; `ray` runs tasks on a Ray cluster (local when no address is given)."""
    if kind == "threads":
        return ThreadPoolTaskRunner(max_workers=workers)
    if kind == "ray":
        from prefect_ray import RayTaskRunner

        init = {"num_cpus": workers} if address is None else {}
        return RayTaskRunner(address=address, init_kwargs=init)
    raise ValueError(f"unknown runner {kind!r}; use threads or ray")


def publish_run_artifact(record: dict[str, Any]) -> None:
    """A markdown summary of a stage run, visible in the Prefect UI."""
    counts = "\n".join(f"| {k} | {v} |" for k, v in sorted(record.get("counts", {}).items()))
    reasons = "\n".join(f"| {k} | {v} |" for k, v in sorted(record.get("quarantine_reasons", {}).items()))
    md = (
        f"# {record['stage']} run `{record['run_id']}`\n\nstatus: **{record['status']}**, "
        f"{record.get('duration_s')} s\n\n| count | n |\n|---|---|\n{counts}\n\n"
        f"| quarantine reason | n |\n|---|---|\n{reasons}\n\n"
        f"<details><summary>record</summary>\n\n```json\n{json.dumps(record, indent=1, default=str)[:20000]}\n```\n"
        "</details>\n"
    )
    key = f"{record['stage']}-run".lower().replace("_", "-")
    create_markdown_artifact(markdown=md, key=key, description=f"{record['stage']} run summary")
