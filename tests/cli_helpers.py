"""Invoke the Typer app in-process for CLI tests that run Prefect flows."""

from __future__ import annotations

import logging
import sys

from typer.testing import CliRunner, Result


def _rebind_prefect_console() -> None:
    """Prefect's console handlers keep the stream they were created with; CliRunner closes its streams after each
    invoke, so a handler created during one invoke would raise on the next. Point them back at sys.stderr."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for name in [None, *logging.root.manager.loggerDict]:
        for h in logging.getLogger(name).handlers:
            if isinstance(h, PrefectConsoleHandler):
                h.stream = sys.stderr  # not setStream(): it would flush the closed stream
                h.console.file = sys.stderr


def invoke_cli(*args: str) -> Result:
    from curation.cli import app

    try:
        return CliRunner().invoke(app, list(args))
    finally:
        _rebind_prefect_console()
