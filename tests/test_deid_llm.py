"""The LLM recognizer (DeID-GPT style): answers become spans only where the note contains them; through the real
in-process vLLM engine on the tiny random-weight model, the stage runs and counts every call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.deid.config import DeidConfig, DeidLLMConfig
from curation.deid.deidentify import deidentify
from curation.deid.llm import SCHEMA, LLMStats, prompt, spans_from_answer
from curation.deid.stage import run_deid
from curation.deid.surrogates import Surrogates
from curation.synth.engine import schema_errors
from curation.warehouse import connect, start_run
from tests.ingest_helpers import ingest

NOTE = "Seen with Moana at the Riverside shelter; moana agrees. Call back Tuesday."


def test_answers_map_to_whole_word_occurrences_only():
    stats = LLMStats()
    answer = {
        "phi": [
            {"text": "Moana", "class": "NAME"},  # the lower-case "moana" is another string
            {"text": "Riverside", "class": "ORGANIZATION"},
            {"text": "Lagos", "class": "LOCATION"},  # not in the note: dropped
            {"text": "x", "class": "NAME"},  # too short
            {"text": "shelter", "class": "NOT_A_CLASS"},
            "garbage",
        ]
    }
    assert not schema_errors({"phi": answer["phi"][:3]}, SCHEMA)
    spans = spans_from_answer(NOTE, answer, stats)
    assert [(NOTE[s.start : s.end], s.phi_class, s.method) for s in spans] == [
        ("Moana", "NAME", "llm"),
        ("Riverside", "ORGANIZATION", "llm"),
    ]
    assert (stats.found, stats.unmatched, stats.failed) == (2, 1, 0)
    assert spans_from_answer(NOTE, {"nope": 1}, stats) == [] and stats.failed == 1


def test_llm_spans_add_to_the_rules_and_cannot_remove_them():
    spans = spans_from_answer(NOTE, {"phi": [{"text": "Moana", "class": "NAME"}]}, LLMStats())
    sur = Surrogates("k", "p", shift_days=(-40, -10), placeholders=True)
    assert deidentify(NOTE, sur, extra=spans).text.startswith("Seen with [NAME] at")
    text = "Call 617-555-0143."
    wrong = spans_from_answer(text, {"phi": [{"text": "617", "class": "ZIP"}]}, LLMStats())
    assert deidentify(text, sur, extra=wrong).text == "Call [PHONE]."


def test_prompt_names_every_class():
    system = prompt("note")[0]["content"]
    assert all(c in system for c in SCHEMA["properties"]["phi"]["items"]["properties"]["class"]["enum"])


@pytest.mark.slow
def test_stage_with_the_tiny_model(wh, vllm_engine):
    ingest(wh, Path(__file__).parent / "fixtures" / "deid" / "notes.jsonl", "notes")
    cfg = DeidConfig(llm=DeidLLMConfig(model=str(vllm_engine.model_dir), max_tokens=48, batch_size=4))
    with start_run(wh, "deid") as run:
        counts = run_deid(wh, cfg, run, engine=vllm_engine)
    assert counts["notes"] == 10 and counts["llm_calls"] == 10
    assert {"llm_failed", "llm_found", "llm_unmatched"} <= set(counts)  # random weights: whatever it answered
    record = json.loads(run.path.read_text())
    assert record["models"]["deid_llm"]["prompt_version"] == "deid-v1"
    con = connect(wh)
    assert con.execute("SELECT count(*) FROM documents_current WHERE phi_status = 'deidentified'").fetchone()[0] == 10
