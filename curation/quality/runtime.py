"""Where and how the small models run: GPU when present, else CPU with a set number of intra-op threads, and
length-bucketed batches so that padding (wasted compute) stays small."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import torch

from curation.errors import UserError

T = TypeVar("T")


class ModelLoadError(UserError, ValueError):
    """A model path or id that cannot be used; the message names the path and what was expected."""


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def native_bf16() -> bool:
    """Whether this machine multiplies bf16 in hardware: a CUDA GPU that supports it, or an x86 CPU with AMX or
    AVX512-BF16 (oneDNN then runs bf16 matmuls at several times the fp32 rate; elsewhere bf16 is emulated and
    slower than fp32)."""
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    try:
        flags = next(
            (
                line.split(":", 1)[1].split()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("flags")
            ),
            [],
        )
    except OSError:
        return False
    return bool({"amx_bf16", "avx512_bf16"} & set(flags))


def resolve_precision(requested: str) -> str:
    """`auto` = bf16 where the hardware has it natively, fp32 elsewhere."""
    if requested == "auto":
        return "bf16" if native_bf16() else "fp32"
    return requested


def configure_threads(threads: int | None = None) -> int:
    """Intra-op threads = the cores this process may use (not the machine's count, which over-subscribes in
    containers); inter-op 1, since scoring runs one model call at a time."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    n = threads or cores
    torch.set_num_threads(max(1, n))
    with contextlib.suppress(RuntimeError):  # it can only be set before the first parallel op of a process
        torch.set_num_interop_threads(1)
    return torch.get_num_threads()


def fuse_tanh_gelu(model: torch.nn.Module) -> int:
    """Swap the tanh-approximated GELU that transformers computes from five separate tensor ops (GPT-2's
    `gelu_new`) for PyTorch's single fused kernel of the same formula: a third of a small LM's CPU time goes to
    those ops, and the result differs only by float rounding (~1e-7). Returns the number of modules swapped."""
    from transformers.activations import NewGELUActivation

    swaps = [
        (parent, name)
        for parent in model.modules()
        for name, child in parent.named_children()
        if isinstance(child, NewGELUActivation)
    ]
    for parent, name in swaps:
        setattr(parent, name, torch.nn.GELU(approximate="tanh"))
    return len(swaps)


def length_buckets(items: Sequence[T], length: Callable[[T], int], batch_size: int) -> Iterator[list[int]]:
    """Indices of `items` in batches of similar length (sorted longest first, so a too-large batch fails early)."""
    order = sorted(range(len(items)), key=lambda i: -length(items[i]))
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def check_model_dir(path: str, what: str, expected: Sequence[str]) -> Path | None:
    """A local path must exist and hold `expected` files; a string that is no local path is a Hub id (None)."""
    p = Path(path).expanduser()
    looks_local = p.exists() or path.startswith((".", "/", "~")) or (os.sep in path and p.parent.exists())
    if not looks_local:
        return None
    if not p.is_dir():
        raise ModelLoadError(f"{what}: {p} does not exist; expected a directory with {', '.join(expected)}")
    missing = [f for f in expected if not (p / f).exists()]
    if missing:
        raise ModelLoadError(f"{what}: {p} lacks {', '.join(missing)}; expected a directory with {', '.join(expected)}")
    return p
