"""What a parser yields: a row for its table, a deletion, or a quarantined piece of input. Nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from curation.ingest.reasons import check_reason


@dataclass
class Record:
    """One row for the format's table. The runner adds run_id, source_file, source_file_sha256 and, when
    missing, content_sha256. `allow_empty` names required columns that may legitimately be "" for this row
    (a PubMed citation without an abstract has text ""); otherwise "" in a required column is quarantined."""

    row: dict[str, Any]
    allow_empty: frozenset[str] = frozenset()


@dataclass
class Deleted:
    """A DeleteCitation entry: the work is excluded downstream, the rows stay in `documents`."""

    work_id: str
    source: str
    source_id: str
    record_index: int


@dataclass
class Quarantined:
    """A piece of input that is not a row: `reason` from curation/ingest/reasons.py, the raw `payload` where there
    is one (the writer bounds it), and `payload_bytes` when the payload is already a prefix of something larger."""

    reason: str
    source_ref: str
    payload: Any = None
    detail: str = ""
    payload_bytes: int | None = None

    def __post_init__(self) -> None:
        check_reason(self.reason)


Item = Record | Deleted | Quarantined
