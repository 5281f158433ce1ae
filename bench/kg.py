"""KG benchmarks on the shared Hetionet sample (47,031 nodes, 99,676 edges): ingest, entity linking and path search,
each against the naive baseline MedReason used (a networkx graph; `nx.all_shortest_paths` per pair; one span at a
time encoded and compared with every node name), interleaved (ours, baseline, ours, ...) in fresh subprocesses so
each number comes with its own peak RSS. Also: CSR memory at full Hetionet size (2.25 M edges, synthetic).

    .venv/bin/python bench/kg.py [--quick] [--warehouse DIR]

The warehouse (default /tmp/medcurate-bench-kg) is kept between runs so the node-name embeddings (computed once
per KG version) are reused; their build time is reported when it happens. Writes bench/results/kg.json.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
KG = ROOT.parent / "shared" / "data" / "hetionet_kg_sample"
MAX_PATHS = 1000


def _edges() -> list[dict]:
    with gzip.open(KG / "edges-5k.sif.gz", "rt", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _nodes() -> list[dict]:
    with open(KG / "nodes.tsv", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _pairs(n: int) -> list[tuple[str, str]]:
    """Half endpoints of clinical edges' neighbourhoods (near pairs), half random pairs (mostly far)."""
    rng = random.Random(0)
    edges, nodes = _edges(), _nodes()
    near = [
        (e["source"], e["target"]) for e in rng.sample([e for e in edges if e["metaedge"] in ("CtD", "DpS")], n // 2)
    ]
    ids = [x["id"] for x in nodes]
    return near + [(rng.choice(ids), rng.choice(ids)) for _ in range(n - n // 2)]


def _nx_graph():
    import networkx as nx

    g = nx.Graph()
    for x in _nodes():
        g.add_node(x["id"], name=x["name"], kind=x["kind"])
    for e in _edges():
        g.add_edge(e["source"], e["target"], relation=e["metaedge"])
    return g


# ---------- workers (one per subprocess) ----------
def w_ingest_ours(wh_dir: str, _: dict) -> dict:
    import tempfile

    from curation.kg.graph import KGraph
    from curation.kg.ingest import ingest_kg
    from curation.warehouse import Warehouse

    with tempfile.TemporaryDirectory() as d:
        wh = Warehouse(Path(d) / "wh").ensure()
        t = time.perf_counter()
        r = ingest_kg(wh, "hetionet", [KG])
        t_ingest = time.perf_counter() - t
        t = time.perf_counter()
        g = KGraph.from_warehouse(wh)
        t_graph = time.perf_counter() - t
    return {"edges": r.edges, "seconds": t_ingest, "graph_build_s": t_graph, "graph_bytes": g.nbytes()}


def w_ingest_baseline(wh_dir: str, _: dict) -> dict:
    t = time.perf_counter()
    g = _nx_graph()
    return {"edges": g.number_of_edges(), "seconds": time.perf_counter() - t}


def w_paths_ours(wh_dir: str, a: dict) -> dict:
    from curation.kg.graph import KGraph
    from curation.warehouse import Warehouse

    g = KGraph.from_warehouse(Warehouse(wh_dir))
    pairs = _pairs(a["pairs"])
    t = time.perf_counter()
    found = [g.shortest_paths(x, y, max_hops=a["max_hops"], max_paths=MAX_PATHS) for x, y in pairs]
    secs = time.perf_counter() - t
    return {
        "pairs": len(pairs),
        "seconds": secs,
        "with_path": sum(bool(r.paths) for r in found),
        "paths": sum(len(r.paths) for r in found),
        "by_distance": {str(r.distance): sum(x.distance == r.distance for x in found) for r in found},
        "result": {
            f"{x}|{y}": sorted("|".join(p.nodes) for p in r.paths) for (x, y), r in zip(pairs, found, strict=True)
        },
    }


def w_paths_baseline(wh_dir: str, a: dict) -> dict:
    import networkx as nx

    g = _nx_graph()
    pairs = _pairs(a["pairs"])
    t = time.perf_counter()
    out = {}
    for x, y in pairs:
        try:
            out[f"{x}|{y}"] = sorted("|".join(p) for p in itertools.islice(nx.all_shortest_paths(g, x, y), MAX_PATHS))
        except nx.NetworkXNoPath:
            out[f"{x}|{y}"] = []
    secs = time.perf_counter() - t
    return {"pairs": len(pairs), "seconds": secs, "paths": sum(map(len, out.values())), "result": out}


def _spans(n: int) -> tuple[list[str], list[str]]:
    """Exact spans (names, case changed) and misspelt spans (a letter dropped) for the embedding path."""
    rng = random.Random(1)
    names = [x["name"] for x in rng.sample(_nodes(), 2 * n)]
    exact = [s.upper() for s in names[:n]]
    typo = []
    for s in names[n:]:
        i = rng.randrange(len(s))
        typo.append(s[:i] + s[i + 1 :] if len(s) > 4 else s + "s")
    return exact, typo


def w_link_ours(wh_dir: str, a: dict) -> dict:
    from curation.kg.linking import Linker
    from curation.warehouse import Warehouse

    t = time.perf_counter()
    linker = Linker(Warehouse(wh_dir))
    _ = linker.vectors
    load = time.perf_counter() - t
    exact, typo = _spans(a["spans"])
    res = {"load_s": load, "embeddings_cached": linker.cache_hit}
    for name, spans in (("exact", exact), ("misspelt", typo)):
        t = time.perf_counter()
        links = linker.link_many(spans)
        res[name] = {"spans": len(spans), "seconds": time.perf_counter() - t}
        res[name]["methods"] = {m: sum(x.method == m for x in links) for m in {x.method for x in links}}
    return res


def w_link_baseline(wh_dir: str, a: dict) -> dict:
    """MedReason: each entity encoded on its own and compared with every node embedding (top-10 > 0.7)."""
    import numpy as np

    from curation.kg.embed import encode
    from curation.kg.linking import Linker
    from curation.warehouse import Warehouse

    linker = Linker(Warehouse(wh_dir))
    vecs = linker.vectors
    exact, typo = _spans(a["spans"])
    res = {}
    for name, spans in (("exact", exact), ("misspelt", typo)):
        t = time.perf_counter()
        for s in spans:
            sims = vecs @ encode([s])[0]
            top = np.argsort(-sims)[:10]
            _ = [(linker.node_ids[i], float(sims[i])) for i in top if sims[i] > 0.7]
        res[name] = {"spans": len(spans), "seconds": time.perf_counter() - t}
    return res


def w_embed(wh_dir: str, a: dict) -> dict:
    from curation.kg.embed import encode

    names = [x["name"] for x in _nodes()[: a["names"]]]
    encode(names[:16])  # load the model outside the timing
    t = time.perf_counter()
    encode(names)
    return {"names": len(names), "seconds": time.perf_counter() - t}


def w_memory_full(wh_dir: str, a: dict) -> dict:
    """CSR for a synthetic graph of the full Hetionet's size: 47,031 nodes, 2,250,197 edges, 24 relations."""
    import numpy as np

    from curation.kg.graph import KGraph

    rng = np.random.default_rng(0)
    n, m = 47_031, 2_250_197
    t = time.perf_counter()
    g = KGraph(
        [f"N{i}" for i in range(n)],
        [f"name {i}" for i in range(n)],
        ["k"] * n,
        rng.integers(0, n, m),
        rng.integers(0, n, m),
        rng.integers(0, 24, m),
        [f"r{i}" for i in range(24)],
    )
    build = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(20):
        g.shortest_paths(f"N{i}", f"N{n - 1 - i}", max_hops=3)
    return {"edges": m, "build_s": build, "csr_mb": g.nbytes() / 2**20, "path_query_s": (time.perf_counter() - t) / 20}


WORKERS = {k[2:]: v for k, v in globals().items() if k.startswith("w_")}


def run_worker(name: str, wh: Path, args: dict, extra: tuple[str, ...] = ()) -> dict:
    p = subprocess.run(
        [sys.executable, __file__, "--worker", name, "--warehouse", str(wh), "--args", json.dumps(args), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    if p.returncode:
        raise RuntimeError(f"worker {name} failed:\n{p.stderr[-4000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def prepare(wh: Path) -> None:
    from curation.kg.ingest import ingest_kg
    from curation.warehouse import Warehouse

    ingest_kg(Warehouse(wh).ensure(), "hetionet", [KG])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--warehouse", type=Path, default=Path("/tmp/medcurate-bench-kg"))
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for the encoder (see docs/kg.md)")
    ap.add_argument("--only", choices=["ingest", "paths", "link"], help="run one part (results merged into kg.json)")
    ap.add_argument("--worker")
    ap.add_argument("--args", default="{}")
    a = ap.parse_args()
    if a.worker:
        import torch

        torch.set_num_threads(a.threads)
        out = WORKERS[a.worker](str(a.warehouse), json.loads(a.args))
        out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(json.dumps(out))
        return
    if not KG.is_dir():
        sys.exit(f"shared KG sample not found at {KG}")
    rounds = a.rounds or (1 if a.quick else 3)
    n_pairs, n_spans = (20, 50) if a.quick else (200, 500)
    prepare(a.warehouse)
    threads = ("--threads", str(a.threads))
    plan = [
        ("ingest", ("ingest_ours", {}), ("ingest_baseline", {})),
        ("paths", ("paths_ours", {"pairs": n_pairs, "max_hops": 3}), ("paths_baseline", {"pairs": n_pairs})),
        ("paths_unbounded", ("paths_ours", {"pairs": n_pairs, "max_hops": 12}), None),
        ("link", ("link_ours", {"spans": n_spans}), ("link_baseline", {"spans": n_spans})),
    ]
    if a.only:
        plan = [p for p in plan if p[0].split("_")[0] == a.only]
    results: dict = {
        "quick": a.quick,
        "torch_threads": a.threads,
        "pairs": n_pairs,
        "spans": n_spans,
        "max_paths": MAX_PATHS,
    }
    for r in range(rounds):
        for name, ours, base in plan:
            order = [("ours", ours), ("baseline", base)] if r % 2 == 0 else [("baseline", base), ("ours", ours)]
            for who, job in order:
                if job is None:
                    continue
                got = run_worker(job[0], a.warehouse, job[1], threads)
                results.setdefault(name, {}).setdefault(who, []).append(got)
    out = ROOT / "bench" / "results" / "kg.json"
    if a.only:  # the other parts come from the last full run
        old = json.loads(out.read_text())
        results = {**old, **{k: v for k, v in results.items() if k in (p[0] for p in plan)}}
        results["rounds_by_part"] = {**old.get("rounds_by_part", {}), **{p[0]: rounds for p in plan}}
    else:
        results["rounds_by_part"] = {p[0]: rounds for p in plan}
    if not a.only:
        results["embed"] = run_worker("embed", a.warehouse, {"names": 500 if a.quick else 2000}, threads)
        results["memory_full_size"] = run_worker("memory_full", a.warehouse, {})
    report(results)
    out.parent.mkdir(exist_ok=True)
    for name in ("paths", "paths_unbounded"):  # keep the agreement check, drop the raw paths from the JSON
        for runs in results[name].values():
            for x in runs:
                x.pop("result", None)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out}")


def _best(runs: list[dict], key: str = "seconds") -> dict:
    return min(runs, key=lambda x: x[key])


def report(res: dict) -> None:
    if "result" in res["paths"]["ours"][0]:  # absent when --only reuses the last run's path results
        ours_b, base_b = res["paths"]["ours"][0]["result"], res["paths"]["baseline"][0]["result"]
        within = [k for k, v in base_b.items() if v and v[0].count("|") <= 3 and len(v) < MAX_PATHS]
        agree = sum(ours_b[k] == base_b[k] for k in within)
        res["paths_agreement"] = {"pairs_within_3_hops": len(within), "identical_path_sets": agree}
    agree, n_within = res["paths_agreement"]["identical_path_sets"], res["paths_agreement"]["pairs_within_3_hops"]
    rows = []
    for name, unit, n_key in (
        ("ingest", "edges/s", "edges"),
        ("paths", "pairs/s", "pairs"),
        ("paths_unbounded", "pairs/s", "pairs"),
    ):
        for who, runs in res[name].items():
            b = _best(runs)
            rows.append(
                (
                    name,
                    who,
                    f"{b[n_key] / b['seconds']:,.1f} {unit}",
                    f"{b['seconds']:.2f}",
                    max(x["peak_rss_mb"] for x in runs),
                )
            )
    for who, runs in res["link"].items():
        for kind in ("exact", "misspelt"):
            b = min(runs, key=lambda x: x[kind]["seconds"])
            rows.append(
                (
                    f"link {kind}",
                    who,
                    f"{b[kind]['spans'] / b[kind]['seconds']:,.1f} spans/s",
                    f"{b[kind]['seconds']:.2f}",
                    max(x["peak_rss_mb"] for x in runs),
                )
            )
    rounds = ", ".join(f"{k} {v}" for k, v in res["rounds_by_part"].items())
    print(f"\nKG benchmarks on the Hetionet sample ({'quick' if res['quick'] else 'full'}; best of rounds: {rounds})\n")
    print(f"{'what':<18}{'who':<10}{'throughput':>24}{'seconds':>10}{'peak RSS MB':>13}")
    for r in rows:
        print(f"{r[0]:<18}{r[1]:<10}{r[2]:>24}{r[3]:>10}{r[4]:>13}")
    e, m = res["embed"], res["memory_full_size"]
    print(f"\npaths: {agree}/{n_within} pairs within 3 hops have identical shortest-path sets (ours vs networkx)")
    print(
        f"node-name embeddings: {e['names'] / e['seconds']:,.0f} names/s (47,031 names ≈ {47031 * e['seconds'] / e['names']:,.0f} s, once per KG version)"
    )
    print(
        f"full Hetionet size (synthetic, {m['edges']:,} edges): CSR {m['csr_mb']:.0f} MB, built in {m['build_s']:.1f} s, "
        f"peak RSS {m['peak_rss_mb']} MB, {m['path_query_s'] * 1000:.0f} ms per 3-hop path query"
    )


if __name__ == "__main__":
    main()
