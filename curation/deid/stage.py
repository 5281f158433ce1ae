"""The `deid` stage body: every raw note that has no de-identified version yet gets one.

The de-identified note is written to `documents` as the next version of the same work (doc_id
`<source>:<note_id>.deid`, phi_status `deidentified`), so `documents_current` holds it instead of the raw note and
later stages never see raw text. Its spans go to `phi_spans`. Raw values stay in the raw note only: the new
document's meta carries a patient pseudonym, the date is shifted, quarantine rows carry no payload.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import time
from collections import Counter
from typing import Any, Literal

from pydantic import Field

from curation.batches import rechunk
from curation.config_base import StrictModel
from curation.deid.config import DeidConfig, DeidLLMConfig
from curation.deid.deidentify import deidentify
from curation.deid.guard import RAW
from curation.deid.llm import PROMPT_VERSION, LLMStats, llm_spans
from curation.deid.spans import Span
from curation.deid.surrogates import Surrogates
from curation.ingest.runner import content_sha256
from curation.progress import tracker
from curation.stages import STAGES, Stage, StageContext
from curation.synth.engine import Engine, Sampling
from curation.warehouse import Quarantine, RunRecorder, ShardWriter, Warehouse, connect

STAGE = "deid"
DEID_SUFFIX = ".deid"
UNIT_PREFIX = "deid-"
_SECRET_FILE = ".deid_secret"
_COLUMNS = (
    "doc_id, work_id, source, source_id, version, text, license, license_url, commercial_use, published, "
    "source_file, source_file_sha256, record_index, source_ref, meta"
)


def load_secret(wh: Warehouse, cfg: DeidConfig) -> str:
    """The HMAC key: from the environment variable, else the warehouse's own key (created once, mode 600)."""
    if os.environ.get(cfg.secret_env):
        return os.environ[cfg.secret_env]
    path = wh.root / _SECRET_FILE
    if not path.exists():
        wh.ensure()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def patient_key(secret: str, patient_id: str | None, doc_id: str) -> str:
    """A pseudonym for the patient (a note without a patient id is its own patient)."""
    ident = f"patient:{patient_id}" if patient_id else f"note:{doc_id}"
    return hmac.new(secret.encode(), ident.encode(), hashlib.sha256).hexdigest()[:16]


def _pending_sql(force: bool) -> str:
    done = "" if force else f" AND doc_id || '{DEID_SUFFIX}' NOT IN (SELECT doc_id FROM documents)"
    return f"SELECT {_COLUMNS} FROM documents_latest WHERE phi_status = '{RAW}'{done} ORDER BY doc_id"


def remove_outputs(wh: Warehouse) -> list[str]:
    """Every unit an earlier deid run wrote (for --force)."""
    removed = []
    for table in ("documents", "phi_spans"):
        for unit in wh.units(table):
            if unit.startswith(UNIT_PREFIX) and wh.remove_unit(table, unit):
                removed.append(f"{table}/{unit}")
    for unit in wh.units("quarantine"):
        if unit.startswith(f"{STAGE}-") and wh.remove_unit("quarantine", unit):
            removed.append(f"quarantine/{unit}")
    return removed


def _deid_row(raw: dict[str, Any], text: str, patient: str, offset: int, run_id: str, n_spans: int) -> dict[str, Any]:
    meta = json.loads(raw["meta"]) if isinstance(raw["meta"], str) else raw["meta"] or {}
    published = raw["published"] + dt.timedelta(days=offset) if raw["published"] else None
    source_id = raw["source_id"] + DEID_SUFFIX
    return {
        **{k: raw[k] for k in ("work_id", "source", "license", "license_url", "commercial_use", "source_file")},
        **{k: raw[k] for k in ("source_file_sha256", "record_index", "source_ref")},
        "doc_id": f"{raw['source']}:{source_id}",
        "source_id": source_id,
        "version": raw["version"] + 1,
        "text": text,
        "published": published,
        "content_sha256": content_sha256(None, text),
        "phi_status": "deidentified",
        "run_id": run_id,
        "meta": {"patient": patient, "deid_of": raw["doc_id"], "phi_spans": n_spans, "category": meta.get("category")},
    }


def open_llm(cfg: DeidLLMConfig) -> Engine:
    """The LLM recognizer's engine, without the response cache (it would store raw notes)."""
    from curation.synth.config import SynthConfig
    from curation.synth.recipe.pool import configured_engine

    return configured_engine(
        SynthConfig(engine=cfg.engine, model=cfg.model, endpoints=cfg.endpoints, max_model_len=cfg.max_model_len)
    )


def _llm_batches(engine: Engine, cfg: DeidLLMConfig, texts: list[str], stats: LLMStats) -> list[list[Span]]:
    sampling = Sampling(temperature=0.0, top_p=1.0, max_tokens=cfg.max_tokens)
    out: list[list[Span]] = []
    for i in range(0, len(texts), cfg.batch_size):
        out += llm_spans(engine, texts[i : i + cfg.batch_size], sampling, stats)
    return out


def run_deid(
    wh: Warehouse, cfg: DeidConfig, run: RunRecorder, *, force: bool = False, engine: Engine | None = None
) -> dict[str, Any]:
    """De-identify pending raw notes; returns the counts (also recorded on `run`). With `cfg.llm`, the LLM
    recognizer runs through `engine` (opened from cfg.llm when not given, closed at the end)."""
    owned = open_llm(cfg.llm) if cfg.llm is not None and engine is None else None
    try:
        return _run(wh, cfg, run, force, (engine or owned) if cfg.llm else None)
    finally:
        if owned is not None:
            owned.close()


def _run(wh: Warehouse, cfg: DeidConfig, run: RunRecorder, force: bool, engine: Engine | None) -> dict[str, Any]:
    if force:
        run.set("extra", "removed_units", remove_outputs(wh))
    secret = load_secret(wh, cfg)
    con = connect(wh)
    by_class: Counter[str] = Counter()
    notes = spans = without_phi = 0
    t0 = time.perf_counter()
    quarantine = Quarantine(wh, STAGE, run.run_id)
    llm_stats = LLMStats()
    pending = con.sql(f"SELECT count(*) FROM ({_pending_sql(force)})").fetchall()[0][0]
    reader = con.sql(_pending_sql(force)).to_arrow_reader(cfg.batch_rows)
    bar = tracker(pending, "notes")
    for k, batch in enumerate(rechunk(reader, cfg.batch_rows)):
        unit = f"{UNIT_PREFIX}{run.run_id}-{k:05d}"
        raws = batch.to_pylist()
        texts = [r["text"] for r in raws]
        extra = _llm_batches(engine, cfg.llm, texts, llm_stats) if engine and cfg.llm else [[]] * len(raws)
        with ShardWriter(wh, "documents", unit) as docs, ShardWriter(wh, "phi_spans", unit) as span_rows:
            for raw, llm_found in zip(raws, extra, strict=True):
                meta = json.loads(raw["meta"]) if isinstance(raw["meta"], str) else raw["meta"] or {}
                patient = patient_key(secret, meta.get("patient_id"), raw["doc_id"])
                sur = Surrogates(secret, patient, placeholders=cfg.replace == "placeholder", shift_days=cfg.shift_days)
                try:
                    result = deidentify(raw["text"], sur, cfg.recognizers, cfg.min_confidence, llm_found)
                except Exception as e:  # a recognizer bug must not stop the run, nor put the note in quarantine
                    quarantine.add("deid_error", raw["doc_id"], None, f"{type(e).__name__}")
                    continue
                row = _deid_row(raw, result.text, patient, sur.offset, run.run_id, len(result.spans))
                docs.write(row)
                for i, r in enumerate(result.spans):
                    s = r.span
                    span_rows.write(
                        {
                            "doc_id": raw["doc_id"],
                            "deid_doc_id": row["doc_id"],
                            "span_index": i,
                            "phi_class": s.phi_class,
                            "start": s.start,
                            "end": s.end,
                            "out_start": r.out_start,
                            "out_end": r.out_end,
                            "method": s.method,
                            "confidence": s.confidence,
                            "run_id": run.run_id,
                        }
                    )
                    by_class[s.phi_class] += 1
                notes += 1
                spans += len(result.spans)
                without_phi += not result.spans
        run.add_output("documents", unit, docs.stats.rows)
        run.add_output("phi_spans", unit, span_rows.stats.rows)
        bar.advance(len(raws), rows=docs.stats.rows)
    bar.close()
    quarantine.commit()
    run.quarantined(quarantine.reasons)
    seconds = time.perf_counter() - t0
    counts = {
        "notes": notes,
        "spans": spans,
        "notes_without_phi": without_phi,
        "quarantined": quarantine.n,
        "notes_per_s": round(notes / seconds, 1) if seconds else 0.0,
        **{f"spans_{c}": n for c, n in sorted(by_class.items())},
        **(llm_stats.as_dict() if engine else {}),
    }
    for name, n in counts.items():
        if isinstance(n, int):
            run.count(f"deid.{name}", n)
    run.set(
        "extra", "deid", {"recognizers": cfg.recognizers, "replace": cfg.replace, "notes_per_s": counts["notes_per_s"]}
    )
    if engine:
        run.set("models", "deid_llm", {"model": engine.model_id, "prompt_version": PROMPT_VERSION})
    return counts


class DeidParams(StrictModel):
    recognizers: Literal["pattern", "full"] | None = Field(
        None, description="pattern | full (default: deid.recognizers)"
    )
    replace: Literal["surrogate", "placeholder"] | None = Field(None, description="surrogate | placeholder")
    force: bool = Field(False, description="redo every raw note (removes earlier deid outputs)")


def run(ctx: StageContext) -> dict[str, Any]:
    p: DeidParams = ctx.params
    overrides = {k: v for k, v in {"recognizers": p.recognizers, "replace": p.replace}.items() if v}
    cfg = ctx.config.model_copy(update=overrides) if overrides else ctx.config
    return run_deid(ctx.warehouse, cfg, ctx.run, force=p.force, engine=ctx.engine)


def _summary(c: dict[str, Any]) -> str:
    by_class = ", ".join(f"{k.removeprefix('spans_')} {v}" for k, v in c.items() if k.startswith("spans_"))
    return (
        f"{c['notes']} notes de-identified, {c['spans']} PHI spans{f' ({by_class})' if by_class else ''}, "
        f"{c['notes_without_phi']} without PHI, {c['quarantined']} quarantined, {c['notes_per_s']} notes/s"
    )


STAGES.register(
    Stage(
        name=STAGE,
        order=15,  # right after ingest: until it runs, raw notes are current documents other stages would read
        run=run,
        config=DeidConfig,
        params=DeidParams,
        description="de-identify raw clinical notes (HIPAA Safe Harbor classes, consistent surrogates, date shifts)",
        reads=("documents_current",),
        writes=("documents", "phi_spans"),
        threads=lambda cfg: 1,
        commands="curation.deid.cli:register",
        summary=_summary,
    )
)
