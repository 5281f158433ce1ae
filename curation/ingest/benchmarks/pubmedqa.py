"""PubMedQA (PQA-L / PQA-A / PQA-U) JSON: one object keyed by PMID, each value {QUESTION, CONTEXTS, LABELS,
MESHES, YEAR, final_decision, LONG_ANSWER, ...}. Streamed member by member (PQA-A has 211k of them).

The PMID is kept in `pmid` so that decontamination can flag the source abstract itself; the answer is the
final decision (yes / no / maybe), which PQA-U lacks: its items are kept with no answer rather than invented.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

from curation.config_base import StrictModel
from curation.errors import IngestConfigError
from curation.ingest.benchmarks.common import item_record, iter_json_object, resolve_split
from curation.ingest.benchmarks.kinds import BENCHMARKS, BenchmarkKind
from curation.ingest.formats import FORMATS, FormatSpec
from curation.ingest.items import Item, Rejection

DECISIONS = ("yes", "no", "maybe")
# The official PQA-L file holds all 1000 labelled items, the 500 test ones among them; the test PMIDs are the keys
# of test_ground_truth.json (PMID -> decision only, no questions), which sits next to it in the PubMedQA repository.
LABELED_FILE, GROUND_TRUTH_FILE = "ori_pqal.json", "test_ground_truth.json"
MAX_GROUND_TRUTH_BYTES = 16 * 1024 * 1024
OPTIONS = [{"label": d, "text": d} for d in DECISIONS]


class Options(StrictModel):
    split: str | None = None
    require_answer: bool = True  # false for PQA-U, which has no final_decision


def split_for(path: Path, options: Options, split: str | None) -> Callable[[str], str]:
    """PMID -> split. Explicit splits win; `ori_pqal.json` is split by the test_ground_truth.json beside it (its
    PMIDs test, the others train) or, without it, filed whole as test (never train: it holds the test items)."""
    explicit = split or options.split
    if explicit:
        return lambda _pmid: explicit
    if path.name == GROUND_TRUTH_FILE:
        raise IngestConfigError(
            f"{path.name} holds only the test answers (PMID -> decision), no questions: put it next to "
            f"{LABELED_FILE} and ingest that file; its PMIDs become the test split"
        )
    if path.name == LABELED_FILE:
        truth = path.with_name(GROUND_TRUTH_FILE)
        if truth.is_file() and truth.stat().st_size <= MAX_GROUND_TRUTH_BYTES:
            with open(truth, "rb") as f:
                test = set(json.load(f))
            return lambda pmid: "test" if pmid in test else "train"
        return lambda _pmid: "test"
    found = resolve_split("pubmedqa", path, split, options.split)
    return lambda _pmid: found


check = split_for  # whole-file configuration errors before any member is read


def parse(path: Path, options: Options, split: str | None) -> Iterator[Item]:
    split_of = split_for(path, options, split)
    index = 0
    for member in iter_json_object(path):
        if isinstance(member, Rejection):
            yield member
            continue
        pmid, obj = member
        ref = f"{path}#{pmid}"
        index += 1
        if not isinstance(obj, dict):
            yield Rejection("not_an_object", ref, obj, f"value of {pmid!r} is a {type(obj).__name__}")
            continue
        if not pmid.isdigit():
            yield Rejection("invalid_pmid", ref, obj, f"key {pmid!r} is not a PMID")
            continue
        question, contexts, labels = obj.get("QUESTION"), obj.get("CONTEXTS"), obj.get("LABELS") or []
        if not isinstance(question, str) or not question.strip():
            yield Rejection("missing_field", ref, obj, "no QUESTION")
            continue
        if not isinstance(contexts, list) or not all(isinstance(c, str) for c in contexts):
            yield Rejection("wrong_type", ref, obj, "CONTEXTS must be a list of strings")
            continue
        decision = obj.get("final_decision")
        if decision is None and not options.require_answer:
            answer = None
        elif isinstance(decision, str) and decision.strip().lower() in DECISIONS:
            answer = decision.strip().lower()
        else:
            yield Rejection("answer_not_in_options", ref, obj, f"final_decision {decision!r} not in {DECISIONS}")
            continue
        yield item_record(
            "pubmedqa",
            split_of(pmid),
            index - 1,
            ref,
            question,
            OPTIONS,
            answer,
            id_parts=(pmid,),
            context="\n\n".join(contexts),
            pmid=pmid,
            meta={
                "labels": labels,
                "meshes": obj.get("MESHES") or [],
                "year": obj.get("YEAR"),
                "long_answer": obj.get("LONG_ANSWER"),
                "reasoning_required_pred": obj.get("reasoning_required_pred"),
                "reasoning_free_pred": obj.get("reasoning_free_pred"),
            },
        )


CITATION = """@inproceedings{jin2019pubmedqa,
  title     = {{PubMedQA}: A Dataset for Biomedical Research Question Answering},
  author    = {Jin, Qiao and Dhingra, Bhuwan and Liu, Zhengping and Cohen, William and Lu, Xinghua},
  booktitle = {Proceedings of EMNLP-IJCNLP 2019},
  pages     = {2567--2577},
  year      = {2019}
}"""

FORMATS.register(FormatSpec("pubmedqa", parse, Options, "benchmark_items", citation=CITATION))
# The expert-labelled PQA-L is an evaluation set whole: the loader reads its layout, so every PubMedQA file counts;
# to train on PQA-A/PQA-U, narrow decontam.all_splits_files.pubmedqa to the PQA-L file names.
BENCHMARKS.register(
    BenchmarkKind("pubmedqa", eval_splits=("test",), all_splits_files=("*",), description="PubMedQA PQA-L")
)
