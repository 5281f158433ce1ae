"""Bad input never crashes a run and never vanishes: each case ends in quarantine with a reason, or a clear error.

All inputs are generated here (tests/pubmed_xml.py); byte offsets are in the decompressed stream.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curation.ingest import pmc, pubmed
from curation.ingest.config import IngestConfig
from curation.ingest.items import Record, Rejection
from curation.ingest.ledger import Ledger
from curation.ingest.runner import IngestJob, ingest_file
from curation.manifest import ManifestError, load_manifest
from curation.warehouse import connect
from tests import pubmed_xml as px


def _items(path: Path) -> list:
    return list(pubmed.parse(path, pubmed.Options(), None))


def _split(items: list) -> tuple[list[str], list[Rejection]]:
    return [i.row["pmid"] for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def _ingest(wh, path: Path, fmt: str = "pubmed", cfg: IngestConfig | None = None):
    return ingest_file(wh, IngestJob(str(path), fmt, fmt), "run-bad", Ledger(wh), cfg)


def _offset(q: Rejection) -> int:
    return int(q.source_ref.rsplit("@", 1)[1])


def test_truncated_gzip_keeps_records_before(wh, tmp_path):
    data = px.xml_bytes(*(px.article(str(i), abstract=f"Abstract number {i} " * 20) for i in range(1, 401)))
    packed = gzip.compress(data)
    f = tmp_path / "trunc.xml.gz"
    f.write_bytes(packed[: len(packed) // 2])
    pmids, quarantined = _split(_items(f))
    assert 0 < len(pmids) < 400
    assert pmids == [str(i) for i in range(1, len(pmids) + 1)]  # an unbroken prefix
    (q,) = quarantined
    assert q.reason == "truncated_file" and "EOFError" in q.detail
    assert 0 < _offset(q) < len(data)
    res = _ingest(wh, f)
    assert (res.status, res.rows, res.reasons) == ("ingested", len(pmids), {"truncated_file": 1})


def test_invalid_xml_mid_file(wh, tmp_path):
    good = [px.article(str(i)) for i in range(1, 51)]
    broken = '<PubmedArticle><MedlineCitation><PMID Version="1">77</PMID><<broken</MedlineCitation></PubmedArticle>\n'
    data = px.xml_bytes(*good, broken, *(px.article(str(i)) for i in range(51, 101)))
    f = px.write(tmp_path / "invalid.xml", data)
    pmids, (q,) = _split(_items(f))
    assert pmids == [str(i) for i in range(1, 51)]  # everything before the break, nothing after
    start = data.index(b'<PubmedArticle><MedlineCitation><PMID Version="1">77')
    assert q.reason == "invalid_xml" and start <= _offset(q) <= start + len(broken)  # exact, from line/column
    assert (
        "line 53, column 61" in q.detail
    )  # 2 header lines + 50 records; "<<" at column 61 and "XMLSyntaxError" in q.detail
    assert b"<<broken" in q.payload and len(q.payload) <= 64 * 1024
    res = _ingest(wh, f)
    assert (res.rows, res.reasons) == (50, {"invalid_xml": 1})
    row = connect(wh).execute("select reason, payload, payload_bytes from quarantine").fetchone()
    assert row[0] == "invalid_xml" and "<<broken" in row[1]


def test_wrong_encoding(wh, tmp_path):
    records = [px.article(str(i)).encode() for i in range(1, 61)]
    records[29] = px.article("30", title="caf\x00").encode().replace(b"caf\x00", b"caf\xe9")  # latin-1 é
    data = px.HEADER.encode() + b"".join(records) + px.FOOTER.encode()
    f = px.write(tmp_path / "latin1.xml.gz", data)
    pmids, (q,) = _split(_items(f))
    assert pmids == [str(i) for i in range(1, 30)]
    start = data.index(records[29])
    assert q.reason == "wrong_encoding" and start <= _offset(q) <= start + len(records[29])
    assert _ingest(wh, f).reasons == {"wrong_encoding": 1}


@pytest.mark.parametrize("gz", [False, True])
def test_empty_file(wh, tmp_path, gz):
    f = px.write(tmp_path / ("empty.xml.gz" if gz else "empty.xml"), b"", gz=gz)
    (q,) = _items(f)
    assert q.reason == "empty_file" and q.payload is None
    res = _ingest(wh, f)
    assert (res.status, res.rows, res.quarantined, res.reasons) == ("ingested", 0, 1, {"empty_file": 1})


def test_record_without_pmid(wh, tmp_path):
    f = px.write(tmp_path / "nopmid.xml", px.xml_bytes(px.article("1"), px.article(None), px.article("3")))
    pmids, (q,) = _split(_items(f))
    assert pmids == ["1", "3"]
    assert q.reason == "missing_pmid" and b"<PubmedArticle>" in q.payload
    assert q.source_ref.endswith("nopmid.xml:4")  # the record's line
    assert _ingest(wh, f).reasons == {"missing_pmid": 1}


def test_oversized_record_is_bounded(wh, tmp_path):
    f = px.write(tmp_path / "big.xml", px.xml_bytes(px.article("1"), px.article("2", abstract="x" * 200_000)))
    res = _ingest(wh, f, cfg=IngestConfig(max_record_bytes=100_000))
    assert (res.rows, res.reasons) == (1, {"oversized_record": 1})
    payload, size = connect(wh).execute("select payload, payload_bytes from quarantine").fetchone()
    assert size == 200_000 and len(payload.encode()) < 70_000  # the payload is truncated


def test_giant_element_stops_at_libxml2_limit(tmp_path):
    """A text node over 10 MB is refused by libxml2 (huge_tree off) instead of being built in memory."""
    f = px.write(tmp_path / "giant.xml.gz", px.xml_bytes(px.article("1"), px.article("2", abstract="y" * 11_000_000)))
    pmids, (q,) = _split(_items(f))
    assert pmids == ["1"]
    assert q.reason == "oversized_record" and "limit" in q.detail.lower()
    assert len(q.payload) <= 64 * 1024


def test_missing_path(wh, tmp_path):
    res = _ingest(wh, tmp_path / "nope.xml.gz")
    assert res.status == "failed" and "cannot read" in res.message
    # Import Prefect before CliRunner swaps stderr: its logging handlers must not keep CliRunner's closed stream
    # (later flow tests in the same session log through them).
    import curation.flows.stages  # noqa: F401
    from curation.cli import app

    out = CliRunner().invoke(
        app, ["-w", str(tmp_path / "wh"), "ingest", "--format", "pubmed", str(tmp_path / "nope.xml")]
    )
    assert out.exit_code == 2 and "no such file" in out.output
    manifest = tmp_path / "m.yaml"
    manifest.write_text("name: m\nsources:\n  - {name: pm, format: pubmed, paths: [missing/*.xml.gz]}\n")
    with pytest.raises(ManifestError, match=re.escape("sources.pm.paths.0: no file matches")):
        load_manifest(manifest)


def test_pmc_invalid_xml(tmp_path):
    f = tmp_path / "cut.nxml"
    f.write_bytes(b'<article><front><article-meta><article-id pub-id-type="pmc">1</article-id></front></article>')
    (q,) = pmc.parse(f, pmc.Options(), None)
    assert q.reason == "invalid_xml" and "column" in q.detail
