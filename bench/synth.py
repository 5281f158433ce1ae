"""Benchmark: output tokens/s of the synth engine (vLLM in-process, batched) vs the Hugging Face transformers
`generate` loop at batch 1 and batched, on the same random-weight model with a 0.5B-class architecture
(Qwen2.5-0.5B's shape: hidden 896, 14 heads, 2 KV heads, intermediate 4864, vocab 151936; 24 layers, fewer with
--layers), same prompts, same max tokens, greedy decoding. Then a fully cached rerun through the response cache.

    flock /tmp/vllm.lock .venv/bin/python bench/synth.py [--quick]

Writes bench/results/synth.json. Batch-1 transformers runs on a subset of the prompts (tokens/s is a rate).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROMPT_TOPICS = [
    "first-line treatment of type 2 diabetes",
    "signs of sepsis in adults",
    "management of community-acquired pneumonia",
    "risk factors for stroke",
    "diagnosis of myocardial infarction",
    "asthma inhaler technique",
    "chronic kidney disease staging",
    "hypertension lifestyle changes",
    "warfarin drug interactions",
    "iron deficiency anaemia causes",
    "migraine prophylaxis",
    "COPD exacerbation treatment",
]


def prompts(n: int) -> list[list[dict[str, str]]]:
    return [
        [
            {
                "role": "user",
                "content": f"Explain the {PROMPT_TOPICS[i % len(PROMPT_TOPICS)]} to a medical student, "
                f"step by step, citing guidelines where relevant (case {i}).",
            }
        ]
        for i in range(n)
    ]


def bench_transformers(model_dir: Path, msgs: list, max_tokens: int, batch: int, dtype: str) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(os.cpu_count() or 1)
    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype)).eval()
    texts = [tok.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in msgs]
    n_out, t0 = 0, time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(texts), batch):
            enc = tok(texts[i : i + batch], return_tensors="pt", padding=True, add_special_tokens=False)
            out = model.generate(**enc, max_new_tokens=max_tokens, do_sample=False, pad_token_id=tok.pad_token_id)
            new = out[:, enc["input_ids"].shape[1] :]
            n_out += int((new != tok.pad_token_id).sum())
    dt = time.perf_counter() - t0
    del model
    return {"prompts": len(texts), "output_tokens": n_out, "seconds": round(dt, 2), "tok_s": round(n_out / dt, 2)}


def bench_engine(
    model_dir: Path, msgs: list, max_tokens: int, wh_root: Path, dtype: str, memory: float
) -> tuple[dict, dict]:
    from curation.synth.cache import CachedEngine, ResponseCache, cache_path
    from curation.synth.engine import Sampling
    from curation.synth.vllm_engine import VLLMEngine
    from curation.warehouse import Warehouse

    wh = Warehouse(wh_root).ensure()
    sampling = Sampling(temperature=0.0, top_p=1.0, max_tokens=max_tokens, seed=0)

    def run() -> tuple[float, list, CachedEngine]:
        """Everything a rerun in a new process pays: tokenizer, fingerprint, rendering, cache lookups."""
        t0 = time.perf_counter()
        inner = VLLMEngine(str(model_dir), max_model_len=1024, dtype=dtype, gpu_memory_utilization=memory)
        eng = CachedEngine(inner, ResponseCache(cache_path(wh)))
        return t0, eng.generate(msgs, sampling), eng

    t0, res, eng = run()
    wall = time.perf_counter() - t0
    gen_start = eng.inner._llm is not None
    n_out = sum(r.n_output_tokens for r in res)
    # generation alone: a second, uncached call on the loaded engine (new seed so nothing is served from cache)
    t2 = time.perf_counter()
    res2 = eng.inner.generate(msgs, Sampling(0.0, 1.0, max_tokens, seed=1))
    gen_s = time.perf_counter() - t2
    n_out2 = sum(r.n_output_tokens for r in res2)
    eng.close()
    first = {
        "prompts": len(msgs),
        "output_tokens": n_out2,
        "seconds": round(gen_s, 2),
        "tok_s": round(n_out2 / gen_s, 2),
        "first_run_wall_s_incl_load": round(wall, 2),
        "first_run_output_tokens": n_out,
        "loaded": gen_start,
    }
    r0, cached_res, eng2 = run()
    cached_wall = time.perf_counter() - r0
    assert all(r.cached for r in cached_res) and eng2.inner._llm is None, "cached rerun must not load the model"
    assert [r.text for r in cached_res] == [r.text for r in res]
    cached = {
        "wall_s": round(cached_wall, 3),
        "first_wall_s": round(wall, 2),
        "ratio_pct": round(100 * cached_wall / wall, 2),
        "hits": eng2.stats.hits,
    }
    return first, cached


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="4 layers, 8 prompts, 32 tokens")
    ap.add_argument("--layers", type=int, default=None, help="decoder layers (default 24; 4 with --quick)")
    ap.add_argument("--prompts", type=int, default=None)
    ap.add_argument("--max-tokens", type=int, default=None)
    ap.add_argument("--hf-batch1-prompts", type=int, default=None, help="prompts for the batch-1 baseline")
    ap.add_argument("--model-dir", type=Path, default=None, help="reuse/build the random model here")
    ap.add_argument(
        "--dtype",
        choices=["bfloat16", "float32"],
        default="bfloat16",
        help="both engines (the model is saved in bf16); float32 is faster where bf16 is emulated",
    )
    ap.add_argument(
        "--gpu-memory-utilization",
        type=float,
        default=0.2,
        help="vLLM; on CPU the share of RAM for weights and KV cache (float32 on the full shape needs ~0.5)",
    )
    a = ap.parse_args()
    layers = a.layers or (4 if a.quick else 24)
    n = a.prompts or (8 if a.quick else 32)
    max_tokens = a.max_tokens or (32 if a.quick else 64)
    n1 = a.hf_batch1_prompts or (2 if a.quick else 4)

    from curation.synth.tiny_model import make_tiny_model

    tmp = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    model_dir = a.model_dir or tmp / f"qwen2-shape-{layers}l"
    t = time.perf_counter()
    make_tiny_model(
        model_dir,
        arch="qwen2",
        layers=layers,
        hidden=896,
        heads=14,
        kv_heads=2,
        intermediate=4864,
        vocab_size=151936,
        max_positions=1024,
    )
    print(f"model ({layers} layers, Qwen2.5-0.5B shape) ready in {time.perf_counter() - t:.1f}s", flush=True)
    msgs = prompts(n)
    engine, cached = bench_engine(model_dir, msgs, max_tokens, tmp / "warehouse", a.dtype, a.gpu_memory_utilization)
    print(f"vLLM in-process batched: {engine}", flush=True)
    hf_batched = bench_transformers(model_dir, msgs, max_tokens, batch=n, dtype=a.dtype)
    print(f"transformers batched: {hf_batched}", flush=True)
    hf_1 = bench_transformers(model_dir, msgs[:n1], max_tokens, batch=1, dtype=a.dtype)
    print(f"transformers batch 1: {hf_1}", flush=True)

    rows = [
        ("transformers generate, batch 1", hf_1),
        (f"transformers generate, batch {n}", hf_batched),
        (f"medcurate VLLMEngine (vLLM in-process), batch {n}", engine),
    ]
    base = hf_batched["tok_s"]
    print("\n| engine | prompts | output tokens | seconds | output tok/s | vs HF batched |\n|---|---|---|---|---|---|")
    for name, r in rows:
        print(
            f"| {name} | {r['prompts']} | {r['output_tokens']} | {r['seconds']} | {r['tok_s']} | "
            f"{r['tok_s'] / base:.2f}x |"
        )
    print(
        f"\nfully cached rerun: {cached['wall_s']} s vs first run {cached['first_wall_s']} s (incl. model load) "
        f"= {cached['ratio_pct']} % ({cached['hits']} cache hits; target < 5 %)"
    )
    speedup = engine["tok_s"] / base
    print(f"speedup vs batched transformers: {speedup:.2f}x (target >= 5x)")
    out = Path(__file__).resolve().parent / "results" / "synth.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "config": {
                    "layers": layers,
                    "hidden": 896,
                    "heads": 14,
                    "kv_heads": 2,
                    "vocab": 151936,
                    "prompts": n,
                    "max_tokens": max_tokens,
                    "hf_batch1_prompts": n1,
                    "quick": a.quick,
                    "dtype": a.dtype,
                    "gpu_memory_utilization": a.gpu_memory_utilization,
                    "decoding": "greedy",
                },
                "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
                "transformers_batch1": hf_1,
                "transformers_batched": hf_batched,
                "vllm_engine": engine,
                "speedup_vs_hf_batched": round(speedup, 2),
                "cached_rerun": cached,
            },
            indent=2,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
