"""The hostile-input suite for ingest (issue 16): bombs under a memory ceiling, every readable row kept around a bad
one, ledger identity, special files, one reason code per fault, and the defaults of issue 15.

Inputs come from tests/hostile_inputs.py and are generated here at test time. Memory cases run the parser in a
fresh process (tests/hostile_child.py) under RLIMIT_AS and also assert its measured peak RSS.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curation.errors import IngestConfigError, InputPathError
from curation.ingest.config import IngestConfig
from curation.ingest.ledger import Ledger
from curation.ingest.paths import check_input_paths
from curation.ingest.reasons import REASONS
from curation.ingest.runner import IngestJob, check_jobs, ingest_file
from tests import hostile_inputs as h
from tests import pubmed_xml as px
from tests.ingest_helpers import ingest, rows

ROOT = Path(__file__).resolve().parents[1]
NO_RATIO = {"max_decompression_ratio": 1e9}
# hostile-input categories (tests/hostile_report.py): what each test asserts, and what its failure would mean
MEMORY = pytest.mark.hostile("ingest memory bounds", ok="handled", bad="crash")
ROWS_KEPT = pytest.mark.hostile("readable rows kept", ok="handled", bad="silent_loss")
LEDGER_LOSS = pytest.mark.hostile("ledger, paths, offsets, reasons", ok="handled", bad="silent_loss")
LEDGER_WRONG = pytest.mark.hostile("ledger, paths, offsets, reasons", ok="handled", bad="corruption")
CONFIG_ERROR = pytest.mark.hostile("ingest config errors", ok="clear_error", bad="crash")


def _child(fmt: str, path: Path, ceiling_mb: int, limits: dict, options: dict | None = None) -> dict:
    cmd = [sys.executable, "-m", "tests.hostile_child", fmt, str(path), str(ceiling_mb), json.dumps(limits)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([*cmd, json.dumps(options or {})], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout)


def _ingest_cfg(wh, path: Path, fmt: str, cfg: IngestConfig, **options):
    return ingest_file(wh, IngestJob(str(path), fmt, fmt, None, options), "run-hostile", Ledger(wh), cfg)


def _quarantine(wh) -> list[tuple]:
    return rows(wh, "select reason, source_ref, payload, payload_bytes, detail from quarantine order by n")


# --- memory bounds ---------------------------------------------------------------------------------------------


@MEMORY
def test_pubmed_bomb_of_non_record_elements_stays_flat(tmp_path):
    """12 MB of non-record elements (~330 MB of tree if kept) under a 200 MB ceiling; both articles kept."""
    bomb = h.pubmed_junk_bomb(tmp_path / "bomb.xml.gz", 12 * h.MiB)
    out = _child("pubmed", bomb, 200, NO_RATIO)
    assert (out["rows"], out["reasons"]) == (2, {})
    assert out["growth_mb"] < 50  # what parsing added over the imports


@pytest.mark.parametrize(("fmt", "name"), [("jsonl", "docs.jsonl.gz"), ("medqa", "medqa_test.jsonl.gz")])
@MEMORY
def test_endless_line_is_streamed_to_quarantine(tmp_path, fmt, name):
    """One 64 MB line in a gzip: quarantined with a 64 KiB payload, the lines around it kept, memory flat."""
    bomb = h.jsonl_endless_line(tmp_path / name, 64 * h.MiB)
    out = _child(fmt, bomb, 200, {**NO_RATIO, "max_line_bytes": 1 * h.MiB})
    if fmt == "jsonl":
        assert (out["rows"], out["reasons"]) == (2, {"line_too_long": 1})
    else:  # the lines around it are read (and lack a question)
        assert (out["rows"], out["reasons"]) == (0, {"line_too_long": 1, "missing_field": 2})
    assert 64 * 1024 in out["payloads"]
    assert out["growth_mb"] < 50  # what parsing added over the imports


@MEMORY
def test_decompression_ratio_guard(tmp_path):
    bomb = h.jsonl_endless_line(tmp_path / "docs.jsonl.gz", 32 * h.MiB)
    out = _child("jsonl", bomb, 200, {"ratio_grace_bytes": 4 * h.MiB})
    assert (out["rows"], out["reasons"]) == (1, {"decompression_limit": 1})


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@MEMORY
def test_huge_field_is_refused_before_it_is_materialised(tmp_path, fmt):
    """A 64 MB cell (plain file): over max_line_bytes, so never decoded; the row after it is kept."""
    f = h.plain_huge_field(tmp_path / f"big.{fmt}", 64 * h.MiB, fmt)
    out = _child(fmt, f, 200, {})
    assert (out["rows"], out["reasons"]) == (2, {"line_too_long": 1})
    assert out["growth_mb"] < 50  # parsing added; json.loads of the line alone would take ~130 MB more


@MEMORY
def test_xml_record_over_the_bound_stops_before_it_is_built(tmp_path):
    """Millions of small elements inside one record: stopped at 4 × max_record_bytes of raw XML."""
    inner = "<Keyword>k</Keyword>" * 600_000  # 12 MB inside one record
    data = px.xml_bytes(px.article("1"), px.article("2").replace("</MedlineCitation>", f"<KeywordList>{inner}"
                                                                  "</KeywordList></MedlineCitation>"))  # fmt: skip
    f = tmp_path / "fat.xml.gz"
    f.write_bytes(gzip.compress(data))
    out = _child("pubmed", f, 300, {**NO_RATIO, "max_record_bytes": 1 * h.MiB})
    assert (out["rows"], out["reasons"]) == (1, {"oversized_record": 1})


# --- keep every readable row -------------------------------------------------------------------------------------


@ROWS_KEPT
def test_csv_malformed_row_quarantined_with_line_and_bytes(wh, tmp_path):
    p = tmp_path / "docs.csv"
    p.write_bytes(b'id,text\nd1,one\nd2,"two","extra"\nd3,three\nd4,"unterminated\nd5,five\nd6,"multi\nline"\n')
    res = ingest(wh, p, "csv")
    assert (res.rows, res.reasons) == (4, {"invalid_csv": 2})
    got = rows(wh, "select source_id, text from documents order by source_id")
    assert got == [("d1", "one"), ("d3", "three"), ("d5", "five"), ("d6", "multi\nline")]  # d5 not swallowed
    q = _quarantine(wh)
    assert [(r[0], r[1].rsplit(":", 1)[1], r[2]) for r in q] == [
        ("invalid_csv", "3", 'd2,"two","extra"'),
        ("invalid_csv", "5", 'd4,"unterminated'),
    ]
    assert "quote opened on line 5" in q[1][4]


@pytest.mark.parametrize(("fmt", "name"), [("csv", "docs.csv.gz"), ("jsonl", "docs.jsonl.gz"), ("tsv", "docs.tsv.gz")])
@ROWS_KEPT
def test_truncated_compressed_tabular_keeps_rows_before(wh, tmp_path, fmt, name):
    n = 20_000
    if fmt == "jsonl":
        data = b"".join(json.dumps({"id": f"d{i}", "text": f"text number {i}"}).encode() + b"\n" for i in range(n))
    else:
        sep = b"," if fmt == "csv" else b"\t"
        data = b"id" + sep + b"text\n" + h.csv_lines(n).replace(b",", sep)
    f = h.truncated_gzip(tmp_path / name, data)
    res = ingest(wh, f, "csv" if fmt == "tsv" else fmt)
    assert res.reasons == {"truncated_file": 1} and n // 4 < res.rows < n
    ids = {r[0] for r in rows(wh, "select source_id from documents")}
    assert ids == {f"d{i}" for i in range(res.rows)}  # an unbroken prefix
    _, _, payload, _, detail = _quarantine(wh)[0]
    assert "EOFError" in detail and f"{res.rows} rows before it were kept" in detail and payload  # the partial line


@ROWS_KEPT
def test_parquet_corrupt_page_quarantines_only_that_part(wh, tmp_path):
    f = h.parquet_with_corrupt_page(tmp_path / "docs.parquet", groups=8, rows_per_group=500, bad_group=3)
    res = ingest(wh, f, "parquet")
    assert res.reasons == {"invalid_parquet": 1}
    assert 3500 <= res.rows < 4000  # every other row group whole, plus what of the bad one could be read
    _, ref, _, _, detail = _quarantine(wh)[0]
    assert "row group 3" in detail and ref.endswith("-1999")
    assert rows(wh, "select count(*) from documents where record_index >= 2000") == [(2000,)]


@pytest.mark.parametrize(("fmt", "name"), [("jsonl", "docs.jsonl"), ("medqa", "medqa_test.jsonl")])
@ROWS_KEPT
def test_deeply_nested_json_line_drops_only_itself(wh, tmp_path, fmt, name):
    item = {"id": "x", "text": "t", "question": "q", "options": {"A": "a", "B": "b"}, "answer_idx": "A"}
    lines = [json.dumps({**item, "id": f"d{i}", "question": f"q{i}"}) for i in range(3)]
    lines.insert(1, h.deep_json(100_000))
    (tmp_path / name).write_text("\n".join(lines) + "\n")
    res = ingest(wh, tmp_path / name, fmt)
    assert (res.rows, res.reasons) == (3, {"too_deep": 1})
    assert _quarantine(wh)[0][2].startswith('{"id": "deep"')


@ROWS_KEPT
def test_pubmedqa_deep_member_is_quarantined_alone(wh, tmp_path):
    ok = {"QUESTION": "Q?", "CONTEXTS": ["c"], "final_decision": "no"}
    deep = "[" * 200 + "]" * 200
    (tmp_path / "pqa_test.json").write_text(f'{{"1": {json.dumps(ok)}, "2": {deep}, "3": {json.dumps(ok)}}}')
    res = ingest(wh, tmp_path / "pqa_test.json", "pubmedqa")
    assert (res.rows, res.reasons) == (2, {"too_deep": 1})


@ROWS_KEPT
def test_row_after_a_huge_csv_cell_is_kept(wh, tmp_path):
    f = h.plain_huge_field(tmp_path / "big.csv", 3 * h.MiB, "csv")
    res = _ingest_cfg(wh, f, "csv", IngestConfig(max_line_bytes=1 * h.MiB))
    assert (res.rows, res.reasons) == (2, {"line_too_long": 1})
    _, ref, payload, size, _ = _quarantine(wh)[0]
    assert ref.endswith(":3") and size == len("d2,") + 3 * h.MiB and payload.startswith("d2,yyy")


@pytest.mark.hostile("readable rows kept", ok="handled", bad="corruption")  # fragments as rows
def test_csv_quoted_cell_over_the_bound_leaves_no_fragments(wh, tmp_path):
    """A multi-line quoted cell larger than max_record_bytes is skimmed whole; its lines never become rows."""
    cell = "\n".join("fragment,looks,like,a,row" for _ in range(2000))  # ~50 kB over 2000 lines
    p = tmp_path / "docs.csv"
    p.write_text(f'id,text\nd1,one\nd2,"{cell}"\nd3,three\n')
    res = _ingest_cfg(wh, p, "csv", IngestConfig(max_record_bytes=8 * 1024))
    assert (res.rows, res.reasons) == (2, {"oversized_record": 1})
    _, ref, payload, size, detail = _quarantine(wh)[0]
    assert ref.endswith(":3") and size == len(f'd2,"{cell}"') and "lines 3-2002" in detail and len(payload) < 70_000


@ROWS_KEPT
def test_csv_unterminated_quote_before_a_long_tail_rereads_it(wh, tmp_path):
    """A quote that never closes, followed by more than max_record_bytes of rows: every one of them is kept."""
    p = tmp_path / "docs.csv"
    p.write_bytes(b'id,text\nd0,"oops\n' + h.csv_lines(2000, start=1))
    res = _ingest_cfg(wh, p, "csv", IngestConfig(max_record_bytes=8 * 1024))
    assert (res.rows, res.reasons) == (2000, {"invalid_csv": 1})
    assert "read again from line 3" in _quarantine(wh)[0][4]


@ROWS_KEPT
def test_truncated_csv_gz_inside_an_open_quote_keeps_the_lines_read(wh, tmp_path):
    data = b"id,text\n" + h.csv_lines(5000) + b'd5000,"open\n' + h.csv_lines(20_000, start=5001)
    f = h.truncated_gzip(tmp_path / "docs.csv.gz", data, keep=0.5)
    res = ingest(wh, f, "csv")
    assert res.reasons == {"invalid_csv": 1, "truncated_file": 1} and res.rows > 5000 + 1000


@ROWS_KEPT
def test_large_parquet_row_refused_before_python_objects(wh, tmp_path):
    f = tmp_path / "big.parquet"
    pq.write_table(pa.table({"id": ["a", "b", "c"], "text": ["one", "z" * 300_000, "three"]}), f)
    res = _ingest_cfg(wh, f, "parquet", IngestConfig(max_record_bytes=100_000))
    assert (res.rows, res.reasons) == (2, {"oversized_record": 1})
    _, _, payload, size, detail = _quarantine(wh)[0]
    assert size == 300_000 and len(payload) < 70_000 and "row of 300001 bytes" in detail  # real sizes


# --- ledger identity, paths, offsets, reason codes ----------------------------------------------------------------


@LEDGER_LOSS
def test_identical_files_in_one_run_are_both_recorded(wh, tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_bytes(b"")
    b.write_bytes(b"")
    ledger = Ledger(wh)  # one snapshot, as in one run
    results = [ingest_file(wh, IngestJob(str(p), "jsonl", "jsonl"), "run-1", ledger) for p in (a, b)]
    assert [r.status for r in results] == ["ingested", "ingested"] and results[0].unit != results[1].unit
    assert rows(wh, "select count(*), count(distinct source_file) from source_files") == [(2, 2)]
    assert rows(wh, "select reason, count(*) from quarantine group by 1") == [("empty_file", 2)]


@CONFIG_ERROR
def test_special_files_are_refused_before_any_work(wh, tmp_path):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(InputPathError, match="FIFO"):
        check_input_paths([fifo], "jsonl")
    with pytest.raises(InputPathError, match="FIFO"):  # the runner checks again, before opening (which would block)
        ingest(wh, fifo, "jsonl")
    with pytest.raises(InputPathError, match="character device"):
        check_input_paths(["/dev/null"], "pubmed")
    with pytest.raises(InputPathError, match="is a directory"):
        check_input_paths([tmp_path], "pubmed")
    with pytest.raises(InputPathError, match="no such file"):
        check_input_paths([tmp_path / "nope.xml"], "pubmed")
    assert check_input_paths([tmp_path], "hf") == [tmp_path]  # a saved dataset is a directory
    assert issubclass(InputPathError, IngestConfigError)
    assert rows(wh, "select count(*) from source_files") == [(0,)]


@CONFIG_ERROR
def test_check_jobs_finds_whole_file_errors_before_any_work(wh, tmp_path):
    """What the CLI calls before taking the warehouse lock (exit 2); nothing is read or written."""
    (tmp_path / "questions.jsonl").write_text("{}\n")
    (tmp_path / "medqa_test.jsonl").write_text("{}\n")
    (tmp_path / "nodes.txt").write_text("id\n")
    os.mkfifo(tmp_path / "pipe.csv")
    good = IngestJob(str(tmp_path / "medqa_test.jsonl"), "medqa", "medqa")
    check_jobs([good])
    for job, message in [
        (IngestJob(str(tmp_path / "questions.jsonl"), "medqa", "medqa"), "no split for questions"),
        (IngestJob(str(tmp_path / "nodes.txt"), "csv", "csv"), "cannot tell the tabular format"),
        (IngestJob(str(tmp_path / "pipe.csv"), "csv", "csv"), "FIFO"),
        (IngestJob(str(tmp_path), "pubmed", "pubmed"), "is a directory"),
        (IngestJob(str(tmp_path / "anatomy.csv"), "mmlu", "mmlu"), "no such file"),
    ]:
        with pytest.raises(IngestConfigError, match=message):
            check_jobs([good, job])
    assert rows(wh, "select count(*) from source_files") == [(0,)]


@LEDGER_WRONG
def test_error_at_byte_zero_of_a_gzip_is_reported_at_zero(tmp_path):
    from curation.ingest import pubmed

    f = tmp_path / "bad.xml.gz"
    f.write_bytes(gzip.compress(b"&" + b"x" * 50_000))
    (q,) = pubmed.parse(f, pubmed.Options(), None)
    assert q.reason == "invalid_xml" and q.source_ref.endswith("@0") and "byte 0 " in q.detail


CORRUPT = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xff" * 64  # a gzip header, then data that is not deflate


@pytest.mark.parametrize(
    ("fmt", "name", "data"),
    [
        ("pubmed", "p.xml.gz", px.xml_bytes(*(px.article(str(i)) for i in range(1, 300)))),
        ("jsonl", "d.jsonl.gz", b"".join(b'{"id": "%d", "text": "t %d"}\n' % (i, i) for i in range(20_000))),
        ("csv", "d.csv.gz", b"id,text\n" + h.csv_lines(20_000)),
        ("medqa", "medqa_test.jsonl.gz", b'{"question": "q", "options": {"A": "a"}, "answer_idx": "A"}\n' * 20_000),
        ("pubmedqa", "pqa_test.json.gz", b"{" + b",".join(b'"%d": {"QUESTION": "q"}' % i for i in range(30_000))
         + b"}"),
        ("mmlu", "anatomy_test.csv.gz", b"q,a,b,c,d,A\n" * 20_000),
    ],
)  # fmt: skip
@LEDGER_WRONG
def test_same_fault_same_reason_across_formats(tmp_path, fmt, name, data):
    from curation.ingest.formats import get_format

    spec = get_format(fmt)
    opts = spec.options({})
    cut = h.truncated_gzip(tmp_path / name, data, keep=0.6)
    reasons = [getattr(i, "reason", None) for i in spec.parser()(cut, opts, None)]
    assert reasons[-1] == "truncated_file" and reasons.count("truncated_file") == 1
    (tmp_path / name).write_bytes(CORRUPT)
    reasons = [getattr(i, "reason", None) for i in spec.parser()(tmp_path / name, opts, None)]
    assert reasons == ["corrupt_file"]


def test_every_reason_is_documented():
    doc = (ROOT / "docs" / "ingest.md").read_text()
    assert all(f"`{r}`" in doc for r in REASONS)


@LEDGER_LOSS
def test_bad_rows_carry_their_payload(wh, tmp_path):
    p = tmp_path / "docs.jsonl"
    p.write_bytes(b'{"id": "a", "text": "ok"}\nnot json\n[1, 2]\n{"id": "b"}\n\xff\xfe\n')
    res = ingest(wh, p, "jsonl")
    assert res.reasons == {"invalid_json": 1, "not_an_object": 1, "missing_field": 1, "wrong_encoding": 1}
    assert all(r[2] for r in _quarantine(wh))


# --- defaults (issue 15) -----------------------------------------------------------------------------------------


DOCS = [{"id": "d1", "text": "one", "title": "T1"}, {"id": "d2", "text": "two", "title": "T2"}]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet", ".tsv"])
def test_id_text_title_need_no_mapping(wh, tmp_path, suffix):
    p = tmp_path / f"corpus{suffix}"
    if suffix == ".jsonl":
        p.write_text("".join(json.dumps(d) + "\n" for d in DOCS))
    elif suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(DOCS), p)
    else:
        sep = "," if suffix == ".csv" else "\t"
        p.write_text(sep.join(DOCS[0]) + "\n" + "".join(sep.join(d.values()) + "\n" for d in DOCS))
    res = ingest(wh, p, "csv" if suffix == ".tsv" else suffix[1:])
    assert (res.rows, res.quarantined) == (2, 0)
    assert rows(wh, "select doc_id, title, text from documents order by 1") == [
        ("corpus:d1", "T1", "one"), ("corpus:d2", "T2", "two"),
    ]  # fmt: skip


def test_source_name_option_sets_source(wh, tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text(json.dumps(DOCS[0]) + "\n")
    assert ingest(wh, p, "jsonl", source_name="mycorpus").rows == 1
    assert rows(wh, "select source, doc_id from documents") == [("mycorpus", "mycorpus:d1")]


def test_tsv_by_option_and_unknown_suffix(wh, tmp_path):
    p = tmp_path / "nodes.txt"
    p.write_text("id\ttext\nn1\tnode one\n")
    with pytest.raises(IngestConfigError, match=r"cannot tell the tabular format of nodes\.txt"):
        ingest(wh, p, "csv")
    assert ingest(wh, p, "csv", reader="csv", delimiter="\t").rows == 1


@pytest.mark.shared_data
def test_hetionet_nodes_tsv(wh, shared_data):
    res = ingest(wh, shared_data / "hetionet_kg_sample" / "nodes.tsv", "csv", fields={"text": "name"})
    assert (res.rows, res.quarantined) == (47031, 0)


def _pqa(pmids: list[str]) -> str:
    return json.dumps({p: {"QUESTION": f"Q{p}?", "CONTEXTS": ["c"], "final_decision": "yes"} for p in pmids})


def test_pubmedqa_canonical_file_names(wh, tmp_path):
    (tmp_path / "ori_pqal.json").write_text(_pqa(["1", "2", "3"]))
    assert ingest(wh, tmp_path / "ori_pqal.json", "pubmedqa").rows == 3  # no ground truth beside it: all test
    assert rows(wh, "select distinct split from benchmark_items") == [("test",)]
    (tmp_path / "test_ground_truth.json").write_text(json.dumps({"2": "yes"}))
    assert ingest(wh, tmp_path / "ori_pqal.json", "pubmedqa", force=True).rows == 3
    got = rows(wh, "select pmid, split from benchmark_items order by pmid")
    assert got == [("1", "train"), ("2", "test"), ("3", "train")]
    with pytest.raises(IngestConfigError, match="only the test answers"):
        ingest(wh, tmp_path / "test_ground_truth.json", "pubmedqa")


@pytest.mark.parametrize(
    ("fmt", "name", "split"),
    [
        ("medqa", "phrases_no_exclude_train.jsonl", "train"),
        ("medqa", "phrases_no_exclude_dev.jsonl", "dev"),
        ("medqa", "phrases_no_exclude_test.jsonl", "test"),
        ("medmcqa", "dev.json", "dev"),
        ("medmcqa", "train.json", "train"),
        ("medmcqa", "test.json", "test"),
    ],
)
def test_benchmark_file_names_give_their_split(wh, tmp_path, fmt, name, split):
    row = {"question": "q", "options": {"A": "a", "B": "b"}, "answer_idx": "A"}
    if fmt == "medmcqa":
        row = {"question": "q", "opa": "a", "opb": "b", "opc": "c", "opd": "d", "cop": 1}
    (tmp_path / name).write_text(json.dumps(row) + "\n")
    opts = {"cop_base": 1} if fmt == "medmcqa" else {}
    assert ingest(wh, tmp_path / name, fmt, **opts).rows == 1
    assert rows(wh, "select split from benchmark_items") == [(split,)]
