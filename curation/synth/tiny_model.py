"""Build small random-weight causal LMs with a locally trained tokenizer, offline.

Tests, the benchmark and the offline demo need a real model that vLLM and transformers can load, without downloads.
The weights are random (so text is gibberish), but everything around them is real: tokenizer, chat template,
batching, structured (JSON-schema) decoding, token accounting. `medcurate synth make-tiny-model DIR` calls this.
"""

from __future__ import annotations

import json
from pathlib import Path

from curation.errors import UserError

# A ChatML-style template: enough for chat prompts to render the same way in vLLM and in our token counting.
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

_CORPUS = """Patients with type 2 diabetes were treated with metformin and lifestyle changes. Blood pressure,
heart rate and glucose were measured at baseline and after twelve weeks. The question asks which answer is correct:
A, B, C, D or E. Reasoning step by step, the final answer is the option with the strongest evidence. The doctor asks
the patient about symptoms such as fever, cough, chest pain and fatigue; the patient answers and the doctor explains
the diagnosis and treatment. {"question": "What is the first-line therapy?", "answer": "Metformin is first-line."}
Hypertension, myocardial infarction, stroke, sepsis, pneumonia, asthma and chronic kidney disease are common.
"""


def train_tokenizer(vocab_size: int = 1024):
    """A byte-level BPE tokenizer trained on a small built-in text, wrapped as a fast HF tokenizer with a chat
    template. Byte-level means any input text (and any JSON the grammar forces) is encodable."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([_CORPUS] * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def make_tiny_model(
    out_dir: str | Path,
    *,
    arch: str = "llama",
    layers: int = 2,
    hidden: int = 128,
    heads: int = 2,
    kv_heads: int | None = None,
    intermediate: int | None = None,
    vocab_size: int | None = None,
    max_positions: int = 2048,
    seed: int = 0,
) -> Path:
    """Save a random-weight model + tokenizer to `out_dir` (idempotent: an existing complete model is reused).

    head_dim = hidden / heads must be >= 32 for vLLM's CPU attention. `vocab_size` larger than the tokenizer's
    (e.g. 151936 for a Qwen2.5-0.5B-shaped model) makes the LM head realistic; sampled ids beyond the tokenizer
    decode to nothing.
    """
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config

    out = Path(out_dir)
    if (out / "config.json").is_file() and (out / "tokenizer.json").is_file() and (out / "medcurate.json").is_file():
        return out
    if hidden // heads < 32:
        raise UserError(f"head_dim {hidden // heads} < 32 is not supported by vLLM's CPU attention")
    out.mkdir(parents=True, exist_ok=True)
    tok = train_tokenizer()
    cfg_cls = {"llama": LlamaConfig, "qwen2": Qwen2Config}[arch]
    cfg = cfg_cls(
        vocab_size=max(vocab_size or 0, len(tok)),
        hidden_size=hidden,
        intermediate_size=intermediate or hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads or heads,
        max_position_embeddings=max_positions,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        tie_word_embeddings=arch == "qwen2",
        torch_dtype="bfloat16",
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(cfg).to(torch.bfloat16)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    (out / "medcurate.json").write_text(json.dumps({"random_weights": True, "arch": arch, "seed": seed}))
    return out


if __name__ == "__main__":
    import sys

    print(make_tiny_model(sys.argv[1]))
