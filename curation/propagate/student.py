"""The propagation student: the score stage's encoder (all-MiniLM-L6-v2 by default, mean pooling) with one linear head
per declared label head, trained with the educational classifier's loop (curation/quality/edu_train.py: frozen
encoder by default, held out by a hash of the unit id) and run with its batched predictor.

A saved student is a directory: `student.json` (format, heads, encoder, metrics), `heads.safetensors`,
`MODEL_CARD.md`, and `encoder/` when the encoder was fine-tuned; versions sit side by side with a LATEST file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from pydantic import TypeAdapter
from torch import nn

from curation.propagate.heads import Head
from curation.propagate.labels import Labelled
from curation.quality.config import EduTrainConfig
from curation.quality.edu_model import EncoderHeads, hidden_size, load_encoder, save_weights
from curation.quality.edu_score import EduPredictor
from curation.quality.edu_train import fit, head_outputs, model_card, model_meta, split
from curation.quality.runtime import ModelLoadError
from curation.warehouse.quarantine import Rejection
from curation.warehouse.store import atomic_write_text

NAME = "medcurate-student"
FORMAT_VERSION = 1
HEADS: TypeAdapter[dict[str, Head]] = TypeAdapter(dict[str, Head])


class Student(EncoderHeads):
    def __init__(self, encoder, hidden: int, heads: dict[str, Head]):
        super().__init__(encoder)
        self.names = list(heads)
        self.out = nn.ModuleDict({n: nn.Linear(hidden, h.width) for n, h in heads.items()})

    def heads(self, emb: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.out[n](emb) for n in self.names)


def train_student(
    examples: list[Labelled],
    heads: dict[str, Head],
    cfg: EduTrainConfig,
    out_dir: Path,
    data: dict[str, Any],
    rubric_version: str,
) -> Path:
    """Train, measure each head against the teacher on the held-out units, save a new version; its directory."""
    torch.manual_seed(cfg.seed)
    train, held = split(examples, cfg)
    encoder, tok = load_encoder(cfg.encoder)
    model = Student(encoder, hidden_size(encoder), heads)
    y = tuple(torch.tensor([e.targets[n] for e in train]) for n in heads)
    with torch.no_grad():
        for (n, h), t in zip(heads.items(), y, strict=True):
            h.init_bias(cast(nn.Linear, model.out[n]).bias, t)

    def loss(out: tuple[torch.Tensor, ...], yy: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return torch.stack([h.loss(o, t) for h, o, t in zip(heads.values(), out, yy, strict=True)]).sum()

    losses = fit(model, tok, [e.text for e in train], y, cfg, loss)
    raw = head_outputs(model, tok, [e.text for e in held], cfg)
    per_head = {
        n: h.metrics(r, np.array([e.targets[n] for e in held])) for (n, h), r in zip(heads.items(), raw, strict=True)
    }
    m = {
        "heldout": {"n": len(held), "heads": per_head},
        "train_loss_last": float(np.mean(losses[-10:])) if losses else math.nan,
    }
    meta = model_meta(NAME, cfg, data, (train, held), m, rubric_version=rubric_version)
    meta["heads"] = HEADS.dump_python(heads, mode="json")
    dest = out_dir / meta["version"]
    _save(model, tok, dest, meta, cfg.finetune)
    described = " + ".join(f"{n} ({h.kind} head)" for n, h in heads.items())
    flat = {"n": len(held), **{f"{n}.{k}": v for n, hm in per_head.items() for k, v in hm.items()}}
    atomic_write_text(dest / "MODEL_CARD.md", model_card(meta, described, flat))
    atomic_write_text(out_dir / "LATEST", meta["version"] + "\n")
    return dest


def _save(model: Student, tok, dest: Path, meta: dict[str, Any], finetuned: bool) -> None:
    save_weights(model, tok, dest, finetuned)
    info = {"format": NAME, "format_version": FORMAT_VERSION, "hidden_size": hidden_size(model.encoder), **meta}
    info["encoder_path"] = "encoder" if finetuned else meta["encoder"]
    atomic_write_text(dest / "student.json", json.dumps(info, indent=2, default=str))


def load_student(root: Path) -> tuple[Student, Any, dict[str, Any]]:
    """(model in eval mode, tokenizer, student.json) of a student directory written by train_student."""
    from safetensors.torch import load_file

    try:
        info = json.loads((root / "student.json").read_text())
        if info.get("format") != NAME or info.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format {info.get('format')!r} v{info.get('format_version')}")
        heads = HEADS.validate_python(info["heads"])
        enc = str(root / info["encoder_path"]) if info["train_config"]["finetune"] else info["encoder_path"]
        encoder, tok = load_encoder(enc)
        model = Student(encoder, info["hidden_size"], heads)
        state = load_file(root / "heads.safetensors")
        if set(state) != set(model.head_state()):
            raise ValueError(f"tensors {sorted(state)}, expected {sorted(model.head_state())}")
        model.load_state_dict(state, strict=False)  # the encoder's weights came from the encoder itself
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise ModelLoadError(
            f"propagation student: {root} is unusable ({e}); expected a train_student directory"
        ) from None
    return model.eval(), tok, info


class StudentScorer:
    """Labels texts with a saved student: one dict of typed columns per text (heads.py), batched by length."""

    def __init__(self, root: Path, batch_size: int, precision: str):
        model, tok, info = load_student(root)
        self.info = info
        self.heads = HEADS.validate_python(info["heads"])
        self.predictor = EduPredictor(model, tok, int(info["max_length"]), batch_size, precision=precision)
        suffix = "" if self.predictor.precision == "fp32" else f"/{self.predictor.precision}"
        self.version = f"{info['name']}@{info['version']}{suffix}"

    def score(self, texts: list[str]) -> list[dict[str, Any] | Rejection]:
        keep = [i for i, t in enumerate(texts) if t.strip()]
        out: list[dict[str, Any] | Rejection] = [Rejection("empty_text", detail="nothing to label")] * len(texts)
        if not keep:
            return out
        raw = self.predictor.outputs([texts[i] for i in keep])
        columns: list[dict[str, Any]] = [{} for _ in keep]
        for (name, head), r in zip(self.heads.items(), raw, strict=True):
            for row, v in zip(columns, head.values(name, r), strict=True):
                row.update(v)
        for i, row in zip(keep, columns, strict=True):
            out[i] = row
        return out
