"""The clinical recipes of issue 14 run end to end with the offline real model (docs/recipes.md): DeID-GPT,
SimSUM, SynLLM, BiMed1.3M and HILGEN, each on committed fixtures at tiny limits, ending in a release that
`release verify` accepts. Per-recipe counts by outcome, wall time and one example row print with `-s`.

Slow (vLLM-CPU): run under `flock /tmp/mc-model.lock`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from curation.release.verify import verify
from curation.warehouse import Warehouse, connect
from tests.test_recipes import RECIPES, stage_copy, synth_counts, timed_build

pytestmark = pytest.mark.slow


def rows_by_config(release: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in json.loads((release / "manifest.json").read_text())["files"]:
        if "config" in f:
            out[f["config"]] = out.get(f["config"], 0) + f["rows"]
    return out


def run_recipe(recipe: str, tmp_path: Path, engine) -> tuple[Warehouse, dict, Path]:
    """Build the recipe; print its counts, wall time and one released row per config; check the release."""
    wh = Warehouse(tmp_path / "warehouse")
    outcome, wall = timed_build(stage_copy(recipe, tmp_path), wh, engine)
    release = tmp_path / "release" / yaml.safe_load((RECIPES / f"{recipe}.yaml").read_text())["name"] / "0.1.0"
    assert verify(release) == []
    manifest = json.loads((release / "manifest.json").read_text())
    assert manifest["total_rows"] > 0
    found = synth_counts(wh, outcome.stages["synth"]["summary"]["run_id"]) if "synth" in outcome.stages else {}
    examples = {}
    for f in sorted(release.rglob("*.parquet")):  # data/<config>/<licence class>/<split>-NNNNN.parquet
        examples.setdefault(f.relative_to(release).parts[1], pq.read_table(f).slice(0, 1).to_pylist())
    summary = {s: r["summary"] for s, r in outcome.stages.items() if s != "synth"}
    tasks = outcome.stages["synth"]["summary"]["tasks"] if "synth" in outcome.stages else {}
    released = rows_by_config(release)
    print(
        f"\n{recipe}: {wall:.0f} s; "
        + json.dumps({"tasks": tasks, **found, "stages": summary, "released": released}, default=str)
    )
    print(f"{recipe} examples: " + json.dumps(examples, default=str, ensure_ascii=False)[:3000])
    for name, t in tasks.items():  # every generation ends as exactly one row or one quarantine record
        quarantined = sum(n for k, n in found["quarantined"].items() if k.startswith(f"{name}:"))
        assert t["rows"] + quarantined == found["counts"][f"{name}.generations"], (name, t, found)
    return wh, found, release


def test_simsum_notes_for_sampled_records(tmp_path, smollm2_engine):
    wh, _, _ = run_recipe("simsum", tmp_path, smollm2_engine)
    con = connect(Warehouse(wh.root))
    assert con.execute("select count(*) from records_resp").fetchone()[0] > 0
    for note, spans, fever, cough in con.execute("select note, spans, fever, cough from synthetic_note").fetchall():
        concepts = {s["concept"] for s in spans}
        assert (not fever or "fever" in concepts) and (not cough or "cough" in concepts)
        assert all(note[s["start"] : s["end"]] == s["text"] for s in spans)
    missing = con.execute(
        "select detail from quarantine where stage = 'synth' and reason = 'concept_missing'"
    ).fetchall()
    assert all(d[0].startswith("not mentioned: ") for d in missing)


def test_synllm_rows_checked_against_the_record_schema(tmp_path, smollm2_engine):
    import subprocess
    import sys

    wh, _, _ = run_recipe("synllm", tmp_path, smollm2_engine)
    con = connect(Warehouse(wh.root))
    rows = con.execute("select age, sex, pregnant, bmi, glucose, diabetes from synthetic_rows").fetchall()
    assert all(18 <= a <= 90 and s in ("F", "M") and not (p and s == "M") for a, s, p, *_ in rows)
    for reason, detail in con.execute(
        "select reason, detail from quarantine where stage = 'synth' and reason in "
        "('wrong_type', 'out_of_range', 'unknown_category', 'missing_column', 'extra_column', 'null_value', "
        "'rule_violation')"
    ).fetchall():
        prefix = {"rule_violation": "rule ", "extra_column": "no column "}.get(reason)  # else "<column>: ..."
        assert detail.startswith(prefix) if prefix else re.match(r"^\w+: ", detail), (reason, detail)
    ref = tmp_path / "reference.parquet"
    con.execute(f"copy (select * from records_patients) to '{ref}' (format parquet)")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "curation.cli",
            "-w",
            str(wh.root),
            "records",
            "eval",
            "--table",
            "synthetic_rows",
            "--schema",
            "patients",
            "--reference",
            str(ref),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    print("synllm records eval: " + json.dumps({k: report[k] for k in ("rows", "rules", "privacy") if k in report}))
    assert report["rows"] == len(rows) and report["rules"]["violation_rate"] == 0.0


def test_bimed_pairs_scored_and_refined(tmp_path, smollm2_engine):
    from curation.clean.langid import detect_language

    wh, found, release = run_recipe("bimed", tmp_path, smollm2_engine)
    con = connect(Warehouse(wh.root))
    assert all(detect_language(ar)[0] == "ar" for (ar,) in con.execute("select ar from synthetic_translate").fetchall())
    scored = con.execute("select chrf from synthetic_back_translate").fetchall()
    assert all(0 <= c <= 100 for (c,) in scored)
    low = sum(c < 50 for (c,) in scored)
    refine_inputs = con.execute("select count(*) from synthetic_refine_items").fetchone()[0]
    assert refine_inputs == low
    wrong = con.execute("select count(*) from quarantine where reason = 'wrong_language'").fetchone()[0]
    assert wrong == found["quarantined"].get("translate:wrong_language", 0) + found["quarantined"].get(
        "refine:wrong_language", 0
    )
    assert rows_by_config(release)["en"] == 6


def test_hilgen_sentences_in_iob(tmp_path, smollm2_engine):
    from curation.ingest.conll import Options, parse
    from curation.ingest.items import Record
    from curation.ner.export import export_table
    from curation.ner.iob import check_tags, tags_to_spans

    wh, _, _ = run_recipe("hilgen", tmp_path, smollm2_engine)
    con = connect(Warehouse(wh.root))
    bad = con.execute("select source_ref, detail from quarantine where stage = 'ingest'").fetchall()
    assert [d for _, d in bad] == ["line 61: I-SYMPTOM after O (scheme iob2)"], bad
    entities = con.execute("select input_id from synthetic_sentences_items").fetchall()
    assert sorted(e for (e,) in entities) == ["SYMPTOM:chest pain", "SYMPTOM:dyspnea"]
    for table in ("synthetic_sentences", "synthetic_swaps"):
        for entity, label, tokens, tags, spans in con.execute(
            f"select entity, label, tokens, tags, spans from {table}"
        ).fetchall():
            assert check_tags(tags, "iob2") == [] and [s.row() for s in tags_to_spans(tokens, tags, "iob2")] == spans
            assert spans and {(s["label"], s["text"].lower()) for s in spans} == {(label, entity)}
    out = tmp_path / "generated.conll"
    n = export_table(Warehouse(wh.root), "synthetic_sentences", out)
    back = [r.row for r in parse(out, Options(), None) if isinstance(r, Record)]
    stored = con.execute("select tokens, spans from synthetic_sentences order by record_id").fetchall()
    assert len(back) == n and [(r["tokens"], r["spans"]) for r in back] == stored


def test_deid_gpt_llm_and_patterns_leave_no_pattern_phi_in_the_release(tmp_path, smollm2_engine):
    wh, _, release = run_recipe("deid_gpt", tmp_path, smollm2_engine)
    con = connect(Warehouse(wh.root))
    counts = json.loads(con.execute("select counts from runs where stage = 'deid'").fetchone()[0])
    assert counts["deid.llm_calls"] == 10 and counts["deid.notes"] == 10, counts
    methods = dict(con.execute("select split_part(method, ':', 1), count(*) from phi_spans group by 1").fetchall())
    print("deid_gpt spans by method: " + json.dumps(methods))
    released = [r["text"] for f in release.rglob("*.parquet") for r in pq.read_table(f).to_pylist()]
    assert len(released) == 10
    fixtures = Path(__file__).parent / "fixtures" / "deid"
    notes = {json.loads(line)["note_id"] for line in (fixtures / "notes.jsonl").read_text().splitlines()}
    pattern_classes = {"DATE", "PHONE", "FAX", "EMAIL", "SSN", "MRN", "HEALTH_PLAN", "ACCOUNT", "URL", "IP", "ZIP"}
    for line in (fixtures / "gold.jsonl").read_text().splitlines():
        gold = json.loads(line)
        if gold["note_id"] not in notes:
            continue
        for s in gold["spans"]:
            value = gold["text"][s["start"] : s["end"]]
            if s["class"] in pattern_classes:
                assert not any(value in text for text in released), (s["class"], value)
