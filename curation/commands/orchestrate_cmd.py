"""`medcurate serve` and `medcurate deploy`: the deployments of flows/deployments.py, served from this process
or registered with a Prefect server and a work pool."""

from __future__ import annotations

from typing import cast
from uuid import UUID

import typer

from curation.commands.common import cli_errors, out, warehouse_arg

MANIFEST_HELP = "manifest the deployments build (a default parameter; override per run)"


def _names_help() -> str:
    from curation.flows.deployments import DEPLOYMENTS

    return "only these deployments: " + ", ".join(d.name for d in DEPLOYMENTS)


def serve(
    manifest: str = typer.Option("manifests/demo.yaml", "--manifest", "-m", help=MANIFEST_HELP),
    only: list[str] = typer.Option(None, "--only", help=_names_help()),
    limit: int = typer.Option(
        1, "--limit", help="flow runs at once (runs on one warehouse also wait for its concurrency slot)"
    ),
    paused: bool = typer.Option(False, "--paused", help="register the schedules inactive"),
) -> None:
    """Serve the deployments with their schedules from this process until interrupted (Prefect `serve`)."""
    from curation.commands.stage_cmd import prefect_logging

    prefect_logging()
    from prefect import serve as prefect_serve

    from curation.flows.deployments import runner_deployments
    from curation.flows.server import temporary_server

    with cli_errors():
        deployments = runner_deployments(only, manifest, warehouse_arg(), paused=paused)
    with temporary_server():
        prefect_serve(*deployments, limit=limit)


def deploy(
    manifest: str = typer.Option("manifests/demo.yaml", "--manifest", "-m", help=MANIFEST_HELP),
    pool: str = typer.Option("medcurate", "--pool", help="work pool (a process pool is created when missing)"),
    only: list[str] = typer.Option(None, "--only", help=_names_help()),
    paused: bool = typer.Option(False, "--paused", help="register the schedules inactive"),
) -> None:
    """Register the deployments with the Prefect server (PREFECT_API_URL) and a work pool; start a worker with
    `prefect worker start --pool POOL` on a machine where medcurate is installed."""
    from prefect import deploy as prefect_deploy

    from curation.commands.stage_cmd import prefect_logging

    prefect_logging()

    from curation.flows.concurrency import ensure_limit
    from curation.flows.deployments import runner_deployments

    with cli_errors():
        ensure_process_pool(pool)
        limit = ensure_limit(warehouse_arg())
        deployments = runner_deployments(only, manifest, warehouse_arg(), work_pool=pool, paused=paused)
        # prefect's @sync_compatible types the result as maybe a coroutine; called from sync code it is the list
        ids = cast(
            "list[UUID]",
            prefect_deploy(
                *deployments,
                work_pool_name=pool,
                build=False,
                push=False,
                print_next_steps_message=False,
                ignore_warnings=True,
            ),
        )
    for d, i in zip(deployments, ids, strict=True):
        when = ", ".join(str(getattr(x, "cron", x)) for x in (d.schedules or [])) or "on demand"
        out.print(f"deployed {d.flow_name}/{d.name} ({i}) to pool {pool}: {when}; parameters {d.parameters}")
    out.print(f"flow runs on {warehouse_arg()} take one slot of the global concurrency limit {limit} (1 slot)")
    out.print(
        f"start a worker (any directory, where medcurate is installed): prefect worker start --pool {pool}\n"
        f"run one now: prefect deployment run {deployments[0].flow_name}/{deployments[0].name}"
    )


def ensure_process_pool(name: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
        except ObjectNotFound:
            template = ProcessWorker.get_default_base_job_template()
            client.create_work_pool(WorkPoolCreate(name=name, type="process", base_job_template=template))


def register(root: typer.Typer) -> None:
    root.command("serve")(serve)
    root.command("deploy")(deploy)
