"""Run one source file through the real ingest runner (no Prefect) and read back what it wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curation.ingest.ledger import Ledger
from curation.ingest.runner import FileResult, IngestJob, ingest_file
from curation.warehouse import Warehouse, connect


def ingest(
    wh: Warehouse, path: Path, fmt: str, split: str | None = None, force: bool = False, **options: Any
) -> FileResult:
    job = IngestJob(str(path), fmt, fmt, split, options)
    return ingest_file(wh, job, "20260101T000000000000Z-ingest-test", Ledger(wh), force=force)


def rows(wh: Warehouse, sql: str) -> list[tuple]:
    return connect(wh).execute(sql).fetchall()
