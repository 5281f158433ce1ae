"""The content gate (curation/synth/gate.py): crafted bad outputs get distinct reasons, recorded outputs of the tiny
random-weight model are all rejected, recorded SmolLM2 outputs are partly accepted, and the release never selects a
synthetic row that did not pass the gate. No model is loaded here (perplexity is off); the real model runs in
tests/test_synth_smollm2.py."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

from curation.synth.config import SynthConfig
from curation.synth.engine import GenResult, parse_json
from curation.synth.gate import GateInput, conclusion, generated_strings, named_options, run_text_checks
from curation.synth.runner import check_outputs
from curation.synth.tasks.base import Context
from tests.synth_helpers import builtin_task

FIXTURES = Path(__file__).parent / "fixtures" / "synth_outputs"
OPTIONS = [
    {"label": "A", "text": "Left anterior descending artery"},
    {"label": "B", "text": "Left circumflex artery"},
    {"label": "C", "text": "Right coronary artery"},
    {"label": "D", "text": "Left main coronary artery"},
]
NO_PPL = {"perplexity": {"enabled": False}}


def cfg(**task_overrides) -> SynthConfig:
    base = {
        "grounded_qa": {"pairs_per_passage": 2, "min_grounding": 0.0, "gate": NO_PPL, "prompt_version": "v2"},
        "mcq_cot": {"gate": NO_PPL, "prompt_version": "v2"},
        "dialogue": {"min_turns": 2, "max_turns": 6, "gate": NO_PPL, "prompt_version": "v2"},
    }
    for k, v in task_overrides.items():
        base[k] = {**base[k], **v}
    return SynthConfig(model="x", **base)


def gate(fields: dict[str, str], options=None, chosen=None, **overrides):
    return run_text_checks(GateInput(fields, options, chosen), cfg().grounded_qa.gate.model_copy(update=overrides))


GOOD_QA = {
    "question": "Which drug is first-line for type 2 diabetes in most adults?",
    "answer": "Metformin is the first-line drug; it lowers hepatic glucose production.",
}


def test_good_text_passes_and_each_kind_of_garbage_gets_its_own_reason():
    assert gate(GOOD_QA) is None
    bad = {
        "gate_empty_field": {"question": "What lowers hepatic glucose production?", "answer": "   "},
        "gate_wrong_language": {
            "question": "Quel médicament faut-il donner en premier au patient ?",
            "answer": "La metformine est le traitement habituel chez la plupart des adultes diabétiques.",
        },
        "gate_token_run": {"question": "What is the dose?", "answer": "the the the the the the dose is low"},
        "gate_repetition": {
            "question": "What does metformin do in the liver of patients?",
            "answer": "It lowers glucose in the liver. It lowers glucose in the liver. It lowers glucose in the liver.",
        },
        "gate_duplicate_lines": {"question": "Why is metformin used?", "answer": "Why is metformin used?"},
        "gate_control_chars": {"question": "What is metformin used for?", "answer": "Diabetes\x00\x07 treatment."},
        "gate_too_few_words": {"question": "Dose?", "answer": "Low."},
        "gate_json_residue": {
            "question": "How do community health workers help?",
            "answer": 'They improve blood pressure control when trained and supervised.},{"',
        },
        "gate_non_alpha": {"question": "What is the HbA1c target?", "answer": "7.0 % (53 mmol/mol) => 6.5-7.0 [1,2]"},
        "gate_symbols": {"question": "What comes next in the list?", "answer": "# item ... # item ... # more ..."},
    }
    got = {want: gate(fields) for want, fields in bad.items()}
    assert {want: v and v[0] for want, v in got.items()} == {want: want for want in bad}, got
    copied = {"question": "What is low-dose aspirin used to prevent?", "answer": "It prevents a second heart attack."}
    verdict = run_text_checks(
        GateInput(copied, example=builtin_task("grounded_qa", cfg()).example_text()), cfg().grounded_qa.gate
    )
    assert verdict[0] == "gate_copies_example", verdict


def test_one_copied_dialogue_turn_is_a_copy_even_when_the_rest_is_new():
    """Seen in the demo: SmolLM2 opened dialogues about other sources with the example's first patient turn."""
    turns = {
        "turns[0]": "I had a heart attack last year. Why do I have to take aspirin every day?",
        "turns[1]": "Chest pain sends many people to the emergency department, but few have a myocardial infarction.",
        "turns[2]": "How do you find out which patients really had one?",
        "turns[3]": "A high-sensitivity troponin test at arrival and one hour later rules most of them in or out.",
    }
    example = builtin_task("dialogue", cfg()).example_text()
    verdict = run_text_checks(GateInput(turns, example=example), cfg().dialogue.gate)
    assert verdict is not None and verdict[0] == "gate_copies_example" and "turns[0]" in verdict[1], verdict
    fresh = {**turns, "turns[0]": "My father was told his troponin was raised. What does that mean for him?"}
    assert run_text_checks(GateInput(fresh, example=example), cfg().dialogue.gate) is None


def test_cot_reasoning_must_name_the_chosen_option_in_its_conclusion():
    assert named_options("Therefore the answer is C, the right coronary artery.", OPTIONS) == {"C"}
    assert named_options("So (B) is correct.", OPTIONS) == {"B"}
    assert named_options("It is a common condition.", OPTIONS) == set()
    body = "Inferior ST elevation in II, III and aVF points to the inferior wall."
    assert (
        conclusion(f"{body} One. Two. The right coronary artery is occluded.")
        == "Two. The right coronary artery is occluded."
    )
    ok = {"reasoning": f"{body} The inferior wall is supplied by the right coronary artery, so the answer is C."}
    assert gate(ok, OPTIONS, "C") is None
    contradicts = {"reasoning": f"{body} The left circumflex artery supplies it, so the answer is B."}
    assert gate(contradicts, OPTIONS, "C")[0] == "gate_cot_contradicts"
    unsupported = {"reasoning": f"{body} Chest pain is a serious symptom that needs urgent care."}
    assert gate(unsupported, OPTIONS, "C")[0] == "gate_cot_unsupported"
    assert gate(unsupported, OPTIONS, "C", cot_supports_answer=False) is None


def replay(path: Path, c: SynthConfig) -> tuple[Counter, dict[str, list[dict]], Counter]:
    """Recorded raw outputs through the runner's post-generation path (shared checks, row checks, gate)."""
    reasons: Counter = Counter()
    accepted: dict[str, list[dict]] = {}
    parsed_and_checked: Counter = Counter()
    ctx = Context(model="m", sampling={"seed": 0}, run_id="r", fingerprint="sha256:0")
    tasks = {name: builtin_task(name, c) for name in ("grounded_qa", "mcq_cot", "dialogue")}
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        task = tasks[rec["task"]]
        res = GenResult(rec["text"], rec["finish"], parsed=parse_json(rec["text"]))
        rows, rejects = check_outputs(task, None, [rec["input"]], [res], ctx)
        accepted.setdefault(rec["task"], []).extend(rows)
        reasons.update(r.reason for r in rejects)
        parsed_and_checked.update(r.reason for r in rejects if r.reason.startswith("gate_"))
    return reasons, accepted, parsed_and_checked


def test_every_output_of_the_tiny_random_model_is_rejected():
    reasons, accepted, gated = replay(FIXTURES / "tiny_random.jsonl", cfg())
    assert sum(reasons.values()) >= 20
    assert all(not rows for rows in accepted.values()), accepted
    assert gated, "the gate itself must reject the outputs that parse and pass the row checks"
    # and the gate alone, without the task's row checks, rejects the text of every output that parses
    parsed = [
        parse_json(json.loads(line)["text"]) for line in (FIXTURES / "tiny_random.jsonl").read_text().splitlines()
    ]
    texts = [generated_strings(p) for p in parsed if isinstance(p, dict)]
    verdicts = [run_text_checks(GateInput({str(i): s for i, s in enumerate(t)}), cfg().dialogue.gate) for t in texts]
    assert len(verdicts) >= 8 and all(verdicts), [v for v, t in zip(verdicts, texts, strict=True) if not v]


def test_recorded_smollm2_outputs_are_partly_accepted_with_distinct_reject_reasons():
    reasons, accepted, _ = replay(FIXTURES / "smollm2.jsonl", cfg())
    assert all(r["gate_passed"] and r["gate"]["lang"] == "en" for rows in accepted.values() for r in rows)
    assert sum(len(rows) for rows in accepted.values()) >= 2, (reasons, {k: len(v) for k, v in accepted.items()})
    assert len([r for r in reasons if r.startswith("gate_")]) >= 4, reasons


def test_whitespace_output_is_its_own_reason():
    task = builtin_task("mcq_cot", cfg())
    item = {"item_id": "i", "input_id": "i", "benchmark": "medqa", "question": "Q?", "options": OPTIONS, "answer": "C"}
    ctx = Context(model="m", sampling={"seed": 0}, run_id="r")
    _, rejects = check_outputs(task, None, [item], [GenResult(" \n\t ", "stop")], ctx)
    assert [r.reason for r in rejects] == ["empty_output"]
    empty = GenResult(
        '{"reasoning": "  ", "final_answer": "C"}', "stop", parsed={"reasoning": "  ", "final_answer": "C"}
    )
    _, rejects = check_outputs(task, None, [item], [empty], ctx)
    assert [r.reason for r in rejects] == ["gate_empty_field"]


@pytest.mark.parametrize("task", ["grounded_qa", "mcq_cot", "dialogue"])
def test_gate_is_configured_per_task(task):
    c = SynthConfig(model="x", **{task: {"gate": {"language": "de", "max_token_run": 9}}})
    assert getattr(c, task).gate.language == "de"
    others = {"grounded_qa", "mcq_cot", "dialogue"} - {task}
    assert all(getattr(c, o).gate.language == "en" for o in others)


pytest_plugins = ["tests.release_support"]  # the release_env fixture


def test_release_never_selects_a_synthetic_row_that_did_not_pass_the_gate(release_env):
    """The built-in rule: a row marked gate_passed false (or without the column, e.g. written before the gate)
    is not selected, whatever the manifest's rules say."""
    from curation.manifest import load_manifest
    from curation.release.builder import ReleaseRequest, build_release
    from curation.warehouse import ShardWriter, start_run
    from tests import release_support as rs

    wh, tmp = release_env
    with ShardWriter(wh, "synthetic_rtest_qa", "u1") as w:
        for rid, passed in (("ungated1", False), ("ungated2", None)):
            w.write(
                {
                    "record_id": rid,
                    "doc_id": "pubmed:1",
                    "question": "Q?",
                    "answer": "A",
                    "model": "m",
                    "prompt_id": "grounded_qa",
                    "prompt_version": "v1",
                    "contaminated": False,
                    "gate_passed": passed,
                    "run_id": "20260101T000000000000Z-synth-000000",
                }
            )
    m = load_manifest(rs.manifest_yaml(tmp / "m.yaml"))
    with start_run(wh, "release") as run:
        out = Path(build_release(wh, m, ReleaseRequest(version="1.0.0", out=m.resolve(m.release.out)), run)["path"])
    import duckdb

    released = {
        r[0] for r in duckdb.sql(f"select record_id from read_parquet('{out}/data/grounded_qa/*/*.parquet')").fetchall()
    }
    assert released == rs.RELEASED_QA
    rules = json.loads((out / "manifest.json").read_text())["configs"]["grounded_qa"]["rules"]
    assert {r["name"]: r["removed"] for r in rules if r["name"] == "gate_passed"} == {"gate_passed": 2}


def test_perplexity_is_batch_independent_and_gates_rows(tiny_model):
    """Padding never changes a text's perplexity (padded positions may be NaN in attention); a row above max_ppl
    is quarantined as gate_perplexity with the measured value, one below it records its ppl."""
    from curation.synth.gate import Candidate, apply_gate, reference_lm

    lm = reference_lm(str(tiny_model), 64)
    texts = ["Metformin lowers hepatic glucose production.", "Fever.", "The doctor asks about chest pain and fever."]
    batched = lm.perplexity(texts)
    single = [lm.perplexity([t])[0] for t in texts]
    assert all(math.isfinite(p) for p in batched)
    assert batched == pytest.approx(single, rel=1e-4)
    from curation.synth.config import GateConfig

    base = cfg().grounded_qa.gate.model_dump()
    gate_cfg = GateConfig.model_validate({**base, "perplexity": {"model": str(tiny_model), "max_ppl": 1e9}})
    rows, rejects = apply_gate(gate_cfg, None, [Candidate({"record_id": "r"}, "raw", "ref", GateInput(GOOD_QA))])
    assert rejects == [] and rows[0]["gate"]["ppl"] > 1 and rows[0]["gate_passed"]
    strict = GateConfig.model_validate({**base, "perplexity": {"model": str(tiny_model), "max_ppl": 1.5}})
    rows, rejects = apply_gate(strict, None, [Candidate({"record_id": "r"}, "raw", "ref", GateInput(GOOD_QA))])
    assert rows == [] and [(r.reason, r.payload) for r in rejects] == [("gate_perplexity", "raw")]
