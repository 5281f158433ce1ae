"""Teacher annotation: a teacher LLM scores a stratified sample on a medical educational-value rubric through
the generation engine, with structured (JSON-schema) output. Every answer that does not parse and validate is
quarantined with the raw output; nothing becomes a null label.

The engine is the synthesis stage's (`curation.synth.engine.Engine`: in-process vLLM or OpenAI-compatible
servers), behind its content-addressed response cache, so a rerun or a resumed run never pays the teacher twice.
Engine errors (a prompt longer than the context, a server that stays down) are quarantined too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from curation.errors import UserError
from curation.progress import track
from curation.quality.config import TeacherConfig
from curation.quality.edu_model import DOC_TYPES, DOMAINS
from curation.synth.engine import Engine, GenResult, Sampling
from curation.warehouse import Quarantine, ShardWriter, Warehouse, connect
from curation.warehouse.runs import RunRecorder

RUBRIC_VERSION = "med-edu-v1"
BATCH = 64

RUBRIC = """You are rating a biomedical or clinical text for its educational value to a medical student or \
clinician learning medicine. Use this additive rubric and give the final score from 1 to 5:
1: some basic medical information, but mostly administrative, promotional, superficial or off-topic.
2: addresses medical topics but is fragmented, mixes in unrelated content, or is too terse to learn from.
3: coherent and relevant medical content suitable for learning (e.g. a clear abstract with methods and results).
4: highly relevant and well organised: explains mechanisms, evidence or clinical reasoning; few distractions.
5: outstanding teaching value: thorough, clear, evidence-based, like a good review or textbook section.
Also classify the document type (clinical_case: a report of individual patients; study: original research;
review: a review, guideline or overview; other) and the domain (clinical: patient care, diagnosis, treatment;
biomedical: basic or laboratory science, epidemiology without patient care focus; other).
Answer with JSON only: {{"educational_value": 1-5, "doc_type": ..., "domain": ..., "rationale": "<one sentence>"}}.

Text:
\"\"\"
{text}
\"\"\"
"""


class TeacherLabel(BaseModel):
    """What the teacher must return; anything else is a parse failure."""

    model_config = ConfigDict(extra="ignore")
    educational_value: int = Field(ge=1, le=5)
    doc_type: Literal["clinical_case", "study", "review", "other"]
    domain: Literal["clinical", "biomedical", "other"]
    rationale: str = ""


assert get_args(TeacherLabel.model_fields["doc_type"].annotation) == DOC_TYPES
assert get_args(TeacherLabel.model_fields["domain"].annotation) == DOMAINS

JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "educational_value": {"type": "integer", "minimum": 1, "maximum": 5},
        "doc_type": {"type": "string", "enum": list(DOC_TYPES)},
        "domain": {"type": "string", "enum": list(DOMAINS)},
        "rationale": {"type": "string"},
    },
    "required": ["educational_value", "doc_type", "domain", "rationale"],
}


@dataclass(frozen=True)
class SampledDoc:
    doc_id: str
    stratum: str
    text: str


def render_prompt(text: str, max_chars: int) -> tuple[str, str]:
    """(prompt, the cut text the teacher saw)."""
    cut = text[:max_chars]
    return RUBRIC.format(text=cut), cut


def parse_label(result: GenResult) -> TeacherLabel:
    """The engine's parsed object when it has one, else the text as JSON; raises ValueError when unusable."""
    if result.finish_reason == "length":
        raise ValueError("output truncated at max_tokens")
    obj = result.parsed
    if obj is None:
        try:
            obj = json.loads(result.text)
        except json.JSONDecodeError as e:
            raise ValueError(f"not JSON: {e}") from None
    try:
        return TeacherLabel.model_validate(obj)
    except ValidationError as e:
        raise ValueError(f"schema: {e.errors(include_url=False)}") from None


def stratified_sample(wh: Warehouse, cfg: TeacherConfig) -> list[SampledDoc]:
    """Proportional stratified sample of current documents: each stratum is ranked by a seeded hash and strata are
    interleaved by within-stratum rank fraction, so the first N rows hold every stratum in proportion."""
    from curation.quality.corpus import doc_text

    con = connect(wh)
    try:
        rows = con.execute(
            f"""
            WITH s AS (
                SELECT doc_id, title, text, CAST(({cfg.strata}) AS VARCHAR) AS stratum,
                       hash(doc_id || ?) AS h FROM documents_current WHERE length(trim(text)) > 0
            ), r AS (
                SELECT *, row_number() OVER (PARTITION BY stratum ORDER BY h) AS rk,
                       count(*) OVER (PARTITION BY stratum) AS n FROM s
            )
            SELECT doc_id, coalesce(stratum, 'null'), title, left(text, ?) FROM r
            ORDER BY (rk - 0.5) / n, h LIMIT ?
            """,
            [str(cfg.seed), cfg.max_chars, cfg.sample_size],
        ).fetchall()
    finally:
        con.close()
    return [SampledDoc(d, s, doc_text(t, x)) for d, s, t, x in rows]


def annotate(wh: Warehouse, engine: Engine, cfg: TeacherConfig, run: RunRecorder) -> dict[str, int]:
    """Label the stratified sample; one unit of quality_teacher_labels (and its quarantine) per run."""
    sampling = Sampling(temperature=cfg.temperature, top_p=1.0, max_tokens=cfg.max_tokens, seed=cfg.seed)
    model = cfg.model or "unnamed-teacher"
    docs = stratified_sample(wh, cfg)
    unit = run.run_id
    with (
        ShardWriter(wh, "quality_teacher_labels", unit) as writer,
        Quarantine(wh, "score", run.run_id, unit=f"score-teacher-{unit}") as quarantine,
    ):
        steps = range(0, len(docs), BATCH)
        for i in track(steps, len(docs), "docs labelled by teacher", size=lambda i: min(BATCH, len(docs) - i)):
            batch = docs[i : i + BATCH]
            prompts, cuts = zip(*(render_prompt(d.text, cfg.max_chars) for d in batch), strict=True)
            results = engine.generate(list(prompts), sampling, JSON_SCHEMA)
            if len(results) != len(batch):
                raise RuntimeError(f"engine returned {len(results)} results for {len(batch)} prompts")
            for doc, cut, res in zip(batch, cuts, results, strict=True):
                run.count("teacher_prompt_tokens", res.n_prompt_tokens or 0)
                run.count("teacher_output_tokens", res.n_output_tokens or 0)
                if not res.ok:
                    quarantine.add("teacher_engine_error", doc.doc_id, res.text, f"{res.error}: {res.detail}")
                    continue
                try:
                    label = parse_label(res)
                except ValueError as e:
                    quarantine.add("teacher_parse_error", doc.doc_id, res.text, str(e))
                    continue
                writer.write(
                    {
                        "doc_id": doc.doc_id,
                        "stratum": doc.stratum,
                        "text": cut,
                        "teacher_model": model,
                        "rubric_version": RUBRIC_VERSION,
                        "label_edu": label.educational_value,
                        "label_doc_type": label.doc_type,
                        "label_domain": label.domain,
                        "rationale": label.rationale,
                        "n_prompt_tokens": res.n_prompt_tokens,
                        "n_output_tokens": res.n_output_tokens,
                        "run_id": run.run_id,
                    }
                )
    run.add_output("quality_teacher_labels", unit, writer.stats.rows)
    run.quarantined(quarantine.reasons)
    run.set("models", "teacher", {"model": model, "rubric_version": RUBRIC_VERSION, "sampling": sampling.as_dict()})
    return {"sampled": len(docs), "labelled": writer.stats.rows, "quarantined": quarantine.n}


def make_engine(cfg: TeacherConfig, wh: Warehouse) -> Engine:
    """The synthesis stage's engine for the configured teacher, behind the warehouse's response cache (imported
    lazily: only the teacher step needs vLLM or httpx)."""
    from curation.synth.config import SynthConfig
    from curation.synth.stage import open_engine

    if cfg.engine == "vllm" and not cfg.model:
        raise UserError("score.edu.teacher.model is not set: name the teacher LLM (a Hugging Face id or path)")
    if cfg.engine == "openai" and not cfg.base_url:
        raise UserError("score.edu.teacher.engine openai needs base_url (e.g. http://127.0.0.1:8000/v1)")
    synth = SynthConfig(
        engine=cfg.engine,
        model=cfg.model,
        endpoints=[cfg.base_url] if cfg.base_url else [],
        sampling={"temperature": cfg.temperature, "max_tokens": cfg.max_tokens, "seed": cfg.seed},
    )
    return open_engine(synth, wh)
