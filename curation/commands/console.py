"""What the console shows: medcurate's warnings, and the stages' progress (a live display on a terminal, else
periodic plain lines: curation/progress.py); with --verbose the libraries' logs too. Everything else goes to the
run's log file (warehouse/logs/<run_id>.log), where the runner puts it.

Libraries that install their own console handlers (vLLM, transformers, datasets) are told to propagate to the root
logger instead; Python warnings become log records (each shown once). Prefect's console handler on the root logger
(it prints every library's warnings) is taken off, and a formatted sink on the root keeps Prefect from putting it
back when it sets up logging later; child processes' native output goes to the run's log (curation/native_output.py).
"""

from __future__ import annotations

import logging
import os
import warnings

from rich.logging import RichHandler

from curation.commands.common import console
from curation.native_output import capture_native_output
from curation.progress import live_active

# Not torch: torch._logging puts its own stderr handler on the "torch" logger, which would then print the INFO lines
# it logs at exit (FakeTensor cache stats) on the console.
QUIET_LIBRARIES = (
    "vllm",
    "transformers",
    "datasets",
    "great_expectations",
    "httpx",
    "urllib3",
    "filelock",
    "sentence_transformers",
    "ray",
    "py.warnings",
)


def configure(verbose: bool) -> None:
    os.environ.setdefault("VLLM_CONFIGURE_LOGGING", "0")  # vLLM's own stdout handler off: its records propagate
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "warning")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.captureWarnings(True)
    warnings.simplefilter("default")  # each warning once per location
    capture_native_output(not verbose)
    root = logging.getLogger()
    loggers = (root, logging.getLogger("medcurate"), logging.getLogger("medcurate.progress"))
    for logger in loggers:  # once per process, however often called
        for h in [h for h in logger.handlers if getattr(h, "medcurate_console", False)]:
            logger.removeHandler(h)
    for h in [h for h in root.handlers if type(h).__name__ == "PrefectConsoleHandler"]:
        root.removeHandler(h)
    handler = RichHandler(console=console, show_path=False, show_time=False, markup=False)
    handler.medcurate_console = True  # type: ignore[attr-defined]
    handler.setLevel(logging.INFO if verbose else logging.WARNING)
    if verbose:
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
        return
    root.addHandler(LibrarySink())
    progress_log = logging.getLogger("medcurate.progress")
    progress_log.setLevel(logging.INFO)
    progress_log.addHandler(ProgressLines(logging.INFO))
    ours = logging.getLogger("medcurate")
    ours.addHandler(handler)
    ours.propagate = False  # not through other libraries' root console handlers; the run log file gets it anyway
    for name in QUIET_LIBRARIES:  # their records still reach the run's log file through the root logger
        logging.getLogger(name).setLevel(logging.INFO)
    try:
        from transformers.utils import logging as tf_logging

        tf_logging.disable_default_handler()
        tf_logging.enable_propagation()
        tf_logging.disable_progress_bar()
    except ImportError:  # transformers is optional for a stage command
        pass


class LibrarySink(logging.NullHandler):
    """Drops what reaches the root logger on the console (the run's log file has its own handler). Prefect's
    `setup_logging` leaves the root alone when it already has a handler with a formatter: hence the formatter."""

    medcurate_console = True

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter())


class ProgressLines(logging.Handler):
    """Progress as plain lines on the console (stderr, soft-wrapped, no markup) while no live display draws it:
    output that is not a terminal (CI logs), and stage runs as Prefect flows."""

    medcurate_console = True

    def emit(self, record: logging.LogRecord) -> None:
        if not live_active():
            console.print(record.getMessage(), markup=False, highlight=False, soft_wrap=True)
