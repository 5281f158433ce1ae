"""Decontamination benchmark: recall on evaluation items planted in clean documents, false-positive rate on clean
documents, and docs/s, for medcurate's index (pmid + hashed n-grams + fuzzy short items) against a naive baseline
(a Python set of 13-gram word tuples, the textbook GPT-3-style check).

Evaluation items: the shared MedQA, MedMCQA, PubMedQA (PQA-L) and MMLU-medical files (every row counts as an eval
item here). Clean documents: PubMed abstracts from the shared PubMed XML (extracted with lxml) and documents
built by mixing their sentences (to reach a realistic corpus size). PubMedQA contexts ARE PubMed abstracts: an
abstract whose PMID is a PQA-L PMID is a true positive, so such abstracts are removed from the clean pool and
reported separately (caught by the pmid rule and, without the PMID, by the n-gram rule on the indexed context).

Planted documents: one item question (of at least short_n = 6 words) inserted at a sentence boundary of a clean document, either verbatim or
lightly edited (case changes, punctuation dropped or changed, doubled whitespace, typographic quotes and dashes;
items of at least 26 words also get one word replaced per 25 words). "recall all" covers these. A harder variant,
reported separately, replaces the middle word of every item ("word-edit"). Items under 6 words ("Axonal transport is:")
cannot be told apart from ordinary prose inside a document; they are planted as standalone short records (how a
synthetic question would look) and reported as separate rows.

    python bench/decontam.py [--quick] [--clean N] [--seed S]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import re
import sys
import time
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from curation.decontam.config import DecontamConfig  # noqa: E402
from curation.decontam.index import EvalIndex  # noqa: E402
from curation.decontam.normalize import words  # noqa: E402
from curation.decontam.rules import match_text  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def load_items(shared: Path) -> list[dict]:
    """Items via the ingest parsers where this checkout has them; otherwise the files' documented layouts."""
    from curation.ingest.formats import get_format
    from curation.ingest.items import Record

    def parsed(fmt: str, path: Path, split: str, options: dict | None = None) -> list[dict] | None:
        try:
            spec = get_format(fmt)
            opts = spec.options(options or {})
            return [it.row for it in spec.parser()(path, opts, split) if isinstance(it, Record)]
        except ImportError:
            return None

    items: list[dict] = []
    medqa = next((shared / "medqa_usmle").glob("*.jsonl"))
    items += parsed("medqa", medqa, "test") or []
    medmcqa = next((shared / "medmcqa").glob("*.jsonl"))
    rows = parsed("medmcqa", medmcqa, "validation", {"cop_base": 1})  # SOURCE.md: cop 1-4 -> opa..opd
    if rows is None:
        rows = [
            {"item_id": f"medmcqa:validation:{o['id']}", "benchmark": "medmcqa", "question": o["question"]}
            for o in map(json.loads, medmcqa.read_text().splitlines())
            if o.get("question")
        ]
    items += rows
    pqal = next((shared / "pubmedqa").glob("*.json"))
    rows = parsed("pubmedqa", pqal, "test")
    if rows is None:
        rows = [
            {
                "item_id": f"pubmedqa:test:{pmid}",
                "benchmark": "pubmedqa",
                "question": o["QUESTION"],
                "context": "\n\n".join(o["CONTEXTS"]),
                "pmid": pmid,
            }
            for pmid, o in json.loads(pqal.read_text()).items()
        ]
    items += rows
    for f in sorted((shared / "mmlu_medical").glob("*.csv")):
        rows = parsed("mmlu", f, "test")
        if rows is None:
            with f.open(newline="") as fh:
                rows = [
                    {"item_id": f"mmlu:test:{f.stem}:{i}", "benchmark": "mmlu", "question": r[0]}
                    for i, r in enumerate(csv.reader(fh))
                ]
        items += rows
    return items


def load_abstracts(shared: Path) -> list[tuple[str, str]]:
    """(PMID, abstract text) from every shared PubMed XML file."""
    out = {}
    for f in sorted((shared / "pubmed_xml").glob("*.xml*")):
        data = gzip.decompress(f.read_bytes()) if f.suffix == ".gz" else f.read_bytes()
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
        for art in root.iter("PubmedArticle"):
            pmid = art.findtext("MedlineCitation/PMID")
            parts = ["".join(a.itertext()).strip() for a in art.iterfind(".//Abstract/AbstractText")]
            text = " ".join(p for p in parts if p)
            if pmid and len(text.split()) >= 40:
                out[pmid] = text
    return sorted(out.items())


def mixed_docs(abstracts: list[str], n: int, rng: random.Random) -> list[str]:
    """Clean documents of ~1.5 KB: abstracts, then documents of sentences drawn from different abstracts."""
    sentences = [s for a in abstracts for s in _SENT.split(a) if len(s.split()) >= 5]
    docs = list(abstracts[:n])
    while len(docs) < n:
        doc, size = [], 0
        while size < 1500:
            s = rng.choice(sentences)
            doc.append(s)
            size += len(s) + 1
        docs.append(" ".join(doc))
    return docs


_SUBS = {'"': "“", "'": "’", "-": "–"}


def light_edit(text: str, rng: random.Random) -> str:
    t = "".join(_SUBS.get(c, c) for c in text)
    t = re.sub(r"[,;:?]", lambda m: rng.choice(["", " ,", ";", m.group(0) * 2]), t)
    t = " ".join(w.upper() if rng.random() < 0.15 else (w.lower() if rng.random() < 0.15 else w) for w in t.split())
    t = t.replace(" ", "  ", 3)
    ws = t.split(" ")
    if len(words(text)) >= 26:
        for i in range(12, len(ws), 25):
            ws[i] = rng.choice(["notably", "reportedly", "indeed"])
    return " ".join(ws)


def word_edit(text: str) -> str:
    """A harder edit, reported separately: the middle word replaced (kills every n-gram that spans it)."""
    ws = text.split()
    ws[len(ws) // 2] = "notably"
    return " ".join(ws)


def plant(doc: str, item_text: str, rng: random.Random) -> str:
    sents = _SENT.split(doc)
    k = rng.randrange(len(sents) + 1)
    return " ".join([*sents[:k], item_text, *sents[k:]])


class NaiveIndex:
    """Baseline: a dict of 13-gram word tuples (lower-cased, punctuation-stripped) -> item; any hit flags."""

    def __init__(self, items: list[dict], n: int = 13):
        self.n, self.grams = n, {}
        for it in items:
            for field in ("question", "context"):
                ws = words(it.get(field))
                for i in range(len(ws) - n + 1):
                    self.grams.setdefault(tuple(ws[i : i + n]), it["item_id"])

    def match(self, text: str) -> str | None:
        ws = words(text)
        for i in range(len(ws) - self.n + 1):
            hit = self.grams.get(tuple(ws[i : i + self.n]))
            if hit:
                return hit
        return None


def run(n_clean: int, seed: int) -> dict:
    rng = random.Random(seed)
    items = load_items(SHARED)
    pqal_pmids = {str(it["pmid"]) for it in items if it.get("benchmark") == "pubmedqa" and it.get("pmid")}
    abstracts = load_abstracts(SHARED)
    true_pos = [(p, t) for p, t in abstracts if p in pqal_pmids]
    clean_abstracts = [t for p, t in abstracts if p not in pqal_pmids]
    clean = mixed_docs(clean_abstracts, n_clean, rng)
    short_n = DecontamConfig().short_n
    planted = []
    for it in items:
        base = rng.choice(clean)
        if len(words(it["question"])) >= short_n:
            planted.append((it, "verbatim", plant(base, it["question"], rng)))
            planted.append((it, "edited", plant(base, light_edit(it["question"], rng), rng)))
            planted.append((it, "word-edit", plant(base, word_edit(it["question"]), rng)))
        else:  # too short to find inside a document without flagging ordinary prose: checked as a short record
            planted.append((it, "verbatim-record", it["question"]))
            planted.append((it, "edited-record", light_edit(it["question"], rng)))
            planted.append((it, "word-edit-record", word_edit(it["question"])))

    t = time.perf_counter()
    index = EvalIndex.from_items(items, DecontamConfig())
    t_index = time.perf_counter() - t
    t = time.perf_counter()
    naive = NaiveIndex(items)
    t_naive_index = time.perf_counter() - t

    all_docs = clean + [d for _, _, d in planted]
    t = time.perf_counter()
    ours = [match_text(d, index) for d in all_docs]
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    base = [naive.match(d) for d in all_docs]
    t_base = time.perf_counter() - t

    nc = len(clean)
    res = {
        "items": len(items),
        "clean_docs": nc,
        "planted_docs": len(planted),
        "index": index.stats(),
        "index_build_s": round(t_index, 3),
        "naive_index_build_s": round(t_naive_index, 3),
        "methods": {},
    }
    for name, flags, items_of, secs in (
        ("medcurate", [m.contaminated for m in ours], [m.contam_item_id for m in ours], t_ours),
        ("naive-13gram-set", [b is not None for b in base], base, t_base),
    ):
        fp = sum(flags[:nc])
        row = {"fp": fp, "fp_rate": fp / nc, "docs_per_s": round(len(all_docs) / secs, 1), "recall": {}}
        for kind in ("verbatim", "edited", "verbatim-record", "edited-record", "word-edit", "word-edit-record"):
            for bench in [*sorted({it["benchmark"] for it in items}), "all"]:
                sel = [
                    nc + i
                    for i, (it, k, _) in enumerate(planted)
                    if k == kind and (bench == "all" or it["benchmark"] == bench)
                ]
                if sel:
                    row["recall"][f"{kind}/{bench}"] = sum(flags[i] for i in sel) / len(sel)
        sel = [nc + i for i, p in enumerate(planted) if not p[1].startswith("word-edit")]
        row["recall_all"] = sum(flags[i] for i in sel) / len(sel)
        row["same_item"] = sum(items_of[i] == planted[i - nc][0]["item_id"] for i in sel if flags[i]) / max(
            1, sum(flags[i] for i in sel)
        )
        res["methods"][name] = row
    res["rules"] = {}
    for m in ours[nc:]:
        res["rules"][m.contam_rule or "missed"] = res["rules"].get(m.contam_rule or "missed", 0) + 1
    res["fp_examples"] = [
        {"doc": all_docs[i][:200], "item": ours[i].contam_item_id, "rule": ours[i].contam_rule}
        for i in range(nc)
        if ours[i].contaminated
    ][:5]
    res["missed_examples"] = [
        {"item": planted[i][0]["question"][:160], "kind": planted[i][1]}
        for i in range(len(planted))
        if not ours[nc + i].contaminated
    ][:10]
    contexts = [it["context"] for it in items if it.get("benchmark") == "pubmedqa" and it.get("context")]
    res["pubmedqa_contexts_as_documents"] = {  # PQA-L abstracts arriving without a PMID (e.g. another source)
        "n": len(contexts),
        "flagged": sum(match_text(c, index).contaminated for c in contexts),
    }
    res["pubmedqa_abstracts_in_clean_pool"] = {
        "n": len(true_pos),
        "flagged_by_pmid": sum(match_text(tx, index, p).contam_rule == "pmid" for p, tx in true_pos),
        "flagged_without_pmid": sum(match_text(tx, index).contaminated for _, tx in true_pos),
    }
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2,000 clean documents instead of 20,000")
    ap.add_argument("--clean", type=int, default=None)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"shared data not found at {SHARED}")
    res = run(args.clean or (2_000 if args.quick else 20_000), args.seed)
    res["args"] = vars(args)
    print(
        f"{res['items']} eval items, {res['clean_docs']} clean docs, {res['planted_docs']} planted docs; "
        f"index {res['index']['long_ngrams']} long + {res['index']['short_ngrams']} short n-grams "
        f"built in {res['index_build_s']} s"
    )
    head = (
        f"{'method':18} {'recall verb.':>12} {'recall edit':>12} {'rec. rec-v':>12} {'rec. rec-e':>12} "
        f"{'word-edit':>10} {'recall all':>10} {'FP rate':>9} {'docs/s':>9}"
    )
    print(head + "\n" + "-" * len(head))
    for name, r in res["methods"].items():
        print(
            f"{name:18} {r['recall']['verbatim/all']:12.4f} {r['recall']['edited/all']:12.4f} "
            f"{r['recall'].get('verbatim-record/all', 0):12.4f} {r['recall'].get('edited-record/all', 0):12.4f} "
            f"{r['recall'].get('word-edit/all', 0):10.4f} "
            f"{r['recall_all']:10.4f} {r['fp_rate']:9.5f} {r['docs_per_s']:9.0f}"
        )
    print("\nrecall by benchmark (medcurate | naive):")
    ours, naive = res["methods"]["medcurate"]["recall"], res["methods"]["naive-13gram-set"]["recall"]
    for k in ours:
        print(f"  {k:28} {ours[k]:.4f} | {naive.get(k, 0):.4f}")
    print(f"rules on planted docs: {res['rules']}")
    print(f"PubMedQA abstracts in the PubMed sample (true positives): {res['pubmedqa_abstracts_in_clean_pool']}")
    print(f"PubMedQA contexts checked as documents without PMID: {res['pubmedqa_contexts_as_documents']}")
    out = ROOT / "bench" / "results" / "decontam.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
