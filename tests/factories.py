"""Build small warehouse tables directly, so stage tests do not depend on the parsers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from curation.warehouse import ShardWriter, Warehouse


def doc_row(doc_id: str, text: str, **kw: Any) -> dict[str, Any]:
    source, _, source_id = doc_id.partition(":")
    row = {
        "doc_id": doc_id,
        "work_id": doc_id,
        "source": source,
        "source_id": source_id,
        "version": 1,
        "title": kw.pop("title", f"Title of {doc_id}"),
        "text": text,
        "license": "CC-BY-4.0",
        "commercial_use": True,
        "content_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "source_file": f"/data/{source}.xml",
        "source_file_sha256": "0" * 64,
        "record_index": 0,
        "source_ref": f"/data/{source}.xml:1",
        "run_id": "20260101T000000000000Z-ingest-test",
    }
    row.update(kw)
    return row


def write_documents(wh: Warehouse, rows: Iterable[dict[str, Any]], unit: str = "test") -> int:
    with ShardWriter(wh, "documents", unit) as w:
        for i, r in enumerate(rows):
            w.write({"record_index": i, **r})
    return w.stats.rows


def item_row(item_id: str, question: str, answer: str = "A", **kw: Any) -> dict[str, Any]:
    benchmark, split, _ = item_id.split(":", 2)
    row = {
        "item_id": item_id,
        "benchmark": benchmark,
        "split": split,
        "question": question,
        "options": [{"label": "A", "text": "yes"}, {"label": "B", "text": "no"}],
        "answer": answer,
        "content_sha256": hashlib.sha256(question.encode()).hexdigest(),
        "source_file": f"/data/{benchmark}.jsonl",
        "source_file_sha256": "0" * 64,
        "record_index": 0,
        "source_ref": f"/data/{benchmark}.jsonl:1",
        "run_id": "20260101T000000000000Z-ingest-test",
    }
    row.update(kw)
    return row


def write_items(wh: Warehouse, rows: Iterable[dict[str, Any]], unit: str = "test") -> int:
    with ShardWriter(wh, "benchmark_items", unit) as w:
        for i, r in enumerate(rows):
            w.write({"record_index": i, **r})
    return w.stats.rows
