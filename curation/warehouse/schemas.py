"""Table schemas, loaded from schemas/tables/*.yaml: the single source of truth for columns and their types.

Type grammar: string, json (a JSON document stored as string), bool, int32, int64, float32, float64, date,
timestamp (UTC, microseconds), list<T>, struct<name: T, ...>.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import yaml

from curation.resources import plugin_schema_dirs, schemas_dir

_SCALARS: dict[str, tuple[pa.DataType, str]] = {
    "string": (pa.string(), "VARCHAR"),
    "json": (pa.string(), "VARCHAR"),
    "bool": (pa.bool_(), "BOOLEAN"),
    "int32": (pa.int32(), "INTEGER"),
    "int64": (pa.int64(), "BIGINT"),
    "float32": (pa.float32(), "FLOAT"),
    "float64": (pa.float64(), "DOUBLE"),
    "date": (pa.date32(), "DATE"),
    "timestamp": (pa.timestamp("us", tz="UTC"), "TIMESTAMP WITH TIME ZONE"),
}


def _split_top(s: str) -> list[str]:
    """Split on commas that are not nested inside <...>."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in s:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def _parse(t: str) -> tuple[pa.DataType, str]:
    t = t.strip()
    if t in _SCALARS:
        return _SCALARS[t]
    m = re.fullmatch(r"list<(.+)>", t)
    if m:
        inner_pa, inner_sql = _parse(m.group(1))
        return pa.list_(inner_pa), f"{inner_sql}[]"
    m = re.fullmatch(r"struct<(.+)>", t)
    if m:
        fields, sql = [], []
        for part in _split_top(m.group(1)):
            name, _, ftype = part.partition(":")
            fpa, fsql = _parse(ftype)
            fields.append(pa.field(name.strip(), fpa))
            sql.append(f'"{name.strip()}" {fsql}')
        return pa.struct(fields), f"STRUCT({', '.join(sql)})"
    raise ValueError(f"unknown column type {t!r}")


def arrow_type(t: str) -> pa.DataType:
    return _parse(t)[0]


def sql_type(t: str) -> str:
    return _parse(t)[1]


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    description: str = ""


@dataclass(frozen=True)
class TableSchema:
    """A table's columns and key, as declared in schemas/tables/<name>.yaml."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""
    path: str = ""
    annotation: bool = field(default=False)

    @property
    def arrow(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, arrow_type(c.type), nullable=c.nullable) for c in self.columns])

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    def required(self) -> list[str]:
        return [c.name for c in self.columns if not c.nullable]

    def empty_select_sql(self) -> str:
        """A zero-row SELECT with this schema's column types: a view for a table that has no data yet."""
        cols = ", ".join(f'CAST(NULL AS {sql_type(c.type)}) AS "{c.name}"' for c in self.columns)
        return f"SELECT {cols} WHERE false"


def _from_file(path: Path) -> TableSchema:
    spec = yaml.safe_load(path.read_text())
    unknown = set(spec) - {"table", "key", "columns", "description", "path"}
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
    cols = tuple(
        Column(c["name"], c["type"], bool(c.get("nullable", True)), c.get("description", "")) for c in spec["columns"]
    )
    for c in cols:
        _parse(c.type)  # fail early on a typo
    table_path = spec.get("path", spec["table"])
    return TableSchema(
        name=spec["table"],
        key=tuple(spec.get("key", [])),
        columns=cols,
        description=spec.get("description", ""),
        path=table_path,
        annotation=table_path.startswith("annotations/"),
    )


@functools.cache
def _file_schemas(directory: Path | None) -> dict[str, TableSchema]:
    dirs = [directory] if directory else [schemas_dir(), *plugin_schema_dirs()]
    out = {}
    for d in dirs:
        for p in sorted((d / "tables").glob("*.yaml")):
            s = _from_file(p)
            if s.name in out:
                raise ValueError(f"{p}: table {s.name!r} is already defined")
            out[s.name] = s
    return out


def file_schema(name: str) -> TableSchema:
    """A table schema from medcurate's own files (or an installed plugin's), without the derived ones."""
    return _file_schemas(None)[name]


@functools.cache
def _preset_schemas() -> dict[str, TableSchema]:
    """The tables of the built-in task presets (curation/synth/presets/), derived from their specs."""
    from curation.synth.presets import preset_schemas

    return preset_schemas()


_DECLARED: dict[str, TableSchema] = {}
DECLARED_DIR = "schemas"  # under a warehouse: the schemas of tables declared by manifests (recipe tasks)


def all_schemas(directory: Path | None = None) -> dict[str, TableSchema]:
    """Every table schema: medcurate's own (or `directory`'s), those of installed plugins, the built-in task presets'
    tables, and the tables declared at run time (a manifest's recipe tasks; see register_schema)."""
    out = dict(_file_schemas(directory))
    if directory is None:
        out.update(_preset_schemas())
        out.update(_DECLARED)
    return out


def clear_schema_cache() -> None:
    """Forget the schema files read so far (tests that install stand-in schemas)."""
    _file_schemas.cache_clear()
    _preset_schemas.cache_clear()


def register_schema(schema: TableSchema) -> None:
    """Make a table declared by a manifest known to every reader in this process. Re-declaring it with other
    columns replaces the declaration (the manifest changed); a built-in table's name is refused."""
    if schema.name in _file_schemas(None) or (
        schema.name in _preset_schemas() and schema.columns != _preset_schemas()[schema.name].columns
    ):
        raise ValueError(f"table {schema.name!r} is a built-in table; a declared task must write another table")
    _DECLARED[schema.name] = schema


def declared_tables() -> tuple[str, ...]:
    return tuple(_DECLARED)


def schema_yaml(schema: TableSchema) -> str:
    spec = {
        "table": schema.name,
        "description": schema.description,
        "key": list(schema.key),
        "columns": [dataclasses.asdict(c) for c in schema.columns],
    }
    if schema.path and schema.path != schema.name:  # e.g. annotations/<x>: where the units are, and latest-wins
        spec["path"] = schema.path
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)


def save_declared(root: Path, schema: TableSchema) -> Path:
    """Persist a declared table's schema inside the warehouse, so `medcurate sql` and a later process without the
    manifest still see the table."""
    d = root / DECLARED_DIR / "tables"
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{schema.name}.yaml"
    text = schema_yaml(schema)
    if not path.is_file() or path.read_text() != text:
        tmp = path.with_suffix(".yaml.tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return path


def load_declared(root: Path) -> None:
    """Register the declared tables a warehouse holds (see save_declared)."""
    d = root / DECLARED_DIR / "tables"
    if d.is_dir():
        for p in sorted(d.glob("*.yaml")):
            s = _from_file(p)
            if s.name not in _DECLARED:
                register_schema(s)


def instance_schema(name: str) -> TableSchema | None:
    """`annotations_<x>__<instance>`: the table of a second configuration of a scorer, with its base table's
    columns and key at `annotations/<x>__<instance>`."""
    base, sep, instance = name.partition("__")
    schema = all_schemas().get(base)
    if not sep or schema is None or not schema.annotation or not instance:
        return None
    return dataclasses.replace(
        schema, name=name, path=f"{schema.path}__{instance}", description=f"{schema.description} (instance {instance})"
    )


def warehouse_schemas(root: Path) -> dict[str, TableSchema]:
    """The schemas plus the instance tables present under `root/annotations/`."""
    load_declared(root)
    out = dict(all_schemas())
    annotations = root / "annotations"
    if annotations.is_dir():
        for d in sorted(annotations.iterdir()):
            inst = instance_schema(f"annotations_{d.name}") if "__" in d.name else None
            if inst is not None:
                out[inst.name] = inst
    return out


def load_schema(name: str) -> TableSchema:
    schemas = all_schemas()
    if name not in schemas and (inst := instance_schema(name)) is not None:
        return inst
    if name not in schemas:
        raise KeyError(f"no schema for table {name!r}; known: {sorted(schemas)}")
    return schemas[name]
