"""Sentences with spans back to CoNLL lines (`medcurate ner export`): what a NER trainer reads. An ingested file
comes back line for line (blank lines between sentences normalised to one), its middle columns included."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from curation.errors import UserError
from curation.ner.iob import Scheme, spans_to_iob
from curation.warehouse import Warehouse, connect

Separator = Literal["tab", "space"]
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def conll_lines(
    rows: Iterable[Mapping[str, Any]], scheme: Scheme | None = None, separator: Separator = "tab"
) -> Iterator[str]:
    """Lines (without newlines) for sentences with `tokens`, `spans` and optionally `features`, `docstart` and
    `scheme` (the sentence's own scheme unless `scheme` is given)."""
    sep = "\t" if separator == "tab" else " "
    for i, row in enumerate(rows):
        if row.get("docstart"):
            if i:
                yield ""
            yield row["docstart"]
        if i or row.get("docstart"):
            yield ""
        tags = spans_to_iob(row["tokens"], row["spans"] or [], scheme or row.get("scheme") or "iob2")
        features = row.get("features") or [None] * len(tags)
        for token, middle, tag in zip(row["tokens"], features, tags, strict=True):
            yield sep.join([token, *(middle.split(" ") if middle else []), tag])


def export_table(
    wh: Warehouse,
    table: str,
    out: Path,
    *,
    scheme: Scheme | None = None,
    separator: Separator = "tab",
) -> int:
    """Write `table` (ner_sentences, or a table of generated sentences with `tokens` and `spans`, such as HILGEN's)
    as one CoNLL file, in file and line order (generated ones by record_id); returns the number of sentences."""
    if not _NAME.match(table):
        raise UserError(f"--table {table!r} is not a table name")
    con = connect(wh)
    known = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if table not in known:
        raise UserError(f"no table {table!r} in the warehouse")
    cols = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    order = "source_file, line_start" if {"source_file", "line_start"} <= cols else "sentence_id"
    order = order if "sentence_id" in cols or "line_start" in cols else "record_id"  # generated sentences
    cur = con.execute(f"SELECT * FROM {table} ORDER BY {order}")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for line in conll_lines(rows, scheme, separator):
            f.write(line + "\n")
    return len(rows)
