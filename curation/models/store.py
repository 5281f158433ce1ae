"""Prepared model directories in the model cache: locate, convert once, verify by sha256.

Layout: `<cache>/<org>--<name>/` holds the converted HF files and `medcurate-model.json`, the manifest written last
(after the conversion is complete and renamed into place): public id, source package and GGUF sha256, and the
sha256 and size of every file. A directory whose files do not match its manifest (truncated, edited, half-deleted)
is refused with a clear error; `prepare(force=True)` (`medcurate models prepare --force`) converts it again.

The cache directory is `$MEDCURATE_MODEL_CACHE`, else `$XDG_CACHE_HOME/medcurate/models`, else
`~/.cache/medcurate/models`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from curation.models.catalog import PACKAGED, PackagedModel

MANIFEST = "medcurate-model.json"
WEIGHTS = "model.safetensors"
FORMAT_VERSION = 1
_BLOCK = 1 << 20


class ModelError(ValueError):
    """A packaged model cannot be used: not installed, not prepared, or its files do not match their hashes."""


class ModelNotInstalled(ModelError):
    pass


class ModelCorrupt(ModelError):
    pass


@dataclass(frozen=True)
class PreparedModel:
    model_id: str
    path: Path
    weights_sha256: str  # sha256 of model.safetensors: the weights' identity in fingerprints and run records
    converted: bool  # False when an existing verified directory was reused
    seconds: float = 0.0


def cache_dir(override: str | Path | None = None) -> Path:
    if override:
        return Path(override).expanduser()
    if env := os.environ.get("MEDCURATE_MODEL_CACHE"):
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "medcurate" / "models"


def model_dir(model: PackagedModel, cache: str | Path | None = None) -> Path:
    return cache_dir(cache) / model.model_id.replace("/", "--")


def packaged(model_id: str) -> PackagedModel:
    if model_id not in PACKAGED:
        raise ModelError(f"unknown packaged model {model_id!r}; known: {sorted(PACKAGED)}")
    return PACKAGED[model_id]


def gguf_path(model: PackagedModel) -> Path:
    """The GGUF inside the installed wheel, found through its metadata (importing the package would import `llm`)."""
    try:
        dist = distribution(model.package)
    except PackageNotFoundError:
        raise ModelNotInstalled(f"{model.model_id} needs the {model.package} package: {model.install_hint}") from None
    path = Path(str(dist.locate_file(model.gguf)))
    if not path.is_file():
        raise ModelNotInstalled(f"{model.package} {dist.version} has no {model.gguf}: {model.install_hint}")
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            h.update(block)
    return h.hexdigest()


def read_manifest(path: Path) -> dict | None:
    try:
        return json.loads((path / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def verify(path: Path) -> dict:
    """The manifest of a prepared directory whose every file matches its size and sha256; ModelCorrupt otherwise."""
    manifest = read_manifest(path)
    if manifest is None:
        raise ModelCorrupt(f"{path} has no readable {MANIFEST}: the conversion did not finish")
    bad = []
    for name, meta in manifest["files"].items():
        f = path / name
        if not f.is_file():
            bad.append(f"{name} missing")
        elif f.stat().st_size != meta["size"]:
            bad.append(f"{name} has {f.stat().st_size} bytes, expected {meta['size']}")
        elif sha256_file(f) != meta["sha256"]:
            bad.append(f"{name} sha256 mismatch")
    if bad:
        raise ModelCorrupt(f"{path} does not match {MANIFEST}: {'; '.join(bad)}")
    return manifest


def write_manifest(out: Path, model: PackagedModel, source_sha256: str) -> dict:
    """Hash every file of a converted directory into its manifest (written last: its presence means complete)."""
    files = {f.name: {"size": f.stat().st_size, "sha256": sha256_file(f)} for f in sorted(out.iterdir()) if f.is_file()}
    manifest = {
        "format": FORMAT_VERSION,
        "model_id": model.model_id,
        "license": model.license,
        "source": {"package": model.package, "version": model.version, "file": model.gguf},
        "source_sha256": source_sha256,
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def prepared(model_id: str, cache: str | Path | None = None) -> PreparedModel:
    """The verified directory of an already prepared model (no conversion): for engines and the gate."""
    model = packaged(model_id)
    path = model_dir(model, cache)
    if not path.exists():
        raise ModelNotInstalled(f"{model_id} is not prepared in {path.parent}: run `medcurate models prepare`")
    try:
        manifest = verify(path)
    except ModelCorrupt as e:
        raise ModelCorrupt(f"{e}. Run `medcurate models prepare --force` to convert it again") from None
    return PreparedModel(model_id, path, manifest["files"][WEIGHTS]["sha256"], converted=False)


def prepare(model_id: str, cache: str | Path | None = None, force: bool = False) -> PreparedModel:
    """Convert the packaged GGUF into `<cache>/<org>--<name>/` once. A verified directory is reused; a corrupt one
    is an error unless `force` (then it is converted again). The conversion writes into a temporary sibling and is
    renamed into place, so an interrupted run never leaves a directory that looks prepared."""
    from curation.models.convert import convert_gguf

    model = packaged(model_id)
    path = model_dir(model, cache)
    if path.exists() and not force:
        return prepared(model_id, cache)
    source = gguf_path(model)
    t = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        out = tmp / "model"
        convert_gguf(source, out)
        manifest = write_manifest(out, model, sha256_file(source))
        if path.exists():
            shutil.rmtree(path)
        out.rename(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return PreparedModel(
        model_id, path, manifest["files"][WEIGHTS]["sha256"], converted=True, seconds=time.perf_counter() - t
    )


def status(cache: str | Path | None = None) -> list[dict]:
    """One entry per packaged model: installed?, prepared?, verified?, for `medcurate models list`."""
    rows = []
    for model in PACKAGED.values():
        path = model_dir(model, cache)
        try:
            gguf_path(model)
            installed = True
        except ModelNotInstalled:
            installed = False
        state, sha = "absent", None
        if path.exists():
            try:
                sha = prepared(model.model_id, cache).weights_sha256
                state = "verified"
            except ModelCorrupt:
                state = "corrupt"
        rows.append(
            {
                "model": model.model_id,
                "package": f"{model.package}=={model.version}",
                "installed": installed,
                "state": state,
                "weights_sha256": sha,
                "path": str(path),
            }
        )
    return rows
