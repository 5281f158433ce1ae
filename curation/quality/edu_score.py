"""Batch inference of the educational classifier over the corpus → edu_score, edu_int, doc_type, domain.

CPU throughput: texts are tokenized once without padding, grouped into length buckets (so a batch pads to
nearly its own length), and the encoder's linear layers are quantized to dynamic int8 (VNNI/AVX-512 kernels).
On a GPU the same code runs in fp32 without quantization (int8 dynamic quantization is a CPU backend).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from curation.quality.config import EduConfig
from curation.quality.corpus import Doc
from curation.quality.edu_model import DOC_TYPES, DOMAINS, EduClassifier, load_classifier
from curation.quality.runtime import device, length_buckets
from curation.quality.scoring import Rejected


def quantize_encoder(model: EduClassifier) -> EduClassifier:
    """Dynamic int8 for the encoder's Linear layers; the heads stay fp32 (tiny, and they set the output scale)."""
    model.encoder = torch.ao.quantization.quantize_dynamic(model.encoder, {nn.Linear}, dtype=torch.qint8)
    return model


def edu_int(score: float) -> int:
    return int(min(5, max(1, round(score))))


class EduPredictor:
    """Scores texts with a loaded classifier; `predict` is what the benchmark compares with the baseline."""

    def __init__(self, model: EduClassifier, tok, max_length: int, batch_size: int, quantize: bool):
        self.dev = device()
        self.quantized = quantize and self.dev.type == "cpu"
        self.model = (quantize_encoder(model) if self.quantized else model).eval().to(self.dev)
        self.tok = tok
        self.max_length = max_length
        self.batch_size = batch_size

    @torch.inference_mode()
    def predict(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(scores [n], doc-type probabilities [n, 4], domain probabilities [n, 3])."""
        ids = self.tok(list(texts), truncation=True, max_length=self.max_length)["input_ids"]
        scores = np.zeros(len(texts), dtype=np.float64)
        types = np.zeros((len(texts), len(DOC_TYPES)), dtype=np.float64)
        domains = np.zeros((len(texts), len(DOMAINS)), dtype=np.float64)
        pad = self.tok.pad_token_id or 0
        for batch in length_buckets(ids, len, self.batch_size):
            width = len(ids[batch[0]])
            inp = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for r, j in enumerate(batch):
                inp[r, : len(ids[j])] = torch.tensor(ids[j])
                mask[r, : len(ids[j])] = 1
            s, t, d = self.model(inp.to(self.dev), mask.to(self.dev))
            scores[batch] = s.float().cpu().numpy()
            types[batch] = t.float().softmax(-1).cpu().numpy()
            domains[batch] = d.float().softmax(-1).cpu().numpy()
        return scores, types, domains


class EduScorer:
    name = "edu"
    table = "annotations_edu"
    version_column = "edu_model"

    def __init__(self, model_path: str, cfg: EduConfig):
        model, tok, info = load_classifier(model_path)
        self.info = info
        self.version = f"{info.get('name', 'edu-classifier')}@{info.get('version', 'unversioned')}"
        self.predictor = EduPredictor(model, tok, int(info.get("max_length", 256)), cfg.batch_size, cfg.quantize)

    def score(self, docs: Sequence[Doc]) -> list[dict[str, Any] | Rejected]:
        keep = [i for i, d in enumerate(docs) if d.text.strip()]
        out: list[dict[str, Any] | Rejected] = [Rejected("empty_text", "nothing to score")] * len(docs)
        if not keep:
            return out
        scores, types, domains = self.predictor.predict([docs[i].text for i in keep])
        for k, i in enumerate(keep):
            t, d = int(types[k].argmax()), int(domains[k].argmax())
            score = float(scores[k])
            out[i] = {
                "edu_score": score,
                "edu_int": edu_int(score) if np.isfinite(score) else 0,
                "doc_type": DOC_TYPES[t],
                "doc_type_prob": float(types[k, t]),
                "domain": DOMAINS[d],
                "domain_prob": float(domains[k, d]),
            }
        return out
