"""A run record as markdown (the Prefect artifact of a stage run, `medcurate runs show`)."""

from __future__ import annotations

import json
from typing import Any


def _table(header: tuple[str, str], items: dict[str, Any]) -> str:
    if not items:
        return ""
    rows = "\n".join(f"| {k} | {v} |" for k, v in sorted(items.items()))
    return f"| {header[0]} | {header[1]} |\n|---|---|\n{rows}\n\n"


def run_markdown(record: dict[str, Any]) -> str:
    """Status, counts, quarantine reasons, timings, models, tokens, errors, and the record itself."""
    outputs: dict[str, int] = {}
    for o in record.get("outputs", []):
        outputs[o["table"]] = outputs.get(o["table"], 0) + int(o.get("rows") or 0)
    errors = "".join(f"- {e.get('message', '')[:500]}\n" for e in record.get("errors", [])[:20])
    return (
        f"# {record['stage']} run `{record['run_id']}`\n\nstatus: **{record['status']}**, "
        f"{record.get('duration_s')} s, code `{record.get('code_version')}`\n\n"
        + _table(("count", "n"), record.get("counts", {}))
        + _table(("output table", "rows"), outputs)
        + _table(("quarantine reason", "n"), record.get("quarantine_reasons", {}))
        + _table(("timing", "s"), record.get("timings_s", {}))
        + _table(("model", "id"), record.get("models", {}))
        + _table(("tokens", "n"), record.get("tokens", {}))
        + (f"## errors\n\n{errors}\n" if errors else "")
        + f"<details><summary>record</summary>\n\n```json\n{json.dumps(record, indent=1, default=str)[:20000]}\n```\n"
        "</details>\n"
    )
