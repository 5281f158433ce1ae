"""Generic triples from CSV, TSV or JSON Lines with a field mapping (`src`, `rel`, `dst` required; names, kinds,
synonyms, evidence, confidence and dates optional). Endpoints become nodes (name = the mapped name, else the id)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from curation.config_base import StrictModel
from curation.ingest.textio import open_text
from curation.kg.items import Bad, Edge, Item, Node
from curation.kg.licenses import UNKNOWN, fixed

FIELDS = (
    "src", "rel", "dst", "src_name", "dst_name", "src_kind", "dst_kind", "src_synonyms", "dst_synonyms",
    "metaedge", "evidence", "confidence", "first_seen", "last_seen", "date",
)  # fmt: skip


class Options(StrictModel):
    fields: dict[str, str] = Field(
        default_factory=dict
    )  # our field → input column; unmapped required fields read the column of that name
    reader: Literal["auto", "csv", "tsv", "jsonl"] = "auto"
    list_separator: str = "|"  # splits evidence and synonyms held in one text cell
    default_kind: str = "entity"
    directed: bool = True
    license: str = UNKNOWN
    commercial_use: bool | None = None

    @field_validator("fields")
    @classmethod
    def _known(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = set(v) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}; known: {', '.join(FIELDS)}")
        return v


def _reader(path: Path, choice: str) -> str:
    if choice != "auto":
        return choice
    name = path.name.removesuffix(".gz")
    for suffix, kind in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".tsv", "tsv"), (".tab", "tsv"), (".csv", "csv")):
        if name.endswith(suffix):
            return kind
    raise ValueError(f"triples: cannot tell the reader of {path} from its name; set the option reader=csv|tsv|jsonl")


def _records(path: Path, kind: str) -> Iterator[tuple[str, dict[str, Any] | Bad]]:
    with open_text(path) as f:
        if kind == "jsonl":
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                ref = f"{path}:{n}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    yield ref, Bad("invalid_json", ref, line, str(e))
                    continue
                yield ref, obj if isinstance(obj, dict) else Bad("invalid_json", ref, line, "not a JSON object")
            return
        reader = csv.reader(f, delimiter="\t" if kind == "tsv" else ",")
        header = next(reader, None) or []
        for cols in reader:
            ref = f"{path}:{reader.line_num}"
            if len(cols) != len(header):
                yield ref, Bad("malformed_line", ref, ",".join(cols), f"{len(cols)} fields, header has {len(header)}")
            else:
                yield ref, dict(zip(header, cols, strict=True))


def _list(v: Any, sep: str) -> list[str]:
    if v is None or v == "":
        return []
    if isinstance(v, list):
        return [str(x) for x in v if str(x).strip()]
    return [s.strip() for s in str(v).split(sep) if s.strip()]


def _date(v: Any) -> dt.date | None:
    return None if v in (None, "") else dt.date.fromisoformat(str(v)[:10])


def _edge_parts(rec: dict[str, Any], o: Options) -> dict[str, Any]:
    """The mapped values of one record; ValueError (→ quarantine) when a required one is empty or a value is bad."""
    get = {name: rec.get(o.fields.get(name, name)) for name in FIELDS}
    for name in ("src", "rel", "dst"):
        if get[name] is None or not str(get[name]).strip():
            raise ValueError(f"missing {name} (column {o.fields.get(name, name)!r})")
    conf = get["confidence"]
    return {
        **{k: str(get[k]).strip() for k in ("src", "rel", "dst")},
        "get": get,
        "confidence": None if conf in (None, "") else float(conf),
        "first_seen": _date(get["first_seen"] or get["date"]),
        "last_seen": _date(get["last_seen"] or get["date"]),
    }


def read(paths: list[Path], options: Options) -> Iterator[Item]:
    licence = fixed(options.license, options.commercial_use)
    for path in paths:
        if path.is_dir():
            raise ValueError(f"triples: give files, not a directory: {path}")
        for ref, rec in _records(path, _reader(path, options.reader)):
            if isinstance(rec, Bad):
                yield rec
                continue
            try:
                p = _edge_parts(rec, options)
            except (ValueError, TypeError) as e:
                yield Bad("malformed_line", ref, json.dumps(rec, default=str), str(e))
                continue
            get, sep = p["get"], options.list_separator
            for side in ("src", "dst"):
                name = get[f"{side}_name"]
                kind = get[f"{side}_kind"] or options.default_kind
                synonyms = _list(get[f"{side}_synonyms"], sep)
                yield Node(p[side], str(name or p[side]), str(kind), licence, ref, path, synonyms)
            yield Edge(
                p["src"], p["rel"], p["dst"], str(get["metaedge"] or p["rel"]), options.directed, licence, ref, path,
                _list(get["evidence"], sep) or None, p["confidence"], p["first_seen"], p["last_seen"],
            )  # fmt: skip
