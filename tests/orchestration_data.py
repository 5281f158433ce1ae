"""Small MedQA-format source files and manifests for the orchestration tests (written to tmp, never committed)."""

from __future__ import annotations

import json
from pathlib import Path

from curation.warehouse import Warehouse, connect
from curation.warehouse.schemas import all_schemas

VOLATILE_TYPES = {"timestamp"}  # when a row was written differs between runs; what was written must not
# How a row was obtained in this run: which run wrote it, whether the response cache served it (a resumed synth run
# serves the batches finished before the crash from the cache). What the row says must not differ.
VOLATILE_COLUMNS = {"run_id", "cached"}


def write_medqa_files(directory: Path, n_files: int = 4, rows: int = 12) -> list[Path]:
    """n_files MedQA JSON Lines files, each with `rows` good questions and one that must be quarantined."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in range(n_files):
        p = directory / f"medqa-{f:02d}.jsonl"
        with p.open("w") as fh:
            for i in range(rows):
                q = {
                    "question": f"Case {f}-{i}: a {20 + i}-year-old presents with fever {f}. Next step?",
                    "options": {"A": f"drug {i}", "B": "observe", "C": f"test {f}", "D": "refer"},
                    "answer_idx": "ABCD"[(f + i) % 4],
                    "meta_info": "step1",
                }
                fh.write(json.dumps(q) + "\n")
            fh.write(json.dumps({"question": f"bad {f}", "options": {"A": "x"}, "answer_idx": "Z"}) + "\n")
        paths.append(p)
    return paths


def write_manifest(
    path: Path, stages: list[str] | None = None, glob: str = "src/medqa-*.jsonl", workers: int = 2
) -> Path:
    """A manifest over the MedQA files matched by `glob` (relative to the manifest)."""
    stages = stages or ["ingest"]
    path.write_text(
        f"name: orchestration-test\nstages: {json.dumps(stages)}\ningest: {{workers: {workers}}}\n"
        f"sources:\n  - {{name: medqa, format: medqa, split: test, paths: ['{glob}']}}\n"
    )
    return path


def warehouse_content(root: Path) -> dict[str, list[tuple]]:
    """Every table's rows without run ids and write times, sorted; asserts no key appears twice."""
    con = connect(Warehouse(root))
    content = {}
    for name, schema in all_schemas().items():
        cols = [c.name for c in schema.columns if c.name not in VOLATILE_COLUMNS and c.type not in VOLATILE_TYPES]
        rows = con.execute(f'select {", ".join(chr(34) + c + chr(34) for c in cols)} from "{name}"').fetchall()
        content[name] = sorted(rows, key=repr)
        if schema.key and name != "quarantine" and set(schema.key) <= set(cols):  # keys with run_id differ per build
            keys = [tuple(r[cols.index(k)] for k in schema.key) for r in rows]
            assert len(keys) == len(set(keys)), f"duplicate keys in {name}"
    return content


def release_content(root: Path) -> dict[str, list[tuple]]:
    """Every published release Parquet file under `root` (relative path -> its rows, sorted), without columns that
    name the run that wrote a row: a rerun after a crash must publish the same files with the same rows."""
    import duckdb

    content = {}
    for f in sorted(
        p for p in root.rglob("*.parquet") if not any(q.startswith(".") for q in p.relative_to(root).parts)
    ):
        rows = duckdb.sql(f"select * from read_parquet('{f}')")
        keep = [
            c
            for c, t in zip(rows.columns, rows.types, strict=True)
            if not (c in VOLATILE_COLUMNS or c.endswith("_run_id") or "TIMESTAMP" in str(t))
        ]
        content[str(f.relative_to(root))] = sorted(rows.project(", ".join(f'"{c}"' for c in keep)).fetchall(), key=repr)
    return content


def describe_difference(got: dict, want: dict, path: str = "") -> list[str]:
    """Per table (or release file): rows only in one side, a few examples of each; for readable failures."""
    out = []
    for k in sorted(set(got) | set(want)):
        g, w = got.get(k), want.get(k)
        if isinstance(g, dict) or isinstance(w, dict):
            out += describe_difference(g or {}, w or {}, f"{path}{k}/")
        elif g != w:
            extra = [r for r in (g or []) if r not in (w or [])]
            missing = [r for r in (w or []) if r not in (g or [])]
            out.append(
                f"{path}{k}: {len(g or [])} rows vs {len(w or [])}; only in rerun {len(extra)}: "
                f"{[repr(r)[:300] for r in extra[:2]]}; only in clean {len(missing)}: "
                f"{[repr(r)[:300] for r in missing[:2]]}"
            )
    return out


def visible_temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith((".tmp-", ".trash-")) or p.name.endswith(".tmp")]
