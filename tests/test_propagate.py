"""The propagate stage with the real offline MiniLM encoder: teacher labels on paragraph units (a fixed table written
here, in the teacher's own spelling, two of them unusable) train the student, which labels every paragraph; metrics,
schema and quarantine are recorded; a rerun writes nothing and retrains nothing; too few labels skip with a reason."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
import yaml

from curation.manifest import load_manifest
from curation.orchestrate.runner import run_stage
from curation.propagate.plan import PropagateError
from curation.warehouse import ShardWriter, Warehouse, connect
from tests.factories import doc_row, write_documents
from tests.quality_helpers import medical_text, teacher_answer

N_DOCS, PER_DOC = 6, 8
BE_TYPES = {"clinical_case": "Clinical Case", "study": "Study", "review": "Review"}  # Biomed-Enriched's spelling
FRESH_COUNT = (
    "import sys; from curation.warehouse import Warehouse, connect; "
    "print(*connect(Warehouse(sys.argv[1])).execute('select count(*), count(distinct unit_id) from propagated_paras')"
    ".fetchall()[0])"
)
UNITS = "SELECT paragraph_id AS unit_id, text, doc_id, section, commercial_use FROM paragraphs_current"


def _paragraphs(wh: Warehouse) -> list[dict]:
    rng = random.Random(7)
    docs = [doc_row(f"pmc:PMC{i}", "body", commercial_use=i % 2 == 0) for i in range(N_DOCS)]
    write_documents(wh, docs)
    rows = []
    for d in docs:
        for k in range(PER_DOC):
            rows.append(
                {
                    "paragraph_id": f"{d['doc_id']}#{k:016x}",
                    "doc_id": d["doc_id"],
                    "source": "pmc",
                    "section": "Results" if k % 2 else "Methods",
                    "section_type": "body",
                    "xml_path": f"/article/body/sec[1]/p[{k + 1}]",
                    "para_index": k,
                    "text": medical_text(rng, rng.randint(3, 6)),
                    "n_tokens": 80,
                    "tokenizer": "regex-words",
                    "license": "CC-BY-4.0",
                    "commercial_use": d["commercial_use"],
                    "source_file": d["source_file"],
                    "record_index": d["record_index"],
                    "run_id": d["run_id"],
                }
            )
    with ShardWriter(wh, "paragraphs", "test") as w:
        w.write_many(rows)
    return rows


def _labels_sql(rows: list[dict], n: int) -> str:
    """The teacher's labels as a fixed table: the rule teacher's answers, spelt as Biomed-Enriched's teacher spells
    them, plus two unusable ones (a score of 7, an unknown domain)."""
    values = []
    for r in rows[:n]:
        a = teacher_answer(r["text"])
        values.append((r["paragraph_id"], a["educational_value"], BE_TYPES[a["doc_type"]], a["domain"].title()))
    values += [(rows[n]["paragraph_id"], 7, "Study", "Clinical"), (rows[n + 1]["paragraph_id"], 3, "Study", "Vet")]
    table = ", ".join(f"('{u}', {e}, '{t}', '{d}')" for u, e, t, d in values)
    return (
        "SELECT p.paragraph_id AS unit_id, p.text, l.edu, l.doc_type, l.domain FROM paragraphs_current p "
        f"JOIN (VALUES {table}) AS l(paragraph_id, edu, doc_type, domain) USING (paragraph_id)"
    )


def _manifest(tmp_path, labels: str, **job):
    spec = {
        "name": "prop",
        "stages": ["propagate"],
        "propagate": {
            "jobs": [
                {
                    "name": "paras",
                    "labels": labels,
                    "units": UNITS,
                    "carry": ["text", "doc_id", "section", "commercial_use"],
                    "train": {"epochs": 150, "holdout_fraction": 0.25},
                    "batch_rows": 20,
                    **job,
                }
            ]
        },
    }
    path = tmp_path / "prop.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return load_manifest(path)


@pytest.fixture
def paragraphs(wh):
    return _paragraphs(wh)


def test_student_labels_every_unit_records_metrics_and_reruns_idempotently(wh, paragraphs, tmp_path):
    m = _manifest(tmp_path, _labels_sql(paragraphs, 32))
    first = run_stage("propagate", wh, m)
    job = first.summary["jobs"]["paras"]
    assert first.status == "completed" and job["labels"] == 32 and job["labels_rejected"] == 2
    assert job["labelled"] == N_DOCS * PER_DOC and job["quarantined"] == 0
    con = connect(Warehouse(wh.root))
    rows = con.execute(
        "select unit_id, text, doc_id, section, commercial_use, model, edu_score, edu_int, doc_type, doc_type_prob, domain, "
        "domain_prob from propagated_paras order by unit_id"
    ).fetchall()
    assert [r[0] for r in rows] == sorted(p["paragraph_id"] for p in paragraphs)  # every unit, once
    by_id = {p["paragraph_id"]: p for p in paragraphs}
    for uid, text, doc_id, section, commercial, model, score, edu, doc_type, t_prob, domain, d_prob in rows:
        p = by_id[uid]
        assert (text, doc_id, section, commercial) == (p["text"], p["doc_id"], p["section"], p["commercial_use"])
        assert model == job["model"] and model.startswith("medcurate-student@")
        assert edu == min(5, max(1, round(score))) and doc_type in ("clinical_case", "study", "review", "other")
        assert domain in ("clinical", "biomedical", "other") and 0 < t_prob <= 1 and 0 < d_prob <= 1
    # the student learnt the teacher's rule, measured on labels it never saw
    held = first.record["extra"]["propagate.paras"]["metrics"]["heldout"]
    assert held["n"] >= 4 and held["heads"]["edu"]["mae"] < 1.0, held
    assert {"pearson_r", "exact_int"} <= held["heads"]["edu"].keys()
    assert {"accuracy", "f1_macro"} <= held["heads"]["doc_type"].keys() & held["heads"]["domain"].keys()
    bad = con.execute("select reason, source_ref from quarantine where stage = 'propagate' order by 1").fetchall()
    assert [r[0] for r in bad] == ["label_edu_out_of_range", "label_unknown_domain"]
    assert all(ref.startswith("propagated_paras.labels:pmc:") for _, ref in bad)  # the unit stays releasable
    declared = yaml.safe_load((wh.root / "schemas" / "tables" / "propagated_paras.yaml").read_text())
    assert declared["key"] == ["unit_id"] and {"edu_score", "doc_type", "domain", "doc_id"} <= {
        c["name"] for c in declared["columns"]
    }
    fresh = subprocess.run(  # a later process without the manifest sees the table from the saved schema
        [sys.executable, "-c", FRESH_COUNT, str(wh.root)], capture_output=True, text=True, check=True
    )
    assert fresh.stdout.split() == ["48", "48"]
    again = run_stage("propagate", wh, m)
    assert again.summary["jobs"]["paras"]["labelled"] == 0 and again.summary["jobs"]["paras"]["model"] == job["model"]
    assert len(list((wh.root / "models" / "propagate" / "paras").iterdir())) == 1  # not retrained
    con = connect(Warehouse(wh.root))
    assert con.execute("select count(*), count(distinct unit_id) from propagated_paras").fetchall() == [(48, 48)]
    validated = run_stage("validate", wh, m, {"table": ["propagated_paras"]})
    assert validated.status == "completed", validated.summary


def test_too_few_labels_skip_with_the_reason(wh, paragraphs, tmp_path):
    m = _manifest(tmp_path, _labels_sql(paragraphs, 3))
    res = run_stage("propagate", wh, m)
    job = res.summary["jobs"]["paras"]
    assert res.status == "completed" and res.summary["skipped"] == ["paras"]
    assert "3 usable teacher labels" in job["skipped"] and "min_labels=8" in job["skipped"]
    assert any("propagate paras skipped" in e["message"] for e in res.record["errors"])
    con = connect(Warehouse(wh.root))
    assert con.execute("select count(*) from propagated_paras").fetchall() == [(0,)]  # an empty, typed view


def test_manifest_check_names_the_job_and_the_missing_columns(tmp_path):
    with pytest.raises(PropagateError, match=r"propagate.jobs.0 \(paras\).labels: the query lacks \['edu'\]"):
        _manifest(
            tmp_path, "SELECT paragraph_id AS unit_id, text, 'study' AS doc_type, 'clinical' AS domain FROM paragraphs"
        )
    with pytest.raises(PropagateError, match=r"propagate.jobs.0 \(paras\).carry: \['model'\] are columns the stage"):
        _manifest(
            tmp_path,
            "SELECT paragraph_id AS unit_id, text, 3 AS edu, 'study' AS doc_type, 'clinical' AS domain FROM paragraphs",
            units="SELECT paragraph_id AS unit_id, text, 'x' AS model FROM paragraphs",
            carry=["model"],
        )


HEADS = {
    "relevant": {"kind": "binary", "positive": ["good"], "negative": ["bad"]},
    "grade": {"kind": "score", "range": [0, 10]},
}


def _relevance_sql(rows: list[dict], n: int) -> str:
    """A relevance teacher's words (good when the paragraph reports a randomized trial) and a 0-10 grade, plus one
    word the binary head cannot read."""
    values = [
        (
            r["paragraph_id"],
            "Good" if "randomized" in r["text"] else "bad",
            2 * teacher_answer(r["text"])["educational_value"],
        )
        for r in rows[:n]
    ]
    values.append((rows[n]["paragraph_id"], "maybe", 5))
    table = ", ".join(f"('{u}', '{v}', {g})" for u, v, g in values)
    return (
        "SELECT p.paragraph_id AS unit_id, p.text, l.verdict AS relevant, l.grade FROM paragraphs_current p "
        f"JOIN (VALUES {table}) AS l(paragraph_id, verdict, grade) USING (paragraph_id)"
    )


def test_declared_heads_type_the_table_and_measure_each_head(wh, paragraphs, tmp_path):
    m = _manifest(tmp_path, _relevance_sql(paragraphs, 40), heads=HEADS, carry=["doc_id"])
    res = run_stage("propagate", wh, m)
    job = res.summary["jobs"]["paras"]
    assert res.status == "completed" and job["labels"] == 40 and job["labelled"] == N_DOCS * PER_DOC, job
    con = connect(Warehouse(wh.root))
    bad = con.execute("select reason from quarantine where stage = 'propagate'").fetchall()
    assert bad == [("label_unknown_relevant",)]
    declared = yaml.safe_load((wh.root / "schemas" / "tables" / "propagated_paras.yaml").read_text())
    types = {c["name"]: c["type"] for c in declared["columns"]}
    assert types == {
        "unit_id": "string",
        "doc_id": "string",
        "model": "string",
        "relevant_prob": "float32",
        "relevant": "bool",
        "grade_score": "float32",
        "grade_int": "int32",
        "run_id": "string",
    }
    rows = con.execute(
        "select unit_id, relevant_prob, relevant, grade_score, grade_int from propagated_paras"
    ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(p["paragraph_id"] for p in paragraphs)
    assert all(0 < p < 1 and r == (p >= 0.5) and 0 <= g <= 10 for _, p, r, _, g in rows)
    held = res.record["extra"]["propagate.paras"]["metrics"]["heldout"]
    rel = held["heads"]["relevant"]
    assert {"accuracy", "precision", "recall", "f1", "auc", "teacher_positive_rate"} <= rel.keys()
    assert rel["accuracy"] >= 0.7, held  # the teacher's rule, learnt from the text, on units it never saw
    card = next((wh.root / "models" / "propagate" / "paras").glob("*/v*/MODEL_CARD.md")).read_text()
    assert "relevant (binary head)" in card and "| relevant.auc |" in card and "| grade.mae |" in card


def test_heads_whose_columns_collide_are_refused(tmp_path):
    sql = "SELECT paragraph_id AS unit_id, text, 1 AS edu, 'x' AS edu_score FROM paragraphs"
    heads = {"edu": {"kind": "score", "range": [1, 5]}, "edu_score": {"kind": "category", "classes": ["a", "b"]}}
    with pytest.raises(ValueError, match=r"heads: their columns \['edu_score'\] collide"):
        _manifest(tmp_path, sql, heads=heads)
    with pytest.raises(ValueError, match=r"range: low must be below high"):
        _manifest(tmp_path, sql, heads={"edu": {"kind": "score", "range": [5, 1]}})
