"""Where a warehouse keeps its record schemas: the record schema itself (rules included) at
<warehouse>/schemas/records/<name>.yaml, and the table schema generated from it at
<warehouse>/schemas/tables/records_<name>.yaml (registered, so the writers and the catalog know the table)."""

from __future__ import annotations

from pathlib import Path

import yaml

from curation.errors import UserError
from curation.records.schema import RecordSchema
from curation.warehouse.schemas import register_schema, save_declared
from curation.warehouse.store import Warehouse

RECORD_SCHEMAS = "schemas/records"


def save_record_schema(wh: Warehouse, schema: RecordSchema) -> Path:
    table = schema.table_schema()
    register_schema(table)
    save_declared(wh.root, table)
    path = wh.root / RECORD_SCHEMAS / f"{schema.name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(schema.model_dump(mode="json", exclude_none=True), sort_keys=False))
    return path


def record_schema_of(wh: Warehouse, table: str) -> RecordSchema:
    """The record schema behind records_<name>."""
    name = table.removeprefix("records_")
    path = wh.root / RECORD_SCHEMAS / f"{name}.yaml"
    if not table.startswith("records_") or not path.is_file():
        raise UserError(f"{table!r} is not a record table of this warehouse (no {path})")
    return RecordSchema.model_validate(yaml.safe_load(path.read_text()))
