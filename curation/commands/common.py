"""Shared CLI plumbing: the warehouse option, console, and turning known errors into clean exits."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import typer
from rich.console import Console

from curation.warehouse.store import Warehouse, default_warehouse

console = Console(stderr=True)
out = Console(soft_wrap=True)


class State:
    warehouse: Warehouse | None = None


state = State()


def warehouse() -> Warehouse:
    return state.warehouse or Warehouse(default_warehouse())


def warehouse_arg() -> str:
    return str(warehouse().root)


@contextlib.contextmanager
def cli_errors() -> Iterator[None]:
    """Known user errors print one clear message and exit 2; a failed validation prints its report and exits 1."""
    from curation.errors import ValidationFailed
    from curation.manifest import ManifestError
    from curation.warehouse.lock import WarehouseLocked

    try:
        yield
    except ValidationFailed as e:
        console.print(f"[bold red]validation failed[/]\n{e}")
        if os.environ.get("MEDCURATE_DEBUG"):
            raise
        raise typer.Exit(1) from None
    except (ManifestError, WarehouseLocked, FileNotFoundError, PermissionError, KeyError, ValueError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        console.print(f"[bold red]error:[/] {msg}")
        if os.environ.get("MEDCURATE_DEBUG"):
            raise
        raise typer.Exit(2) from None
