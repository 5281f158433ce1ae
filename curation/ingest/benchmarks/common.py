"""Shared pieces of the benchmark loaders: streaming JSON Lines with bad lines quarantined, and stable ids."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from curation.ingest.items import Quarantined
from curation.ingest.textio import open_text

LABELS = "ABCDEFGHIJ"


def stable_item_id(benchmark: str, split: str, *parts: str) -> str:
    """`{benchmark}:{split}:{hash}`: independent of row order, so subsets and reshuffled copies agree."""
    h = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]
    return f"{benchmark}:{split}:{h}"


def iter_jsonl(path: Path) -> Iterator[tuple[int, int, dict[str, Any] | Quarantined]]:
    """Yield (record_index, line_no, object) per non-blank line; undecodable lines come as Quarantined."""
    index = 0
    with open_text(path) as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            ref = f"{path}:{line_no}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                yield index, line_no, Quarantined("invalid_json", ref, line, str(e))
            else:
                if isinstance(obj, dict):
                    yield index, line_no, obj
                else:
                    yield index, line_no, Quarantined("not_an_object", ref, line, f"got {type(obj).__name__}")
            index += 1
