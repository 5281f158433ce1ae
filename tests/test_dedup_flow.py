"""The dedup Prefect flow from a manifest, and the CLI (dedup, dedup explain, sql over documents_enriched)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from curation.cli import app
from curation.warehouse import connect
from tests.factories import doc_row, write_documents

TEXT = " ".join(f"token{i % 97} word{i}" for i in range(150))


def _docs(wh):
    write_documents(
        wh,
        [
            doc_row("pubmed:1", TEXT, title="A"),
            doc_row("pubmed:2", TEXT.replace("word7 ", "word7 extra "), title="A", commercial_use=False),
            doc_row("pubmed:3", "completely different text " * 20, title="B"),
        ],
    )


def test_dedup_flow_from_manifest(wh, tmp_path, prefect_harness):
    from curation.flows.stages import stage_flow

    _docs(wh)
    manifest = tmp_path / "m.yaml"
    manifest.write_text("name: t\nstages: [ingest, dedup]\ndedup:\n  threshold: 0.6\n  keep: [longer_text]\n")
    s = stage_flow("dedup")(manifest_path=str(manifest), warehouse=str(wh.root))
    assert s["duplicates"] == 1 and s["signed"] == 3
    con = connect(wh)
    assert con.execute("SELECT dup_of FROM documents_enriched WHERE is_duplicate").fetchall() == [
        ("pubmed:2",)
    ]  # longer_text
    run = con.execute("SELECT status, counts FROM runs WHERE stage = 'dedup'").fetchone()
    assert run[0] == "completed" and json.loads(run[1])["dedup.duplicates"] == 1
    assert (wh.root / "catalog.duckdb").is_file()


def test_cli_dedup_explain_and_sql(wh, prefect_harness):
    _docs(wh)
    cli = CliRunner()
    r = cli.invoke(app, ["--warehouse", str(wh.root), "dedup"])
    assert r.exit_code == 0, r.output
    assert "1 duplicates in 1 clusters" in r.output
    r = cli.invoke(app, ["--warehouse", str(wh.root), "dedup", "explain", "pubmed:2", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["kept"] == "pubmed:1" and data["pairs"][0]["exact"] > 0.9
    r = cli.invoke(app, ["--warehouse", str(wh.root), "dedup", "explain", "pubmed:2"])
    assert "exact Jaccard" in r.output
    r = cli.invoke(app, ["--warehouse", str(wh.root), "dedup", "explain", "nope:1"])
    assert r.exit_code == 2 and "no dedup annotation" in r.output
    r = cli.invoke(
        app,
        [
            "--warehouse",
            str(wh.root),
            "sql",
            "select count(*) from documents_enriched where is_duplicate",
            "--format",
            "csv",
        ],
    )
    assert r.exit_code == 0 and r.output.strip().splitlines()[-1] == "1"
