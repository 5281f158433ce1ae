"""Tabular (JSONL, Parquet, CSV) and Hugging Face sources through the real runner, with a field mapping."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curation.errors import IngestConfigError
from curation.ingest.formats import check_options
from curation.ingest.licenses import normalize_license
from tests.ingest_helpers import ingest, rows

DOCS = {
    "fields": {"source_id": "id", "text": "abstract", "title": "title", "license": "license", "published": "date"},
    "constants": {"source": "corpus"},
    "meta": ["extra.score"],
}


def _docs(n: int = 3) -> list[dict]:
    licences = ["https://creativecommons.org/licenses/by-nc/4.0/", "CC0", "CC BY 4.0"]
    return [
        {"id": f"d{i}", "abstract": f"abstract {i}", "title": f"title {i}", "license": licences[i % 3],
         "date": f"2024-01-0{i + 1}", "extra": {"score": i}}
        for i in range(n)
    ]  # fmt: skip


def _check_docs(wh):
    got = rows(wh, "select doc_id, work_id, license, commercial_use, published::varchar, meta from documents "
                   "order by doc_id")  # fmt: skip
    assert [r[:5] for r in got] == [
        ("corpus:d0", "corpus:d0", "CC-BY-NC-4.0", False, "2024-01-01"),
        ("corpus:d1", "corpus:d1", "CC0-1.0", True, "2024-01-02"),
        ("corpus:d2", "corpus:d2", "CC-BY-4.0", True, "2024-01-03"),
    ]
    assert json.loads(got[2][5]) == {"extra.score": 2}
    assert rows(wh, "select license_url from documents where doc_id = 'corpus:d0'") == [
        ("https://creativecommons.org/licenses/by-nc/4.0/",)
    ]


def test_jsonl_documents(wh, tmp_path):
    p = tmp_path / "docs.jsonl"
    p.write_text("\n".join(json.dumps(d) for d in _docs()) + "\n")
    res = ingest(wh, p, "jsonl", **DOCS)
    assert (res.table, res.rows, res.quarantined) == ("documents", 3, 0)
    _check_docs(wh)


def test_parquet_documents_streamed_in_batches(wh, tmp_path, monkeypatch):
    from curation.ingest import tabular

    monkeypatch.setattr(tabular, "BATCH_ROWS", 2)
    p = tmp_path / "docs.parquet"
    pq.write_table(pa.Table.from_pylist(_docs()), p, row_group_size=1)
    res = ingest(wh, p, "parquet", **DOCS)
    assert (res.rows, res.quarantined) == (3, 0)
    _check_docs(wh)


def test_csv_documents_and_bad_rows(wh, tmp_path):
    p = tmp_path / "docs.csv"
    p.write_bytes(
        b"id,abstract,title,license,date\n"
        b"d0,abstract 0,title 0,https://creativecommons.org/licenses/by-nc/4.0/,2024-01-01\n"
        b'd1,"abstract 1",title 1,CC0,2024-01-02\n'
        b"d2,abstract 2,title 2,CC BY 4.0,2024-01-03\n"
        b"d3,,no abstract,CC0,2024-01-04\n"
        b"d4,bad \xff bytes,t,CC0,2024-01-05\n"
        b"d5,abstract 5,t,CC0,not a date\n"
        b"d6,too,many,columns,here,x\n"
    )
    res = ingest(wh, p, "csv", **{**DOCS, "meta": []})
    assert res.rows == 3
    assert res.reasons == {"missing_field": 1, "wrong_encoding": 1, "wrong_type": 1, "invalid_csv": 1}
    details = dict(rows(wh, "select reason, detail from quarantine"))
    assert "field 'abstract'" in details["missing_field"] and "published" in details["wrong_type"]
    assert rows(wh, "select count(*) from documents") == [(3,)]


def test_tabular_benchmark_items(wh, tmp_path):
    p = tmp_path / "items.jsonl"
    items = [
        {"q": "Which vitamin?", "choices": ["A vit", "B vit", "C vit"], "gold": "C"},
        {"q": "Which organ?", "choices": {"A": "liver", "B": "lung"}, "gold": "B"},
        {"q": "Bad gold", "choices": ["x", "y"], "gold": "Q"},
        {"q": "Bad options", "choices": 7, "gold": "A"},
    ]
    p.write_text("\n".join(json.dumps(i) for i in items) + "\n")
    opts = {"table": "benchmark_items", "fields": {"question": "q", "options": "choices", "answer": "gold"},
            "constants": {"benchmark": "custom"}}  # fmt: skip
    res = ingest(wh, p, "jsonl", split="test", **opts)
    assert res.table == "benchmark_items" and res.rows == 2
    assert res.reasons == {"answer_not_in_options": 1, "wrong_type": 1}
    got = rows(wh, "select item_id, split, answer, answer_text from benchmark_items order by record_index")
    assert [r[1:] for r in got] == [("test", "C", "C vit"), ("test", "B", "lung")]
    assert all(r[0].startswith("custom:test:") for r in got)


def test_hf_saved_dataset(wh, tmp_path):
    import datasets

    d = tmp_path / "hfds"
    datasets.Dataset.from_list(_docs()).save_to_disk(str(d))
    res = ingest(wh, d, "hf", **DOCS)
    assert (res.rows, res.quarantined) == (3, 0)
    _check_docs(wh)


def test_hf_dataset_dict_needs_a_split(wh, tmp_path):
    import datasets

    d = tmp_path / "hfdict"
    datasets.DatasetDict({"train": datasets.Dataset.from_list(_docs(2)), "test": datasets.Dataset.from_list(_docs(1))}
                         ).save_to_disk(str(d))  # fmt: skip
    res = ingest(wh, d, "hf", **DOCS, hf_split="train")
    assert res.rows == 2
    with pytest.raises(IngestConfigError, match="hf_split"):  # a whole-file configuration error, not a row
        ingest(wh, d, "hf", force=True, **DOCS)


def test_hf_data_files(wh, tmp_path):
    p = tmp_path / "docs.jsonl"
    p.write_text("\n".join(json.dumps(d) for d in _docs()) + "\n")
    res = ingest(wh, p, "hf", **DOCS)
    assert (res.rows, res.quarantined) == (3, 0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fields": {"txt": "abstract"}, "constants": {"source": "s"}}, "fields.txt: not a column of documents"),
        ({"table": "benchmark_items", "fields": {"question": "q"}}, "needs ['benchmark']"),
        (
            {"fields": {"source_id": "id", "text": "a"}, "constants": {"source": "s"}, "mapping": {}},
            "mapping: unknown key",
        ),
        ({"table": "papers", "fields": {}}, "table"),
        ({"fields": {"source_id": "id", "text": "a", "source": "s"}, "constants": {"source": "s"}}, "both set"),
    ],
)
def test_mapping_options_are_checked(options, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_options("jsonl", options)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://creativecommons.org/licenses/by/4.0/", ("CC-BY-4.0", True)),
        ("http://creativecommons.org/licenses/by-nc-nd/3.0/", ("CC-BY-NC-ND-3.0", False)),
        ("CC BY-NC-SA 4.0", ("CC-BY-NC-SA-4.0", False)),
        ("https://creativecommons.org/publicdomain/zero/1.0/", ("CC0-1.0", True)),
        ("all rights reserved", ("unknown", False)),
        (None, ("unknown", False)),
    ],
)
def test_normalize_license(text, expected):
    assert normalize_license(text) == expected


@pytest.mark.parametrize(("name", "reason"), [("e.jsonl", "empty_file"), ("e.csv", "empty_file"),
                                              ("e.parquet", "invalid_parquet")])  # fmt: skip
def test_empty_tabular_files_are_quarantined(wh, tmp_path, name, reason):
    p = tmp_path / name
    p.write_bytes(b"")
    res = ingest(wh, p, name.rsplit(".", 1)[1], **DOCS)
    assert (res.status, res.rows, res.reasons) == ("ingested", 0, {reason: 1})
