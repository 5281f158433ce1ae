"""Benchmark: wall time of a manifest's build per stage, and per-shard ingest (+ dedup when the manifest lists it)
with the Ray task runner vs the thread runner on the same number of workers.

    python bench/build.py [MANIFEST] [--quick] [--workers 2]

MANIFEST defaults to manifests/demo.yaml; without it, a generated MedQA-format manifest is used. Each run builds
into a fresh temporary warehouse. The Ray numbers include starting a local Ray (what a laptop user pays); both
runners must produce the same rows, which the benchmark checks. Prints a table and writes bench/results/build.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("MEDCURATE_PROGRESS", "0")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

import yaml  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "build.json"


def generated_manifest(directory: Path, n_files: int, rows: int) -> Path:
    """MedQA-format files (one ingest unit each) when no manifest is given or the default one is absent."""
    src = directory / "src"
    src.mkdir(parents=True)
    for f in range(n_files):
        with (src / f"medqa-{f:03d}.jsonl").open("w") as fh:
            for i in range(rows):
                fh.write(
                    json.dumps(
                        {
                            "question": f"Case {f}-{i}: patient {i % 97} with finding {f}; next step?",
                            "options": {"A": f"a{i}", "B": "b", "C": f"c{f}", "D": "d"},
                            "answer_idx": "ABCD"[(f + i) % 4],
                        }
                    )
                    + "\n"
                )
    m = directory / "generated.yaml"
    m.write_text(
        "name: bench-generated\nstages: [ingest]\n"
        "sources:\n  - {name: medqa, format: medqa, split: train, paths: ['src/*.jsonl']}\n"
    )
    return m


def relocated_manifest(manifest: Path, directory: Path) -> Path:
    """A copy of the manifest whose release goes under `directory` (each timed build writes a fresh release there,
    never into the user's ./release), with its relative paths made absolute."""
    spec = yaml.safe_load(manifest.read_text())
    base = manifest.parent
    for src in spec.get("sources", []):
        src["paths"] = [str((base / p).resolve()) for p in src["paths"]]
    synth = spec.get("synth") or {}
    if synth.get("model") and (base / synth["model"]).exists():
        synth["model"] = str((base / synth["model"]).resolve())
    if spec.get("release"):
        spec["release"]["out"] = str(directory / "release")
    out = directory / manifest.name
    out.write_text(yaml.safe_dump(spec, sort_keys=False))
    return out


def table_counts(warehouse: Path) -> dict[str, int]:
    from curation.warehouse import Warehouse, connect
    from curation.warehouse.schemas import all_schemas

    con = connect(Warehouse(warehouse))
    return {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in sorted(all_schemas())}


def timed_build(manifest: Path, workdir: Path, **kw) -> tuple[float, dict, dict[str, int]]:
    from curation.flows.build import build_flow

    wh = Path(tempfile.mkdtemp(dir=workdir, prefix="wh-"))
    manifest = relocated_manifest(manifest, wh)
    t0 = time.perf_counter()
    results = build_flow(manifest_path=str(manifest), warehouse=str(wh), **kw)
    return time.perf_counter() - t0, results, table_counts(wh)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifest", nargs="?", default=str(ROOT / "manifests" / "demo.yaml"))
    ap.add_argument("--quick", action="store_true", help="generated inputs: 4 files instead of 16, fewer rows")
    ap.add_argument("--workers", type=int, default=2, help="threads / Ray CPUs for per-shard tasks")
    args = ap.parse_args()

    from prefect.testing.utilities import prefect_test_harness

    from curation.manifest import load_manifest

    console = Console()
    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    manifest = Path(args.manifest)
    note = ""
    if not manifest.is_file():
        note = f"{manifest} not found: using a generated MedQA manifest"
        manifest = generated_manifest(work / "gen", 4 if args.quick else 16, 200 if args.quick else 2000)
    m = load_manifest(manifest)
    shard_stages = [s for s in ("ingest", "dedup") if s in m.stages]
    report: dict = {
        "manifest": str(manifest),
        "note": note,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "quick": args.quick,
    }

    with prefect_test_harness(server_startup_timeout=180):
        total, results, counts = timed_build(manifest, work)
        report["build"] = {
            "wall_s": round(total, 2),
            "stages": {
                s: {"status": r["status"], "seconds": r.get("seconds"), "reason": r.get("reason", "")}
                for s, r in results.items()
            },
            "rows": counts,
        }
        runners = {}
        for runner in ("threads", "ray"):
            wall, res, rows = timed_build(manifest, work, to_stage=shard_stages[-1], runner=runner)
            runners[runner] = {
                "wall_s": round(wall, 2),
                "rows": rows,
                "stages": {s: r.get("seconds") for s, r in res.items()},
            }
        report["runners"] = runners
        report["same_rows"] = runners["threads"]["rows"] == runners["ray"]["rows"]

    t = Table(title=f"build of {m.name} ({report['cpus']} CPUs)")
    t.add_column("stage")
    t.add_column("status")
    t.add_column("seconds", justify="right")
    for s, r in report["build"]["stages"].items():
        t.add_row(s, r["status"], f"{r['seconds']:.2f}" if r["seconds"] is not None else "-")
    t.add_row("total (incl. flow overhead)", "", f"{report['build']['wall_s']:.2f}")
    console.print(t)
    rt = Table(title=f"per-shard stages {'+'.join(shard_stages)}: threads vs Ray, {args.workers} workers")
    for col in ("runner", *shard_stages, "wall s"):
        rt.add_column(col, justify="right")
    for runner, r in runners.items():
        rt.add_row(runner, *(f"{r['stages'].get(s) or 0:.2f}" for s in shard_stages), f"{r['wall_s']:.2f}")
    console.print(rt)
    console.print(f"same rows with both runners: {report['same_rows']}" + (f"  ({note})" if note else ""))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1, default=str))
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
