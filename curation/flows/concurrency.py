"""One flow run per warehouse at a time, across deployments, workers and machines: a Prefect global concurrency
limit (limit 1) named after the resolved warehouse path, whose slot every build and stage flow holds while it runs.

The warehouse lock (curation/warehouse/lock.py) already refuses a second writer, but at once and with an error: two
deployments that target one warehouse (a weekly update overlapping a nightly synth) would fail each other. With the
slot the second flow run waits until the first has finished, then runs. Global concurrency limits are enforced for
any code that takes a slot (tag-based limits only count task runs), so the flows take it around their body; a stage
flow run inside a build flow run in the same process finds the slot held and does not take it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

PREFIX = "medcurate-warehouse-"
# Prefect's shortest lease (its default is 5 minutes): a run killed while holding the slot blocks the next run on
# its warehouse for at most this long; a live holder renews the lease.
LEASE_S = 60.0
SLOT_ENV = "MEDCURATE_WAREHOUSE_SLOT"  # "off": the warehouse lock alone (one writer; the crash-safety tests)
_held: set[str] = set()
_mutex = threading.Lock()


def limit_name(warehouse: str | Path) -> str:
    """The limit's name: the warehouse directory's name and a hash of its resolved path (names may not hold '/')."""
    path = Path(warehouse).expanduser().resolve()
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in path.name)[:40]
    return f"{PREFIX}{stem}-{digest}"


def ensure_limit(warehouse: str | Path) -> str:
    """Create the warehouse's limit (1 slot) unless it exists; returns its name. Needs a Prefect API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists

    name = limit_name(warehouse)
    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
    return name


@contextlib.contextmanager
def warehouse_slot(warehouse: str | Path, timeout_s: float | None = None) -> Iterator[None]:
    """Hold the warehouse's slot while the block runs, waiting for it (up to `timeout_s`, then TimeoutError);
    re-entrant within the process."""
    from prefect.concurrency.sync import concurrency

    name = limit_name(warehouse)
    with _mutex:
        nested = name in _held
    if nested or os.environ.get(SLOT_ENV, "").lower() == "off":
        yield
        return
    ensure_limit(warehouse)
    with concurrency(name, occupy=1, timeout_seconds=timeout_s, lease_duration=LEASE_S, strict=True):
        with _mutex:
            _held.add(name)
        try:
            yield
        finally:
            with _mutex:
                _held.discard(name)
