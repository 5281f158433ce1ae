"""Small real models and corpora for the quality tests: built locally, no downloads."""

from __future__ import annotations

import random
from pathlib import Path

SENTENCES = [
    "Patients with type 2 diabetes were randomized to metformin or placebo for twelve weeks.",
    "The primary outcome was the change in glycated haemoglobin from baseline.",
    "We conducted a systematic review of randomized controlled trials of statin therapy.",
    "Hypertension was associated with an increased risk of stroke and myocardial infarction.",
    "Serum creatinine and estimated glomerular filtration rate were measured at each visit.",
    "A 54-year-old woman presented with fever, cough and progressive shortness of breath.",
    "Chest radiography showed bilateral infiltrates consistent with pneumonia.",
    "Adverse events were mild and resolved without discontinuation of treatment.",
    "The expression of the tumour suppressor gene was reduced in cancer cell lines.",
    "Mice deficient in the receptor developed insulin resistance and hepatic steatosis.",
    "Conclusions: early treatment improved survival in patients with sepsis.",
    "These findings support screening of high-risk adults in primary care.",
]


def medical_text(rng: random.Random, n: int = 8) -> str:
    return " ".join(rng.choice(SENTENCES) for _ in range(n))


def corpus(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [medical_text(rng, rng.randint(5, 10)) for _ in range(n)]


def tiny_encoder(dest: Path, texts: list[str], hidden: int = 32) -> Path:
    """A 1-layer BERT with a WordPiece vocabulary trained on `texts`, saved in Hugging Face format."""
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    dest.mkdir(parents=True, exist_ok=True)
    wp = BertWordPieceTokenizer(lowercase=True)
    wp.train_from_iterator(texts, vocab_size=400, min_frequency=1)
    wp.save_model(str(dest))
    tok = BertTokenizerFast(vocab_file=str(dest / "vocab.txt"), do_lower_case=True)
    cfg = BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=hidden,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        max_position_embeddings=256,
    )
    BertModel(cfg).save_pretrained(dest)
    tok.save_pretrained(dest)
    return dest


def teacher_answer(text: str) -> dict:
    """A deterministic stand-in teacher rubric: trials/reviews score high, case reports are clinical cases."""
    edu = 4 if "randomized" in text else 3 if "Conclusions" in text else 2
    doc_type = "clinical_case" if "year-old" in text else "review" if "review" in text else "study"
    domain = "biomedical" if ("Mice" in text or "cell lines" in text) else "clinical"
    return {"educational_value": edu, "doc_type": doc_type, "domain": domain, "rationale": "rule"}
