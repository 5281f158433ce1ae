"""Progress bars for long stage loops: rich bars on a terminal, silent everywhere else (logs, CI, Prefect workers).

    for doc in progress(batches, total=n, description="dedup: signatures"):
        ...

Set MEDCURATE_PROGRESS=0 to silence bars on a terminal too, or =1 to force them on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
ENV = "MEDCURATE_PROGRESS"


def progress_enabled() -> bool:
    setting = os.environ.get(ENV)
    if setting is not None:
        return setting not in ("0", "false", "no", "")
    return sys.stderr.isatty()


def progress(iterable: Iterable[T], total: int | None = None, description: str = "working") -> Iterator[T]:
    """Yield the items of `iterable`, drawing a progress bar on stderr when enabled."""
    if not progress_enabled():
        yield from iterable
        return
    from rich.console import Console
    from rich.progress import track

    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    yield from track(iterable, total=total, description=description, console=Console(stderr=True), transient=False)
