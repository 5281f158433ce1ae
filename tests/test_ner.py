"""NER data (HILGEN): CoNLL ingest into ner_sentences / ner_spans, quarantine of invalid tag sequences with their
line, export back to CoNLL, and the checks a generated sentence must pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.ner.export import export_table
from curation.ner.iob import (
    Span,
    check_tags,
    entity_problems,
    locate,
    spans_to_iob,
    tags_to_spans,
    token_offsets,
    tokenize,
)
from curation.warehouse import Warehouse
from tests.cli_helpers import invoke_cli
from tests.ingest_helpers import ingest, rows

FIXTURES = Path(__file__).parent / "fixtures" / "ner"
CLINICAL = FIXTURES / "clinical.iob2.tsv"
INVALID = FIXTURES / "invalid.iob2.tsv"


def test_clinical_fixture_lands_sentences_and_spans(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "wh").ensure()
    r = ingest(wh, CLINICAL, "conll")
    assert (r.rows, r.quarantined) == (5, 0)
    spans = rows(wh, 'SELECT label, text, start, "end" FROM ner_spans ORDER BY sentence_id, start')
    assert ("DISEASE", "type 2 diabetes", 13, 28) in spans
    assert ("DOSE", "10 mg", 11, 16) in spans
    assert len(spans) == 12
    # every span's text is the sentence text at its offsets
    bad = rows(
        wh,
        "SELECT count(*) FROM ner_spans p JOIN ner_sentences s USING (sentence_id) "
        'WHERE substr(s.text, p.start + 1, p."end" - p.start) <> p.text',
    )
    assert bad == [(0,)]
    docs = rows(wh, "SELECT line_start, doc_index, docstart FROM ner_sentences ORDER BY line_start")
    assert docs[0] == (3, 1, "-DOCSTART-\tO") and docs[2] == (24, 2, "-DOCSTART-\tO") and docs[1][2] is None


@pytest.mark.parametrize(
    ("text", "options", "args"),
    [
        (CLINICAL.read_text(), {}, []),
        (
            "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nPeter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n",
            {},
            ["--separator", "space"],
        ),
        # iob1: I- starts an entity; B- only between two adjacent entities of the same label
        ("a\tI-DRUG\nb\tB-DRUG\nc\tO\nd\tI-DISEASE\ne\tI-DISEASE\n", {"scheme": "iob1"}, []),
    ],
)
def test_round_trip_ingest_export_equals_input(tmp_path: Path, text: str, options: dict, args: list[str]) -> None:
    src = tmp_path / "in.conll"
    src.write_text(text)
    wh = Warehouse(tmp_path / "wh").ensure()
    assert ingest(wh, src, "conll", **options).quarantined == 0
    out = tmp_path / "out.conll"
    res = invoke_cli("--warehouse", str(wh.root), "ner", "export", "--out", str(out), *args)
    assert res.exit_code == 0, res.output
    assert out.read_text() == text


def test_invalid_sequences_are_quarantined_with_their_line(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "wh").ensure()
    r = ingest(wh, INVALID, "conll")
    assert (r.rows, r.reasons) == (3, {"invalid_tag_sequence": 2, "unknown_tag": 1})
    q = rows(wh, "SELECT reason, source_ref, detail, payload FROM quarantine ORDER BY detail")
    found = {(reason, ref.rsplit(":", 1)[1], detail) for reason, ref, detail, _ in q}
    assert found == {
        ("invalid_tag_sequence", "6", "line 6: I-DRUG after O (scheme iob2)"),
        ("unknown_tag", "12", "line 12: unknown tag 'X-DRUG' (expected O, B-X or I-X)"),
        ("invalid_tag_sequence", "21", "line 21: I-DISEASE after B-DRUG (scheme iob2)"),
    }
    payloads = {p for *_, p in q}
    assert any("heparin\tNN\tI-DRUG" in (p or "") for p in payloads)  # the raw lines of the sentence
    kept = rows(wh, "SELECT line_start FROM ner_sentences ORDER BY line_start")
    assert kept == [(1,), (9,), (15,)]  # the rest of the file is kept


def test_repair_turns_a_starting_i_into_b_but_never_an_unknown_tag(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "wh").ensure()
    r = ingest(wh, INVALID, "conll", repair=True)
    assert (r.rows, r.reasons) == (5, {"unknown_tag": 1})
    got = rows(
        wh,
        "SELECT s.repaired, p.label, p.text FROM ner_spans p JOIN ner_sentences s USING (sentence_id) "
        "WHERE s.repaired > 0 ORDER BY s.line_start, p.start",
    )
    assert got == [(1, "DRUG", "heparin"), (1, "DRUG", "Insulin"), (1, "DISEASE", "glargine")]


def test_iob1_accepts_what_iob2_rejects() -> None:
    tags = ["O", "I-DRUG", "I-DRUG", "B-DRUG"]
    assert [e.index for e in check_tags(tags, "iob2")] == [1]
    assert check_tags(tags, "iob1") == []
    spans = tags_to_spans(["x", "a", "b", "c"], tags, "iob1")
    assert [(s.token_start, s.token_end) for s in spans] == [(1, 3), (3, 4)]
    assert spans_to_iob(["x", "a", "b", "c"], spans, "iob1") == tags
    assert spans_to_iob(["x", "a", "b", "c"], spans, "iob2") == ["O", "B-DRUG", "I-DRUG", "B-DRUG"]


def test_spans_to_iob_refuses_overlaps() -> None:
    spans = [Span(0, 3, 0, 2, "A", ""), Span(2, 3, 1, 2, "B", "")]
    with pytest.raises(ValueError, match="overlaps"):
        spans_to_iob(["a", "b"], spans)


def test_generated_sentence_checks() -> None:
    tokens = tokenize("Started on low-dose aspirin for type 2 diabetes.")
    assert tokens == ["Started", "on", "low-dose", "aspirin", "for", "type", "2", "diabetes", "."]
    span = locate(tokens, "type 2 diabetes", "DISEASE")
    assert span is not None and span.text == "type 2 diabetes" and (span.token_start, span.token_end) == (5, 8)
    assert token_offsets(tokens)[5][0] == span.start
    assert entity_problems(tokens, [span], "type 2 diabetes", "DISEASE") == []
    assert entity_problems(tokens, [span], "type 2 diabetes", "DRUG") == ["no DRUG span with exactly 'type 2 diabetes'"]
    partial = locate(tokens, "diabetes", "DISEASE")
    assert partial is not None
    assert entity_problems(tokens, [partial], "type 2 diabetes", "DISEASE")  # a part of the entity is not enough
    shifted = Span(span.start + 1, span.end, 5, 8, "DISEASE", span.text)
    assert "offsets" in entity_problems(tokens, [shifted], "type 2 diabetes", "DISEASE")[0]
    wrong_text = Span(span.start, span.end, 5, 8, "DISEASE", "type 2 diabetic")
    assert "is not" in entity_problems(tokens, [wrong_text], "type 2 diabetic", "DISEASE")[0]
    assert locate(tokens, "insulin", "DRUG") is None


def test_export_refuses_unknown_table(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "wh").ensure()
    from curation.errors import UserError

    with pytest.raises(UserError, match="no table"):
        export_table(wh, "nope", tmp_path / "x.conll")
