"""`release verify`: re-check a release directory against its manifest.json and its card.

Every listed file must exist with the recorded sha256 and size, every shard with its row count; no unlisted file may
be present; the card's per-split counts (front matter dataset_info) and totals must match the shards.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from curation.release import manifest_json
from curation.release.card import hf_config_name, read_front_matter
from curation.warehouse.runs import sha256_file


def _check_files(release_dir: Path, files: list[dict]) -> list[str]:
    problems = []
    listed = {f["path"] for f in files}
    for f in files:
        p = release_dir / f["path"]
        if not p.is_file():
            problems.append(f"{f['path']}: missing")
            continue
        if p.stat().st_size != f["bytes"]:
            problems.append(f"{f['path']}: size {p.stat().st_size} != {f['bytes']} in manifest.json")
        if sha256_file(p) != f["sha256"]:
            problems.append(f"{f['path']}: sha256 mismatch (modified since release)")
            continue
        if "rows" in f and pq.ParquetFile(p).metadata.num_rows != f["rows"]:
            problems.append(f"{f['path']}: row count != {f['rows']} in manifest.json")
    for p in manifest_json.release_files(release_dir):
        if p.relative_to(release_dir).as_posix() not in listed:
            problems.append(f"{p.relative_to(release_dir).as_posix()}: not listed in manifest.json")
    return problems


def _check_card(release_dir: Path, doc: dict) -> list[str]:
    shard_rows: Counter[tuple[str, str]] = Counter()
    for f in doc["files"]:
        if "rows" in f:
            shard_rows[(hf_config_name(f["config"], f["licence_class"]), f["split"])] += f["rows"]
    try:
        meta = read_front_matter((release_dir / "README.md").read_text())
    except (OSError, ValueError) as e:
        return [f"README.md: {e}"]
    infos = meta.get("dataset_info", [])
    infos = [infos] if isinstance(infos, dict) else infos  # one config: huggingface_hub writes a mapping
    card_rows = Counter({(c["config_name"], s["name"]): s["num_examples"] for c in infos for s in c.get("splits", [])})
    problems = [
        f"README.md: {cfg}/{split} has {card_rows.get((cfg, split))} rows in the card, "
        f"{shard_rows.get((cfg, split))} in the shards"
        for cfg, split in sorted(set(card_rows) | set(shard_rows))
        if card_rows.get((cfg, split)) != shard_rows.get((cfg, split))
    ]
    if doc.get("total_rows") != sum(shard_rows.values()):
        problems.append(f"manifest.json: total_rows {doc.get('total_rows')} != {sum(shard_rows.values())} in shards")
    return problems


def verify(release_dir: str | Path) -> list[str]:
    """Problems found, each naming its file; an empty list means the release is intact."""
    release_dir = Path(release_dir)
    doc = manifest_json.read(release_dir)
    return _check_files(release_dir, doc["files"]) + _check_card(release_dir, doc)
