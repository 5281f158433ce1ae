"""Decontamination: normalization, index building, each rule, records, and the flow over a real warehouse."""

from __future__ import annotations

import pytest

from curation.decontam.config import DecontamConfig
from curation.decontam.index import EvalIndex, is_eval_item
from curation.decontam.normalize import ngram_hashes, normalized, word_hashes, words
from curation.decontam.rules import match_text, pmid_of
from curation.warehouse import connect
from tests.factories import doc_row, item_row, write_documents, write_items

LONG_Q = (
    "A 45-year-old man presents to the emergency department with crushing chest pain radiating to the left "
    "arm, diaphoresis and nausea for two hours. Which of the following is the most likely diagnosis?"
)
SHORT_Q = "The energy for all forms of muscle contraction is provided by:"
CLEAN = (
    "Hepatic stellate cells are activated after liver injury and produce extracellular matrix proteins that "
    "contribute to fibrosis; we measured collagen deposition in a murine model over twelve weeks."
)


def items():
    return [
        item_row("medqa:test:1", LONG_Q),
        item_row("mmlu:test:2", SHORT_Q, subject="college_medicine"),
        item_row("pubmedqa:test:3", "Is aspirin protective?", answer="yes", pmid="111", context=CLEAN.upper()),
        item_row(
            "medqa:train:4",
            "A train question about renal tubular acidosis in a young woman with stones "
            "and a normal anion gap metabolic acidosis.",
        ),
    ]


@pytest.fixture
def index():
    return EvalIndex.from_items(items(), DecontamConfig(), filter_eval=True)


def test_normalization_ignores_case_punctuation_and_unicode():
    assert words("Hello,  WORLD! “Quoted”—text") == ["hello", "world", "quoted", "text"]
    a = ngram_hashes(word_hashes(words("the Cat sat. On the mat")), 3)
    b = ngram_hashes(word_hashes(words("THE cat sat on—the mat!")), 3)
    assert len(a) == 4 and (a == b).all()
    assert len(ngram_hashes(word_hashes(["a", "b"]), 3)) == 0


def test_eval_selection_defaults():
    cfg = DecontamConfig()
    assert is_eval_item({"benchmark": "medqa", "split": "test"}, cfg)
    assert not is_eval_item({"benchmark": "medqa", "split": "train"}, cfg)
    assert is_eval_item({"benchmark": "medmcqa", "split": "dev"}, cfg)
    # PQA-L is an evaluation set in every split: by default every PubMedQA item counts
    assert is_eval_item({"benchmark": "pubmedqa", "split": "train", "source_file": "/d/pubmedqa_train.json"}, cfg)
    narrow = DecontamConfig(all_splits_files={"pubmedqa": ["*pqal*"]})
    assert is_eval_item({"benchmark": "pubmedqa", "split": "train", "source_file": "/d/pqal_nontest.json"}, narrow)
    assert not is_eval_item(
        {"benchmark": "pubmedqa", "split": "train", "source_file": "/d/pqa_artificial.json"}, narrow
    )


def test_index_skips_train_items(index):
    assert index.n_items == 3
    assert {s.item_id for s in index.segments} == {"medqa:test:1", "mmlu:test:2", "pubmedqa:test:3"}
    assert index.pmids == {"111": index.pmids["111"]}


def test_long_item_verbatim_and_edited_is_ngram(index):
    m = match_text("Case report. " + LONG_Q + " Discussion follows.", index)
    assert (m.contaminated, m.contam_rule, m.contam_item_id, m.overlap) == (True, "ngram", "medqa:test:1", 1.0)
    edited = LONG_Q.replace("two hours", "2 hours").upper().replace(",", " ;")
    m = match_text(edited, index)
    assert m.contaminated and m.contam_rule == "ngram" and 0 < m.overlap < 1 and m.contam_ngrams >= 3


def test_clean_text_is_clean(index):
    m = match_text("Renal physiology of the loop of Henle and countercurrent multiplication in mammals.", index)
    assert not m.contaminated and m.contam_rule is None and m.overlap == 0.0


def test_pmid_rule_from_column_and_doc_id(index):
    assert match_text("anything", index, pmid_of("111", "pmc:PMC1")).contam_rule == "pmid"
    assert match_text("anything", index, pmid_of(None, "pubmed:111.2")).contam_rule == "pmid"
    assert not match_text("anything", index, pmid_of(None, "pubmed:112")).contaminated
    # the abstract itself, without its PMID, is caught by the indexed PubMedQA context
    m = match_text(CLEAN, index)
    assert m.contaminated and m.contam_rule == "ngram" and m.contam_benchmark == "pubmedqa"


def test_short_item_inside_text_and_short_record_fuzzy(index):
    m = match_text("In muscle physiology, the energy for all forms of muscle contraction is provided by ATP.", index)
    assert m.contaminated and m.contam_rule == "fuzzy" and m.contam_item_id == "mmlu:test:2"
    typo = "The energy for all forms of muscle contractions is provided by"  # one edit: ratio >= 95
    assert match_text(typo, index).contam_rule == "fuzzy"
    far = "The energy for most kinds of heart contraction comes from"
    assert not match_text(far, index).contaminated


def test_ngram_size_configurable():
    cfg = DecontamConfig(ngram_n=8, short_n=5)
    idx = EvalIndex.from_items([item_row("mmlu:test:2", SHORT_Q)], cfg)
    assert idx.stats()["long_ngrams"] == 4  # 11 words -> 4 distinct 8-grams
    with pytest.raises(ValueError):
        DecontamConfig(ngram_n=14)
    with pytest.raises(ValueError):
        DecontamConfig(ngram_n=8, short_n=9)


def test_records_and_synthetic_annotations(wh, index):
    from curation.decontam import decontaminate_records, write_record_annotations

    rows = [
        {"record_id": "r1", "question": SHORT_Q, "answer": "ATP"},
        {"record_id": "r2", "question": "What is produced by hepatic stellate cells?", "answer": "collagen"},
        {"record_id": "r3", "turns": [{"role": "patient", "text": "Hi"}, {"role": "doctor", "text": LONG_Q}]},
        {"record_id": "r4", "doc_id": "pubmed:111", "question": "q", "answer": "a"},
    ]
    got = dict(decontaminate_records(rows, index))
    assert [got[k].contaminated for k in ("r1", "r2", "r3", "r4")] == [True, False, True, True]
    assert got["r4"].contam_rule == "pmid"
    n = write_record_annotations(wh, "synthetic_grounded_qa", rows, index, "run-1")
    assert n == 4
    res = (
        connect(wh)
        .execute("SELECT record_id, contaminated, contam_rule FROM synthetic_decontam ORDER BY record_id")
        .fetchall()
    )
    assert res == [("r1", True, "fuzzy"), ("r2", False, None), ("r3", True, "ngram"), ("r4", True, "pmid")]
    from curation.validate import validate_table

    report = validate_table(wh, "synthetic_decontam", run_id="v", data_docs=False)
    assert report.success and report.rows == 4, report.explain()


def _manifest(tmp_path, extra: str = "") -> str:
    p = tmp_path / "m.yaml"
    p.write_text(f"name: t\nstages: [decontam]\n{extra}")
    return str(p)


def test_decontam_flow_annotates_documents(wh, tmp_path, prefect_harness):
    from curation.flows.stages import stage_flow

    write_items(wh, items())
    write_documents(
        wh,
        [
            doc_row("pubmed:111", "abstract text", pmid="111"),
            doc_row("pmc:PMC9", "Intro. " + LONG_Q),
            doc_row("pubmed:5", "Renal physiology of the loop of Henle in mammals."),
            doc_row(
                "pubmed:6",
                "A train question about renal tubular acidosis in a young woman with stones and a "
                "normal anion gap metabolic acidosis.",
            ),  # a train item is not evaluation data
        ],
    )
    s = stage_flow("decontam")(_manifest(tmp_path), str(wh.root))
    assert (s["documents"], s["contaminated"], s["index_items"]) == (4, 2, 3)
    from curation.stages import STAGES

    line = STAGES.get("decontam").summary(s)  # synthetic tables with no rows yet are left out of the line
    assert line.startswith("2/4 documents contaminated") and "synthetic_" not in line, line
    assert "synthetic_grounded_qa" in s["records"]
    rows = dict(connect(wh).execute("SELECT doc_id, contam_rule FROM documents_enriched ORDER BY doc_id").fetchall())
    assert rows == {"pmc:PMC9": "ngram", "pubmed:111": "pmid", "pubmed:5": None, "pubmed:6": None}
    counts, extra = (
        connect(wh)
        .execute(
            "SELECT counts->>'documents.contaminated', extra->'index'->>'items' FROM runs WHERE stage = 'decontam'"
        )
        .fetchone()
    )
    assert (counts, extra) == ("2", "3")
    from curation.validate import validate_table

    report = validate_table(wh, "annotations_decontam", run_id="v", data_docs=False)
    assert report.success and report.rows == 4, report.explain()


def test_decontam_flow_without_eval_items_marks_clean(wh, tmp_path, prefect_harness):
    from curation.flows.stages import stage_flow

    write_documents(wh, [doc_row("pubmed:1", LONG_Q)])
    s = stage_flow("decontam")(_manifest(tmp_path), str(wh.root))
    assert (s["documents"], s["contaminated"], s["index_items"]) == (1, 0, 0)


def test_cli_decontam(wh, tmp_path, prefect_harness):
    from tests.cli_helpers import invoke_cli

    write_items(wh, items())
    write_documents(wh, [doc_row("pmc:PMC9", LONG_Q)])
    r = invoke_cli("--warehouse", str(wh.root), "decontam", _manifest(tmp_path))
    assert r.exit_code == 0, r.output
    assert "1/1 documents contaminated" in r.output


def test_real_medqa_test_items(shared_data):
    from curation.ingest.benchmarks.medqa import Options, parse
    from curation.ingest.items import Record

    path = next((shared_data / "medqa_usmle").glob("*.jsonl"))
    rows = [it.row for it in parse(path, Options(), "test") if isinstance(it, Record)]
    idx = EvalIndex.from_items(rows)
    assert idx.n_items == len(rows) == 100
    hit = sum(match_text("Some preface. " + r["question"].lower(), idx).contaminated for r in rows)
    assert hit == 100
    assert normalized(rows[0]["question"]) in normalized(rows[0]["question"] + " x")


def test_annotate_table_in_batches(wh, index):
    from curation.decontam import annotate_table

    con = connect(wh)  # a table of that name in the connection stands in for the warehouse view
    con.execute(
        "CREATE TABLE generated_questions AS SELECT 'r' || i AS record_id, "
        "CASE WHEN i % 2 = 0 THEN ? ELSE 'What enzyme converts angiotensin I?' END AS question "
        "FROM range(250) t(i)",
        [LONG_Q],
    )
    res = annotate_table(wh, "generated_questions", index, "run-2", batch_rows=100, con=con)
    assert (res["rows"], res["contaminated"], res["by_rule"]) == (250, 125, {"ngram": 125})
    assert len(wh.units("synthetic_decontam")) == 3
    n = connect(wh).execute("SELECT count(*) FROM synthetic_decontam WHERE contaminated").fetchone()[0]
    assert n == 125
