"""Ingest one source file as one unit: parse, fill lineage columns, write the table, deletions and quarantine,
then record the file in the ledger. Plain functions: the Prefect flow in flows/ingest.py wraps them."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import traceback
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curation.errors import DiskFull, IngestConfigError
from curation.ingest.config import IngestConfig
from curation.ingest.formats import FORMATS, get_format
from curation.ingest.items import Deleted, Item, Record, Rejection
from curation.ingest.ledger import Ledger
from curation.ingest.limits import using
from curation.ingest.paths import check_input_path
from curation.ingest.reasons import check_reason
from curation.warehouse.quarantine import Quarantine
from curation.warehouse.runs import sha256_file
from curation.warehouse.shards import ShardWriter
from curation.warehouse.store import Warehouse

STAGE = "ingest"
_UNIT_TABLES = ("documents", "benchmark_items", "deletions", "quarantine", "source_files")


@dataclass
class IngestJob:
    path: str
    format: str
    source_name: str
    split: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class FileResult:
    path: str
    format: str
    sha256: str = ""
    bytes: int = 0
    status: str = "ingested"  # ingested | skipped | failed
    table: str = ""
    unit: str = ""
    rows: int = 0
    deleted: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    message: str = ""
    seconds: float = 0.0
    retired_units: list[str] = field(default_factory=list)
    children: dict[str, int] = field(default_factory=dict)  # rows written to the format's other tables
    counts: dict[str, int] = field(default_factory=dict)  # run counts: `<table>.rows` and the records' own counts


@dataclass
class _Outputs:
    """Where one unit's items go: the format's table, its child tables, deletions and quarantine."""

    rows: ShardWriter
    children: dict[str, ShardWriter]
    deletions: ShardWriter
    quarantine: Quarantine
    lineage: dict[str, str]

    def abort(self) -> None:
        for w in (self.rows, *self.children.values(), self.deletions):
            w.abort()


def content_sha256(*parts: str | None) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update((p or "").encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


def unit_name(path: str, fmt: str, file_sha256: str, options: dict[str, Any], split: str | None) -> str:
    """A unit is one file, by (path, content), read with one format, options and split: change any and it is
    re-ingested. Two paths with the same content are two units, so both are recorded in the ledger and neither
    overwrites the other's rows or quarantine (documents_latest keeps one row per doc_id)."""
    settings = json.dumps({"path": path, "format": fmt, "options": options, "split": split}, sort_keys=True)
    return f"{fmt}-{hashlib.sha256(f'{file_sha256}|{settings}'.encode()).hexdigest()[:20]}"


def check_jobs(jobs: Iterable[IngestJob]) -> None:
    """Raise the first whole-file configuration error among the jobs (InputPathError for a missing, special or
    directory path; IngestConfigError for no split, an unknown tabular suffix, ...) without reading any content:
    for the CLI to call before taking the warehouse lock and exit 2. Format modules may define
    `check(path, options, split)` for their own file-level checks."""
    for job in jobs:
        spec = get_format(job.format)
        path = check_input_path(job.path, job.format)
        if spec.check is not None:
            spec.check(path, spec.options(job.options), job.split)


def _utf8_len(s: str) -> int:
    return len(s) if s.isascii() else len(s.encode("utf-8", errors="surrogatepass"))


def _row_bytes(row: dict[str, Any]) -> tuple[int, str]:
    """(UTF-8 bytes of the row's top-level strings, its largest string). Sections repeat the text: not counted."""
    strings = [v for v in row.values() if isinstance(v, str)]
    return sum(map(_utf8_len, strings)), max(strings, key=len, default="")


def _remove_unit_everywhere(wh: Warehouse, unit: str) -> None:
    children = sorted({t for spec in FORMATS.values() for t in spec.also_writes})
    for table in (*_UNIT_TABLES, *children):
        wh.remove_unit(table, f"{STAGE}-{unit}" if table == "quarantine" else unit)


def ingest_file(
    wh: Warehouse,
    job: IngestJob,
    run_id: str,
    ledger: Ledger,
    cfg: IngestConfig | None = None,
    *,
    force: bool = False,
) -> FileResult:
    """Ingest one file. Bad records go to quarantine; only an unreadable file makes the result 'failed'."""
    cfg = cfg or IngestConfig()
    t0 = time.perf_counter()
    path = Path(job.path).resolve()
    res = FileResult(path=str(path), format=job.format)
    spec = get_format(job.format)
    options = spec.options(job.options)
    table = spec.table_for(options)
    res.table = table
    if path.exists():  # a FIFO or device must not be opened (InputPathError); a vanished file fails below
        check_input_path(path, job.format)
    try:
        res.sha256 = sha256_file(path) if path.is_file() else _dir_sha256(path)
        res.bytes = path.stat().st_size
    except OSError as e:
        res.status, res.message = "failed", f"cannot read {path}: {e}"
        return res

    unit = unit_name(str(path), job.format, res.sha256, options.model_dump(mode="json"), job.split)
    res.unit = unit
    prior = ledger.lookup(unit)
    if prior and not force:
        res.status = "skipped"
        res.message = f"same content and settings already ingested from {prior.source_file} (run {prior.run_id})"
        res.seconds = time.perf_counter() - t0
        return res

    _remove_unit_everywhere(wh, unit)  # leftovers of a crashed attempt
    writer_kw = {"target_rows": cfg.target_rows_per_shard, "target_bytes": cfg.target_bytes_per_shard}
    out = _Outputs(
        rows=ShardWriter(wh, table, unit, **writer_kw),
        children={t: ShardWriter(wh, t, unit, **writer_kw) for t in spec.also_writes},
        deletions=ShardWriter(wh, "deletions", unit),
        quarantine=Quarantine(wh, STAGE, run_id, unit=f"{STAGE}-{unit}"),
        lineage={"run_id": run_id, "source_file": str(path), "source_file_sha256": res.sha256},
    )
    quarantine = out.quarantine
    required = set(wh.schema(table).required()) - set(out.lineage) - {"content_sha256"}
    try:
        with using(cfg.limits()):
            _consume(spec.parser()(path, options, job.split), job, cfg, required, out, res)
    except (IngestConfigError, DiskFull):  # the file is misconfigured, or no room: an error, not a quarantined row
        out.abort()
        quarantine.abort()
        raise
    except Exception as e:  # a parser bug must not lose the rows before it, nor the run
        quarantine.add(
            "parser_error", f"{path}", None, detail=f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=8)}"
        )
    try:
        quarantine.commit()
        out.deletions.commit()
        for name, w in out.children.items():  # before the main rows: a visible document has its children
            if n := w.commit().rows:
                res.children[name] = res.counts[f"{name}.rows"] = n
        stats = out.rows.commit()
    except BaseException:
        out.abort()
        raise
    res.rows = stats.rows
    res.quarantined = quarantine.n
    res.reasons = dict(quarantine.reasons)
    _write_ledger_row(wh, res, run_id)
    for old in ledger.older_versions(str(path), unit):
        _remove_unit_everywhere(wh, old.unit)
        res.retired_units.append(old.unit)
    res.seconds = time.perf_counter() - t0
    return res


def _consume(
    items: Iterator[Item],
    job: IngestJob,
    cfg: IngestConfig,
    required: set[str],
    out: _Outputs,
    res: FileResult,
) -> None:
    """Route a parser's items: rows (checked for required columns and size) to the table with their children,
    deletions, quarantine."""
    lineage, quarantine = out.lineage, out.quarantine
    for item in items:
        if isinstance(item, Record):
            row = item.row
            missing = sorted(k for k in required if row.get(k) is None or (row[k] == "" and k not in item.allow_empty))
            size, largest = _row_bytes(row)
            ref = row.get("source_ref") or f"{job.path}#{row.get('record_index')}"
            if missing:
                quarantine.add("missing_field", ref, row, detail=f"missing {missing}")
            elif size > cfg.max_record_bytes:
                why = f"record of {size} bytes > max_record_bytes {cfg.max_record_bytes}; payload: its largest field"
                quarantine.add("oversized_record", ref, largest, detail=why)
            else:
                row.update(lineage)
                if not row.get("content_sha256"):
                    row["content_sha256"] = content_sha256(row.get("title"), row.get("text") or row.get("question"))
                out.rows.write(row)
                _write_children(item, out, job.format)
                for k, v in item.counts.items():
                    res.counts[k] = res.counts.get(k, 0) + v
        elif isinstance(item, Deleted):
            out.deletions.write(
                {
                    "work_id": item.work_id,
                    "source": item.source,
                    "source_id": item.source_id,
                    "record_index": item.record_index,
                    **lineage,
                }
            )
            res.deleted += 1
        elif isinstance(item, Rejection):
            quarantine.add(check_reason(item.reason), item.source_ref, item.payload, item.detail, item.payload_bytes)
        else:
            raise TypeError(f"parser for {job.format} yielded {type(item).__name__}")


def _write_children(item: Record, out: _Outputs, fmt: str) -> None:
    """A written record's child rows, with the lineage columns their table has."""
    for name, child_rows in item.children.items():
        w = out.children.get(name)
        if w is None:
            raise TypeError(f"format {fmt} yielded rows for {name!r}, which its FormatSpec.also_writes does not name")
        lineage = {k: v for k, v in out.lineage.items() if k in w.schema.names}
        for child in child_rows:
            w.write({**child, **lineage})


def _dir_sha256(path: Path) -> str:
    """A directory source (a saved Hugging Face dataset): hash of its files' names and contents."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(path)).encode())
        h.update(sha256_file(f).encode())
    return h.hexdigest()


def _write_ledger_row(wh: Warehouse, res: FileResult, run_id: str) -> None:
    with ShardWriter(wh, "source_files", res.unit) as w:
        w.write(
            {
                "source_file": res.path,
                "sha256": res.sha256,
                "bytes": res.bytes,
                "format": res.format,
                "table_name": res.table,
                "unit": res.unit,
                "n_rows": res.rows,
                "n_deleted": res.deleted,
                "n_quarantined": res.quarantined,
                "run_id": run_id,
                "ingested_at": dt.datetime.now(dt.UTC),
            }
        )


def summarize(results: list[FileResult]) -> dict[str, Any]:
    reasons: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for r in results:
        reasons.update(r.reasons)
        counts.update(r.counts)
    return {
        "files": len(results),
        "files_ingested": sum(r.status == "ingested" for r in results),
        "files_skipped": sum(r.status == "skipped" for r in results),
        "files_failed": sum(r.status == "failed" for r in results),
        "rows": sum(r.rows for r in results),
        "deleted": sum(r.deleted for r in results),
        "quarantined": sum(r.quarantined for r in results),
        "quarantine_reasons": dict(reasons),
        "counts": dict(counts),
    }
