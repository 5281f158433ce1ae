"""Benchmark loaders on the shared real samples (exact counts) and on bad input (quarantined, never a crash)."""

from __future__ import annotations

import gzip
import json
from collections import Counter

import pytest

from curation.errors import IngestConfigError
from curation.ingest.benchmarks.common import split_from_name, stable_item_id
from curation.ingest.formats import check_options
from tests.ingest_helpers import ingest, rows

MMLU_COUNTS = {
    ("anatomy", "dev"): 5, ("anatomy", "val"): 14,
    ("clinical_knowledge", "dev"): 5, ("clinical_knowledge", "val"): 29,
    ("college_biology", "dev"): 5, ("college_biology", "val"): 16,
    ("college_medicine", "dev"): 5, ("college_medicine", "val"): 22,
    ("medical_genetics", "dev"): 5, ("medical_genetics", "val"): 11,
    ("professional_medicine", "dev"): 5, ("professional_medicine", "val"): 31,
}  # fmt: skip


# --- shared real samples -------------------------------------------------------------------------------------


def test_medqa_shared(wh, shared_data):
    res = ingest(wh, shared_data / "medqa_usmle" / "medqa_us_4opt_test_rows0000-0099.jsonl", "medqa")
    assert (res.rows, res.quarantined) == (100, 0)
    assert rows(
        wh,
        "select split, count(distinct item_id), count(*) filter (where answer in ('A','B','C','D')) "
        "from benchmark_items group by 1",
    ) == [("test", 100, 100)]
    first = rows(wh, "select answer, answer_text, subject from benchmark_items where record_index = 0")[0]
    assert first[0] in "ABCD" and first[1] and first[2] in ("step1", "step2&3")


def test_medmcqa_shared_is_one_based(wh, shared_data):
    path = shared_data / "medmcqa" / "medmcqa_dev_rows0000-0199.jsonl"
    res = ingest(wh, path, "medmcqa", cop_base=1)
    assert (res.rows, res.quarantined) == (200, 0)
    cops = Counter(json.loads(line)["cop"] for line in path.open())
    answers = dict(rows(wh, "select answer, count(*) from benchmark_items group by 1"))
    assert answers == {"ABCD"[c - 1]: n for c, n in cops.items()}  # 1-based: cop 1 → A
    meta = json.loads(rows(wh, "select meta from benchmark_items where record_index = 0")[0][0])
    assert meta["id"] == "45258d3d-b974-44dd-a161-c3fccbdadd88" and meta["choice_type"] == "multi"
    assert {"topic_name", "explanation", "cop", "cop_base"} <= set(meta)
    assert rows(wh, "select distinct split from benchmark_items") == [("dev",)]


def test_medmcqa_shared_declared_zero_based_is_rejected_as_a_whole(wh, shared_data):
    res = ingest(wh, shared_data / "medmcqa" / "medmcqa_dev_rows0000-0199.jsonl", "medmcqa", cop_base=0)
    assert (res.rows, res.reasons) == (0, {"cop_base_mismatch": 200})
    detail = rows(wh, "select distinct detail from quarantine")[0][0]
    assert "declared cop_base: 0" in detail and "cop=4" in detail and "use cop_base: 1" in detail


def test_pubmedqa_shared_keeps_pmids(wh, shared_data):
    path = shared_data / "pubmedqa" / "pqal_nontest_500.json"
    res = ingest(wh, path, "pubmedqa", split="train")
    assert (res.rows, res.quarantined) == (500, 0)
    assert dict(rows(wh, "select answer, count(*) from benchmark_items group by 1")) == {
        "yes": 276, "no": 169, "maybe": 55,
    }  # fmt: skip
    source = json.loads(path.read_text())
    assert {r[0] for r in rows(wh, "select pmid from benchmark_items")} == set(source)
    pmid, rec = next(iter(source.items()))
    context, meta = rows(wh, f"select context, meta from benchmark_items where pmid = '{pmid}'")[0]
    assert context == "\n\n".join(rec["CONTEXTS"])
    meta = json.loads(meta)
    assert meta["labels"] == rec["LABELS"] and meta["meshes"] == rec["MESHES"] and meta["long_answer"]


def test_mmlu_shared_per_subject_and_split(wh, shared_data):
    files = sorted((shared_data / "mmlu_medical").glob("*.csv"))
    assert len(files) == 12
    for f in files:
        assert ingest(wh, f, "mmlu").quarantined == 0
    got = {(s, sp): n for s, sp, n in rows(wh, "select subject, split, count(*) from benchmark_items group by all")}
    assert got == MMLU_COUNTS and sum(got.values()) == 153
    # two questions appear verbatim in two subjects: still two items each (the subject is part of the id)
    assert rows(wh, "select count(distinct item_id) from benchmark_items") == [(153,)]


def test_item_ids_agree_between_subset_and_full_file(wh, shared_data, tmp_path):
    full = shared_data / "medqa_usmle" / "medqa_us_4opt_test_rows0000-0099.jsonl"
    subset = tmp_path / "medqa_test_subset.jsonl"
    subset.write_text("".join(full.read_text().splitlines(keepends=True)[50:60][::-1]))
    ingest(wh, full, "medqa")
    ingest(wh, subset, "medqa")
    ids = rows(wh, "select item_id, count(*) from benchmark_items group by 1 having count(*) = 2")
    assert len(ids) == 10


# --- options and splits --------------------------------------------------------------------------------------


def test_medmcqa_requires_cop_base():
    with pytest.raises(ValueError, match="cop_base: Field required"):
        check_options("medmcqa", {})
    with pytest.raises(ValueError, match="cop_base"):
        check_options("medmcqa", {"cop_base": 2})


def test_split_from_file_name():
    from pathlib import Path

    assert split_from_name(Path("anatomy_val.csv")) == "val"
    assert split_from_name(Path("medqa_us_4opt_test_rows0000-0099.jsonl")) == "test"
    assert split_from_name(Path("pqal_nontest_500.json")) is None
    assert split_from_name(Path("train_test.jsonl")) is None  # ambiguous: never guess


def test_no_split_is_a_configuration_error_not_a_guess(wh, tmp_path):
    """A whole-file configuration error raises (exit 2 in the CLI); nothing is written for the file."""
    p = tmp_path / "questions.jsonl"
    p.write_text(json.dumps({"question": "q", "options": {"A": "a"}, "answer_idx": "A"}) + "\n")
    with pytest.raises(IngestConfigError, match=r"no split for questions\.jsonl"):
        ingest(wh, p, "medqa")
    assert rows(wh, "select count(*) from quarantine") == [(0,)]
    assert rows(wh, "select count(*) from source_files") == [(0,)]


# --- MedMCQA cop base checks ---------------------------------------------------------------------------------


def _mc(cop, q="q"):
    return json.dumps({"question": q, "opa": "a", "opb": "b", "opc": "c", "opd": "d", "cop": cop, "id": q})


@pytest.mark.parametrize(
    ("cops", "base", "rows_ok", "reasons", "answers"),
    [
        ([0, 1, 2, 3], 0, 4, {}, "ABCD"),
        ([1, 2, 3, 4], 1, 4, {}, "ABCD"),
        ([1, 2, 3], 0, 3, {}, "BCD"),  # no evidence either way: the declaration is trusted
        ([1, 2, 7, "x", None], 1, 2, {"answer_out_of_range": 3}, "AB"),
        ([0, 1, 2, 4], 0, 0, {"cop_base_mismatch": 4}, ""),
        ([0, 1, 2, 3], 1, 0, {"cop_base_mismatch": 4}, ""),
        ([0, 2, 4], 1, 0, {"cop_base_mismatch": 3}, ""),  # mixed
        (["2", 3], 1, 2, {}, "BC"),  # numeric strings are accepted
    ],
)
def test_medmcqa_cop_base(wh, tmp_path, cops, base, rows_ok, reasons, answers):
    p = tmp_path / "medmcqa_train.jsonl"
    p.write_text("\n".join(_mc(c, f"q{i}") for i, c in enumerate(cops)) + "\n")
    res = ingest(wh, p, "medmcqa", cop_base=base)
    assert (res.rows, res.reasons) == (rows_ok, reasons)
    got = "".join(r[0] for r in rows(wh, "select answer from benchmark_items order by record_index"))
    assert got == answers


# --- bad input -----------------------------------------------------------------------------------------------


def test_jsonl_bad_lines_are_quarantined_and_the_rest_kept(wh, tmp_path):
    good = {"question": "q1", "options": {"A": "x", "B": "y"}, "answer_idx": "B"}
    lines = [
        json.dumps(good).encode(),
        b'{"question": "broken", ',
        json.dumps({**good, "question": "caf\u00e9"}, ensure_ascii=False).encode("latin-1"),
        json.dumps({"options": {"A": "x"}, "answer_idx": "A"}).encode(),
        json.dumps({**good, "question": "q5", "answer_idx": "E"}).encode(),
        b"[1, 2]",
        b"",
        json.dumps({**good, "question": "q8"}).encode(),
    ]
    p = tmp_path / "medqa_dev.jsonl.gz"
    p.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    res = ingest(wh, p, "medqa")
    assert res.rows == 2
    assert res.reasons == {
        "invalid_json": 1, "wrong_encoding": 1, "missing_field": 1, "answer_not_in_options": 1, "not_an_object": 1,
    }  # fmt: skip
    refs = dict(rows(wh, "select reason, source_ref from quarantine"))
    assert refs["wrong_encoding"].endswith(":3") and refs["answer_not_in_options"].endswith(":5")


@pytest.mark.parametrize("fmt", ["medqa", "mmlu", "pubmedqa"])
def test_empty_file_is_quarantined(wh, tmp_path, fmt):
    name = {"medqa": "medqa_test.jsonl", "mmlu": "anatomy_test.csv", "pubmedqa": "pqal_test.json"}[fmt]
    p = tmp_path / name
    p.write_bytes(b"")
    res = ingest(wh, p, fmt)
    assert (res.status, res.rows, res.reasons) == ("ingested", 0, {"empty_file": 1})


def test_pubmedqa_bad_members_and_truncation(wh, tmp_path):
    ok = {"QUESTION": "Q?", "CONTEXTS": ["c1", "c2"], "LABELS": ["A", "B"], "final_decision": "yes"}
    members = {
        "111": ok,
        "222": {**ok, "final_decision": "perhaps"},
        "notapmid": ok,
        "333": {**ok, "CONTEXTS": "a string"},
        "444": {**ok, "QUESTION": ""},
        "555": {**ok, "final_decision": "No"},
    }
    text = json.dumps(members, indent=2)
    p = tmp_path / "pubmedqa_test.json"
    p.write_text(text[: text.rindex('"666') if '"666' in text else len(text) - 40])  # cut inside the last member
    res = ingest(wh, p, "pubmedqa")
    assert res.rows == 1
    assert res.reasons == {"answer_not_in_options": 1, "invalid_pmid": 1, "wrong_type": 1, "missing_field": 1,
                           "invalid_json": 1}  # fmt: skip
    assert rows(wh, "select pmid, answer, options[1].label from benchmark_items") == [("111", "yes", "yes")]
    assert "@char" in rows(wh, "select source_ref from quarantine where reason = 'invalid_json'")[0][0]


def test_pubmedqa_streams_across_chunks(wh, tmp_path, monkeypatch):
    from curation.ingest.benchmarks import common

    monkeypatch.setattr(common, "_CHUNK", 7)  # force every value to straddle reads, with a multi-byte character
    members = {str(i): {"QUESTION": f"Qué {i}?", "CONTEXTS": ["ctx é"], "final_decision": "maybe"} for i in range(5)}
    p = tmp_path / "pubmedqa_dev.json"
    p.write_text(json.dumps(members, ensure_ascii=False, indent=1))
    res = ingest(wh, p, "pubmedqa")
    assert (res.rows, res.quarantined) == (5, 0)
    assert rows(wh, "select question from benchmark_items order by record_index")[4] == ("Qué 4?",)


def test_mmlu_bad_rows(wh, tmp_path):
    p = tmp_path / "anatomy_test.csv"
    p.write_bytes(
        b'"Which bone?",a,b,c,d,B\n'
        b"short,row,C\n"
        b"q3,a,b,c,d,Z\n"
        b"caf\xe9 question,a,b,c,d,A\n"
        b'"multi\nline question",a,b,c,d,D\n'
    )
    res = ingest(wh, p, "mmlu")
    assert res.rows == 2
    assert res.reasons == {"missing_field": 1, "answer_not_in_options": 1, "wrong_encoding": 1}
    assert rows(wh, "select subject, split, answer from benchmark_items order by record_index") == [
        ("anatomy", "test", "B"), ("anatomy", "test", "D"),
    ]  # fmt: skip


def test_mmlu_other_subject_is_recorded_not_dropped(wh, tmp_path):
    p = tmp_path / "world_religions_test.csv"
    p.write_text("q,a,b,c,d,A\n")
    res = ingest(wh, p, "mmlu")
    assert (res.rows, res.reasons) == (0, {"subject_not_selected": 1})
    res = ingest(wh, p, "mmlu", subjects=["world_religions"], force=True)  # the ledger keys on content only
    assert res.rows == 1


def test_stable_item_id_is_content_based():
    a = stable_item_id("medqa", "test", "question", "x", "y")
    assert a == stable_item_id("medqa", "test", "question", "x", "y")
    assert a != stable_item_id("medqa", "test", "question", "y", "x")
    assert a.startswith("medqa:test:")


def test_truncated_gzip_keeps_the_lines_before(wh, tmp_path):
    good = {"question": "q", "options": {"A": "x", "B": "y"}, "answer_idx": "A"}
    data = gzip.compress(b"".join(json.dumps({**good, "question": f"q{i}"}).encode() + b"\n" for i in range(2000)))
    p = tmp_path / "medqa_test.jsonl.gz"
    p.write_bytes(data[: len(data) // 2])
    res = ingest(wh, p, "medqa")
    assert 0 < res.rows < 2000 and res.reasons == {"truncated_file": 1}


def test_pubmedqa_wrong_encoding_keeps_members_before(wh, tmp_path):
    ok = {"QUESTION": "Q?", "CONTEXTS": ["c"], "final_decision": "no"}
    p = tmp_path / "pubmedqa_test.json"
    p.write_bytes(b'{"1": ' + json.dumps(ok).encode() + b', "2": {"QUESTION": "caf\xe9"}}')
    res = ingest(wh, p, "pubmedqa")
    assert (res.rows, res.reasons) == (1, {"wrong_encoding": 1})
