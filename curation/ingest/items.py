"""What a parser yields: a row for its table, a deletion, or a quarantined piece of input. Nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Record:
    """One row for the format's table. The runner adds run_id, source_file, source_file_sha256 and, when
    missing, content_sha256."""

    row: dict[str, Any]


@dataclass
class Deleted:
    """A DeleteCitation entry: the work is excluded downstream, the rows stay in `documents`."""

    work_id: str
    source: str
    source_id: str
    record_index: int


@dataclass
class Quarantined:
    reason: str
    source_ref: str
    payload: Any = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


Item = Record | Deleted | Quarantined
