"""MedQA (USMLE) JSON Lines: {question, options: {A: ..}, answer_idx, answer, meta_info}."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from curation.config_base import StrictModel
from curation.ingest.benchmarks.common import item_record, iter_jsonl, resolve_split
from curation.ingest.benchmarks.kinds import BENCHMARKS, BenchmarkKind
from curation.ingest.formats import FORMATS, FormatSpec
from curation.ingest.items import Item, Rejection


class Options(StrictModel):
    split: str | None = None  # the source's `split` wins; else the split named in the file name


def check(path: Path, options: Options, split: str | None) -> str:
    """The file's split, or IngestConfigError before any row is read."""
    return resolve_split("medqa", path, split, options.split)


def parse(path: Path, options: Options, split: str | None) -> Iterator[Item]:
    split = check(path, options, split)
    for index, line_no, obj in iter_jsonl(path):
        ref = f"{path}:{line_no}"
        if isinstance(obj, Rejection):
            yield obj
            continue
        question, opts, gold = obj.get("question"), obj.get("options"), obj.get("answer_idx")
        if not isinstance(question, str) or not question.strip() or not isinstance(opts, dict) or not opts:
            yield Rejection("missing_field", ref, obj, "needs question and an options mapping")
            continue
        labels = sorted(opts)
        if gold not in opts:
            yield Rejection("answer_not_in_options", ref, obj, f"answer_idx {gold!r} not in {labels}")
            continue
        yield item_record(
            "medqa",
            split,
            index,
            ref,
            question,
            [{"label": k, "text": str(opts[k])} for k in labels],
            gold,
            subject=obj.get("meta_info"),
            answer_text=obj.get("answer") or str(opts[gold]),
            meta={k: v for k, v in obj.items() if k in ("metamap_phrases",)},
        )


CITATION = """@article{jin2021disease,
  title   = {What Disease Does This Patient Have? A Large-Scale Open Domain Question Answering Dataset from Medical Exams},
  author  = {Jin, Di and Pan, Eileen and Oufattole, Nassim and Weng, Wei-Hung and Fang, Hanyi and Szolovits, Peter},
  journal = {Applied Sciences},
  volume  = {11},
  number  = {14},
  pages   = {6421},
  year    = {2021}
}"""

FORMATS.register(FormatSpec("medqa", parse, Options, "benchmark_items", check, citation=CITATION))
BENCHMARKS.register(BenchmarkKind("medqa", eval_splits=("test",), description="MedQA (USMLE)"))
