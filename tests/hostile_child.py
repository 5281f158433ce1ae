"""Runs one parser over one file in a fresh process under an address-space ceiling and prints what it saw.

`python -m tests.hostile_child FORMAT PATH CEILING_MB LIMITS_JSON [OPTIONS_JSON]` prints one JSON line:
rows, reasons (quarantine reason -> count), payload sizes, peak RSS in MB and its growth over the RSS after the
imports (what parsing took, whatever the imports cost). The ceiling is added to the address
space already mapped after the imports (pyarrow and lxml map a lot), so it bounds what parsing may allocate.
"""

from __future__ import annotations

import json
import resource
import sys
from collections import Counter
from pathlib import Path

from curation.ingest.formats import get_format
from curation.ingest.items import Record, Rejection
from curation.ingest.limits import Limits, using


def _status_kb(field: str) -> int:
    """A /proc/self/status figure (VmSize, VmHWM = peak RSS of this process image; ru_maxrss survives exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def main(fmt: str, path: str, ceiling_mb: str, limits: str, options: str = "{}") -> None:
    spec = get_format(fmt)
    opts = spec.options(json.loads(options))
    baseline = _status_kb("VmHWM") / 1024  # after the imports: what parsing adds is measured from here
    ceiling = (_status_kb("VmSize") + int(ceiling_mb) * 1024) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    rows, reasons, payloads = 0, Counter(), []
    with using(Limits(**json.loads(limits))):
        for item in spec.parser()(Path(path), opts, None):
            if isinstance(item, Record):
                rows += 1
            elif isinstance(item, Rejection):
                reasons[item.reason] += 1
                payloads.append(len(item.payload) if item.payload is not None else None)
    peak = _status_kb("VmHWM") / 1024
    print(
        json.dumps(
            {
                "rows": rows,
                "reasons": dict(reasons),
                "payloads": payloads,
                "peak_rss_mb": round(peak),
                "growth_mb": round(peak - baseline),
                "baseline_rss_mb": round(baseline),
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
