"""Convert a GGUF checkpoint into a Hugging Face directory (float32 safetensors + tokenizer with its chat template)
that vLLM and transformers load.

transformers dequantizes a GGUF file on load (`gguf_file=`, needs the `gguf` package). `save_pretrained` refuses a
model that still carries the GGUF quantizer, although the loaded weights are plain dequantized tensors; detaching
the quantizer (and the quantization config it left behind) writes them as ordinary float32 safetensors.
"""

from __future__ import annotations

from pathlib import Path


def convert_gguf(gguf: Path, out_dir: Path) -> None:
    """Write the HF directory for `gguf` into `out_dir` (which must not exist yet)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    model.hf_quantizer = None  # type: ignore[assignment]  # detached, or save_pretrained refuses the model
    model.config.quantization_config = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out_dir, safe_serialization=True)
    tok.save_pretrained(out_dir)
