"""The deid stage end to end on the fixture notes in every notes format: ingest → deid; no planted PHI value in
any Parquet file but the raw notes; raw notes kept out of releases and masked in SQL; bad notes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from curation.deid.config import SECRET_ENV, DeidConfig
from curation.deid.guard import mask_raw_text, not_raw_sql
from curation.deid.stage import run_deid
from curation.release.config import DatasetConfig, ReleaseConfig
from curation.release.selection import select
from curation.warehouse import connect, start_run
from tests.ingest_helpers import ingest

FIX = Path(__file__).parent / "fixtures" / "deid"
INPUTS = [FIX / "notes.jsonl", FIX / "noteevents.csv", FIX / "text", FIX / "cp1252.txt"]


def _planted() -> dict[str, set[str]]:
    """Every gold value of the ingested notes (notes 0-29) and the cp1252 note, by note id. Ages are left out:
    "94" alone identifies no one and is not unique text."""
    values = {"cp1252": {"José Núñez", "03/14/2021"}}
    for line in (FIX / "gold.jsonl").read_text().splitlines()[:30]:
        o = json.loads(line)
        values[o["note_id"]] = {o["text"][s["start"] : s["end"]] for s in o["spans"] if s["class"] != "AGE"}
    return values


def _ingest_all(wh) -> set[str]:
    units = set()
    for path in INPUTS:
        res = ingest(wh, path, "notes")
        assert res.status == "ingested", res.message
        units.add(res.unit)
    return units


@pytest.fixture
def deid_wh(wh, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "test-secret")  # reproducible surrogates (unset: a random key per warehouse)
    raw_units = _ingest_all(wh)
    with start_run(wh, "deid") as run:
        counts = run_deid(wh, DeidConfig(), run)
    return wh, raw_units, counts


def test_every_note_gets_a_deidentified_current_version(deid_wh):
    wh, _, counts = deid_wh
    assert counts["notes"] == 31 and counts["quarantined"] == 0
    con = connect(wh)
    status = dict(con.execute("SELECT phi_status, count(*) FROM documents_current GROUP BY 1").fetchall())
    assert status == {"deidentified": 31}
    n_spans = con.execute("SELECT count(*) FROM phi_spans").fetchone()[0]
    assert n_spans == counts["spans"] > 300
    enc = con.execute("SELECT meta->>'encoding' FROM documents WHERE doc_id = 'notes:cp1252'").fetchone()[0]
    assert enc == "cp1252"


def _assert_no_planted_phi(wh, files: list[Path], max_chance: float) -> None:
    """Every cell of every file. A surrogate may by chance equal a value planted in another note (both come from
    Faker's lists): such a hit counts only when it lies inside a replacement (phi_spans out offsets) of a note
    whose own planted values do not include it."""
    planted = _planted()
    every = sorted(set().union(*planted.values()), key=len, reverse=True)
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(v)}(?!\w)" for v in every))
    replaced: dict[str, list[tuple[int, int]]] = {}
    for doc, a, b in connect(wh).execute("SELECT deid_doc_id, out_start, out_end FROM phi_spans").fetchall():
        replaced.setdefault(doc, []).append((a, b))
    chance = 0
    for f in files:
        for row in pq.read_table(f).to_pylist():
            for key, value in row.items():
                text = value if key == "text" else json.dumps(value, default=str, ensure_ascii=False)
                for hit in pattern.finditer(text or ""):
                    note = (row.get("source_id") or "").removesuffix(".deid").split("/")[-1]
                    inside = any(a <= hit.start() and hit.end() <= b for a, b in replaced.get(row.get("doc_id"), []))
                    ok = key == "text" and row.get("phi_status") == "deidentified" and inside
                    assert ok and hit.group(0) not in planted[note], f"{f} column {key}: planted {hit.group(0)!r}"
                    chance += 1
    assert chance <= max_chance  # common surnames ("Smith") and month-year dates, never a whole identifier


def test_no_planted_phi_value_in_any_parquet_file_but_the_raw_notes(deid_wh):
    wh, raw_units, counts = deid_wh
    files = [
        f for f in sorted(wh.root.rglob("*.parquet")) if not (f.parts[-3] == "documents" and f.parts[-2] in raw_units)
    ]
    assert {f.parts[-3] for f in files} >= {"documents", "phi_spans", "source_files"}
    _assert_no_planted_phi(wh, files, counts["spans"] / 10)


def test_no_planted_phi_value_in_a_release(deid_wh, tmp_path):
    from curation.manifest import load_manifest
    from curation.release.builder import ReleaseRequest, build_release

    wh, _, counts = deid_wh
    m = tmp_path / "m.yaml"
    m.write_text(
        "name: deid-test\nrelease:\n  out: rel\n  configs:\n"
        "    - {name: notes, source: documents_latest, require_decontam: false}\n"
    )
    manifest = load_manifest(m)
    with start_run(wh, "release") as run:
        out = Path(
            build_release(wh, manifest, ReleaseRequest(version="1.0.0", out=manifest.resolve("rel")), run)["path"]
        )
    facts = json.loads((out / "manifest.json").read_text())["configs"]["notes"]
    removed = {r["name"]: r["removed"] for r in facts["rules"]}
    assert removed["current_not_deleted"] + removed["not_raw_phi"] == 31  # the raw notes are superseded
    files = sorted(out.rglob("*.parquet"))
    assert {r["phi_status"] for f in files for r in pq.read_table(f, columns=["phi_status"]).to_pylist()} == {
        "deidentified"
    }
    assert sum(pq.read_metadata(f).num_rows for f in files) == 31
    _assert_no_planted_phi(wh, files, counts["spans"] / 10)


def test_a_raw_note_is_never_selected_into_a_release(wh):
    _ingest_all(wh)
    con = connect(wh)
    cfg = DatasetConfig(name="notes", source="documents_latest", require_decontam=False)
    sel = select(con, cfg, ReleaseConfig(configs=[cfg]))
    assert sel.rows_in == 31 and sel.rows_out == 0
    assert {e.name: e.removed for e in sel.effects}["not_raw_phi"] == 31
    # a record derived from a raw note (no phi_status of its own) is caught by its doc_id
    where = not_raw_sql({"doc_id"})
    assert con.execute(f"SELECT count(*) FROM documents WHERE {where}").fetchone()[0] == 0


def test_sql_masks_raw_text_unless_asked(deid_wh):
    wh, _, _ = deid_wh
    con = connect(wh)
    assert (
        con.execute("SELECT count(*) FROM documents WHERE phi_status = 'raw' AND text IS NOT NULL").fetchone()[0] == 31
    )
    mask_raw_text(con)
    raw = con.execute("SELECT count(*), count(text), count(meta) FROM documents WHERE phi_status = 'raw'").fetchone()
    assert raw == (31, 0, 0)
    assert con.execute("SELECT count(text) FROM documents_latest WHERE phi_status = 'deidentified'").fetchone()[0] == 31
    from tests.cli_helpers import invoke_cli

    q = "select count(text) as n from documents where phi_status = 'raw'"
    masked = invoke_cli("-w", str(wh.root), "sql", q, "--format", "csv")
    shown = invoke_cli("-w", str(wh.root), "sql", q, "--format", "csv", "--show-raw-phi")
    assert masked.stdout.splitlines() == ["n", "0"] and shown.stdout.splitlines() == ["n", "31"]


def test_rerun_skips_done_notes_and_force_redoes(deid_wh):
    wh, _, _ = deid_wh
    with start_run(wh, "deid") as run:
        assert run_deid(wh, DeidConfig(), run)["notes"] == 0
    with start_run(wh, "deid") as run:
        assert run_deid(wh, DeidConfig(replace="placeholder"), run, force=True)["notes"] == 31
    con = connect(wh)
    assert con.execute("SELECT count(*) FROM documents WHERE phi_status = 'deidentified'").fetchone()[0] == 31
    assert con.execute("SELECT count(*) FROM documents_current WHERE text LIKE '%[NAME]%'").fetchone()[0] > 20


def test_undecodable_note_is_quarantined_without_its_text(wh, tmp_path):
    d = tmp_path / "notes"
    d.mkdir()
    (d / "bad.txt").write_bytes("Patient: Zoë Quist, phone 617-555-0143\n".encode("utf-16"))
    (d / "empty.txt").write_text("   \n")
    res = ingest(wh, d, "notes", fallback_encoding=None)
    assert res.rows == 0 and res.reasons == {"wrong_encoding": 1, "empty_note": 1}
    rows = connect(wh).execute("SELECT payload, detail FROM quarantine").fetchall()
    assert all(p is None and "Quist" not in (d or "") for p, d in rows)


def test_noteevents_columns_and_jsonl_fields(wh):
    ingest(wh, FIX / "noteevents.csv", "notes")
    row = connect(wh).execute("SELECT source_id, meta, published FROM documents ORDER BY source_id LIMIT 1").fetchone()
    meta = json.loads(row[1])
    assert row[0] == "n010" and meta["patient_id"] == "p005" and meta["category"] == "Discharge summary"
    assert str(row[2]) == "2150-01-01"


def test_cli_eval_and_run(wh, monkeypatch):
    from curation.cli import app

    monkeypatch.setenv("MEDCURATE_WAREHOUSE", str(wh.root))
    r = CliRunner().invoke(app, ["deid", "eval", str(FIX / "gold.jsonl"), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["entity"]["DATE"]["recall"] >= 0.98
    ingest(wh, FIX / "notes.jsonl", "notes")
    r = CliRunner().invoke(app, ["deid", "--recognizers", "pattern"])
    assert r.exit_code == 0, r.output
    assert "10 notes de-identified" in r.output
    bad = wh.root.parent / "m.yaml"
    bad.write_text("name: x\ndeid:\n  shift_days: [-10, 5]\n")
    r = CliRunner().invoke(app, ["deid", str(bad)])
    assert r.exit_code == 2 and "deid: Value error, shift_days: the range -10..5 contains 0" in " ".join(
        r.output.split()
    )
    r = CliRunner().invoke(app, ["deid", "eval", str(FIX / "missing.jsonl")])
    assert r.exit_code == 2 and "gold file not found" in r.output


def test_deid_outputs_pass_their_expectation_suites(deid_wh):
    from curation.validate import validate_table

    wh, _, _ = deid_wh
    for table in ("phi_spans", "documents"):
        r = validate_table(wh, table, run_id=f"v-{table}", data_docs=False)
        assert r.success, r.explain()
        assert table != "phi_spans" or "expect_column_pair_values_a_to_be_greater_than_b" in str(r.results)
