"""Entity linking of text spans to kg_nodes, as in MedReason: an exact match of the normalised name, then of a
synonym; else the nearest node name by embedding cosine when it is > 0.85; else the top-10 candidates > 0.7 go to
a pluggable chooser (e.g. an LLM; none by default, then the candidates are returned unlinked).

Normalisation: Unicode NFKC, case-folded, runs of whitespace, hyphens, underscores and commas → one space,
surrounding punctuation stripped ("Non-small-cell lung cancer" = "non small cell lung cancer")."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from curation.kg.embed import DEFAULT_ENCODER, encode, node_embeddings
from curation.kg.ingest import kg_version
from curation.warehouse.store import Warehouse

ACCEPT = 0.85
CANDIDATE = 0.7
TOP_K = 10
_SEP = re.compile(r"[\s\-_,]+")
_PUNCT = re.compile(r"[^\w\s'-]")


def normalize(text: str) -> str:
    return _SEP.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip(" .;:()[]{}'\"")


@dataclass
class Candidate:
    node_id: str
    name: str
    score: float


@dataclass
class Link:
    span: str
    node_id: str | None
    node_name: str | None
    method: str  # exact | synonym | embedding | model | candidates | none
    score: float | None
    candidates: list[Candidate] = field(default_factory=list)


Chooser = Callable[[str, list[Candidate]], str | None]


class Linker:
    """Links spans against the warehouse KG, optionally restricted to some node kinds and KG sources (whose
    embeddings are then cached apart from the whole KG's)."""

    def __init__(
        self,
        wh: Warehouse,
        *,
        kinds: list[str] | None = None,
        sources: list[str] | None = None,
        encoder: str = DEFAULT_ENCODER,
        chooser: Chooser | None = None,
        accept: float = ACCEPT,
        candidate: float = CANDIDATE,
        top_k: int = TOP_K,
    ):
        self.wh, self.encoder, self.chooser = wh, encoder, chooser
        self.accept, self.candidate, self.top_k = accept, candidate, top_k
        self.kg_version = kg_version(wh)
        files = [str(f) for f in wh.files("kg_nodes")]
        if not files:
            raise ValueError(f"no knowledge graph in {wh.root}: run `medcurate kg ingest` first")
        t = ds.dataset(files, format="parquet").to_table(columns=["node_id", "name", "kind", "synonyms", "source"])
        # only these nodes are loaded and embedded: a few kinds of a large KG embed fast
        for column, allowed in (("kind", kinds), ("source", sources)):
            if allowed is not None:
                t = t.filter(pc.is_in(t[column], pa.array(allowed, pa.string())))
        t = t.sort_by("node_id")
        self.node_ids: list[str] = t["node_id"].to_pylist()
        self.names: list[str] = t["name"].to_pylist()
        self.exact: dict[str, list[int]] = {}
        self.synonym: dict[str, list[int]] = {}
        for i, (name, syns) in enumerate(zip(self.names, t["synonyms"].to_pylist(), strict=True)):
            self.exact.setdefault(normalize(name), []).append(i)
            for s in syns or []:
                self.synonym.setdefault(normalize(s), []).append(i)
        self._vectors: np.ndarray | None = None
        self.cache_hit: bool | None = None

    @property
    def embedding_version(self) -> str:
        """What the node embeddings depend on: the loaded node ids and names (not the edges, not other kinds), so
        a KG that only gains edges, or nodes of kinds not linked to, keeps its cached embeddings."""
        text = "\x1e".join(f"{i}\x1f{n}" for i, n in zip(self.node_ids, self.names, strict=True))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def vectors(self) -> np.ndarray:
        if self._vectors is None:
            self._vectors, self.cache_hit = node_embeddings(
                self.wh, self.embedding_version, self.node_ids, self.names, self.encoder
            )
        return self._vectors

    def _by_name(self, span: str) -> Link | None:
        key = normalize(span)
        for method, index in (("exact", self.exact), ("synonym", self.synonym)):
            hits = index.get(key)
            if hits:
                cands = [Candidate(self.node_ids[i], self.names[i], 1.0) for i in hits]
                return Link(span, cands[0].node_id, cands[0].name, method, 1.0, cands if len(cands) > 1 else [])
        return None

    def _top(self, vecs: np.ndarray) -> list[list[tuple[int, float]]]:
        """Top-k (index, cosine) per query row, best first: one matrix product per block of queries and a
        partial sort, instead of a full sort of every node per span."""
        out: list[list[tuple[int, float]]] = []
        k = min(self.top_k, len(self.node_ids))
        for lo in range(0, len(vecs), 256):
            scores = vecs[lo : lo + 256] @ self.vectors.T
            if k == 0:
                out += [[] for _ in range(len(scores))]
                continue
            part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            for row, idx in zip(scores, part, strict=True):
                best = idx[np.lexsort((idx, -row[idx]))]  # by score, ties by node order
                out.append([(int(i), float(row[i])) for i in best])
        return out

    def _by_embedding(self, span: str, top: list[tuple[int, float]]) -> Link:
        cands = [Candidate(self.node_ids[i], self.names[i], s) for i, s in top if s > self.candidate]
        if cands and cands[0].score > self.accept:
            return Link(span, cands[0].node_id, cands[0].name, "embedding", cands[0].score, cands)
        if not cands:
            return Link(span, None, None, "none", top[0][1] if top else None)
        if self.chooser is None:
            return Link(span, None, None, "candidates", cands[0].score, cands)
        chosen = self.chooser(span, cands)
        pick = next((c for c in cands if c.node_id == chosen), None)
        if chosen is not None and pick is None:
            raise ValueError(f"chooser returned {chosen!r}, which is not one of the candidates for {span!r}")
        if pick is None:
            return Link(span, None, None, "none", cands[0].score, cands)
        return Link(span, pick.node_id, pick.name, "model", pick.score, cands)

    def link_many(self, spans: list[str]) -> list[Link]:
        """Links in span order; spans without a name match are encoded in one batch."""
        out: list[Link | None] = [self._by_name(s) for s in spans]
        todo = [i for i, link in enumerate(out) if link is None]
        if todo:
            tops = self._top(encode([spans[i] for i in todo], self.encoder))
            for i, top in zip(todo, tops, strict=True):
                out[i] = self._by_embedding(spans[i], top)
        return out  # type: ignore[return-value]

    def mentions(self, text: str, max_words: int = 6, min_chars: int = 4) -> list[str]:
        """Node names and synonyms that occur in free text as whole words (normalised), longest first and not
        overlapping: a dictionary scan, for text no model has extracted entities from."""
        words = normalize(_PUNCT.sub(" ", text)).split()
        found: list[str] = []
        used: set[int] = set()
        for n in range(min(max_words, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                key = " ".join(words[i : i + n])
                if (
                    len(key) >= min_chars
                    and used.isdisjoint(range(i, i + n))
                    and (key in self.exact or key in self.synonym)
                ):
                    found.append(key)
                    used.update(range(i, i + n))
        return found

    def link(self, span: str) -> Link:
        return self.link_many([span])[0]
