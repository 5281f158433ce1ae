"""One CLI pattern for every registered stage: `medcurate <stage> [MANIFEST] [options]`.

The options come from the stage's params model (so the CLI, the Prefect flow and the run record agree), plus the
same orchestration options everywhere; sub-actions are commands of the stage's sub-app (`medcurate dedup explain
DOC_ID`). Without a manifest the stage runs with its defaults and says so. The stage runs in this process with the
generic runner, or as its Prefect flow when a Prefect API is configured (PREFECT_API_URL), with --prefect, or with
the Ray runner.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
from pathlib import Path
from typing import Any, get_args, get_origin

import typer
from pydantic import BaseModel
from typer import _click  # typer >= 0.22 vendors click: its groups take typer's own Context
from typer.core import TyperGroup

from curation.commands.common import cli_errors, console, out, state, warehouse, warehouse_arg, writing
from curation.stages import Stage


class RunByDefault(TyperGroup):
    """`medcurate dedup MANIFEST ...` means `medcurate dedup run MANIFEST ...`; other words name sub-actions."""

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


def _parse_kv(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in items:
        key, sep, value = kv.partition("=")
        if not sep:
            raise typer.BadParameter(f"expected KEY=VALUE, got {kv!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _option(name: str, field: Any) -> inspect.Parameter:
    """A typer option for one params-model field."""
    ann = field.annotation
    flag = "--" + name.replace("_", "-")
    help_ = field.description or ""
    if ann is bool:
        return inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=typer.Option(False, flag, help=help_), annotation=bool
        )
    if get_origin(ann) is dict:
        return inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=list[str],
            default=typer.Option(None, flag, "-o", help=f"{help_} (KEY=VALUE, JSON values)"),
        )
    if get_origin(ann) is list:
        return inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=list[str],
            default=typer.Option(None, flag, help=f"{help_} (repeatable)"),
        )
    base = next((a for a in get_args(ann) if a is not type(None)), ann)
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, annotation=base | None, default=typer.Option(None, flag, help=help_)
    )


def use_prefect(prefect: bool, runner: str) -> bool:
    """Run as a Prefect flow? Then medcurate's log records go to the Prefect API too (set before Prefect loads)."""
    chosen = prefect or runner == "ray" or bool(os.environ.get("PREFECT_API_URL"))
    if chosen:
        prefect_logging()
    return chosen


def prefect_logging() -> None:
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "medcurate")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")


def run_command(stage: Stage):
    """The `run` command of a stage, its signature built from the params model."""
    params_model: type[BaseModel] = stage.params

    def command(**kw: Any) -> None:
        args: list[str] = kw.pop("args") or []
        runner, ray_address, prefect = kw.pop("runner"), kw.pop("ray_address"), kw.pop("prefect")
        values = {k: v for k, v in kw.items() if v not in (None, [], False)}
        for k, f in params_model.model_fields.items():
            if get_origin(f.annotation) is dict and k in values:
                values[k] = _parse_kv(values[k])
        manifest_path, paths = _split_args(stage, args)
        if paths:
            values["paths"] = paths
        with cli_errors():
            result = execute(stage, manifest_path, values, runner, ray_address, prefect)
        if result["status"] != "completed":
            console.print(f"[bold red]{stage.name} skipped:[/] {result.get('message')}")
            raise typer.Exit(2)
        line = stage.summary(result) if stage.summary else ""
        out.print(f"{stage.name} run {result['run_id']}" + (f": {line}" if line else ""))
        if stage.report is not None:
            out.print(stage.report(result))

    what = "[MANIFEST] [PATH]..." if stage.takes_paths else "[MANIFEST]"
    params = [
        inspect.Parameter(
            "args",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=list[str],
            default=typer.Argument(None, metavar=what, help="manifest YAML; defaults when omitted"),
        ),
        *(_option(n, f) for n, f in params_model.model_fields.items() if n != "paths"),
        inspect.Parameter(
            "runner",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=str,
            default=typer.Option("threads", "--runner", help="units of work on: threads | ray"),
        ),
        inspect.Parameter(
            "ray_address",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=str | None,
            default=typer.Option(None, "--ray-address", help="Ray cluster address (default: local)"),
        ),
        inspect.Parameter(
            "prefect",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=bool,
            default=typer.Option(
                False, "--prefect", help="run as a Prefect flow (default when PREFECT_API_URL is set)"
            ),
        ),
    ]
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__doc__ = stage.description[0].upper() + stage.description[1:] + "."
    return command


def _split_args(stage: Stage, args: list[str]) -> tuple[str | None, list[str]]:
    manifest = args[0] if args and Path(args[0]).suffix in (".yaml", ".yml") else None
    rest = args[1:] if manifest else args
    if rest and not stage.takes_paths:
        raise typer.BadParameter(f"{stage.name} takes one manifest; got {args}")
    return manifest, rest


def execute(
    stage: Stage,
    manifest_path: str | None,
    params: dict[str, Any],
    runner: str,
    ray_address: str | None,
    prefect: bool = False,
) -> dict[str, Any]:
    """Run a stage from the CLI: the lock first (fail fast, before Prefect starts), then in process or as a flow."""
    from curation.manifest import load_manifest
    from curation.orchestrate.runner import run_stage
    from curation.progress import display

    manifest = load_manifest(manifest_path) if manifest_path else None
    if manifest is None and not params.get("paths"):
        console.print(f"no manifest given: {stage.name} runs with its default settings")
    opts = stage.params.model_validate(params)  # option and input errors before the lock
    if stage.check is not None:
        stage.check(manifest, opts)
    with writing(stage.name):
        if use_prefect(prefect, runner):
            from curation.flows.server import temporary_server
            from curation.flows.stages import run_stage_flow

            with temporary_server():
                return run_stage_flow(stage.name, manifest_path, warehouse_arg(), params, runner, ray_address)
        with display(console):
            r = run_stage(stage.name, warehouse(), manifest, params, lock_timeout=state.lock_timeout)
        return {"status": r.status, "run_id": r.run_id, "message": r.message, **r.summary}


def stage_app(stage: Stage) -> typer.Typer:
    app = typer.Typer(cls=RunByDefault, help=stage.description[0].upper() + stage.description[1:] + ".")
    app.command("run")(run_command(stage))
    if stage.commands:
        module, _, fn = stage.commands.partition(":")
        getattr(importlib.import_module(module), fn)(app)
    return app


def register(root: typer.Typer) -> None:
    from curation.stages import pipeline

    for stage in pipeline():
        root.add_typer(stage_app(stage), name=stage.name)
