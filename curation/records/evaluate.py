"""How close sampled or generated records are to a reference table, how often they break the schema, and how
close they come to copying a reference record (SynLLM's three axes).

- fidelity: per column, total variation distance of the value frequencies (bool, category, string) or the
  two-sample Kolmogorov-Smirnov statistic (int, float, date; scipy), over non-null values, plus the difference in
  null rates; pairwise Pearson correlations of the numeric, bool (0/1) and date (day number) columns, compared
  as the mean and the largest absolute difference.
- rules: the share of rows with any problem (type, range, category, missing/extra column, rule), by problem.
- privacy: distance to the closest reference record (DCR) with the Gower normalisation: numeric and date
  columns contribute |a − b| / (the reference's max − min), capped at 1; other columns 0 when equal, else 1; two
  nulls 0, one null 1; the distance is the mean over columns, in [0, 1]. Exact-copy rate: the share of rows at
  DCR 0.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from scipy.stats import ks_2samp

from curation.records.schema import RecordSchema
from curation.records.validate import arrow_schema, check_rows

_CHUNK = 256


def read_reference(path: Path, schema: RecordSchema) -> pa.Table:
    """A CSV (typed by the schema) or Parquet file with the schema's columns."""
    if path.suffix == ".parquet":
        return pq.read_table(path)
    types = {f.name: f.type for f in arrow_schema(schema)}
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True))


def _numeric(kind: str, values: list[Any]) -> np.ndarray:
    """Numbers (NaN for null): dates as day numbers, bools as 0/1."""
    conv = (lambda v: v.toordinal()) if kind == "date" else float
    return np.array([np.nan if v is None else conv(v) for v in values], dtype=float)


def _marginal(kind: str, a: list[Any], b: list[Any]) -> dict[str, Any]:
    nulls = abs(sum(v is None for v in a) / max(len(a), 1) - sum(v is None for v in b) / max(len(b), 1))
    xa, xb = [v for v in a if v is not None], [v for v in b if v is not None]
    if not xa or not xb:
        return {"metric": "none", "distance": None, "null_rate_diff": nulls}
    if kind in ("int", "float", "date"):
        ks = ks_2samp(_numeric(kind, xa), _numeric(kind, xb))
        return {"metric": "ks", "distance": float(ks.statistic), "p_value": float(ks.pvalue), "null_rate_diff": nulls}
    fa, fb = Counter(xa), Counter(xb)
    tv = 0.5 * sum(abs(fa[k] / len(xa) - fb[k] / len(xb)) for k in set(fa) | set(fb))
    return {"metric": "tv", "distance": tv, "null_rate_diff": nulls}


def _correlations(kinds: dict[str, str], a: dict[str, list], b: dict[str, list]) -> dict[str, Any]:
    cols = [c for c, k in kinds.items() if k in ("int", "float", "bool", "date")]
    diffs = {}
    for i, x in enumerate(cols):
        for y in cols[i + 1 :]:
            r = [_pearson(_numeric(kinds[x], d[x]), _numeric(kinds[y], d[y])) for d in (a, b)]
            if None not in r:
                diffs[f"{x}~{y}"] = abs(r[0] - r[1])  # type: ignore[operator]
    worst = max(diffs, key=diffs.__getitem__, default=None)
    return {
        "pairs": len(diffs),
        "mean_abs_diff": float(np.mean(list(diffs.values()))) if diffs else None,
        "max_abs_diff": diffs.get(worst) if worst else None,
        "max_pair": worst,
    }


def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    ok = ~(np.isnan(x) | np.isnan(y))
    if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
        return None
    return float(np.corrcoef(x[ok], y[ok])[0, 1])


def _encode(kinds: dict[str, str], d: dict[str, list], ref: dict[str, list]) -> tuple[np.ndarray, np.ndarray]:
    """(numeric matrix scaled by the reference's range, categorical codes shared with the reference); NaN / -1
    for null."""
    num, cat = [], []
    for c, k in kinds.items():
        if k in ("int", "float", "date", "bool"):
            r = _numeric(k, ref[c])
            span = np.nanmax(r) - np.nanmin(r) if np.isfinite(r).any() else 0.0
            num.append(_numeric(k, d[c]) / (span or 1.0))
        else:
            codes = {v: i for i, v in enumerate(sorted({str(v) for v in ref[c] + d[c] if v is not None}))}
            cat.append(np.array([-1 if v is None else codes[str(v)] for v in d[c]]))
    n = len(next(iter(d.values()), []))
    return (np.array(num).T if num else np.zeros((n, 0))), (np.array(cat).T if cat else np.zeros((n, 0)))


def closest_distances(kinds: dict[str, str], synth: dict[str, list], ref: dict[str, list]) -> np.ndarray:
    """Each synthetic row's Gower distance to its closest reference row (see the module docstring)."""
    sn, sc = _encode(kinds, synth, ref)
    rn, rc = _encode(kinds, ref, ref)
    width = sn.shape[1] + sc.shape[1]
    out = np.empty(sn.shape[0])
    for lo in range(0, sn.shape[0], _CHUNK):
        a_num, a_cat = sn[lo : lo + _CHUNK, None, :], sc[lo : lo + _CHUNK, None, :]
        dn = np.abs(a_num - rn[None, :, :])
        both_null = np.isnan(a_num) & np.isnan(rn[None, :, :])
        dn = np.where(both_null, 0.0, np.where(np.isnan(dn), 1.0, np.minimum(dn, 1.0)))
        dc = (a_cat != rc[None, :, :]).astype(float)
        out[lo : lo + _CHUNK] = (dn.sum(axis=2) + dc.sum(axis=2)).min(axis=1) / max(width, 1)
    return out


def evaluate(schema: RecordSchema, synth: pa.Table, ref: pa.Table | None) -> dict[str, Any]:
    rows = synth.to_pylist()
    checked = check_rows(schema, [{k: v for k, v in r.items() if k not in ("record_id", "run_id")} for r in rows])
    report: dict[str, Any] = {
        "rows": len(rows),
        "rules": {
            "violation_rate": len(checked.problems) / max(len(rows), 1),
            "violations": dict(checked.counts().most_common()),
        },
    }
    if ref is None:
        return report
    kinds: dict[str, str] = {
        c.name: c.type for c in schema.columns if c.name in synth.column_names and c.name in ref.column_names
    }
    a = {c: synth.column(c).to_pylist() for c in kinds}
    b = {c: ref.column(c).to_pylist() for c in kinds}
    dcr = closest_distances(kinds, a, b)
    report["reference_rows"] = ref.num_rows
    report["fidelity"] = {
        "columns": {c: _marginal(k, a[c], b[c]) for c, k in kinds.items()},
        "correlations": _correlations(kinds, a, b),
    }
    report["privacy"] = {
        "dcr_min": float(dcr.min()) if len(dcr) else None,
        "dcr_p05": float(np.percentile(dcr, 5)) if len(dcr) else None,
        "dcr_median": float(np.median(dcr)) if len(dcr) else None,
        "exact_copy_rate": float((dcr == 0).mean()) if len(dcr) else None,
        "normalisation": "gower",
    }
    return report
