"""Dedup benchmarks: accuracy on gold duplicate citations, signature throughput vs datasketch, end-to-end docs/s,
peak RSS at two corpus sizes, recall/false-positive rate on planted near-duplicates, and the same on a corpus where
20 % of the documents carry recurring text (huge band buckets), with the peak RSS of the whole dedup process tree.

    .venv/bin/python bench/dedup.py [--quick] [--only SECTION ...] [--sizes N,..] [--recurring-sizes N,..]

Writes bench/results/dedup.json (with --only, the other sections already there are kept). The synthetic corpus is
generated from the shared PubMed abstracts (word bigram chain, ~1.5 KB per document) with planted variants at known
word-edit rates.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gzip
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from itertools import combinations, pairwise, product
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
EDIT_RATES = (0.01, 0.03, 0.05, 0.10, 0.20)
PLANT_FRACTION = 0.2
RECURRING_FRACTION = 0.2  # documents that carry recurring text (methods template, copyright line)


# ---------- 1. accuracy on the gold-labelled citation records ----------
def _biblio():
    d = SHARED / "dedup_biblio_dev_haematology"
    with open(d / "records_pre_merged.csv", newline="") as f:
        records = list(csv.DictReader(f))
    with open(d / "merged_record_ids.csv", newline="") as f:
        gold = [row["merged_ids"].split(";") for row in csv.DictReader(f)]
    return records, gold


def _pairs(clusters) -> set[tuple[str, str]]:
    return {tuple(sorted(p)) for c in clusters for p in combinations(c, 2)}


def accuracy(quick: bool) -> dict:
    from sklearn.metrics import adjusted_rand_score

    from curation.dedup.config import DedupConfig
    from curation.dedup.near import near_duplicates

    records, gold = _biblio()
    gold_pairs = _pairs(gold)
    ids = [r["ID"] for r in records]

    def labels(clusters):
        lab = {i: i for i in ids}
        for c in clusters:
            for i in c:
                lab[i] = c[0]
        return [lab[i] for i in ids]

    gold_labels = labels([sorted(c) for c in gold])
    field_sets = [("title", "year"), ("title", "author", "year"), ("title", "author", "year", "journal")]
    shingles = [("word", 1), ("word", 2), ("word", 3), ("word", 5), ("char", 5)]
    thresholds = (0.5, 0.6, 0.7, 0.8) if not quick else (0.5, 0.7)
    rows = []
    for fields, (kind, n), th in product(field_sets, shingles, thresholds):
        texts = [(r["ID"], " ".join(r[f] or "" for f in fields)) for r in records]
        cfg = DedupConfig.model_validate({"shingle": {"kind": kind, "n": n, "min_shingles": 1}, "threshold": th})
        pred = near_duplicates(texts, cfg)
        pp = _pairs(pred)
        tp = len(pp & gold_pairs)
        p = tp / len(pp) if pp else 0.0
        r = tp / len(gold_pairs)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        ari = adjusted_rand_score(gold_labels, labels(pred))
        rows.append(
            {
                "fields": "+".join(fields),
                "shingle": f"{kind}-{n}",
                "threshold": th,
                "precision": round(p, 3),
                "recall": round(r, 3),
                "f1": round(f1, 3),
                "ari": round(ari, 3),
                "pred_pairs": len(pp),
            }
        )
    best = max(rows, key=lambda x: x["f1"])
    return {"records": len(records), "gold_pairs": len(gold_pairs), "sweep": rows, "best": best}


# ---------- synthetic corpus from the shared PubMed abstracts ----------
def _abstract_words() -> list[str]:
    from lxml import etree

    words: list[str] = []
    for p in sorted((SHARED / "pubmed_xml").glob("*.xml*")):
        opener = gzip.open if p.suffix == ".gz" else open
        with opener(p, "rb") as f:
            for _, el in etree.iterparse(f, tag="AbstractText", recover=True, resolve_entities=False):
                words.extend("".join(el.itertext()).split())
                el.clear()
    return words


class Corpus:
    """Base documents from a word-bigram chain over the abstracts; every 1/PLANT_FRACTION-th document a variant of
    an earlier base document with a known word-edit rate (substitutions, insertions, deletions)."""

    def __init__(self, seed: int = 7):
        words = _abstract_words()
        self.vocab = sorted(set(words))
        self.next: dict[str, list[str]] = {}
        for a, b in pairwise(words):
            self.next.setdefault(a, []).append(b)
        self.words = words
        self.seed = seed

    def base(self, rng: random.Random, nbytes: int = 1500) -> str:
        w = rng.choice(self.words)
        out, size = [], 0
        while size < nbytes:
            out.append(w)
            size += len(w) + 1
            nxt = self.next.get(w)
            w = rng.choice(nxt) if nxt and rng.random() > 0.05 else rng.choice(self.words)
        return " ".join(out)

    def edit(self, rng: random.Random, text: str, rate: float) -> str:
        words = text.split()
        k = max(1, round(rate * len(words)))
        for _ in range(k):
            i = rng.randrange(len(words))
            op = rng.random()
            if op < 0.6:
                words[i] = rng.choice(self.vocab)
            elif op < 0.8 and len(words) > 1:
                del words[i]
            else:
                words.insert(i, rng.choice(self.vocab))
        return " ".join(words)

    def recurring(self, rng: random.Random) -> tuple[list[str], list[str]]:
        """Recurring text as PubMed abstracts carry it: 20 methods templates (~70 words) and 5 copyright lines
        (~15 words), chosen with Zipf-like weights so the most common ones recur across thousands of documents."""
        return [self.base(rng, 450) for _ in range(20)], [self.base(rng, 100) for _ in range(5)]

    def docs(self, n: int, recurring: bool = False):
        """Yield (doc_id, text, planted_of, edit_rate) deterministically. With `recurring`, RECURRING_FRACTION of
        the base documents end with a methods template and a copyright line (~30 % of their words)."""
        rng = random.Random(self.seed)
        templates, lines = self.recurring(random.Random(self.seed + 1)) if recurring else ([], [])
        tw = [1 / (k + 1) for k in range(len(templates))]
        lw = [1 / (k + 1) for k in range(len(lines))]
        bases: list[tuple[str, str]] = []
        every = round(1 / PLANT_FRACTION)
        for i in range(n):
            doc_id = f"syn:{i:07d}"
            if i % every == every - 1 and bases:
                orig_id, orig = bases[rng.randrange(len(bases))]
                rate = EDIT_RATES[(i // every) % len(EDIT_RATES)]
                yield doc_id, self.edit(rng, orig, rate), orig_id, rate
            else:
                if recurring and rng.random() < RECURRING_FRACTION:
                    extra = rng.choices(templates, tw)[0] + " " + rng.choices(lines, lw)[0]
                    text = self.base(rng, 1050) + " " + extra
                else:
                    text = self.base(rng)
                if len(bases) < 50_000:
                    bases.append((doc_id, text))
                elif rng.random() < 0.1:
                    bases[rng.randrange(len(bases))] = (doc_id, text)
                yield doc_id, text, None, None


# ---------- 2. signature throughput ----------
def throughput(n: int, baseline_n: int, rounds: int = 3) -> dict:
    """Best of `rounds` for the baseline and each of our variants, the variants taking turns within a round: the
    machine's speed drifts, and interleaving exposes all of them to the same conditions."""
    from concurrent.futures import ThreadPoolExecutor

    from datasketch import MinHash

    from curation.dedup.config import DedupConfig
    from curation.dedup.sign import sign_texts
    from curation.dedup.signer import Signer
    from curation.dedup.text import normalize, shingles

    corpus = Corpus()
    texts = [t for _, t, _, _ in corpus.docs(n)]
    out = {"docs": n, "avg_bytes": round(sum(len(t.encode()) for t in texts) / n), "rounds": rounds}
    cfg = DedupConfig()
    batches = [texts[i : i + cfg.batch_size] for i in range(0, n, cfg.batch_size)]
    configs = {name: DedupConfig(minhash={"hash": name}) for name in ("sha1", "xxh32")}

    def baseline() -> None:
        for d in texts[:baseline_n]:
            m = MinHash(num_perm=128)
            m.update_batch([s.encode("utf-8") for s in shingles(normalize(d, cfg.normalize), cfg.shingle)])

    def one_thread(c: DedupConfig) -> None:
        for b in batches:
            sign_texts(b, c)

    def two_threads(c: DedupConfig) -> None:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda b: sign_texts(b, c), batches))

    best: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        # What the stage does with more than one batch pending: 4 shard threads hand batches to 2 processes.
        signers = {name: stack.enter_context(Signer(c, 2)) for name, c in configs.items()}
        pool = stack.enter_context(ThreadPoolExecutor(4))
        for signer in signers.values():
            signer.sign(batches[0][:10])  # pool start-up (one-time, a few seconds) is not signing throughput
        runs = {"datasketch_loop": (baseline, baseline_n)}
        for name, c in configs.items():
            runs[f"ours_{name}_1thread"] = (lambda c=c: one_thread(c), n)
            runs[f"ours_{name}_2threads"] = (lambda c=c: two_threads(c), n)
            runs[f"ours_{name}_2procs"] = (lambda s=signers[name]: list(pool.map(s.sign, batches)), n)
        for _ in range(rounds):
            for key, (fn, docs) in runs.items():
                t = time.perf_counter()
                fn()
                best[key] = max(best.get(key, 0.0), docs / (time.perf_counter() - t))
    for key, docs_s in best.items():
        out[f"{key}_docs_s"] = round(docs_s)
    out["datasketch_loop_docs_measured"] = baseline_n
    for name in ("sha1_1thread", "sha1_2threads", "sha1_2procs", "xxh32_2procs"):
        out[f"speedup_{name}"] = round(best[f"ours_{name}"] / best["datasketch_loop"], 2)
    return out


# ---------- 3 + 4. end to end in a subprocess: docs/s, peak RSS, planted recall and FPR ----------
def _build_warehouse(root: str, n: int, recurring: bool = False) -> None:
    from curation.warehouse import ShardWriter, Warehouse
    from tests.factories import doc_row

    wh = Warehouse(root).ensure()
    corpus = Corpus()
    planted = []
    w = None
    for i, (doc_id, text, orig, rate) in enumerate(corpus.docs(n, recurring)):
        if i % 50_000 == 0:
            if w:
                w.commit()
            w = ShardWriter(wh, "documents", f"syn-{i // 50_000:04d}")
        w.write({**doc_row(doc_id, text, title=None), "record_index": i})
        if orig:
            planted.append((orig, doc_id, rate))
    w.commit()
    Path(root, "planted.json").write_text(json.dumps(planted))


class TreeRSS:
    """Peak RSS of this process plus all its children together (the dedup process tree) and of the largest child
    (a signing worker), sampled every 0.1 s. getrusage's RUSAGE_CHILDREN cannot tell: on Linux a child's
    ru_maxrss starts at its parent's RSS at fork time."""

    def __init__(self) -> None:
        self.tree_mb = self.child_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.wait(0.1):
            total = me.memory_info().rss / 2**20
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    rss = child.memory_info().rss / 2**20
                    total += rss
                    self.child_mb = max(self.child_mb, rss)
            self.tree_mb = max(self.tree_mb, total)

    def __enter__(self) -> TreeRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _run_dedup(root: str, cfg_json: str) -> dict:
    from curation.dedup.config import DedupConfig
    from curation.dedup.stage import run_dedup
    from curation.warehouse import Warehouse, connect, start_run

    wh = Warehouse(root)
    cfg = DedupConfig.model_validate_json(cfg_json)
    sampler = TreeRSS()
    t = time.perf_counter()
    with sampler, start_run(wh, "dedup") as run:
        summary = run_dedup(wh, cfg, run)
    elapsed = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    con = connect(wh)
    n = con.execute("SELECT count(*) FROM annotations_dedup").fetchone()[0]
    planted = json.loads(Path(root, "planted.json").read_text())
    con.execute("CREATE TEMP TABLE planted (a VARCHAR, b VARCHAR, rate DOUBLE)")
    con.executemany("INSERT INTO planted VALUES (?, ?, ?)", planted)
    per_rate = con.execute(
        "SELECT rate, count(*), avg(CASE WHEN x.dup_cluster_id = y.dup_cluster_id THEN 1.0 ELSE 0.0 END) "
        "FROM planted p JOIN annotations_dedup x ON x.doc_id = p.a JOIN annotations_dedup y ON y.doc_id = p.b "
        "GROUP BY rate ORDER BY rate"
    ).fetchall()
    # unrelated pairs: base documents (not planted variants, not originals of a variant), random pairs
    fp = con.execute(
        "WITH u AS (SELECT doc_id, dup_cluster_id, row_number() OVER (ORDER BY hash(doc_id)) AS k FROM annotations_dedup "
        "WHERE doc_id NOT IN (SELECT a FROM planted) AND doc_id NOT IN (SELECT b FROM planted)), "
        "p AS (SELECT x.dup_cluster_id = y.dup_cluster_id AS same FROM u x JOIN u y ON x.k < y.k "
        "WHERE x.k <= 2000 AND y.k <= 2000) "
        "SELECT count(*), avg(CASE WHEN same THEN 1.0 ELSE 0.0 END) FROM p"
    ).fetchone()
    return {
        "docs": n,
        "seconds": round(elapsed, 1),
        "docs_per_s": round(n / elapsed),
        "peak_rss_mb": round(rss),
        "worker_peak_rss_mb": round(sampler.child_mb),  # sampled
        "tree_peak_rss_mb": round(max(sampler.tree_mb, rss)),  # sampled, at least the main process's own peak
        "memory_limit": cfg.memory_limit,
        "sign_processes": run.snapshot()["extra"].get("sign_processes"),
        "peak_rss_mb_after_phase": run.snapshot()["extra"].get("peak_rss_mb"),
        "summary": {k: v for k, v in summary.items() if isinstance(v, int)},
        "planted_recall": {str(r): {"pairs": c, "recall": round(float(v), 4)} for r, c, v in per_rate},
        "unrelated_pairs": fp[0],
        "unrelated_fpr": round(float(fp[1] or 0), 5),
    }


def end_to_end(n: int, cfg_json: str, recurring: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as d:
        subprocess.run([sys.executable, __file__, "--build", d, str(n)] + ["--recurring"] * recurring, check=True)
        r = subprocess.run(
            [sys.executable, __file__, "--dedup", d, cfg_json], check=True, capture_output=True, text=True
        )
        return json.loads(r.stdout.strip().splitlines()[-1])


def _table(title: str, rows: list[dict]) -> None:
    print(f"\n## {title}")
    if not rows:
        return
    cols = list(rows[0])
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")


SECTIONS = ("accuracy", "throughput", "end_to_end", "recurring")


def _e2e_row(r: dict) -> dict:
    s = r["summary"]
    return {
        "docs": r["docs"],
        "seconds": r["seconds"],
        "docs_per_s": r["docs_per_s"],
        "peak_rss_mb": r["peak_rss_mb"],
        "tree_peak_rss_mb": r["tree_peak_rss_mb"],
        "worker_peak_rss_mb": r["worker_peak_rss_mb"],
        "candidates": s.get("candidates"),
        "buckets_capped": s.get("buckets_capped"),
        "duplicates": s.get("duplicates"),
        "unrelated_fpr": r["unrelated_fpr"],
    }


def _bound_mb(memory_limit: str) -> int:
    """The recurring corpus's target in MiB: memory_limit + 0.5 of its unit (DuckDB reads "GB" as 10^9 bytes, "GiB"
    as 2^30), so 1,430 MiB at the default 1GB (docs/dedup.md)."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT])(i?)B", memory_limit)
    assert m, memory_limit
    num, unit, binary = m.groups()
    base = 1024 if binary else 1000
    return int((float(num) * base ** ("KMGT".index(unit) + 1) + 0.5 * base**3) / 2**20)


def _recurring_row(r: dict) -> dict:
    bound = _bound_mb(r["memory_limit"])
    return {**_e2e_row(r), "bound_mb": bound, "within_bound": r["tree_peak_rss_mb"] <= bound}


def _recall_row(r: dict) -> dict:
    return {
        "docs": r["docs"],
        **{f"edit {k}": v["recall"] for k, v in r["planted_recall"].items()},
        "unrelated_pairs": r["unrelated_pairs"],
        "fpr": r["unrelated_fpr"],
    }


def _sizes(arg: str | None, default: list[int]) -> list[int]:
    return [int(s) for s in arg.split(",")] if arg else default


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--build", nargs=2)
    ap.add_argument("--recurring", action="store_true", help="with --build: the recurring-text corpus")
    ap.add_argument("--dedup", nargs=2)
    ap.add_argument("--sizes", default=None, help="comma-separated corpus sizes for end-to-end runs")
    ap.add_argument("--recurring-sizes", default=None, help="comma-separated sizes for the recurring-text corpus")
    ap.add_argument("--only", action="append", choices=SECTIONS, help="run only these sections (repeatable)")
    args = ap.parse_args()
    if args.build:
        return _build_warehouse(args.build[0], int(args.build[1]), args.recurring)
    if args.dedup:
        print(json.dumps(_run_dedup(*args.dedup)))
        return
    from curation.dedup.config import DedupConfig

    sections = args.only or SECTIONS
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "dedup.json"
    results: dict = json.loads(path.read_text()) if args.only and path.exists() else {}
    results["quick"] = args.quick
    if "accuracy" in sections:
        results["accuracy"] = accuracy(args.quick)
        _table("1. accuracy: haematology gold citations (pairwise P/R/F1, ARI)", results["accuracy"]["sweep"])
        print("best:", results["accuracy"]["best"])
    if "throughput" in sections:
        n_tp = 4_000 if args.quick else 20_000
        results["throughput"] = throughput(n_tp, 1_000 if args.quick else 3_000)
        _table("2. signature throughput (docs/s)", [results["throughput"]])
    cfg = DedupConfig()
    results["default_config"] = {
        "shingle": cfg.shingle.model_dump(),
        "threshold": cfg.threshold,
        "bands_rows": cfg.band_params(),
        "num_perm": cfg.minhash.num_perm,
        "max_bucket": cfg.max_bucket,
        "memory_limit": cfg.memory_limit,
    }
    if "end_to_end" in sections:
        sizes = _sizes(args.sizes, [5_000, 20_000] if args.quick else [20_000, 200_000])
        results["end_to_end"] = [end_to_end(n, cfg.model_dump_json()) for n in sizes]
        _table("3. end to end (default config)", [_e2e_row(r) for r in results["end_to_end"]])
        _table("4. planted near-duplicates: recall by word-edit rate", [_recall_row(r) for r in results["end_to_end"]])
    if "recurring" in sections:
        # 20 % of the documents carry recurring text: huge band buckets. Target: the dedup process tree's peak RSS
        # within memory_limit + 0.5 GB.
        sizes = _sizes(args.recurring_sizes, [20_000] if args.quick else [200_000])
        runs = [end_to_end(n, cfg.model_dump_json(), recurring=True) for n in sizes]
        # runs at other sizes already recorded are kept: a 1M run takes hours and is run on its own
        kept = [r for r in results.get("recurring", []) if r["docs"] not in sizes]
        runs = sorted(kept + runs, key=lambda r: r["docs"])
        results["recurring"] = runs
        _table("5. recurring-text corpus (20 % of documents), default config", [_recurring_row(r) for r in runs])
        _table("6. recurring-text corpus: planted recall by word-edit rate", [_recall_row(r) for r in runs])
    path.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
