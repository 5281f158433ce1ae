"""Quality scoring: clean signals, language id, perplexity (windowed, batched), reference LM training, teacher
annotation, classifier training / saving / reloading / scoring, bad input, and the score flow."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from curation.clean.annotate import clean_row
from curation.clean.config import CleanConfig
from curation.clean.normalize import normalize_text
from curation.clean.signals import compute_signals
from curation.quality.config import (
    EduConfig,
    EduTrainConfig,
    PerplexityConfig,
    ReferenceLMConfig,
    ScoreConfig,
    TeacherConfig,
)
from curation.quality.corpus import Doc
from curation.quality.perplexity import PerplexityScorer, segments, windows
from curation.quality.runtime import ModelLoadError
from curation.quality.scorers.clean import CleanScorer
from curation.quality.scoring import run_scorer
from curation.synth.engine import GenResult
from curation.warehouse import connect, start_run
from tests.factories import doc_row, write_documents
from tests.quality_helpers import SENTENCES, corpus, teacher_answer, tiny_encoder

GERMAN = (
    "Die Patienten wurden nach dem Zufallsprinzip einer Behandlung mit Metformin oder Placebo zugeteilt. "
    "Der primäre Endpunkt war die Veränderung des HbA1c-Wertes gegenüber dem Ausgangswert nach zwölf Wochen."
)
TINY_LM = ReferenceLMConfig(
    vocab_size=400, n_layer=1, n_head=2, n_embd=32, context=64, steps=30, batch_size=8, output_dir="models/ref"
)


def _docs(wh, n: int = 30, extra: list[tuple[str, str]] = ()) -> list[str]:
    rows = [doc_row(f"pubmed:{i}", t, pub_types=["Review"]) for i, t in enumerate(corpus(n))]
    rows += [doc_row(doc_id, text, title=None) for doc_id, text in extra]
    write_documents(wh, rows)
    return [r["doc_id"] for r in rows]


@pytest.fixture(scope="module")
def reference_lm(tmp_path_factory):
    from curation.quality.reference_lm import train_reference_lm

    out = tmp_path_factory.mktemp("lm")
    return train_reference_lm(corpus(60, seed=1), TINY_LM, out, {"source": "test corpus"})


# --- clean ---------------------------------------------------------------------------------------------------


def test_normalize_repairs_mojibake_and_folds_compatibility_forms():
    assert normalize_text("The â€œquoteâ€\x9d ﬁne ＡＢＣ") == 'The "quote" fine ABC'


def test_signals_measure_what_they_name():
    text = "Copyright 2020 all rights reserved\nSame line here.\nSame line here.\n\nA # b c...\nno punct"
    s = compute_signals(text)
    assert s.boilerplate_lines == 1
    assert s.duplicate_line_fraction == pytest.approx(len("Same line here.") / sum(map(len, text.split("\n"))))
    assert s.line_punct_fraction == pytest.approx(3 / 5)
    assert s.symbol_word_ratio == pytest.approx(2 / s.word_count)
    assert s.word_count == len(text.split())


def test_clean_row_flags_language_empty_and_rejects_oversized():
    cfg = CleanConfig()
    en = clean_row(corpus(1)[0], cfg)
    assert en["lang_detected"] == "en" and en["lang_score"] > 0.9 and en["heuristic_pass"], en["failed_rules"]
    de = clean_row(GERMAN, cfg)
    assert de["lang_detected"] == "de" and not de["heuristic_pass"] and "language" in de["failed_rules"]
    empty = clean_row("", cfg)
    assert empty["failed_rules"][0] == "empty_text" and not empty["heuristic_pass"] and empty["lang_detected"] == "und"
    big = clean_row("word " * 500_000, cfg.model_copy(update={"max_chars": 1_000_000}))
    assert big.reason == "oversized_text"


def test_clean_scorer_writes_annotations_and_quarantines(wh):
    cfg = CleanConfig(max_chars=100_000)
    ids = _docs(wh, 5, [("x:de", GERMAN), ("x:empty", ""), ("x:huge", "a b " * 60_000)])
    with start_run(wh, "score") as run:
        totals = run_scorer(wh, CleanScorer(cfg), run, batch_rows=3)
    assert totals == {"scored": len(ids) - 1, "quarantined": 1}
    con = connect(wh)
    rows = dict(con.execute("select doc_id, heuristic_pass from documents_enriched").fetchall())
    assert rows["x:huge"] is None and rows["x:de"] is False and rows["x:empty"] is False and rows["pubmed:0"] is True
    assert con.execute("select reason, source_ref from quarantine").fetchall() == [("oversized_text", "x:huge")]
    with start_run(wh, "score") as run:  # rerun: everything already scored with this version is skipped
        assert run_scorer(wh, CleanScorer(cfg), run)["scored"] == 0


# --- perplexity ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 5, 64, 65, 100, 300])
def test_windows_score_every_token_once_with_context(n):
    covered = []
    for b, e, first in windows(n, 64, 32):
        assert e - b <= 64 and first >= 1
        covered.extend(range(b + first, e))
        if b > 0:
            assert first >= 32  # every later token has at least window - stride tokens of context
    assert covered == list(range(1, n))


def test_reference_lm_is_versioned_with_card_and_reloads(reference_lm):
    assert (reference_lm.parent / "LATEST").read_text().strip() == reference_lm.name
    card = json.loads((reference_lm / "card.json").read_text())
    assert card["data"]["source"] == "test corpus" and card["metrics"]["heldout_ppl"] > 1
    assert "Training data" in (reference_lm / "MODEL_CARD.md").read_text()
    scorer = PerplexityScorer(str(reference_lm.parent), PerplexityConfig())
    assert scorer.path == str(reference_lm) and scorer.version.startswith(reference_lm.name)


def test_batched_windowed_perplexity_equals_plain_forward(reference_lm):
    """Batching, padding and windowing must not change a document's NLL, nor its worst line's mean NLL."""
    cfg = PerplexityConfig(window=64, stride=32, batch_size=4, precision="fp32")
    scorer = PerplexityScorer(str(reference_lm), cfg)
    multiline = "Title of the study\n\n" + "\n".join(corpus(5, seed=5)) + "\nA 3 word line.\n"
    texts = [*corpus(6, seed=3), "Short text.", " ".join(corpus(4, seed=4)), multiline]
    batched = scorer.nll_with_segments(texts)
    assert [r[:3] for r in batched] == scorer.nll(texts)
    for text, (total, n, _, worst) in zip(texts, batched, strict=True):
        enc = scorer.tok([text], add_special_tokens=False, return_offsets_mapping=True)
        ids = [scorer.bos, *enc["input_ids"][0]]
        token_nll = {}
        for b, e, first in windows(len(ids), 64, 32):  # one window at a time, unpadded
            inp = torch.tensor([ids[b:e]])
            with torch.inference_mode():
                logp = scorer.model(input_ids=inp).logits[0].log_softmax(-1)
            for t in range(first, e - b):
                token_nll[b + t] = -float(logp[t - 1, ids[b + t]])
        assert n == len(token_nll) == len(ids) - 1
        assert total == pytest.approx(sum(token_nll.values()), rel=1e-4)
        # reference for the worst segment: lines (or sentences of a one-line text) found by plain string search,
        # each token in the segment that holds its last character
        lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
        pieces = lines if len(lines) > 1 else lines[0].replace(". ", ".\0").split("\0")
        spans, at = [], 0
        for piece in pieces:
            at = text.index(piece, at)
            spans.append((at, at + len(piece)))
            at += len(piece)
        per_segment: dict[int, list[float]] = {}
        for pos, (a, z) in enumerate(enc["offset_mapping"][0], start=1):
            k = [k for k, (sa, sz) in enumerate(spans) if a < z and sa <= z - 1 < sz]
            if k:
                per_segment.setdefault(k[0], []).append(token_nll[pos])
        means = [sum(v) / len(v) for v in per_segment.values() if len(v) >= 5]
        assert (worst is None) == (not means)
        if means:
            assert worst == pytest.approx(max(means), rel=1e-4)


def test_bf16_perplexity_is_close_to_fp32_and_versioned_apart(reference_lm):
    texts = [Doc(str(i), t) for i, t in enumerate([*corpus(8, seed=7), "Title line\n" + " ".join(SENTENCES[:4])])]
    fp32 = PerplexityScorer(str(reference_lm), PerplexityConfig(precision="fp32"))
    bf16 = PerplexityScorer(str(reference_lm), PerplexityConfig(precision="bf16"))
    assert next(bf16.model.parameters()).dtype == torch.bfloat16 and bf16.version != fp32.version
    for a, b in zip(fp32.score(texts), bf16.score(texts), strict=True):
        for col in ("ppl", "ppl_max_line"):
            assert a[col] != b[col] and b[col] == pytest.approx(a[col], rel=0.02)
        assert a["n_tokens"] == b["n_tokens"]


def test_segments_are_lines_or_the_sentences_of_one_line():
    text = "  Title.\n\nFirst line. Still first!\r\n\tSecond line?  \n"
    assert [text[a:b] for a, b in segments(text)] == ["Title.", "First line. Still first!", "Second line?"]
    one = "  One. Two!  Three? e.g. four.five\tx  "
    assert [one[a:b] for a, b in segments(one)] == ["One.", "Two!", "Three?", "e.g.", "four.five\tx"]
    assert segments(" \n  ") == []


def test_max_line_perplexity_flags_one_garbage_line(reference_lm):
    """In-distribution sentences with one garbage sentence: the worst line's perplexity jumps, the document's
    barely moves. With every token inside a segment (sentences of one line), ppl is a token-weighted mean of the
    segment means, so ppl_max_line >= ppl by construction; the margins below are what the trained LM adds."""
    scorer = PerplexityScorer(str(reference_lm), PerplexityConfig())
    base = SENTENCES[:6] * 2
    garbage = "Zqx vkj wpl oofm rgtx qqzv vbk jhw."
    rows = {
        name: scorer.score([Doc(name, sep.join(base[:6] + extra + base[6:]))])[0]
        for name, sep, extra in [
            ("clean", " ", []),
            ("garbage", " ", [garbage]),
            ("clean_lines", "\n", []),
            ("garbage_lines", "\n", [garbage]),
        ]
    }
    for clean, bad in [("clean", "garbage"), ("clean_lines", "garbage_lines")]:
        c, g = rows[clean], rows[bad]
        assert g["ppl_max_line"] > 1.5 * g["ppl"]
        assert g["ppl_max_line"] > 1.5 * c["ppl_max_line"]
        assert g["ppl"] < 1.2 * c["ppl"]
        assert g["ppl_max_line_nll"] == pytest.approx(math.log(g["ppl_max_line"]))
    assert rows["clean"]["ppl_max_line"] >= rows["clean"]["ppl"]


def test_max_line_perplexity_of_a_one_segment_document_is_its_perplexity(reference_lm):
    scorer = PerplexityScorer(str(reference_lm), PerplexityConfig())
    one, short, tiny = scorer.score([Doc("one", SENTENCES[0]), Doc("short", "A b.\nC d.\nE."), Doc("tiny", "Fever")])
    assert one["n_tokens"] >= 5 and one["ppl_max_line"] == pytest.approx(one["ppl"], rel=1e-9)
    # no line of >= line_min_tokens scored tokens: the document's perplexity
    assert short["ppl_max_line"] == short["ppl"] and tiny["ppl_max_line"] == tiny["ppl"]
    strict = PerplexityScorer(str(reference_lm), PerplexityConfig(line_min_tokens=10_000))
    assert strict.version != scorer.version  # the setting is part of the version: changing it rescores
    (r,) = strict.score([Doc("g", "\n".join(SENTENCES))])
    assert r["ppl_max_line"] == r["ppl"]


def test_max_line_perplexity_is_written(wh, reference_lm):
    _docs(wh, 6, [("x:lines", "\n".join(SENTENCES))])
    with start_run(wh, "score") as run:
        totals = run_scorer(wh, PerplexityScorer(str(reference_lm), PerplexityConfig()), run)
    assert totals == {"scored": 7, "quarantined": 0}
    rows = (
        connect(wh)
        .execute("select doc_id, ppl, ppl_max_line, ppl_max_line_nll from documents_enriched order by doc_id")
        .fetchall()
    )
    assert len(rows) == 7
    for doc_id, ppl, line, line_nll in rows:
        assert math.isfinite(line) and line >= 1 and line_nll == pytest.approx(math.log(line))
        if doc_id == "x:lines":  # twelve different lines: the worst is worse than their average
            assert line > ppl


def test_perplexity_separates_text_from_shuffled_words(reference_lm):
    import random

    scorer = PerplexityScorer(str(reference_lm), PerplexityConfig())
    texts = corpus(20, seed=9)
    shuffled = []
    for t in texts:
        w = t.split()
        random.Random(0).shuffle(w)
        shuffled.append(" ".join(w))
    good = [r["ppl"] for r in scorer.score([Doc("g", t) for t in texts])]
    bad = [r["ppl"] for r in scorer.score([Doc("b", t) for t in shuffled])]
    assert sum(g < b for g, b in zip(good, bad, strict=True)) >= 18


def test_perplexity_bad_input(reference_lm):
    scorer = PerplexityScorer(str(reference_lm), PerplexityConfig(max_tokens=100))
    huge = " ".join(corpus(200))
    empty, german, big = scorer.score([Doc("e", "  "), Doc("de", GERMAN), Doc("h", huge)])
    assert empty.reason == "empty_text"
    assert german["ppl"] > 1 and math.isfinite(german["ppl"])
    assert big["n_tokens"] == 99 and big["ppl_truncated"] is True


def test_nan_weights_never_reach_the_table(wh, reference_lm, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    broken = tmp_path / "nan-lm"
    model = AutoModelForCausalLM.from_pretrained(reference_lm)
    with torch.no_grad():
        model.lm_head.weight.fill_(float("nan"))
    model.save_pretrained(broken)
    AutoTokenizer.from_pretrained(reference_lm).save_pretrained(broken)
    _docs(wh, 3)
    with start_run(wh, "score") as run:
        totals = run_scorer(wh, PerplexityScorer(str(broken), PerplexityConfig()), run)
    assert totals == {"scored": 0, "quarantined": 3}
    con = connect(wh)
    assert con.execute("select distinct reason from quarantine").fetchall() == [("nonfinite_score",)]
    assert con.execute("select count(*) from annotations_perplexity").fetchone()[0] == 0


def test_missing_or_incompatible_model_path_is_a_clear_error(tmp_path, reference_lm):
    from curation.quality.edu_model import load_classifier

    with pytest.raises(ModelLoadError, match=r"/no/such/model does not exist; expected a directory with config.json"):
        PerplexityScorer("/no/such/model", PerplexityConfig())
    enc = tiny_encoder(tmp_path / "enc", corpus(10))
    with pytest.raises(ModelLoadError, match=rf"cannot load '{enc}' as a causal LM"):
        PerplexityScorer(str(enc), PerplexityConfig())
    with pytest.raises(ModelLoadError, match=r"classifier.json is missing.*expected a directory written by"):
        load_classifier(str(reference_lm))
    with pytest.raises(ModelLoadError, match=r"edu classifier: /nope does not exist"):
        load_classifier("/nope")


# --- teacher, classifier ---------------------------------------------------------------------------------------


class RuleTeacherEngine:
    """A rule-based teacher with the synthesis engine's interface (no LLM needed for the classifier tests; the
    real vLLM engine is exercised below): answers the rubric from rules and misbehaves on cue (invalid JSON, a
    schema violation, a truncated answer, an engine error), so that every parse and quarantine path runs."""

    model_id = "rule-teacher"

    def __init__(self):
        self.calls = []

    def fingerprint(self) -> str:
        return "rules-v1"

    def render(self, prompt) -> str:
        return prompt

    def close(self) -> None:
        pass

    def generate(self, prompts, sampling, json_schema=None):
        self.calls.append((len(prompts), sampling, json_schema))
        out = []
        for p in prompts:
            text = p.split('"""')[1]
            ans = teacher_answer(text)
            if "MALFORMED" in text:
                out.append(GenResult("{not json", "stop", len(p), 3))
            elif "OUTOFRANGE" in text:
                out.append(GenResult(json.dumps({**ans, "educational_value": 9}), "stop", len(p), 20))
            elif "TRUNCATED" in text:
                out.append(GenResult('{"educational_value": 3, "doc', "length", len(p), 256))
            elif "TOOLONG" in text:
                out.append(GenResult("", "error", len(p), 0, error="prompt_too_long", detail="over the context"))
            else:
                out.append(GenResult(json.dumps(ans), "stop", len(p), 20, parsed=ans))
        return out


@pytest.fixture
def labelled_wh(wh):
    kinds = ["MALFORMED", "OUTOFRANGE", "TRUNCATED", "TOOLONG"]
    bad = [(f"x:{k}", f"{k} " + corpus(1, seed=i)[0]) for i, k in enumerate(kinds)]
    _docs(wh, 60, bad)
    return wh


def test_teacher_annotation_labels_a_stratified_sample_and_quarantines_failures(labelled_wh):
    from curation.quality.teacher import JSON_SCHEMA, annotate

    wh, engine = labelled_wh, RuleTeacherEngine()
    cfg = TeacherConfig(model="rule-teacher", sample_size=64, strata="source")
    with start_run(wh, "score-annotate") as run:
        s = annotate(wh, engine, cfg, run)
    assert s == {"sampled": 64, "labelled": 60, "quarantined": 4}
    assert engine.calls[0][2] == JSON_SCHEMA and engine.calls[0][1].temperature == 0.0
    con = connect(wh)
    reasons = con.execute("select source_ref, reason, payload, detail from quarantine order by 1").fetchall()
    assert [(r[0], r[1]) for r in reasons] == [
        ("x:MALFORMED", "teacher_parse_error"),
        ("x:OUTOFRANGE", "teacher_parse_error"),
        ("x:TOOLONG", "teacher_engine_error"),
        ("x:TRUNCATED", "teacher_parse_error"),
    ]
    assert reasons[0][2] == "{not json" and reasons[2][3].startswith("prompt_too_long")
    assert con.execute("select count(*), count(distinct label_edu) from quality_teacher_labels").fetchone() == (60, 3)


@pytest.mark.slow
def test_teacher_annotation_through_the_vllm_engine(labelled_wh, vllm_engine):
    """The real in-process vLLM engine (tiny random-weight model) with JSON-schema decoding, behind the response
    cache: random weights give many unusable answers, so what is checked is the accounting and the validity of
    whatever is labelled; a rerun is answered from the cache."""
    from curation.quality.edu_model import DOC_TYPES, DOMAINS
    from curation.quality.teacher import annotate
    from curation.synth.cache import CachedEngine, ResponseCache, cache_path

    wh = labelled_wh
    engine = CachedEngine(vllm_engine, ResponseCache(cache_path(wh)))
    cfg = TeacherConfig(model=str(vllm_engine.model_dir), sample_size=12, max_chars=200, max_tokens=64)
    summaries = []
    for _ in range(2):
        with start_run(wh, "score-annotate") as run:
            summaries.append((run.run_id, annotate(wh, engine, cfg, run)))
    (first_run, s), (_, again) = summaries
    assert s["sampled"] == 12 and s["labelled"] + s["quarantined"] == 12
    assert again == s and engine.stats.hits >= s["labelled"]  # successful answers come back from the cache
    con = connect(wh)
    labels = con.execute(
        "select label_edu, label_doc_type, label_domain, teacher_model, n_output_tokens from quality_teacher_labels "
        "where run_id = ?",
        [first_run],
    ).fetchall()
    assert len(labels) == s["labelled"]
    for edu, doc_type, domain, model, n_out in labels:
        assert 1 <= edu <= 5 and doc_type in DOC_TYPES and domain in DOMAINS
        assert model == str(vllm_engine.model_dir) and n_out > 0
    quarantined = con.execute("select reason, detail, payload from quarantine where run_id = ?", [first_run]).fetchall()
    assert len(quarantined) == s["quarantined"]
    for reason, detail, _ in quarantined:
        assert reason in ("teacher_parse_error", "teacher_engine_error") and detail


def test_stratified_sample_is_proportional(wh):
    from curation.quality.teacher import stratified_sample

    rows = [doc_row(f"a:{i}", t) for i, t in enumerate(corpus(30))] + [
        doc_row(f"b:{i}", t) for i, t in enumerate(corpus(10, seed=2))
    ]
    write_documents(wh, rows)
    sample = stratified_sample(wh, TeacherConfig(sample_size=8, strata="source"))
    assert sorted(d.stratum for d in sample) == ["a"] * 6 + ["b"] * 2


def _train(wh, tmp_path, **kw):
    from curation.quality.edu_train import load_examples, train_classifier
    from curation.quality.teacher import annotate

    with start_run(wh, "score-annotate") as run:
        annotate(wh, RuleTeacherEngine(), TeacherConfig(model="rule-teacher", sample_size=1000), run)
    cfg = EduTrainConfig(encoder=str(tiny_encoder(tmp_path / "enc", corpus(50))), **kw)
    return train_classifier(load_examples(wh), cfg, tmp_path / "clf", {"teacher_model": "rule-teacher"})


@pytest.mark.parametrize("finetune", [False, True])
def test_classifier_trains_saves_reloads_and_scores(labelled_wh, tmp_path, finetune):
    from curation.quality.edu_model import load_classifier
    from curation.quality.edu_score import EduPredictor, EduScorer

    wh = labelled_wh
    dest = _train(wh, tmp_path, finetune=finetune, epochs=10 if finetune else 100)
    info = json.loads((dest / "classifier.json").read_text())
    held = info["metrics"]["heldout"]
    assert held["n"] > 0 and held["mae"] < 1.0, held
    assert (dest / "encoder").is_dir() == finetune
    assert "Held-out metrics vs the teacher" in (dest / "MODEL_CARD.md").read_text()
    model, tok, _ = load_classifier(str(dest.parent))
    exact = EduPredictor(model, tok, 256, 8).predict(corpus(5))
    model2, tok2, _ = load_classifier(str(dest))
    again = EduPredictor(model2, tok2, 256, 8, backend="onnx").predict(corpus(5))
    assert all(abs(a - b).max() < 1e-4 for a, b in zip(exact, again, strict=True))
    with start_run(wh, "score") as run:
        scorer = EduScorer(str(dest.parent), EduConfig())
        totals = run_scorer(wh, scorer, run)
    assert totals["scored"] == 64 and totals["quarantined"] == 0
    row = (
        connect(wh)
        .execute(
            "select edu_score, edu_int, doc_type, domain, edu_model from documents_enriched where doc_id = 'pubmed:0'"
        )
        .fetchone()
    )
    assert 1 <= row[1] <= 5 and row[2] in ("clinical_case", "study", "review", "other")
    precision = "" if scorer.predictor.precision == "fp32" else f"/{scorer.predictor.precision}"
    assert (
        row[3] in ("clinical", "biomedical", "other") and row[4] == f"medcurate-edu-classifier@{dest.name}{precision}"
    )


def test_classifier_with_other_encoder_is_incompatible(labelled_wh, tmp_path):
    from curation.quality.edu_model import load_classifier

    dest = _train(labelled_wh, tmp_path)
    info = json.loads((dest / "classifier.json").read_text())
    info["encoder"] = str(tiny_encoder(tmp_path / "wide", corpus(10), hidden=48))
    (dest / "classifier.json").write_text(json.dumps(info))
    with pytest.raises(ModelLoadError, match=r"heads expect hidden size 32, but encoder .* has 48"):
        load_classifier(str(dest))
    (dest / "classifier.json").write_text(json.dumps({**info, "format": "something-else"}))
    with pytest.raises(ModelLoadError, match=r"expected 'medcurate-edu-classifier' v1"):
        load_classifier(str(dest))


def test_minilm_classifier_backends_agree():
    """The shipped all-MiniLM-L6-v2 weights, offline: ONNX Runtime equals torch; int8 stays within 0.1."""
    from curation.quality.edu_model import EduClassifier, hidden_size, load_encoder
    from curation.quality.edu_score import EduPredictor

    enc, tok = load_encoder("all-MiniLM-L6-v2")
    assert hidden_size(enc) == 384
    torch.manual_seed(0)
    model = EduClassifier(enc, 384).eval()
    texts = corpus(12)
    fp32 = EduPredictor(model, tok, 256, 4).predict(texts)
    onnx = EduPredictor(model, tok, 256, 4, backend="onnx")
    assert onnx.session is not None
    for a, b in zip(onnx.predict(texts), fp32, strict=True):
        assert abs(a - b).max() < 1e-4
    int8 = EduPredictor(model, tok, 256, 4, quantize=True)
    assert int8.quantized and int8.session is not None
    drift = abs(int8.predict(texts)[0] - fp32[0]).max()
    assert 0 < drift < 0.1  # quantized for real, and close
    bf16 = EduPredictor(model, tok, 256, 4, precision="bf16")
    assert bf16.model.encoder.dtype == torch.bfloat16 and model.encoder.dtype == torch.float32  # caller's model kept
    got = bf16.predict(texts)
    assert got[0].dtype == np.float64 and 0 < abs(got[0] - fp32[0]).max() < 0.05  # bf16 for real, and close
    assert (got[1].argmax(1) == fp32[1].argmax(1)).mean() >= 0.9


def test_precision_auto_follows_the_hardware(monkeypatch):
    from curation.quality import runtime

    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    if not torch.cuda.is_available() and flags:
        assert runtime.native_bf16() == any(f in flags.split() for f in ("amx_bf16", "avx512_bf16"))
    monkeypatch.setattr(runtime, "native_bf16", lambda: True)
    assert runtime.resolve_precision("auto") == "bf16"
    monkeypatch.setattr(runtime, "native_bf16", lambda: False)
    assert runtime.resolve_precision("auto") == "fp32"
    assert runtime.resolve_precision("bf16") == "bf16" and runtime.resolve_precision("fp32") == "fp32"


def test_edu_scorer_nan_head_is_quarantined(labelled_wh, tmp_path):
    from safetensors.torch import load_file, save_file

    from curation.quality.edu_score import EduScorer

    dest = _train(labelled_wh, tmp_path)
    heads = load_file(dest / "heads.safetensors")
    heads["score_head.bias"] = torch.tensor([float("inf")])
    save_file(heads, dest / "heads.safetensors")
    with start_run(labelled_wh, "score") as run:
        totals = run_scorer(labelled_wh, EduScorer(str(dest), EduConfig()), run)
    assert totals == {"scored": 0, "quarantined": 64}


# --- flow ------------------------------------------------------------------------------------------------------


def test_score_flow_trains_reference_lm_and_annotates(wh, tmp_path, prefect_harness):
    from curation.flows.stages import stage_flow

    _docs(wh, 40, [("x:de", GERMAN), ("x:empty", "")])
    manifest = tmp_path / "m.yaml"
    quality = ScoreConfig(perplexity=PerplexityConfig(reference=TINY_LM), batch_rows=16)
    manifest.write_text(json.dumps({"name": "t", "stages": ["score"], "score": quality.model_dump()}))
    s = stage_flow("score")(manifest_path=str(manifest), warehouse=str(wh.root))
    assert s["clean"]["scored"] == 42 and s["perplexity"]["scored"] == 41 and s["perplexity"]["quarantined"] == 1
    assert "edu" not in s  # no teacher and no trained classifier configured
    con = connect(wh)
    got = con.execute(
        "select count(*) filter (where heuristic_pass), count(ppl), count(*) filter (where lang_detected = 'de') "
        "from documents_enriched"
    ).fetchone()
    assert got == (40, 41, 1)
    run = con.execute("select status, models from runs where stage = 'score'").fetchone()
    assert run[0] == "completed" and "reference_lm_trained" in json.loads(run[1])
    assert (wh.root / "models/ref/LATEST").is_file()
    again = stage_flow("score")(manifest_path=str(manifest), warehouse=str(wh.root))
    assert again["clean"]["scored"] == 0 and again["perplexity"]["scored"] == 0


def test_score_flow_without_trusted_documents_still_cleans(wh, tmp_path, prefect_harness):
    from curation.flows.stages import stage_flow

    _docs(wh, 5)
    ref = TINY_LM.model_copy(update={"trusted_sql": "source = 'nowhere'"})
    manifest = tmp_path / "m.yaml"
    quality = ScoreConfig(perplexity=PerplexityConfig(reference=ref))
    manifest.write_text(json.dumps({"name": "t", "stages": ["score"], "score": quality.model_dump()}))
    s = stage_flow("score")(manifest_path=str(manifest), warehouse=str(wh.root))
    assert s["clean"]["scored"] == 5 and "perplexity" not in s
    errors = connect(wh).execute("select errors from runs where stage = 'score'").fetchone()[0]
    assert "no current document matches" in errors


def test_cli_train_lm_and_clear_model_error(wh, tmp_path, prefect_harness):
    from typer.testing import CliRunner

    from curation.cli import app

    _docs(wh, 30)
    runner = CliRunner()
    res = runner.invoke(
        app, ["-w", str(wh.root), "score", "train-lm", "--steps", "5", "--output", str(tmp_path / "lm")]
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "lm" / "LATEST").is_file() and "medcurate-reference-lm" in res.output
    manifest = tmp_path / "m.yaml"
    manifest.write_text(json.dumps({"name": "t", "stages": ["score"], "score": {"perplexity": {"model": "/no/lm"}}}))
    res = runner.invoke(app, ["-w", str(wh.root), "score", str(manifest), "--only", "perplexity"])
    assert res.exit_code == 2
    assert "/no/lm does not exist; expected a directory with config.json" in " ".join(res.output.split())


def test_pipeline_with_teacher_labels_trains_scores_and_reuses(labelled_wh, tmp_path):
    from curation.quality.pipeline import run_score

    wh = labelled_wh
    train = EduTrainConfig(encoder=str(tiny_encoder(tmp_path / "enc", corpus(50))), epochs=5)
    cfg = ScoreConfig(edu=EduConfig(teacher=TeacherConfig(model="rule-teacher", sample_size=20), train=train))
    made = []

    def factory(teacher_cfg, warehouse):
        assert warehouse is wh
        made.append(teacher_cfg.model)
        return RuleTeacherEngine()

    with start_run(wh, "score") as run:
        s = run_score(wh, cfg, run, only={"edu"}, engine_factory=factory)
    assert made == ["rule-teacher"] and s["edu"]["scored"] == 64
    assert connect(wh).execute("select count(*) from quality_teacher_labels").fetchone()[0] <= 20
    with start_run(wh, "score") as run:
        s = run_score(wh, cfg, run, only={"edu"}, engine_factory=factory)
    assert made == ["rule-teacher"] and s["edu"]["scored"] == 0  # classifier reused, nothing left to score
