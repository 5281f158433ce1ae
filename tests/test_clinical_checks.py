"""The checks of the clinical recipes (issue 14) without a model: SynLLM's record_row, SimSUM's
concepts_mentioned, HILGEN's iob_entity, BiMed's chrf and language; the columns they add reach the declared table's
schema, and a declared task can read a records_<name> table at manifest check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from curation.ner.export import conll_lines
from curation.ner.iob import check_tags, tags_to_spans
from curation.synth.recipe.checks import make_check

RECIPES = Path(__file__).resolve().parents[1] / "manifests" / "recipes"
SCHEMA = {
    "name": "pat",
    "columns": [
        {"name": "age", "type": "int", "min": 18, "max": 90},
        {"name": "sex", "type": "category", "values": ["F", "M"]},
        {"name": "pregnant", "type": "bool"},
        {"name": "visit", "type": "date", "nullable": True},
    ],
    "rules": [{"name": "pregnant_is_female", "where": "NOT pregnant OR sex = 'F'"}],
}
GOOD = {"age": 31, "sex": "F", "pregnant": True, "visit": "2024-03-02"}


def _check(spec: dict, base: Path = RECIPES):
    return make_check(spec, base)


@pytest.mark.parametrize(
    ("row", "reason", "named"),
    [
        ({**GOOD, "age": "thirty"}, "wrong_type", "age"),
        ({**GOOD, "age": 31.5}, "wrong_type", "age"),
        ({**GOOD, "age": 140}, "out_of_range", "age"),
        ({**GOOD, "sex": "X"}, "unknown_category", "sex"),
        ({**GOOD, "smoker": True}, "extra_column", "smoker"),
        ({k: v for k, v in GOOD.items() if k != "sex"}, "missing_column", "sex"),
        ({**GOOD, "sex": "M"}, "rule_violation", "pregnant_is_female"),
        ({**GOOD, "visit": "March 2"}, "wrong_type", "visit"),
    ],
)
def test_record_row_quarantines_with_the_column_or_rule(row, reason, named):
    c = _check({"check": "record_row", "schema": SCHEMA, "field": "row"})
    verdict = c.row({"row": row}, {})
    assert verdict is not None and verdict[0] == reason and named in verdict[1]


def test_record_row_adds_the_typed_columns():
    c = _check({"check": "record_row", "schema": SCHEMA})
    assert c.row({"row": GOOD}, {}) is None
    assert c.columns() == {"age": "int64", "sex": "string", "pregnant": "bool", "visit": "date"}
    assert c.measure({"row": GOOD}, {}) == {**GOOD, "visit": dt.date(2024, 3, 2)}
    assert c.row({"row": [1, 2]}, {})[0] == "wrong_type"  # not an object of columns


def test_record_row_reads_a_schema_file(tmp_path):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(SCHEMA))
    assert _check({"check": "record_row", "schema": "s.yaml"}, tmp_path).schema.name == "pat"


CONCEPTS = {
    "check": "concepts_mentioned",
    "field": "note",
    "concepts": {
        "fever": {"terms": ["fever", "febrile"]},
        "dyspnea": {"terms": ["shortness of breath", "dyspnea"], "positive": ["mild", "severe"]},
        "pneumonia": {"terms": ["pneumonia"], "positive": []},
    },
}


def test_concepts_mentioned_requires_every_positive_concept():
    c = _check(CONCEPTS)
    record = {"fever": True, "dyspnea": "mild", "pneumonia": True}
    assert c.row({"note": "Febrile, with pneumonia."}, record) == ("concept_missing", "not mentioned: dyspnea=mild")
    assert c.row({"note": "No complaints."}, {"fever": False, "dyspnea": "none", "pneumonia": True}) is None
    note = "She is febrile with Shortness of Breath; pneumonia on X-ray, no fever at night."
    assert c.row({"note": note}, record) is None
    spans = c.measure({"note": note}, record)["spans"]
    assert [(s["concept"], s["text"], s["value"]) for s in spans] == [
        ("fever", "febrile", "true"),
        ("dyspnea", "Shortness of Breath", "mild"),
        ("pneumonia", "pneumonia", "true"),
        ("fever", "fever", "true"),
    ]
    assert all(note[s["start"] : s["end"]] == s["text"] for s in spans)
    assert c.row({"note": "feverish"}, {"fever": True, "dyspnea": "none"})[0] == "concept_missing"  # whole words


def test_iob_entity_keeps_exact_entities_as_iob():
    c = _check({"check": "iob_entity", "field": "sentence", "entity": "entity", "label": "label"})
    inp = {"entity": "chest pain", "label": "SYMPTOM"}
    out = {"sentence": "She reports chest pain, worse on breathing."}
    assert c.row(out, inp) is None
    got = c.measure(out, inp)
    assert got["tokens"][:4] == ["She", "reports", "chest", "pain"]
    assert got["tags"][:5] == ["O", "O", "B-SYMPTOM", "I-SYMPTOM", "O"] and check_tags(got["tags"], "iob2") == []
    assert [s.row() for s in tags_to_spans(got["tokens"], got["tags"], "iob2")] == got["spans"]
    lines = list(conll_lines([{**got, "scheme": "iob2"}]))
    assert lines[2:4] == ["chest\tB-SYMPTOM", "pain\tI-SYMPTOM"]
    twice = c.measure({"sentence": "chest pain , then more chest pain"}, inp)
    assert twice["tags"] == ["B-SYMPTOM", "I-SYMPTOM", "O", "O", "O", "B-SYMPTOM", "I-SYMPTOM"]
    for sentence in ("She has chest-pain.", "Chest pains since noon.", "She has pain in the chest."):
        assert c.row({"sentence": sentence}, inp)[0] == "entity_not_exact"
    swap = _check({"check": "iob_entity", "replaces": "replaced"})
    inp = {"entity": "pleuritic chest pain", "label": "SYMPTOM", "replaced": "chest pain"}
    assert swap.row({"sentence": "She has pleuritic chest pain today."}, inp) is None
    verdict = swap.row({"sentence": "Not chest pain but pleuritic chest pain."}, inp)
    assert verdict is not None and verdict[0] == "entity_not_replaced"


def test_chrf_scores_and_optionally_rejects():
    c = _check({"check": "chrf", "field": "back", "source": "en"})
    same = c.measure({"back": "Which organ makes insulin?"}, {"en": "Which organ makes insulin?"})
    assert same == {"chrf": 100.0} and c.row({"back": "zzz"}, {"en": "Which organ makes insulin?"}) is None
    low = c.measure({"back": "The liver is big."}, {"en": "Which organ makes insulin?"})["chrf"]
    assert 0 <= low < 40
    strict = _check({"check": "chrf", "field": "back", "source": "en", "min": 50})
    assert strict.row({"back": "The liver is big."}, {"en": "Which organ makes insulin?"})[0] == "low_chrf"


def test_a_translation_in_the_wrong_language_is_rejected():
    c = _check({"check": "language", "field": "ar", "language": "ar"})
    assert c.row({"ar": "ما هو العضو الذي ينتج الإنسولين في جسم الإنسان؟"}, {}) is None
    verdict = c.row({"ar": "Which organ produces insulin in the human body?"}, {})
    assert verdict is not None and verdict[0] == "wrong_language" and "detected en" in verdict[1]


def test_added_columns_reach_the_declared_tables_schema():
    from curation.manifest import load_manifest
    from curation.synth.recipe.plan import plan
    from curation.warehouse.schemas import load_schema

    for recipe, table, added in (
        ("simsum", "synthetic_note", {"spans": "list<struct<start: int64, end: int64, concept: string, value: "}),
        ("synllm", "synthetic_rows", {"age": "int64", "bmi": "float64", "pregnant": "bool"}),
        ("hilgen", "synthetic_sentences", {"tokens": "list<string>", "tags": "list<string>"}),
        ("bimed", "synthetic_back_translate", {"chrf": "float64"}),
    ):
        m = load_manifest(RECIPES / f"{recipe}.yaml")  # records_<name> is known before synth's input SQL is planned
        assert table in {t.table for t in plan(m.section("synth"), m.base_dir)}
        types = {c.name: c.type for c in load_schema(table).columns}
        assert all(types[k].startswith(v) for k, v in added.items()), (recipe, types)


def test_a_derived_column_may_not_clash_with_an_output_or_carried_column(tmp_path):
    from curation.synth.config import SynthConfig
    from curation.synth.recipe.plan import RecipeError, plan

    (tmp_path / "p.txt").write_text("=== user\nWrite a note for {{ fever }}.")
    task = {
        "input": {"sql": "SELECT 1 AS id, true AS fever, 'x' AS spans", "id": "id"},
        "prompt": "p.txt",
        "output": {"extractor": {"kind": "text", "field": "note"}, "carry": ["spans"]},
        "checks": [{"check": "concepts_mentioned", "concepts": {"fever": {"terms": ["fever"]}}}],
    }
    with pytest.raises(RecipeError, match=r"synth.define.notes.checks: \['spans'\] are derived by a check"):
        plan(SynthConfig.model_validate({"define": {"notes": task}}), tmp_path)
