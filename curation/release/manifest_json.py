"""manifest.json: every file of the release with sha256, rows and bytes, plus the facts the card is rendered from.

Written last, after every other file, so it covers all of them (except itself).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from curation.release.paths import MARKER
from curation.warehouse.runs import sha256_file

MANIFEST = "manifest.json"


def file_entry(release_dir: Path, path: Path) -> dict[str, Any]:
    rel = path.relative_to(release_dir).as_posix()
    entry: dict[str, Any] = {"path": rel, "sha256": sha256_file(path), "bytes": path.stat().st_size}
    if path.suffix == ".parquet":
        entry["rows"] = pq.ParquetFile(path).metadata.num_rows
        _, config, bucket, name = rel.split("/")
        entry.update(config=config, licence_class=bucket, split=name.split("-", 1)[0])
    return entry


def release_files(release_dir: Path) -> list[Path]:
    return sorted(p for p in release_dir.rglob("*") if p.is_file() and p.name not in (MANIFEST, MARKER))


def schema_of(first_shard: Path) -> list[dict[str, str]]:
    return [{"name": f.name, "type": str(f.type)} for f in pq.read_schema(first_shard)]


def write(release_dir: Path, facts: dict[str, Any]) -> dict[str, Any]:
    files = [file_entry(release_dir, p) for p in release_files(release_dir)]
    doc = {**facts, "files": files}
    (release_dir / MANIFEST).write_text(json.dumps(doc, indent=1, sort_keys=False, default=str) + "\n")
    return doc


def read(release_dir: Path) -> dict[str, Any]:
    path = release_dir / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{release_dir} is not a release: no {MANIFEST}")
    return json.loads(path.read_text())
