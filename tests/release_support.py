"""A small warehouse for release tests: documents from tests/factories.py plus annotation and synthetic tables.

The annotation and synthetic schemas used here are stand-ins written into a temporary schemas directory (the
dedup, quality, decontam and synth stages own the real ones), so these tests do not depend on, or collide with,
the schemas those stages add to schemas/tables.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from curation.resources import schemas_dir
from curation.warehouse import Quarantine, ShardWriter, Warehouse
from curation.warehouse.schemas import clear_schema_cache
from tests.factories import doc_row, write_documents

BASE_TABLES = ["documents", "deletions", "quarantine", "source_files", "benchmark_items", "paragraphs", "ner_sentences"]
STAND_INS = {
    "annotations_rtest_dedup": ["is_duplicate: bool"],
    "annotations_rtest_score": ["heuristic_pass: bool", "edu_int: int32", "edu_score: float32", "ppl: float64"],
    "annotations_rtest_decontam": ["contaminated: bool", "contam_benchmark: string"],
}
SYNTH_COLUMNS = [
    "record_id: string!",
    "doc_id: string!",
    "question: string!",
    "answer: string!",
    "model: string",
    "prompt_id: string",
    "prompt_version: string",
    "contaminated: bool",
    "gate_passed: bool",
    "run_id: string!",
]


def _columns(spec: list[str]) -> list[dict[str, Any]]:
    out = []
    for s in spec:
        name, _, typ = s.partition(": ")
        out.append({"name": name, "type": typ.rstrip("!"), "nullable": not typ.endswith("!")})
    return out


@pytest.fixture
def release_env(tmp_path, wh, monkeypatch):
    """(warehouse, tmp_path): the test warehouse built with stand-in schemas; the schema cache is reset after."""
    install_schemas(tmp_path, monkeypatch, schemas_dir())
    build_warehouse(wh)
    yield wh, tmp_path
    clear_schema_cache()


env = release_env  # the name the bad-input and CLI tests use


def install_schemas(tmp: Path, monkeypatch, repo_schemas: Path) -> None:
    tables = tmp / "schemas" / "tables"
    tables.mkdir(parents=True)
    for t in BASE_TABLES:
        shutil.copy(repo_schemas / "tables" / f"{t}.yaml", tables / f"{t}.yaml")
    for name, cols in STAND_INS.items():
        spec = {
            "table": name,
            "path": f"annotations/{name.removeprefix('annotations_')}",
            "key": ["doc_id"],
            "columns": _columns(["doc_id: string!", "run_id: string!", *cols]),
        }
        (tables / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    spec = {"table": "synthetic_rtest_qa", "key": ["record_id"], "columns": _columns(SYNTH_COLUMNS)}
    (tables / "synthetic_rtest_qa.yaml").write_text(yaml.safe_dump(spec))
    monkeypatch.setattr("curation.warehouse.schemas.schemas_dir", lambda: tmp / "schemas")
    clear_schema_cache()


RUN = "20260101T000000000000Z-{}-test"
LIC = {"cc": ("CC-BY-4.0", True), "nc": ("CC-BY-NC-4.0", False), "nlm": ("NLM-PubMed-terms", False)}
# doc_id -> (licence, is_duplicate, heuristic_pass, edu_int, contaminated); None = no annotation for that stage.
DOCS = {
    "pubmed:1": ("cc", False, True, 4, False),
    "pubmed:2": ("cc", False, True, 3, False),
    "pubmed:3": ("nc", False, True, 5, False),
    "pubmed:4": ("nlm", False, True, 3, False),
    "pubmed:5": ("cc", False, True, 4, False),  # superseded by pubmed:5.2
    "pubmed:5.2": ("cc", False, True, 4, False),
    "pubmed:6": ("cc", True, True, 4, False),  # duplicate
    "pubmed:7": ("cc", False, False, 4, False),  # fails heuristics
    "pubmed:8": ("cc", False, True, 2, False),  # low edu
    "pubmed:9": ("cc", False, True, 4, True),  # contaminated
    "pubmed:10": ("nc", False, True, 4, None),  # never checked for contamination
    "pubmed:11": ("cc", False, True, 4, False),  # quarantined by a later stage
    "pubmed:12": ("cc", False, True, 4, False),  # deleted (DeleteCitation)
    "pmc:PMC1": ("cc", False, True, 3, False),
    "pmc:PMC2": ("nc", False, True, 4, False),
}
RELEASED_DOCS = {"pubmed:1", "pubmed:2", "pubmed:3", "pubmed:4", "pubmed:5.2", "pmc:PMC1", "pmc:PMC2"}
# record_id -> (doc_id, contaminated)
QA = {
    "qa1": ("pubmed:1", False),
    "qa2": ("pubmed:3", False),
    "qa3": ("pubmed:9", False),
    "qa4": ("pubmed:2", True),
    "qa5": ("pubmed:2", False),
    "qa6": ("pmc:PMC1", False),
}
QUARANTINED = {"pubmed:11", "qa5"}
RELEASED_QA = {"qa1", "qa2", "qa3", "qa6"}  # qa3's document is contaminated but the record itself is not


def build_warehouse(wh: Warehouse, docs: dict = DOCS) -> None:
    rows = []
    for doc_id, (lic, *_rest) in docs.items():
        license, commercial = LIC[lic]
        work, _, ver = doc_id.partition(".")
        rows.append(
            doc_row(
                doc_id,
                f"Text of {doc_id} about heart failure.",
                license=license,
                commercial_use=commercial,
                work_id=work,
                version=int(ver or 1),
            )
        )
    write_documents(wh, rows)
    for table, idx in (
        ("annotations_rtest_dedup", 1),
        ("annotations_rtest_score", 2),
        ("annotations_rtest_decontam", 4),
    ):
        with ShardWriter(wh, table, "u0") as w:
            for doc_id, spec in docs.items():
                if spec[idx] is None:
                    continue
                row = {"doc_id": doc_id, "run_id": RUN.format(table)}
                if idx == 1:
                    row["is_duplicate"] = spec[1]
                elif idx == 2:
                    row.update(heuristic_pass=spec[2], edu_int=spec[3], edu_score=spec[3] + 0.25, ppl=10.0 ** spec[3])
                else:
                    row.update(contaminated=spec[4], contam_benchmark="medqa" if spec[4] else None)
                w.write(row)
    with ShardWriter(wh, "deletions", "u0") as w:
        w.write(
            {
                "work_id": "pubmed:12",
                "source": "pubmed",
                "source_id": "12",
                "source_file": "/data/pubmed.xml",
                "source_file_sha256": "0" * 64,
                "record_index": 99,
                "run_id": RUN.format("ingest"),
            }
        )
    with ShardWriter(wh, "synthetic_rtest_qa", "u0") as w:
        for rid, (doc_id, contaminated) in QA.items():
            w.write(
                {
                    "record_id": rid,
                    "doc_id": doc_id,
                    "question": f"Q {rid}?",
                    "answer": f"A {rid}",
                    "model": "tiny-llm",
                    "prompt_id": "grounded_qa",
                    "prompt_version": "v1",
                    "contaminated": contaminated,
                    "gate_passed": True,
                    "run_id": RUN.format("synth"),
                }
            )
    with Quarantine(wh, "validate", RUN.format("validate")) as q:
        for ref in sorted(QUARANTINED):
            q.add("row_check_failed", ref, None, "stand-in")


def manifest_yaml(path: Path, **release: Any) -> Path:
    cfg = {
        "out": "releases",
        "validate": False,
        "validation_fraction": 0.3,
        "shard_target_rows": 2,
        "configs": [
            {
                "name": "documents",
                "columns": ["doc_id", "source", "title", "text", "license", "commercial_use", "edu_int", "run_id"],
                "rules": [
                    {"name": "not_duplicate", "where": "NOT is_duplicate"},
                    {"name": "heuristics", "where": "heuristic_pass"},
                    {"name": "educational", "where": "edu_int >= 3"},
                ],
            },
            {
                "name": "grounded_qa",
                "source": "synthetic_rtest_qa",
                "key": "record_id",
                "task_category": "question-answering",
            },
        ],
    }
    cfg.update(release)
    path.write_text(yaml.safe_dump({"name": "medtest", "stages": ["release"], "release": cfg}))
    return path
