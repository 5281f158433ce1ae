"""The `medcurate` command line: one Typer app; each command group lives in curation/commands/."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import typer

from curation import __version__
from curation.commands.common import DEBUG_ENV, LOCK_TIMEOUT_ENV, state
from curation.warehouse.store import ENV_VAR, Warehouse

# Commands that are not stages; every registered stage gets `medcurate <stage>` from stage_cmd.
COMMAND_MODULES = [
    "manifest_cmd",
    "stage_cmd",
    "build_cmd",
    "sql_cmd",
    "catalog_cmd",
    "kg_cmd",
    "ner_cmd",
    "runs_cmd",
    "models_cmd",
    "orchestrate_cmd",
    "plugins_cmd",
]

app = typer.Typer(
    name="medcurate",
    help="Build traceable, validated medical LLM training datasets from public corpora.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"medcurate {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    warehouse: Path = typer.Option(
        Path("warehouse"), "--warehouse", "-w", envvar=ENV_VAR, help="warehouse directory", show_default=True
    ),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="print the version"),
    debug: bool = typer.Option(False, "--debug", envvar=DEBUG_ENV, help="print the full trace of a failure"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="show progress lines and the libraries' logs"),
    lock_timeout: float = typer.Option(
        0.0, "--lock-timeout", envvar=LOCK_TIMEOUT_ENV, help="seconds a writing command waits for the warehouse lock"
    ),
) -> None:
    state.warehouse = Warehouse(warehouse)
    state.debug = debug
    from curation.commands.console import configure

    configure(verbose)
    state.lock_timeout = lock_timeout


for _name in COMMAND_MODULES:
    importlib.import_module(f"curation.commands.{_name}").register(app)


def main() -> None:
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # Prefect's console handler sits on the root logger once Prefect sets up logging (first import): without a
    # level it would print every library record that reaches the root (Great Expectations' INFO lines)
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    app()


if __name__ == "__main__":
    main()
