"""Quarantine: where input or output that a stage cannot accept goes, with a reason, never silently dropped."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from curation.warehouse.shards import ShardWriter
from curation.warehouse.store import Warehouse

MAX_PAYLOAD_BYTES = 64 * 1024


def bound_payload(payload: Any, limit: int = MAX_PAYLOAD_BYTES) -> tuple[str | None, int | None]:
    """Return (payload truncated to `limit` UTF-8 bytes, original size in bytes)."""
    if payload is None:
        return None, None
    if isinstance(payload, bytes):
        raw = payload
        text = payload[:limit].decode("utf-8", errors="replace")
    else:
        text = str(payload)
        raw = text.encode("utf-8", errors="replace")
        text = raw[:limit].decode("utf-8", errors="ignore")
    if len(raw) > limit:
        text += f"\n…[truncated: {len(raw)} bytes]"
    return text, len(raw)


@dataclass
class Rejection:
    """The one type for input or output a stage does not accept (a record that does not parse, a generation that
    fails a check, a document a scorer cannot score, a row that violates a rule): it goes to quarantine with its
    reason code, where it came from, the raw payload and a human detail."""

    reason: str
    source_ref: str = ""
    payload: Any = None
    detail: str = ""
    payload_bytes: int | None = None  # the real size when `payload` is only a prefix (an over-long line)
    extra: dict[str, Any] = field(default_factory=dict)


def quarantine_unit(stage: str, run_id: str, component: str | None = None, part: str | None = None) -> str:
    """The one naming rule for quarantine units: `<stage>[-<component>]-<run_id>[-<part>]`, so a unit of work and its
    quarantine are replaced together when the work is redone."""
    return "-".join(x for x in (stage, component, run_id, part) if x)


class Quarantine:
    """Collects quarantined items for one unit of work and publishes them with it (a redone unit replaces them).

    Thread-safe: parallel tasks of one run may share an instance.
    """

    def __init__(self, warehouse: Warehouse, stage: str, run_id: str, unit: str | None = None):
        self.stage = stage
        self.run_id = run_id
        self.unit = unit or quarantine_unit(stage, run_id)
        self._writer = ShardWriter(warehouse, "quarantine", self.unit)
        self._lock = threading.Lock()
        self.n = 0
        self.reasons: Counter[str] = Counter()

    def reject(self, r: Rejection) -> None:
        self.add(r.reason, r.source_ref, r.payload, r.detail, r.payload_bytes)

    def add(
        self, reason: str, source_ref: str, payload: Any = None, detail: str = "", payload_bytes: int | None = None
    ) -> None:
        """`payload_bytes` overrides the size when `payload` is only a prefix of the input (an over-long line)."""
        text, size = bound_payload(payload)
        size = payload_bytes if payload_bytes is not None else size
        with self._lock:
            self._writer.write(
                {
                    "stage": self.stage,
                    "reason": reason,
                    "detail": detail[:4000] if detail else None,
                    "source_ref": source_ref,
                    "payload": text,
                    "payload_bytes": size,
                    "run_id": self.run_id,
                    "unit": self.unit,
                    "n": self.n,
                    "created_at": dt.datetime.now(dt.UTC),
                }
            )
            self.n += 1
            self.reasons[reason] += 1

    def commit(self) -> int:
        with self._lock:
            self._writer.commit()
            return self.n

    def abort(self) -> None:
        with self._lock:
            self._writer.abort()

    def __enter__(self) -> Quarantine:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
