"""A task declared in the manifest (`synth.define.<name>`): the same Task contract as the built-in classes, filled
from the spec: inputs from passages, benchmark items or SQL; a Jinja2 prompt; JSON or extracted output; the check
registry; k samples per input with a keep rule; an `_items` side table of passes per input."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curation.records.jsonschema import with_record_schemas
from curation.synth.engine import Engine, GenResult, Sampling
from curation.synth.recipe.checks import Check, Verdict, make_check
from curation.synth.recipe.extractors import Extractor, make_extractor
from curation.synth.recipe.templates import PromptTemplate, load_template
from curation.synth.tasks.base import Choice, Context, Rejection, Sample, Task
from curation.synth.tasks.item_inputs import item_rows
from curation.synth.tasks.passage_inputs import passage_rows
from curation.warehouse import Warehouse, connect

if TYPE_CHECKING:
    from curation.synth.config import DeclaredTaskConfig, GateConfig, SynthConfig
    from curation.synth.recipe.pool import EnginePool

ITEMS_SUFFIX = "_items"


def load_json_schema(spec: dict[str, Any] | str, base_dir: Path) -> dict[str, Any]:
    """The output schema, inline or a file; `{record_schema: ...}` nodes become the record's JSON schema."""
    from curation.synth.recipe.templates import TemplateError

    if isinstance(spec, dict):
        return with_record_schemas(spec, base_dir)
    path = base_dir / spec
    try:
        schema = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise TemplateError(f"output schema {path}: {e}") from None
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise TemplateError(f"output schema {path}: the top level must be a JSON object schema (type: object)")
    return with_record_schemas(schema, base_dir)


def _stripped(v: Any) -> Any:
    return v.strip() if isinstance(v, str) else v


class DeclaredTask(Task):
    """One manifest-declared task. `bind(pool)` gives it the engines its model checks use."""

    uses_passages = False

    def __init__(self, cfg: SynthConfig, name: str, spec: DeclaredTaskConfig, base_dir: Path, where: str = ""):
        self.cfg = cfg
        self.name = name  # type: ignore[misc]  # per instance: many declared tasks share this class
        self.where = where or f"synth.define.{name}"  # the spec's key path, for errors
        self.spec = spec
        self.base_dir = base_dir
        self.table = spec.table or f"synthetic_{name}"  # type: ignore[misc]
        self.uses_passages = spec.input.passages  # type: ignore[misc]
        self.template: PromptTemplate = load_template(base_dir / spec.prompt)
        self.json_schema = load_json_schema(spec.output.json_schema, base_dir) if spec.output.json_schema else None
        self.extractor: Extractor | None = make_extractor(spec.output.extractor) if spec.output.extractor else None
        self.checks: list[Check] = [c for c in (make_check(s, base_dir) for s in spec.checks) if c is not None]
        self.pool: EnginePool | None = None
        self.counter: Callable[[str], int] | None = None
        self.context_len: int | None = None

    @property
    def items_table(self) -> str:
        return self.table + ITEMS_SUFFIX

    def bind(self, pool: EnginePool) -> None:
        self.pool = pool

    @property
    def task_cfg(self) -> DeclaredTaskConfig:
        return self.spec

    @property
    def prompt_version(self) -> str:
        return self.template.version

    @property
    def gate(self) -> GateConfig:
        return self.spec.gate

    @property
    def n_samples(self) -> int:
        return self.spec.samples

    @property
    def limit(self) -> int | None:
        return self.spec.input.limit

    def sampling(self, default: Sampling) -> Sampling:
        model = self.pool.settings(self.spec.model).sampling if self.pool else {}
        return default.updated(model, self.spec.sampling)

    def output_fields(self) -> list[str]:
        if self.extractor is not None:
            return self.extractor.fields()
        props = (self.json_schema or {}).get("properties", {})
        if self.spec.output.explode:
            return list(props[self.spec.output.explode]["items"].get("properties", {}))
        return list(props)

    # --- inputs -------------------------------------------------------------------------------------------------

    def inputs(self, wh: Warehouse, passages_unit: str | None) -> Iterator[dict]:
        rows = self._raw_inputs(wh, passages_unit)
        dedup = self.spec.input.dedup
        if dedup is None:
            yield from rows
            return
        from rapidfuzz import fuzz, process

        seen: list[str] = []
        ids: list[str] = []
        for row in rows:
            text = " ".join(str(row.get(dedup.field) or "").lower().split())
            hit = process.extractOne(text, seen, scorer=fuzz.ratio, score_cutoff=dedup.min_ratio) if seen else None
            if hit is not None:
                yield {**row, "_duplicate_of": (ids[hit[2]], round(hit[1], 1))}
                continue
            seen.append(text)
            ids.append(row["input_id"])
            yield row

    def _raw_inputs(self, wh: Warehouse, passages_unit: str | None) -> Iterator[dict]:
        i = self.spec.input
        if i.passages:
            yield from passage_rows(wh, passages_unit, i.limit)
        elif i.benchmark_items is not None:
            yield from item_rows(wh, i.benchmark_items.splits, i.benchmark_items.benchmarks, i.limit)
        else:
            con = connect(wh)
            lim = f" LIMIT {int(i.limit)}" if i.limit else ""
            sql = f'SELECT * FROM ({i.sql}) AS input ORDER BY "{i.id}"{lim}'
            for batch in con.sql(sql).to_arrow_reader(1000):
                for r in batch.to_pylist():
                    yield {**r, "input_id": str(r[i.id]), "source_ref": str(r[i.id])}

    def precheck(self, row: dict) -> Rejection | None:
        """Fuzzy-duplicate inputs, then the input checks (a multiple-choice item without a gold label)."""
        dup = row.get("_duplicate_of")
        if dup:
            field = self.spec.input.dedup.field if self.spec.input.dedup else ""
            detail = f"fuzzy ratio {dup[1]} with input {dup[0]}"
            return Rejection("duplicate_input", row["input_id"], str(row.get(field, "")), detail)
        for c in self.checks:
            if c.on_input and (v := c.input(row)):
                return Rejection(v[0], row["input_id"], json.dumps(row, ensure_ascii=False, default=str), v[1])
        return None

    # --- prompt and output --------------------------------------------------------------------------------------

    def schema(self) -> dict:
        return self.json_schema or {}

    def schema_for(self, row: dict) -> dict | None:  # type: ignore[override]
        """The schema; a multiple-choice output's field is narrowed to this input's option labels."""
        choice = self.spec.output.choice
        if choice is None or self.json_schema is None:
            return self.json_schema
        props = self.json_schema["properties"]
        labels = [str(o["label"]) for o in row.get(choice.options) or []]
        narrowed = {**props[choice.field], "enum": labels}
        return {**self.json_schema, "properties": {**props, choice.field: narrowed}}

    def choice(self, row: dict, inp: dict) -> Choice | None:
        c = self.spec.output.choice
        if c is None:
            return None
        return Choice(inp[c.options], str(row.get(c.field)), str(inp[c.gold]), str(inp[c.question]))

    def prompt(self, row: dict) -> list[dict[str, str]]:
        msgs = self.template.render(row, self.spec.vars)
        column = self.spec.input.fit
        if not column or self.counter is None or self.context_len is None:
            return msgs
        budget = self.context_len - self.sampling(Sampling()).max_tokens
        text = str(row.get(column) or "")
        while text and sum(self.counter(m["content"]) for m in msgs) > budget:
            cut = text[: int(len(text) * 0.85)]
            end = max(cut.rfind(". "), cut.rfind(".\n"))
            text = cut[: end + 1] if end > len(cut) // 2 else cut
            msgs = self.template.render({**row, column: text}, self.spec.vars)
        return msgs

    def parse(self, result: GenResult, schema: dict | None) -> Any:
        if self.extractor is None:
            return super().parse(result, schema)
        found = self.extractor.extract(result.text)
        if found is None:
            return ("no_answer_extracted", f"{self.extractor.name} found nothing")
        return found

    def example_text(self) -> str:
        from curation.synth.gate import example_strings

        return example_strings(self.template.example(self.spec.vars))

    # --- rows -----------------------------------------------------------------------------------------------------

    def _elements(self, parsed: dict[str, Any]) -> list[dict[str, Any]]:
        explode = self.spec.output.explode
        if not explode:
            return [parsed]
        return [e for e in parsed.get(explode) or [] if isinstance(e, dict)]

    def _row_verdict(self, out: dict[str, Any], inp: dict[str, Any]) -> Verdict:
        for c in self.checks:
            if not c.uses_model and not c.on_input and (v := c.row(out, inp)):
                return v
        return None

    def measured(self, out: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        return {k: v for c in self.checks for k, v in c.measure(out, inp).items()}

    def evaluate(self, row: dict, samples: list[Sample], ctx: Context) -> tuple[list[dict], list[Rejection]]:
        rows, rejects = [], []
        carry = {c: row[c] for c in self.spec.output.carry}
        for c in self.checks:
            c.reset()
        for s in samples:
            for j, out in enumerate(self._elements(s.parsed)):
                ref = f"{row['input_id']}/s{s.index}" + (f"/e{j}" if self.spec.output.explode else "")
                verdict = self._row_verdict(out, row)
                if verdict:
                    rejects.append(Rejection(verdict[0], ref, json.dumps(out, ensure_ascii=False), verdict[1]))
                    continue
                fields = {k: _stripped(out.get(k)) for k in self.output_fields()}
                rows.append(
                    {
                        "record_id": ctx.record_id(self, row["input_id"], s.index, j),
                        "input_id": row["input_id"],
                        **carry,
                        **fields,
                        **({"element_index": j} if self.spec.output.explode else {}),
                        **self.measured(out, row),
                        **ctx.common(self, s),
                        "judge": {"enabled": any(c.uses_model for c in self.checks)},
                    }
                )
        return rows, rejects

    def generated_fields(self, row: dict) -> dict[str, str]:
        """Model-written text by field, without roles or answer labels; a list field (dialogue turns) gives one
        field per element, so the gate sees a copied or empty turn even among good ones. An output with no strings
        at all (chosen numbers) is shown as its JSON, so the gate does not call it blank."""
        from curation.synth.gate import generated_strings

        out: dict[str, str] = {}
        for k in self.output_fields():
            v = row.get(k)
            parts = [(f"{k}[{i}]", e) for i, e in enumerate(v)] if isinstance(v, list) else [(k, v)]
            for name, value in parts:
                if strings := generated_strings(value, k):
                    out[name] = "\n".join(strings)
        if not out:
            return {k: json.dumps(row[k]) for k in self.output_fields() if row.get(k) not in (None, [], {})}
        return out

    def source_ref(self, row: dict) -> str:
        return f"{row['input_id']}/s{row['sample_index']}" + (
            f"/e{row['element_index']}" if "element_index" in row else ""
        )

    def judge(self, engine: Engine, rows: list[dict], inputs: dict[str, dict]) -> tuple[list[dict], list[Rejection]]:
        """The model checks (judge, verifier), each on its own model, batched over the rows still alive."""
        rejects: list[Rejection] = []
        for check in (c for c in self.checks if c.uses_model):
            if not rows:
                break
            name = check.model_name()
            eng = engine if name is None or name == self.spec.model or self.pool is None else self.pool.get(name)
            fields = self.output_fields()
            pairs = [({k: r.get(k) for k in fields}, inputs[r["input_id"]]) for r in rows]
            kept = []
            for r, (out, _), v in zip(rows, pairs, check.batch(eng, pairs), strict=True):
                if v:
                    rejects.append(Rejection(v[0], self.source_ref(r), json.dumps(out, ensure_ascii=False), v[1]))
                else:
                    kept.append(r)
            rows = kept
        return rows, rejects

    def aggregate(
        self, inputs: list[dict], rows: list[dict], ctx: Context
    ) -> tuple[list[dict], list[Rejection], dict[str, list[dict]]]:
        """passes = samples of an input with at least one accepted row; the keep rule drops the rows of inputs out
        of range (`too_easy` / `too_hard`); every input gets an `_items` row."""
        keep = self.spec.keep
        by_input: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            by_input[r["input_id"]].append(r)
        kept, rejects, items = [], [], []
        k = self.spec.samples
        for inp in inputs:
            mine = by_input.get(inp["input_id"], [])
            passes = len({r["sample_index"] for r in mine})
            ok = passes >= keep.min_passes and (keep.max_passes is None or passes <= keep.max_passes)
            items.append(
                {
                    "record_id": ctx.record_id(self, inp["input_id"]),
                    "input_id": inp["input_id"],
                    **{c: inp[c] for c in self.spec.output.carry},
                    "n_samples": k,
                    "n_passes": passes,
                    "pass_rate": passes / k,
                    "kept": ok,
                    "model": ctx.model,
                    "model_fingerprint": ctx.fingerprint,
                    "prompt_version": self.prompt_version,
                    "run_id": ctx.run_id,
                }
            )
            for r in mine:
                r.update(n_samples=k, n_passes=passes, pass_rate=passes / k)
                if ok:
                    kept.append(r)
                else:
                    why = "too_hard" if passes < keep.min_passes else "too_easy"
                    fields = {f: r.get(f) for f in self.output_fields()}
                    detail = f"{passes} of {k} samples passed; keep {keep.min_passes}..{keep.max_passes}"
                    rejects.append(Rejection(why, self.source_ref(r), json.dumps(fields, ensure_ascii=False), detail))
        rows = [self.renamed(r, self.spec.output.drop) for r in kept]
        return rows, rejects, {self.items_table: [self.renamed(i) for i in items]}

    def renamed(self, row: dict[str, Any], drop: Sequence[str] = ()) -> dict[str, Any]:
        """The row under its table's column names (`output.rename`), without the dropped columns."""
        names, gone = self.spec.output.rename, set(drop)
        return {names.get(k, k): v for k, v in row.items() if k not in gone}
