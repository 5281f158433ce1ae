"""MedMCQA JSON Lines: {id, question, opa..opd, cop, exp, subject_name, topic_name, choice_type}.

`cop` (the correct option) is 1-based in the original release (1..4 → opa..opd) and 0-based in other copies
(e.g. the Hugging Face one). Guessing would silently shift every answer by one, so the base is a required
option, `cop_base: 0 | 1`, and the file is checked against it before any row is ingested:

- a file that proves the other base (declared 0 but a cop of 4 appears; declared 1 but a 0 appears; or both
  0 and 4, a mixed file) is rejected as a whole: every row goes to quarantine as `cop_base_mismatch`, with the
  evidence in the detail. Per-row quarantine alone would keep the rows whose shifted values happen to be in
  range, i.e. exactly the silently wrong answers.
- otherwise a cop outside the declared range (5, -1, "x", missing) quarantines that row as `answer_out_of_range`.

A file with only 1..3 cannot show its base; the declaration is then trusted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from curation.config_base import StrictModel
from curation.ingest.benchmarks.common import LABELS, item_record, iter_jsonl, resolve_split
from curation.ingest.benchmarks.kinds import BENCHMARKS, BenchmarkKind
from curation.ingest.formats import FORMATS, FormatSpec
from curation.ingest.items import Item, Rejection

OPTION_KEYS = ("opa", "opb", "opc", "opd")
META_KEYS = ("id", "topic_name", "choice_type", "exp")


class Options(StrictModel):
    cop_base: Literal[0, 1]  # required: 1 for the original release, 0 for 0-based copies
    split: str | None = None


def _cop(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def base_evidence(path: Path) -> Counter[int]:
    """Count the cop values that occur in only one base: 0 (0-based only) and 4 (1-based only)."""
    seen: Counter[int] = Counter()
    for _, _, obj in iter_jsonl(path):
        if isinstance(obj, dict):
            c = _cop(obj.get("cop"))
            if c in (0, 4):
                seen[c] += 1
    return seen


def mismatch(declared: int, evidence: Counter[int]) -> str:
    """Why the file contradicts the declared base, or '' when it does not."""
    if evidence[0] and evidence[4]:
        return f"mixed bases: {evidence[0]} rows have cop=0 and {evidence[4]} have cop=4"
    if declared == 0 and evidence[4]:
        return f"declared cop_base: 0 but {evidence[4]} rows have cop=4, which exists only 1-based; use cop_base: 1"
    if declared == 1 and evidence[0]:
        return f"declared cop_base: 1 but {evidence[0]} rows have cop=0, which exists only 0-based; use cop_base: 0"
    return ""


def check(path: Path, options: Options, split: str | None) -> str:
    """The file's split, or IngestConfigError before any row is read."""
    return resolve_split("medmcqa", path, split, options.split)


def parse(path: Path, options: Options, split: str | None) -> Iterator[Item]:
    split = check(path, options, split)
    base = options.cop_base
    contradiction = mismatch(base, base_evidence(path))
    for index, line_no, obj in iter_jsonl(path):
        ref = f"{path}:{line_no}"
        if isinstance(obj, Rejection):
            yield obj
            continue
        if contradiction:
            why = f"file rejected: {contradiction} (re-ingest with --force: the ledger has seen this file)"
            yield Rejection("cop_base_mismatch", ref, obj, why)
            continue
        question = obj.get("question")
        texts = [t for k in OPTION_KEYS if isinstance(t := obj.get(k), str)]
        if not isinstance(question, str) or not question.strip() or len(texts) != len(OPTION_KEYS):
            yield Rejection("missing_field", ref, obj, f"needs question and string options {list(OPTION_KEYS)}")
            continue
        cop = _cop(obj.get("cop"))
        if cop is None or not base <= cop < base + len(OPTION_KEYS):
            allowed = f"{base}..{base + len(OPTION_KEYS) - 1}"
            yield Rejection(
                "answer_out_of_range", ref, obj, f"cop {obj.get('cop')!r} not in {allowed} (cop_base {base})"
            )
            continue
        choices = [{"label": LABELS[i], "text": t} for i, t in enumerate(texts)]
        meta = {("explanation" if k == "exp" else k): obj.get(k) for k in META_KEYS}
        yield item_record(
            "medmcqa",
            split,
            index,
            ref,
            question,
            choices,
            LABELS[cop - base],
            subject=obj.get("subject_name"),
            meta=meta | {"cop": obj.get("cop"), "cop_base": base},
        )


CITATION = """@inproceedings{pal2022medmcqa,
  title     = {{MedMCQA}: A Large-scale Multi-Subject Multi-Choice Dataset for Medical domain Question Answering},
  author    = {Pal, Ankit and Umapathi, Logesh Kumar and Sankarasubbu, Malaikannan},
  booktitle = {Proceedings of the Conference on Health, Inference, and Learning},
  series    = {Proceedings of Machine Learning Research},
  volume    = {174},
  pages     = {248--260},
  year      = {2022}
}"""

FORMATS.register(FormatSpec("medmcqa", parse, Options, "benchmark_items", check, citation=CITATION))
# MedMCQA's "dev" file is its validation split
BENCHMARKS.register(BenchmarkKind("medmcqa", eval_splits=("validation", "dev", "test"), description="MedMCQA"))
