"""MedQA (USMLE) JSON Lines: {question, options: {A: ..}, answer_idx, answer, meta_info}."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from curation.config_base import StrictModel
from curation.ingest.benchmarks.common import iter_jsonl, stable_item_id
from curation.ingest.items import Item, Quarantined, Record


class Options(StrictModel):
    split: str | None = None  # overridden by the source's `split`


def parse(path: Path, options: Options, split: str | None) -> Iterator[Item]:
    split = split or options.split
    if not split:
        raise ValueError("medqa needs a split (train, dev, test): set `split` on the source or --split")
    for index, line_no, obj in iter_jsonl(path):
        ref = f"{path}:{line_no}"
        if isinstance(obj, Quarantined):
            yield obj
            continue
        question, opts, gold = obj.get("question"), obj.get("options"), obj.get("answer_idx")
        if not question or not isinstance(opts, dict) or not opts:
            yield Quarantined("missing_field", ref, obj, "needs question and an options mapping")
            continue
        labels = sorted(opts)
        if gold not in opts:
            yield Quarantined("answer_not_in_options", ref, obj, f"answer_idx {gold!r} not in {labels}")
            continue
        options_list = [{"label": k, "text": str(opts[k])} for k in labels]
        yield Record(
            {
                "item_id": stable_item_id("medqa", split, question, *(o["text"] for o in options_list)),
                "benchmark": "medqa",
                "split": split,
                "subject": obj.get("meta_info"),
                "question": question,
                "options": options_list,
                "answer": gold,
                "answer_text": obj.get("answer") or opts[gold],
                "context": None,
                "pmid": None,
                "record_index": index,
                "source_ref": ref,
                "meta": {k: v for k, v in obj.items() if k in ("metamap_phrases",)},
            }
        )
