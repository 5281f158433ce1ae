"""MMLU CSV (the official `data/{dev,val,test}/<subject>_<split>.csv`): no header; question, A, B, C, D, answer.

The subject and split come from the file name. Only medical subjects are wanted by default; a file of another
subject is not parsed but recorded in quarantine (`subject_not_selected`), so it never vanishes silently.
The item_id hashes the subject too: MMLU repeats some questions verbatim across subjects (college_medicine and
clinical_knowledge share two in val alone), and those are separate items.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from pydantic import Field

from curation.config_base import StrictModel
from curation.errors import IngestConfigError
from curation.ingest.benchmarks.common import LABELS, item_record, resolve_split
from curation.ingest.benchmarks.kinds import BENCHMARKS, BenchmarkKind
from curation.ingest.csvrows import iter_csv
from curation.ingest.formats import FORMATS, FormatSpec
from curation.ingest.items import Item, Rejection

# The six "MMLU-Med" subjects (MedRAG / MIRAGE, Med-PaLM evaluations).
MEDICAL_SUBJECTS = (
    "anatomy",
    "clinical_knowledge",
    "college_biology",
    "college_medicine",
    "medical_genetics",
    "professional_medicine",
)
N_OPTIONS = 4
_NAME = re.compile(r"^(?P<subject>[a-z_]+?)_(?P<split>dev|val|test|train|auxiliary_train)$")


class Options(StrictModel):
    split: str | None = None  # default: the file name's suffix (dev, val, test)
    subject: str | None = None  # default: the file name's prefix
    subjects: list[str] = Field(
        default_factory=lambda: list(MEDICAL_SUBJECTS)
    )  # subjects to ingest; others are quarantined per file


def name_parts(path: Path) -> tuple[str | None, str | None]:
    stem = path.name.split(".")[0]
    m = _NAME.match(stem)
    return (m["subject"], m["split"]) if m else (None, None)


def check(path: Path, options: Options, split: str | None) -> tuple[str, str]:
    """(subject, split) of the file, or IngestConfigError before any row is read."""
    name_subject, name_split = name_parts(path)
    subject = options.subject or name_subject
    split = resolve_split("mmlu", path, split, options.split, name_split)
    if not subject:
        raise IngestConfigError(
            f"mmlu: no subject for {path.name}: name it <subject>_<split>.csv or set option subject"
        )
    return subject, split


def parse(path: Path, options: Options, split: str | None) -> Iterator[Item]:
    subject, split = check(path, options, split)
    if subject not in options.subjects:
        yield Rejection("subject_not_selected", str(path), None, f"subject {subject!r} not in {options.subjects}")
        return
    index = 0
    for rec in iter_csv(path):
        if isinstance(rec, Rejection):
            yield rec
            index += 1
            continue
        row, ref = rec.cells, f"{path}:{rec.line}"
        if not any(c.strip() for c in row):
            continue
        index += 1
        if len(row) != N_OPTIONS + 2 or not row[0].strip():
            yield Rejection("missing_field", ref, row, f"expected question, A-D, answer: got {len(row)} columns")
            continue
        answer = row[-1].strip().upper()
        if answer not in LABELS[:N_OPTIONS]:
            yield Rejection("answer_not_in_options", ref, row, f"answer {row[-1]!r} not in A-D")
            continue
        options_list = [{"label": LABELS[i], "text": t} for i, t in enumerate(row[1:-1])]
        yield item_record(
            "mmlu", split, index - 1, ref, row[0], options_list, answer, id_parts=(subject,), subject=subject
        )
    if index == 0:
        yield Rejection("empty_file", str(path), None, "no CSV row in the file")


CITATION = """@inproceedings{hendrycks2021mmlu,
  title     = {Measuring Massive Multitask Language Understanding},
  author    = {Hendrycks, Dan and Burns, Collin and Basart, Steven and Zou, Andy and Mazeika, Mantas and Song, Dawn
               and Steinhardt, Jacob},
  booktitle = {International Conference on Learning Representations},
  year      = {2021}
}"""

FORMATS.register(FormatSpec("mmlu", parse, Options, "benchmark_items", check, citation=CITATION))
BENCHMARKS.register(BenchmarkKind("mmlu", eval_splits=("test",), description="MMLU medical subjects"))
