"""A record schema as a JSON schema, so that constrained decoding (vLLM) forces a model-written row's types, ranges,
categories and column set: a declared task's output schema says `{record_schema: <file or inline>}` where a row
goes, and `with_record_schemas` puts the derived JSON schema there.

Rules across columns and date ranges cannot be said in JSON schema; the `record_row` check still checks every row
after parsing (an OpenAI-compatible server may also ignore the schema).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from curation.records.schema import RecordColumn, RecordSchema, load_record_schema

REF_KEY = "record_schema"
_JSON_TYPES = {"int": "integer", "float": "number", "bool": "boolean", "string": "string", "date": "string"}


def _bounds(c: RecordColumn) -> dict[str, float | int]:
    """minimum/maximum of a numeric column; an int column's are whole numbers inside the declared ones."""
    lo = None if c.min is None else float(c.min)  # type: ignore[arg-type]
    hi = None if c.max is None else float(c.max)  # type: ignore[arg-type]
    if c.type == "int":
        return {k: f(v) for k, f, v in (("minimum", math.ceil, lo), ("maximum", math.floor, hi)) if v is not None}
    return {k: v for k, v in (("minimum", lo), ("maximum", hi)) if v is not None}


def column_json_schema(c: RecordColumn) -> dict[str, Any]:
    """One column: its JSON type with min/max (numbers), enum (categories) or date format; null too when nullable."""
    prop: dict[str, Any] = {"type": _JSON_TYPES.get(c.type, "string")}
    if c.type == "category":
        prop["enum"] = list(c.values or [])
    elif c.type == "date":
        prop["format"] = "date"
    elif c.type in ("int", "float"):
        prop |= _bounds(c)
    if c.description:
        prop["description"] = c.description
    return {"anyOf": [prop, {"type": "null"}]} if c.nullable else prop


def record_json_schema(schema: RecordSchema) -> dict[str, Any]:
    """A row of the record schema: an object with exactly its columns, all required."""
    return {
        "type": "object",
        "properties": {c.name: column_json_schema(c) for c in schema.columns},
        "required": [c.name for c in schema.columns],
        "additionalProperties": False,
    }


def with_record_schemas(node: Any, base_dir: Path) -> Any:
    """The JSON schema `node` with every `{record_schema: spec}` replaced by that record schema's JSON schema."""
    if isinstance(node, dict):
        if REF_KEY in node:
            if len(node) != 1:
                raise ValueError(
                    f"output schema: {{{REF_KEY}: ...}} stands alone (found also {sorted(set(node) - {REF_KEY})})"
                )
            return record_json_schema(load_record_schema(node[REF_KEY], base_dir))
        return {k: with_record_schemas(v, base_dir) for k, v in node.items()}
    if isinstance(node, list):
        return [with_record_schemas(v, base_dir) for v in node]
    return node
