"""The warehouse: Parquet tables written in atomic units, run records, quarantine, and a DuckDB catalog."""

from curation.warehouse.catalog import connect, refresh_catalog
from curation.warehouse.quarantine import Quarantine
from curation.warehouse.runs import RunRecorder, start_run
from curation.warehouse.schemas import TableSchema, load_schema
from curation.warehouse.shards import ShardWriter
from curation.warehouse.store import Warehouse, default_warehouse

__all__ = [
    "Quarantine",
    "RunRecorder",
    "ShardWriter",
    "TableSchema",
    "Warehouse",
    "connect",
    "default_warehouse",
    "load_schema",
    "refresh_catalog",
    "start_run",
]
