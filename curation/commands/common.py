"""Shared CLI plumbing: the warehouse option, consoles, the lock for writing commands, and turning errors into
one line and an exit code (2: the user can fix it; 1: a stage failed — the line names its run and trace)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import typer
from rich.console import Console

from curation.warehouse.store import Warehouse, default_warehouse

console = Console(stderr=True)
out = Console(soft_wrap=True)
DEBUG_ENV = "MEDCURATE_DEBUG"
LOCK_TIMEOUT_ENV = "MEDCURATE_LOCK_TIMEOUT"


class State:
    warehouse: Warehouse | None = None
    debug: bool = False
    lock_timeout: float = 0.0


state = State()


def warehouse() -> Warehouse:
    return state.warehouse or Warehouse(default_warehouse())


def warehouse_arg() -> str:
    return str(warehouse().root)


def debug() -> bool:
    return state.debug or bool(os.environ.get(DEBUG_ENV))


def writing(command: str) -> Any:
    """The warehouse lock for a writing command, waiting up to --lock-timeout seconds for a live holder."""
    from curation.warehouse.lock import warehouse_lock

    return warehouse_lock(warehouse(), command=f"medcurate {command}", timeout=state.lock_timeout)


@contextlib.contextmanager
def cli_errors() -> Iterator[None]:
    """A user error prints one line and exits 2; a failed stage prints one line with its run id and where the
    trace is, and exits 1 (a failed validation prints its report first). --debug re-raises with the trace."""
    from curation.errors import UserError, ValidationFailed
    from curation.orchestrate.runner import StageFailed

    try:
        yield
    except StageFailed as e:
        if debug():
            raise
        if isinstance(e.cause, ValidationFailed):
            console.print(f"[bold red]validation failed[/] (run {e.run_id})\n{e.cause}")
            raise typer.Exit(1) from None
        if e.user_error:
            console.print(f"[bold red]error:[/] {e.cause} (run {e.run_id})")
            raise typer.Exit(2) from None
        console.print(f"[bold red]failed:[/] {e}")
        raise typer.Exit(1) from None
    except ValidationFailed as e:
        console.print(f"[bold red]validation failed[/]\n{e}")
        if debug():
            raise
        raise typer.Exit(1) from None
    except (UserError, FileNotFoundError, NotADirectoryError, PermissionError) as e:
        console.print(f"[bold red]error:[/] {e}")
        if debug():
            raise
        raise typer.Exit(2) from None
