"""Train the educational classifier on teacher labels (FineWeb-Edu / Biomed-Enriched recipe).

Units are documents (the score stage) or any other unit a teacher labelled (paragraphs, synthetic rows: the propagate
stage). Held-out split: a stable hash of the unit id puts `holdout_fraction` of the labelled units aside; the metrics
in the model card (MAE and Pearson r of the score, F1 of "educational" = score ≥ 3, macro-F1 of type and domain) are
measured against the teacher on those units only.

Frozen encoder (default): embeddings are computed once and only the heads train, which takes seconds on CPU.
Fine-tuned encoder: the whole model trains (encoder at a 100× lower learning rate than the heads).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import torch
import torch.nn.functional as F

from curation.errors import UserError
from curation.quality.config import EduTrainConfig
from curation.quality.edu_model import (
    DOC_TYPES,
    DOMAINS,
    EduClassifier,
    EncoderHeads,
    hidden_size,
    load_encoder,
    save_classifier,
)
from curation.quality.teacher import RUBRIC_VERSION
from curation.warehouse.store import atomic_write_text


class Unit(Protocol):
    @property
    def unit_id(self) -> str: ...


U = TypeVar("U", bound=Unit)
Loss = Callable[[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]], torch.Tensor]


class TooFewLabels(UserError):
    """The teacher labelled too few documents to train and hold out (a weak or unreachable teacher)."""


@dataclass(frozen=True)
class Example:
    unit_id: str  # a doc_id for documents
    text: str
    edu: int
    doc_type: str
    domain: str


def is_holdout(unit_id: str, fraction: float, seed: int) -> bool:
    h = int.from_bytes(hashlib.sha256(f"{seed}:{unit_id}".encode()).digest()[:8], "big")
    return h / 2**64 < fraction


def _targets(exs: list[Example]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return (
        torch.tensor([float(e.edu) for e in exs]),
        torch.tensor([DOC_TYPES.index(e.doc_type) for e in exs]),
        torch.tensor([DOMAINS.index(e.domain) for e in exs]),
    )


def _loss(out: tuple[torch.Tensor, ...], y: tuple[torch.Tensor, ...]) -> torch.Tensor:
    s, t, d = out
    return F.mse_loss(s, y[0]) + F.cross_entropy(t, y[1]) + F.cross_entropy(d, y[2])


def split(examples: list[U], cfg: EduTrainConfig) -> tuple[list[U], list[U]]:
    """(train, held out): a stable hash of the unit id; tiny label sets fall back to a deterministic 1-in-5 split."""
    held = [e for e in examples if is_holdout(e.unit_id, cfg.holdout_fraction, cfg.seed)]
    train = [e for e in examples if not is_holdout(e.unit_id, cfg.holdout_fraction, cfg.seed)]
    if not held or not train:
        held, train = examples[::5], [e for i, e in enumerate(examples) if i % 5]
    return train, held


def f1_macro(y_true: np.ndarray, y_pred: np.ndarray, labels: range) -> float:
    """Macro F1 over the labels that occur in truth or prediction."""
    f1s = []
    for c in labels:
        tp = int(((y_pred == c) & (y_true == c)).sum())
        fp = int(((y_pred == c) & (y_true != c)).sum())
        fn = int(((y_pred != c) & (y_true == c)).sum())
        if tp + fp + fn:
            f1s.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s)) if f1s else float("nan")


def metrics(scores: np.ndarray, types: np.ndarray, domains: np.ndarray, exs: list[Example]) -> dict[str, Any]:
    y = np.array([e.edu for e in exs], dtype=float)
    pearson = float(np.corrcoef(scores, y)[0, 1]) if len(exs) > 1 and y.std() > 0 and scores.std() > 0 else None
    return {
        "n": len(exs),
        "mae": float(np.abs(scores - y).mean()),
        "pearson_r": pearson,
        "f1_educational": f1_macro((y >= 3).astype(int), (scores >= 3).astype(int), range(1, 2)),
        "f1_doc_type_macro": f1_macro(
            np.array([DOC_TYPES.index(e.doc_type) for e in exs]), types, range(len(DOC_TYPES))
        ),
        "f1_domain_macro": f1_macro(np.array([DOMAINS.index(e.domain) for e in exs]), domains, range(len(DOMAINS))),
    }


def _batches(n: int, size: int, rng: random.Random) -> list[list[int]]:
    order = list(range(n))
    rng.shuffle(order)
    return [order[i : i + size] for i in range(0, n, size)]


def _encode(model: EncoderHeads, tok, texts: list[str], cfg: EduTrainConfig, grad: bool) -> torch.Tensor:
    enc = tok(texts, truncation=True, max_length=cfg.max_length, padding=True, return_tensors="pt")
    with torch.set_grad_enabled(grad):
        return model.embed(enc["input_ids"], enc["attention_mask"])


def fit(
    model: EncoderHeads, tok, texts: list[str], y: tuple[torch.Tensor, ...], cfg: EduTrainConfig, loss_fn: Loss
) -> list[float]:
    """Train the heads (and the encoder when `cfg.finetune`) on targets `y`, one tensor per head; the losses."""
    rng = random.Random(cfg.seed)
    losses = []
    head_params = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    groups: list[dict[str, Any]]
    if cfg.finetune:
        groups = [{"params": head_params}, {"params": model.encoder.parameters(), "lr": cfg.learning_rate / 100}]
        model.train()
    else:
        for p in model.encoder.parameters():
            p.requires_grad_(False)
        model.eval()
        with torch.no_grad():
            emb = torch.cat([_encode(model, tok, texts[i : i + 64], cfg, False) for i in range(0, len(texts), 64)])
        groups = [{"params": head_params}]
    opt = torch.optim.AdamW(groups, lr=cfg.learning_rate, weight_decay=0.01)
    for _ in range(cfg.epochs):
        for idx in _batches(len(texts), cfg.batch_size, rng):
            e = _encode(model, tok, [texts[i] for i in idx], cfg, True) if cfg.finetune else emb[idx]
            loss = loss_fn(model.heads(e), tuple(t[idx] for t in y))
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
    return losses


@torch.inference_mode()
def head_outputs(model: EncoderHeads, tok, texts: list[str], cfg: EduTrainConfig) -> list[np.ndarray]:
    """The heads' raw outputs (scores, logits) for texts, one array per head."""
    model.eval()
    outs = [model.heads(_encode(model, tok, texts[i : i + 64], cfg, False)) for i in range(0, len(texts), 64)]
    return [torch.cat([o[h] for o in outs]).numpy() for h in range(len(outs[0]))]


def predict_examples(
    model: EduClassifier, tok, exs: list[Example], cfg: EduTrainConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s, t, d = head_outputs(model, tok, [e.text for e in exs], cfg)
    return s, t.argmax(-1), d.argmax(-1)


def train_classifier(
    examples: list[Example],
    cfg: EduTrainConfig,
    out_dir: Path,
    data: dict[str, Any],
    rubric_version: str = RUBRIC_VERSION,
) -> Path:
    """Train, evaluate on the held-out split, save a new version under out_dir; return its directory.
    `rubric_version` names what the labels mean (the score stage's rubric, or a propagation job's labels)."""
    if len(examples) < 4:
        raise TooFewLabels(f"edu classifier: {len(examples)} teacher labels; need at least 4 to train and hold out")
    torch.manual_seed(cfg.seed)
    train, held = split(examples, cfg)
    encoder, tok = load_encoder(cfg.encoder)
    model = EduClassifier(encoder, hidden_size(encoder))
    y = _targets(train)
    with torch.no_grad():  # start the regression at the label mean: the head then only learns deviations
        model.score_head.bias.fill_(float(y[0].mean()))
    losses = fit(model, tok, [e.text for e in train], y, cfg, _loss)
    m: dict[str, Any] = {
        "heldout": metrics(*predict_examples(model, tok, held, cfg), held),
        "train_loss_last": float(np.mean(losses[-10:])) if losses else math.nan,
    }
    meta = model_meta("medcurate-edu-classifier", cfg, data, (train, held), m, rubric_version=rubric_version)
    dest = out_dir / meta["version"]
    save_classifier(model, tok, dest, meta, finetuned=cfg.finetune)
    heads = f"regression head (educational value 1–5) + doc-type head {list(DOC_TYPES)} + domain head {list(DOMAINS)}"
    atomic_write_text(dest / "MODEL_CARD.md", model_card(meta, heads, m["heldout"]))
    atomic_write_text(out_dir / "LATEST", meta["version"] + "\n")
    return dest


def model_meta(
    name: str,
    cfg: EduTrainConfig,
    data: dict[str, Any],
    split: tuple[list[U], list[U]],
    metrics: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    """A newly trained model's description: its version (time + hash of the labelled unit ids), data and metrics."""
    train, held = split
    now = dt.datetime.now(dt.UTC)
    ids_sha = hashlib.sha256("\n".join(sorted(e.unit_id for e in train + held)).encode()).hexdigest()
    return {
        "name": name,
        "version": f"v{now:%Y%m%dT%H%M%S}-{ids_sha[:8]}",
        "created_at": now.isoformat(),
        "encoder": cfg.encoder,
        "max_length": cfg.max_length,
        **extra,
        "train_config": cfg.model_dump(),
        "data": {
            **data,
            "labelled": len(train) + len(held),
            "train": len(train),
            "heldout": len(held),
            "unit_ids_sha256": ids_sha,
        },
        "metrics": metrics,
    }


def model_card(meta: dict[str, Any], heads: str, heldout: dict[str, Any]) -> str:
    """MODEL_CARD.md: encoder and heads, teacher, data, held-out agreement with the teacher, training settings."""
    rows = "\n".join(f"| {k} | {v if not isinstance(v, float) else round(v, 4)} |" for k, v in heldout.items())
    return (
        f"# {meta['name']} {meta['version']}\n\nEncoder `{meta['encoder']}` "
        f"({'fine-tuned' if meta['train_config']['finetune'] else 'frozen'}) + {heads}.\n\nTeacher: "
        f"`{meta['data'].get('teacher_model')}`, rubric `{meta['rubric_version']}`.\n\n## Data\n\n"
        + "\n".join(f"- {k}: `{v}`" for k, v in meta["data"].items())
        + f"\n\n## Held-out metrics vs the teacher\n\n| metric | value |\n|---|---|\n{rows}\n\n## Training config\n\n"
        f"```json\n{json.dumps(meta['train_config'], indent=2)}\n```\n"
    )


def load_examples(wh, teacher_model: str | None = None) -> list[Example]:
    """Teacher labels of the current rubric (the latest label per document and teacher)."""
    from curation.warehouse import connect

    con = connect(wh)
    try:
        sql = (
            "SELECT doc_id, text, label_edu, label_doc_type, label_domain FROM quality_teacher_labels "
            "WHERE rubric_version = ?"
            + (" AND teacher_model = ?" if teacher_model else "")
            + " QUALIFY row_number() OVER (PARTITION BY doc_id ORDER BY run_id DESC) = 1 ORDER BY doc_id"
        )
        rows = con.execute(sql, [RUBRIC_VERSION, *([teacher_model] if teacher_model else [])]).fetchall()
    finally:
        con.close()
    return [Example(*r) for r in rows]
