"""Apply the index to documents (annotations_decontam) and to other records (synthetic_decontam).

Documents stream from DuckDB in Arrow batches; each batch becomes one unit of the annotation table, so memory is
one batch and a crash loses at most the batch in flight.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from curation.batches import rechunk
from curation.decontam.index import EvalIndex
from curation.decontam.rules import Match, match_text, pmid_of
from curation.warehouse import ShardWriter, Warehouse

# Fields of a record whose text is checked; list fields (dialogue turns, options) contribute their `text`.
DEFAULT_TEXT_FIELDS = ("title", "text", "question", "answer", "reasoning", "rationale", "turns", "options")
RECORD_KEYS = ("record_id", "passage_id", "doc_id")


@dataclass
class DecontamStats:
    rows: int = 0
    contaminated: int = 0
    by_rule: Counter[str | None] = field(default_factory=Counter)  # Match's fields are typed Optional
    by_benchmark: Counter[str | None] = field(default_factory=Counter)
    seconds: float = 0.0

    def add(self, m: Match) -> None:
        self.rows += 1
        if m.contaminated:
            self.contaminated += 1
            self.by_rule[m.contam_rule] += 1
            self.by_benchmark[m.contam_benchmark] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "contaminated": self.contaminated,
            "by_rule": dict(self.by_rule),
            "by_benchmark": dict(self.by_benchmark),
            "seconds": round(self.seconds, 3),
            "rows_per_s": round(self.rows / self.seconds, 1) if self.seconds else None,
        }


def _field_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping):
        return str(v.get("text") or "")
    if isinstance(v, Iterable):
        return "\n".join(_field_text(x) for x in v)
    return ""


def record_text(record: Mapping[str, Any], fields: Iterable[str] = DEFAULT_TEXT_FIELDS) -> str:
    return "\n".join(t for f in fields if (t := _field_text(record.get(f))))


def record_key(record: Mapping[str, Any]) -> str:
    for k in RECORD_KEYS:
        if record.get(k):
            return str(record[k])
    raise KeyError(f"record has none of {RECORD_KEYS}")


def decontaminate_records(
    records: Iterable[Mapping[str, Any]], index: EvalIndex, *, text_fields: Iterable[str] = DEFAULT_TEXT_FIELDS
) -> Iterator[tuple[str, Match]]:
    """(record key, Match) per record. The text is the record's text fields joined; its PMID comes from a `pmid`
    field or a pubmed `doc_id`, so a record generated from an evaluation abstract is flagged by the pmid rule."""
    fields = tuple(text_fields)
    for r in records:
        yield record_key(r), match_text(record_text(r, fields), index, pmid_of(r.get("pmid"), r.get("doc_id")))


def annotate_documents(
    wh: Warehouse, batches: Iterable[Any], index: EvalIndex, run_id: str, stats: DecontamStats
) -> Iterator[tuple[str, int]]:
    """Write one annotations_decontam unit per Arrow batch (doc_id, pmid, title, text); yield (unit, rows)."""
    for k, batch in enumerate(batches):
        if batch.num_rows == 0:
            continue
        t = time.perf_counter()
        unit = f"{run_id}-{k:05d}"
        cols = batch.to_pydict()
        with ShardWriter(wh, "annotations_decontam", unit) as w:
            for doc_id, pmid, title, text in zip(
                cols["doc_id"], cols["pmid"], cols["title"], cols["text"], strict=True
            ):
                m = match_text(f"{title}\n{text}" if title else text, index, pmid_of(pmid, doc_id))
                stats.add(m)
                w.write({"doc_id": doc_id, "run_id": run_id, **m.columns()})
        stats.seconds += time.perf_counter() - t
        yield unit, w.stats.rows


def write_record_annotations(
    wh: Warehouse,
    source_table: str,
    records: Iterable[Mapping[str, Any]],
    index: EvalIndex,
    run_id: str,
    stats: DecontamStats | None = None,
    *,
    unit: str | None = None,
    text_fields: Iterable[str] = DEFAULT_TEXT_FIELDS,
) -> int:
    """Write synthetic_decontam rows (source_table, record_id, the Match columns) for records of any table."""
    stats = stats if stats is not None else DecontamStats()
    t = time.perf_counter()
    with ShardWriter(wh, "synthetic_decontam", unit or f"{source_table}-{run_id}") as w:
        for key, m in decontaminate_records(records, index, text_fields=text_fields):
            stats.add(m)
            w.write({"source_table": source_table, "record_id": key, "run_id": run_id, **m.columns()})
    stats.seconds += time.perf_counter() - t
    return w.stats.rows


def annotate_table(
    wh: Warehouse, table: str, index: EvalIndex, run_id: str, batch_rows: int = 20_000, con: Any = None
) -> dict[str, Any]:
    """Check every row of a record table (passages, synthetic_<task>) and write synthetic_decontam, one unit per
    batch. For the release: the build runs decontam before synth, so synthetic tables are checked again here."""
    from curation.warehouse import connect

    con = con or connect(wh)
    stats = DecontamStats()
    reader = con.sql(f'SELECT * FROM "{table}"').to_arrow_reader(batch_rows)
    for k, batch in enumerate(rechunk(reader, batch_rows)):
        write_record_annotations(wh, table, batch.to_pylist(), index, run_id, stats, unit=f"{table}-{run_id}-{k:05d}")
    return {"table": table, **stats.as_dict()}
