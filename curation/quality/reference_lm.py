"""Train the small GPT-2-style reference LM on a trusted subset of the warehouse (the CCNet / DCLM idea: text
that looks like trusted text gets low perplexity), so that perplexity scoring works offline without downloads.

The subset is a SQL WHERE clause over documents_current (default: reviews, trials and structured abstracts). A
byte-level BPE tokenizer is trained on the same texts with `tokenizers`. The result is a versioned directory
<output_dir>/<version>/ (Hugging Face format plus MODEL_CARD.md and card.json); <output_dir>/LATEST names the
newest version, which is what scoring loads when given <output_dir>.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
import time
from pathlib import Path
from typing import Any

import torch

from curation.progress import track
from curation.quality.config import ReferenceLMConfig
from curation.quality.corpus import stream_docs
from curation.warehouse import Warehouse
from curation.warehouse.store import atomic_write_text

EOS = "<|endoftext|>"
HOLDOUT_EVERY = 20  # every 20th document is held out to measure the trained model's perplexity


class NoTrustedDocuments(ValueError):
    """The trusted-subset filter matches no document with text."""


def train_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    # its progress bar writes blank lines to a non-terminal stderr; the stage reports its own progress
    bpe.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=2, special_tokens=[EOS], show_progress=False)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token=EOS, eos_token=EOS, pad_token=EOS)


def _blocks(tok, texts: list[str], context: int) -> torch.Tensor:
    """Documents joined with EOS and cut into context-length blocks (the usual LM packing)."""
    ids: list[int] = []
    for enc in tok(texts, add_special_tokens=False)["input_ids"]:
        ids.extend([tok.eos_token_id, *enc])
    n = max(1, len(ids) // context)
    ids = (ids + [tok.eos_token_id] * context)[: n * context]
    return torch.tensor(ids, dtype=torch.long).view(n, context)


@torch.inference_mode()
def _eval_ppl(model, blocks: torch.Tensor, batch_size: int) -> float:
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(blocks), batch_size):
        b = blocks[i : i + batch_size]
        loss = model(input_ids=b, labels=b).loss
        total += float(loss) * b.numel()
        count += b.numel()
    return math.exp(total / count) if count else float("nan")


def trusted_texts(wh: Warehouse, cfg: ReferenceLMConfig) -> tuple[list[str], list[str]]:
    """(doc_ids, texts) of the trusted subset, at most max_docs, in doc_id order (deterministic)."""
    ids, texts = [], []
    for docs in stream_docs(wh, where=cfg.trusted_sql, limit=cfg.max_docs, batch_rows=1000):
        for d in docs:
            if d.text.strip():
                ids.append(d.doc_id)
                texts.append(d.text)
    if not texts:
        raise NoTrustedDocuments(
            f"reference LM: no current document matches quality.perplexity.reference.trusted_sql "
            f"({cfg.trusted_sql!r}); ingest documents first or widen the filter"
        )
    return ids, texts


def train_reference_lm(texts: list[str], cfg: ReferenceLMConfig, out_dir: Path, data_info: dict[str, Any]) -> Path:
    """Train, evaluate on held-out documents, save as a new version under out_dir; return the version dir."""
    from transformers import GPT2Config, GPT2LMHeadModel

    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    held = texts[::HOLDOUT_EVERY] if len(texts) >= 2 * HOLDOUT_EVERY else []
    train = [t for i, t in enumerate(texts) if not held or i % HOLDOUT_EVERY] or texts
    tok = train_tokenizer(train, cfg.vocab_size)
    blocks = _blocks(tok, train, cfg.context)
    config = GPT2Config(
        vocab_size=len(tok),
        n_positions=cfg.context,
        n_embd=cfg.n_embd,
        n_layer=cfg.n_layer,
        n_head=cfg.n_head,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    model = GPT2LMHeadModel(config)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=0.01)
    warmup = max(1, cfg.steps // 10)

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, cfg.steps - warmup)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    model.train()
    losses = []
    for _ in track(range(cfg.steps), cfg.steps, "reference LM training steps"):
        idx = [rng.randrange(len(blocks)) for _ in range(cfg.batch_size)]
        b = blocks[idx]
        loss = model(input_ids=b, labels=b).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
    metrics = {
        "train_loss_last50": sum(losses[-50:]) / len(losses[-50:]),
        "train_block_ppl": _eval_ppl(model, blocks[:256], cfg.batch_size),
        "heldout_ppl": _eval_ppl(model, _blocks(tok, held, cfg.context), cfg.batch_size) if held else None,
        "train_seconds": round(time.perf_counter() - t0, 2),
    }
    return save_version(
        model,
        tok,
        out_dir,
        cfg,
        metrics,
        {**data_info, "train_docs": len(train), "heldout_docs": len(held), "train_tokens": blocks.numel()},
    )


def save_version(model, tok, out_dir: Path, cfg: ReferenceLMConfig, metrics: dict, data: dict) -> Path:
    now = dt.datetime.now(dt.UTC)
    version = f"v{now:%Y%m%dT%H%M%S}-{hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:8]}"
    dest = out_dir / version
    dest.mkdir(parents=True, exist_ok=False)
    model.save_pretrained(dest)
    tok.save_pretrained(dest)
    card = {
        "name": "medcurate-reference-lm",
        "version": version,
        "created_at": now.isoformat(),
        "architecture": "GPT-2 (transformers GPT2LMHeadModel), byte-level BPE tokenizer trained with `tokenizers`",
        "params": sum(p.numel() for p in model.parameters()),
        "config": cfg.model_dump(),
        "data": data,
        "metrics": metrics,
        "intended_use": "perplexity as a quality signal: low = resembles the trusted subset. Not for generation.",
    }
    atomic_write_text(dest / "card.json", json.dumps(card, indent=2, default=str))
    atomic_write_text(dest / "MODEL_CARD.md", _card_markdown(card))
    atomic_write_text(out_dir / "LATEST", version + "\n")
    return dest


def _card_markdown(card: dict) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in card["metrics"].items())
    data = "\n".join(f"- {k}: `{v}`" for k, v in card["data"].items())
    return (
        f"# {card['name']} {card['version']}\n\n{card['architecture']}; {card['params']:,} parameters.\n\n"
        f"Intended use: {card['intended_use']}\n\n## Training data\n\n{data}\n\n## Metrics\n\n| metric | value |\n"
        f"|---|---|\n{rows}\n\n## Config\n\n```json\n{json.dumps(card['config'], indent=2)}\n```\n"
    )


def train_from_warehouse(wh: Warehouse, cfg: ReferenceLMConfig, out_dir: Path) -> Path:
    ids, texts = trusted_texts(wh, cfg)
    info = {
        "trusted_sql": cfg.trusted_sql,
        "docs": len(ids),
        "doc_ids_sha256": hashlib.sha256("\n".join(ids).encode()).hexdigest(),
        "warehouse": str(wh.root),
    }
    return train_reference_lm(texts, cfg, out_dir, info)
