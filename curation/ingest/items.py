"""What a parser yields: a row for its table, a deletion, or a quarantined piece of input. Nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

from curation.warehouse.quarantine import Rejection


@dataclass
class Record:
    """One row for the format's table. The runner adds run_id, source_file, source_file_sha256 and, when
    missing, content_sha256. `allow_empty` names required columns that may legitimately be "" for this row
    (a PubMed citation without an abstract has text ""); otherwise "" in a required column is quarantined.
    `children` are rows of the format's other tables (FormatSpec.also_writes) derived from this record, such as a
    PMC article's paragraphs: written in the same unit, with the same lineage, and only when the row is written.
    `counts` are run counts the record adds (`<component>.<metric>`), e.g. paragraphs too short to keep."""

    row: dict[str, Any]
    allow_empty: frozenset[str] = frozenset()
    children: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Deleted:
    """A DeleteCitation entry: the work is excluded downstream, the rows stay in `documents`."""

    work_id: str
    source: str
    source_id: str
    record_index: int


Item = Record | Deleted | Rejection


class Section(TypedDict):
    """One labelled part of an article's text (a connector's `sections` field); `text` is never None."""

    label: str | None
    category: str | None
    text: str
