"""Perplexity under a causal LM (any Hugging Face id or local path), batched across documents.

Long documents are scored in sliding windows: a window holds `window` tokens and advances by `stride`; every
token after the first window is predicted with at least `window - stride` tokens of left context and is scored
exactly once. At most `max_tokens` leading tokens are scored (`ppl_truncated` says so). A BOS token is
prepended when the tokenizer has one, so the first word is scored too.

Speed: the windows of a whole batch of documents are pooled, sorted by length and run in padded batches, so
the model sees few, full batches instead of one call per document; the LM head (a large share of a small LM's
compute) runs only on the positions whose next token is scored, never on a window's context half or on padding.

Worst segment: `ppl_max_line` = exp(the largest mean token NLL of any segment with at least `line_min_tokens`
scored tokens). Segments are the non-blank lines of the text, or the sentences of a one-line text; tokens are
mapped to segments by the tokenizer's character offsets (a token belongs to the segment holding its last
character; whitespace between segments belongs to none), and the per-token NLLs of the same forward pass are
summed per segment. Document perplexity misses a few bad lines in good text (page chrome, cookie banners), which
this catches. A document without such a segment (or a tokenizer without offsets) gets its document `ppl`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch
import torch.nn.functional as F

from curation.quality.config import PerplexityConfig
from curation.quality.corpus import Doc
from curation.quality.runtime import (
    ModelLoadError,
    check_model_dir,
    device,
    fuse_tanh_gelu,
    length_buckets,
    resolve_precision,
)
from curation.warehouse.quarantine import Rejection

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

MODEL_FILES = ("config.json",)
HEAD_CHUNK_ELEMENTS = 1 << 22  # logits computed per chunk of target rows: 16 MiB of fp32 at most
_LINE = re.compile(r"[^\n]+")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")


def windows(n: int, window: int, stride: int) -> list[tuple[int, int, int]]:
    """(begin, end, first scored position within the window) covering tokens 1..n-1 exactly once."""
    out, begin, prev_end = [], 0, 0
    while True:
        end = min(begin + window, n)
        out.append((begin, end, max(prev_end - begin, 1)))
        if end >= n:
            return out
        prev_end = end
        begin += stride


def segments(text: str) -> list[tuple[int, int]]:
    """Character spans (begin, end) of the text's non-blank lines without their surrounding whitespace; a text of
    one line is split into sentences instead (after `.`, `!` or `?` followed by whitespace)."""
    lines = []
    for m in _LINE.finditer(text):
        line = m.group()
        if stripped := line.strip():
            begin = m.start() + len(line) - len(line.lstrip())
            lines.append((begin, begin + len(stripped)))
    if len(lines) != 1:
        return lines
    begin, end = lines[0]
    out = []
    for m in _SENTENCE_BREAK.finditer(text, begin, end):
        out.append((begin, m.start()))
        begin = m.end()
    out.append((begin, end))
    return out


def token_segments(text: str, offsets: Sequence[tuple[int, int]]) -> np.ndarray:
    """Segment index (into `segments(text)`) of each token, by the token's last character; -1 for a token
    outside every segment (whitespace between lines or sentences, special tokens without characters)."""
    spans = np.array(segments(text) or [(0, 0)], dtype=np.int64).reshape(-1, 2)
    off = np.array(offsets, dtype=np.int64).reshape(-1, 2)
    last = off[:, 1] - 1
    k = np.searchsorted(spans[:, 0], last, side="right") - 1
    inside = (off[:, 1] > off[:, 0]) & (k >= 0) & (last < spans[np.maximum(k, 0), 1])
    return np.where(inside, k, -1)


def resolve_model_dir(path: str) -> str:
    """A versioned model directory (with a LATEST file naming the current version) resolves to that version."""
    p = Path(path).expanduser()
    latest = p / "LATEST"
    if latest.is_file():
        return str(p / latest.read_text().strip())
    return path


def load_causal_lm(path: str) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """(model, tokenizer) in eval mode on the scoring device; a clear ModelLoadError when unusable."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model_dir(path)
    what = "perplexity model"
    check_model_dir(path, what, MODEL_FILES)
    try:
        tok = AutoTokenizer.from_pretrained(path)
        # output_loading_info=True returns (model, info); the stubs type only the model
        model, info = cast(
            "tuple[PreTrainedModel, dict[str, list[str]]]",
            AutoModelForCausalLM.from_pretrained(path, output_loading_info=True),
        )
        if info["missing_keys"]:  # e.g. an encoder checkpoint: transformers would invent a random LM head
            raise ValueError(f"weights missing from the checkpoint: {sorted(info['missing_keys'])[:5]}")
    except (OSError, ValueError, KeyError) as e:
        raise ModelLoadError(
            f"{what}: cannot load {path!r} as a causal LM (expected a Hugging Face id or a directory with "
            f"config.json, weights and a tokenizer of a causal language model): {e}"
        ) from None
    fuse_tanh_gelu(model)
    return model.eval().to(device()), tok


class PerplexityScorer:
    name = "perplexity"
    table = "annotations_perplexity"
    version_column = "ppl_model"

    def __init__(self, model_path: str, cfg: PerplexityConfig):
        self.cfg = cfg
        self.path = resolve_model_dir(model_path)
        self.model, self.tok = load_causal_lm(self.path)
        self.precision = resolve_precision(cfg.precision)
        if self.precision == "bf16":  # ppl moves by ~0.1 % (bench/quality.py); the NLL sums stay fp64
            # transformers' stubs type PreTrainedModel.to as a decorator wrapper that takes the model itself
            self.model.to(torch.bfloat16)  # type: ignore[arg-type]
        ctx: Any = getattr(self.model.config, "n_positions", None) or getattr(  # config attributes are dynamic
            self.model.config, "max_position_embeddings", cfg.window
        )
        self.window = min(cfg.window, int(ctx))
        self.stride = min(cfg.stride, max(1, self.window // 2))  # every later token keeps ≥ window/2 context
        head = self.model.get_output_embeddings()
        plain_head = isinstance(head, torch.nn.Linear) and not getattr(
            self.model.config, "final_logit_softcapping", None
        )
        self.head = head if plain_head and self.model.base_model is not self.model else None
        self.bos = self.tok.bos_token_id
        self.pad = self.tok.pad_token_id if self.tok.pad_token_id is not None else (self.tok.eos_token_id or 0)
        settings = {
            "window": self.window,
            "stride": self.stride,
            "max_tokens": cfg.max_tokens,
            "line_min_tokens": cfg.line_min_tokens,
            "precision": self.precision,
        }
        digest = hashlib.sha256(json.dumps([self.path, settings], sort_keys=True).encode()).hexdigest()[:10]
        self.version = f"{Path(self.path).name or self.path}@{digest}"

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        enc = self.tok(list(texts), add_special_tokens=False)["input_ids"]
        return [([self.bos] if self.bos is not None else []) + ids for ids in enc]

    def _encode(self, texts: Sequence[str]) -> tuple[list[list[int]], list[np.ndarray | None]]:
        """Token ids (BOS first when the tokenizer has one) and, per text, the segment index of every position
        (-1: in no segment, e.g. the BOS); None for every text when the tokenizer gives no character offsets."""
        fast = getattr(self.tok, "is_fast", False)
        enc = self.tok(list(texts), add_special_tokens=False, return_offsets_mapping=fast)
        bos = [self.bos] if self.bos is not None else []
        ids = [bos + x for x in enc["input_ids"]]
        if not fast:
            return ids, [None] * len(ids)
        segs = [
            np.concatenate([np.full(len(bos), -1, dtype=np.int64), token_segments(t, off)])
            for t, off in zip(texts, enc["offset_mapping"], strict=True)
        ]
        return ids, segs

    def nll(self, texts: Sequence[str]) -> list[tuple[float, int, bool]]:
        """(summed NLL in nats, tokens scored, truncated) per text."""
        return [r[:3] for r in self.nll_with_segments(texts)]

    @torch.inference_mode()
    def nll_with_segments(self, texts: Sequence[str]) -> list[tuple[float, int, bool, float | None]]:
        """(summed NLL in nats, tokens scored, truncated, largest mean NLL of a segment with at least
        `line_min_tokens` scored tokens or None) per text: one pass, the token NLLs summed per document and per
        segment."""
        ids, segs = self._encode(texts)
        # (text index, first position of the window in the text, window ids, first scored position)
        pieces: list[tuple[int, int, list[int], int]] = []
        truncated = []
        pos_base = np.zeros(len(texts) + 1, dtype=np.int64)  # position p of text i is flat index pos_base[i] + p
        seg_base = np.zeros(len(texts) + 1, dtype=np.int64)  # segment k of text i is flat segment seg_base[i] + k
        flat_seg = []
        for i, seq in enumerate(ids):
            truncated.append(len(seq) > self.cfg.max_tokens)
            seq = seq[: self.cfg.max_tokens]
            if len(seq) >= 2:
                pieces.extend((i, b, seq[b:e], s) for b, e, s in windows(len(seq), self.window, self.stride))
            text_segs = segs[i]
            seg = text_segs[: len(seq)] if text_segs is not None else np.full(len(seq), -1, dtype=np.int64)
            flat_seg.append(np.where(seg >= 0, seg + seg_base[i], -1))
            pos_base[i + 1] = pos_base[i] + len(seq)
            seg_base[i + 1] = seg_base[i] + (int(seg.max()) + 1 if len(seg) else 0)
        seg_of = torch.from_numpy(np.concatenate(flat_seg)) if flat_seg else torch.zeros(0, dtype=torch.long)
        sums = torch.zeros(len(texts), dtype=torch.float64)
        counts = torch.zeros(len(texts), dtype=torch.long)
        seg_sums = torch.zeros(int(seg_base[-1]), dtype=torch.float64)
        seg_counts = torch.zeros(int(seg_base[-1]), dtype=torch.long)
        dev = device()
        for batch in length_buckets(pieces, lambda p: len(p[2]), self.cfg.batch_size):
            width = len(pieces[batch[0]][2])
            inp_np = np.full((len(batch), width), self.pad, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            score_np = np.zeros((len(batch), width), dtype=bool)
            start = np.empty(len(batch), dtype=np.int64)
            for r, j in enumerate(batch):
                i, b, w, first = pieces[j]
                inp_np[r, : len(w)] = w
                mask[r, : len(w)] = 1
                score_np[r, first : len(w)] = True
                start[r] = pos_base[i] + b
            target_pos = torch.from_numpy(start[:, None] + np.arange(1, width))  # flat position of each target
            inp, score = torch.from_numpy(inp_np), torch.from_numpy(score_np)
            # an all-ones mask is left out: attention then takes the causal fast path
            att = None if mask.all() else torch.from_numpy(mask).to(dev)
            sel = score[:, 1:]  # position t predicts token t+1: only scored targets need logits
            owner = torch.tensor([pieces[j][0] for j in batch]).unsqueeze(1).expand_as(sel)[sel]
            tok_nll = self._target_nll(inp.to(dev), att, sel.to(dev), inp[:, 1:][sel].to(dev)).cpu().double()
            sums.index_add_(0, owner, tok_nll)
            counts.index_add_(0, owner, torch.ones_like(owner))
            tok_seg = seg_of[target_pos[sel]]
            in_seg = tok_seg >= 0
            seg_sums.index_add_(0, tok_seg[in_seg], tok_nll[in_seg])
            seg_counts.index_add_(0, tok_seg[in_seg], torch.ones_like(tok_seg[in_seg]))
        long_enough = (seg_counts >= self.cfg.line_min_tokens).numpy()
        seg_means = np.where(long_enough, (seg_sums / seg_counts.clamp(min=1)).numpy(), -math.inf)
        worst: list[float | None] = []
        for i in range(len(texts)):
            top = float(seg_means[seg_base[i] : seg_base[i + 1]].max(initial=-math.inf))
            worst.append(top if top > -math.inf else None)
        return list(zip(sums.tolist(), counts.tolist(), truncated, worst, strict=True))

    def _target_nll(
        self, inp: torch.Tensor, mask: torch.Tensor | None, sel: torch.Tensor, targets: torch.Tensor
    ) -> torch.Tensor:
        """NLL of each selected target token. The LM head runs only on the hidden states of scored positions (not
        on the context half of a window or on padding), in row chunks so the [rows, vocab] logits stay small;
        models whose logits are post-processed after the head (e.g. soft-capping) take the full forward."""
        if self.head is None:
            logits = self.model(input_ids=inp, attention_mask=mask).logits[:, :-1][sel]
            return F.cross_entropy(logits.float(), targets, reduction="none")
        hidden = self.model.base_model(input_ids=inp, attention_mask=mask).last_hidden_state[:, :-1][sel]
        rows = max(1, HEAD_CHUNK_ELEMENTS // self.head.out_features)
        return torch.cat(
            [
                F.cross_entropy(self.head(hidden[k : k + rows]).float(), targets[k : k + rows], reduction="none")
                for k in range(0, len(hidden), rows)
            ]
        )

    def score(self, docs: Sequence[Doc]) -> list[dict[str, Any] | Rejection]:
        results: list[dict[str, Any] | Rejection] = []
        for (total, n, truncated, worst), doc in zip(self.nll_with_segments([d.text for d in docs]), docs, strict=True):
            if not doc.text.strip():
                results.append(Rejection("empty_text", detail="nothing to score"))
            elif n == 0:
                results.append(Rejection("too_short", detail="fewer than two tokens"))
            else:
                mean = total / n
                line = mean if worst is None else worst
                results.append(
                    {
                        "ppl": _exp(mean),
                        "ppl_nll": mean,
                        "ppl_max_line": _exp(line),
                        "ppl_max_line_nll": line,
                        "n_tokens": n,
                        "ppl_truncated": truncated,
                    }
                )
        return results


def _exp(nll: float) -> float:
    return math.exp(nll) if nll < 700 else math.inf
