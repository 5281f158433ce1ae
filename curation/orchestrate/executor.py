"""Executors run a stage's units of work (a file, a shard, a batch). The local one uses threads in this process;
curation/flows/ has the Prefect one (a Prefect task per unit, on threads or Ray)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger("medcurate")


def call_with_retries(
    fn: Callable[..., T], args: tuple[Any, ...], retries: int, retry_if: Callable[[BaseException], bool] | None
) -> T:
    """Call fn, retrying up to `retries` times (1 s, 2 s, ... apart) on errors that `retry_if` accepts."""
    for attempt in range(retries + 1):
        try:
            return fn(*args)
        except Exception as e:
            if attempt == retries or (retry_if is not None and not retry_if(e)):
                raise
            log.warning("retrying after %s: %s (attempt %d of %d)", type(e).__name__, e, attempt + 1, retries)
            time.sleep(1.0 + attempt)
    raise AssertionError("unreachable")


class LocalExecutor:
    """Units of work on a thread pool in this process; nothing to publish."""

    def __init__(self, workers: int = 2):
        self.workers = max(1, workers)
        self._pool: ThreadPoolExecutor | None = None

    def submit(
        self,
        fn: Callable[..., T],
        *args: Any,
        name: str,
        retries: int = 0,
        retry_if: Callable[[BaseException], bool] | None = None,
    ) -> Future[T]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="medcurate")
        return self._pool.submit(call_with_retries, fn, args, retries, retry_if)

    def publish(self, key: str, markdown: str, counts: dict[str, Any]) -> None:
        return None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
