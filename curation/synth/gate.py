"""The content gate: every generated text field passes it before its row is accepted; a reject is quarantined with
a distinct reason (`gate_*`) and the raw model output.

One function per check, each `(GateInput, GateConfig) -> Verdict` (a `(reason, detail)` pair, or None to pass), so a
registry can list them; `TEXT_CHECKS` is their order, cheapest first. Two checks need a model and run batched over
the rows that passed the others: perplexity under a reference LM (`gate_perplexity`) and, for chain-of-thought, an
independent verifier that answers from the reasoning alone (`gate_verifier_disagrees`).

The heuristics are the document cleaner's own measures (curation/clean/signals.py) and language id is the cleaner's
(curation/clean/langid.py), applied to the generated fields of a row joined by newlines; only emptiness is checked
per field, because a short field ("Yes.") is fine inside a longer row but an empty one is never.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curation.clean.langid import detect_language
from curation.clean.signals import (
    control_fraction,
    duplicate_fraction,
    duplicate_ngram_fraction,
    max_token_run,
    non_alpha_fraction,
    nonblank_lines,
    symbol_word_ratio,
    words_of,
)
from curation.synth import prompts
from curation.synth.config import GateConfig
from curation.synth.engine import Engine, Sampling
from curation.synth.tasks.base import Rejection

GATE_VERSION = "gate-v2"  # v2: the example-copy check also looks at each field
Verdict = tuple[str, str] | None


@dataclass
class GateInput:
    """The generated text of one candidate row. `options` and `chosen` are set for multiple-choice reasoning."""

    fields: dict[str, str]
    options: list[dict] | None = None
    chosen: str | None = None
    example: str = ""  # the prompt's worked example (few-shot answer), which a weak model may copy
    text: str = ""
    words: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.text = "\n".join(self.fields.values())
        self.words = words_of(self.text)


def check_empty_field(g: GateInput, cfg: GateConfig) -> Verdict:
    empty = [k for k, v in g.fields.items() if not v.strip()]
    return ("gate_empty_field", f"blank: {', '.join(empty)}") if empty or not g.fields else None


_JSON_RESIDUE = re.compile(r'[}\]]\s*,\s*[{\["]|[{\[]\s*"|"\s*[}\]]')


def check_json_residue(g: GateInput, cfg: GateConfig) -> Verdict:
    """JSON syntax inside a generated string (`...project.},{`): the model lost track of the structure."""
    m = _JSON_RESIDUE.search(g.text)
    return ("gate_json_residue", f"JSON syntax {m.group(0)!r} inside the text") if m else None


_PLAIN_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")  # any script: an Arabic copy is a copy too


def _example_share(text: str, seen: set[tuple[str, ...]], n: int) -> float:
    words = _PLAIN_WORD.findall(text.lower())
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return sum(gram in seen for gram in grams) / len(grams) if grams else 0.0


def check_copies_example(g: GateInput, cfg: GateConfig) -> Verdict:
    """Word n-grams shared with the prompt's worked example, over the whole text and over each field of at least
    2n words: a model that copies the example writes about aspirin whatever the source says, and one copied turn
    of a dialogue is a copy even when the other turns are new."""
    n = cfg.ngram_n
    if not g.example:
        return None
    example = _PLAIN_WORD.findall(g.example.lower())
    seen = {tuple(example[i : i + n]) for i in range(len(example) - n + 1)}
    parts = {"": g.text} | {k: v for k, v in g.fields.items() if len(_PLAIN_WORD.findall(v)) >= 2 * n}
    worst, share = max(((k, _example_share(v, seen, n)) for k, v in parts.items()), key=lambda kv: kv[1])
    limit = cfg.max_example_overlap
    where = f" in {worst}" if worst else ""
    return (
        ("gate_copies_example", f"{share:.2f} of {n}-grams{where} come from the prompt's example > {limit}")
        if share > limit
        else None
    )


def example_strings(example: str) -> str:
    """The generated strings of a worked example that is JSON; the example itself when it is free text."""
    from curation.synth.engine import parse_json

    parsed = parse_json(example) if example else None
    return "\n".join(generated_strings(parsed)) if parsed is not None else example


def check_control_chars(g: GateInput, cfg: GateConfig) -> Verdict:
    frac = control_fraction(g.text)
    return (
        ("gate_control_chars", f"control fraction {frac:.3f} > {cfg.max_control_fraction}")
        if (frac > cfg.max_control_fraction)
        else None
    )


def check_min_words(g: GateInput, cfg: GateConfig) -> Verdict:
    n = len(g.words)
    return ("gate_too_few_words", f"{n} words < {cfg.min_words}") if n < cfg.min_words else None


def check_token_run(g: GateInput, cfg: GateConfig) -> Verdict:
    run = max_token_run(g.words)
    return (
        ("gate_token_run", f"one word repeated {run} times in a row > {cfg.max_token_run}")
        if (run > cfg.max_token_run)
        else None
    )


def check_repetition(g: GateInput, cfg: GateConfig) -> Verdict:
    frac = duplicate_ngram_fraction(g.words, cfg.ngram_n)
    limit = cfg.max_duplicate_ngram_fraction
    return ("gate_repetition", f"duplicate {cfg.ngram_n}-gram fraction {frac:.2f} > {limit}") if frac > limit else None


def check_duplicate_lines(g: GateInput, cfg: GateConfig) -> Verdict:
    frac = duplicate_fraction(nonblank_lines(g.text))
    limit = cfg.max_duplicate_line_fraction
    return ("gate_duplicate_lines", f"duplicate line fraction {frac:.2f} > {limit}") if frac > limit else None


def check_symbols(g: GateInput, cfg: GateConfig) -> Verdict:
    ratio = symbol_word_ratio(g.text, len(g.words))
    limit = cfg.max_symbol_word_ratio
    return ("gate_symbols", f"symbol/word ratio {ratio:.2f} > {limit}") if ratio > limit else None


def check_non_alpha(g: GateInput, cfg: GateConfig) -> Verdict:
    frac = non_alpha_fraction(g.text)
    limit = cfg.max_non_alpha_fraction
    return ("gate_non_alpha", f"non-alphabetic fraction {frac:.2f} > {limit}") if frac > limit else None


def check_language(g: GateInput, cfg: GateConfig) -> Verdict:
    if not cfg.language:
        return None
    lang, score = detect_language(g.text)
    if lang != cfg.language or score < cfg.min_lang_score:
        return "gate_wrong_language", f"detected {lang} ({score:.2f}), expected {cfg.language} >= {cfg.min_lang_score}"
    return None


_SENTENCES = re.compile(r"(?<=[.!?])\s+")
_LETTER = re.compile(r"\b(?:answer|option|choice)\s*(?:is|:|=)?\s*\(?([A-J])\)?(?![A-Za-z])|\(([A-J])\)")


def conclusion(reasoning: str, sentences: int = 2) -> str:
    """The last sentences of a reasoning: where it states what it concludes."""
    parts = [s for s in _SENTENCES.split(reasoning.strip()) if s.strip()]
    return " ".join(parts[-sentences:])


def named_options(text: str, options: list[dict]) -> set[str]:
    """Labels of the options a text names, by letter ("answer is B", "(B)") or by the option's own text."""
    low = " ".join(text.lower().split())
    named = {a or b for a, b in _LETTER.findall(text)}
    for o in options:
        opt = " ".join(o["text"].lower().split()).rstrip(".")
        if len(opt) >= 3 and re.search(rf"(?<!\w){re.escape(opt)}(?!\w)", low):
            named.add(o["label"])
    return named & {o["label"] for o in options}


def check_cot_supports_answer(g: GateInput, cfg: GateConfig) -> Verdict:
    """A reasoning must end by naming the option it chose (MedReason-style consistency): one that names another
    option contradicts the answer, one that names none does not support it."""
    if not cfg.cot_supports_answer or g.options is None or g.chosen is None:
        return None
    end = conclusion(g.fields.get("reasoning", ""))
    named = named_options(end, g.options)
    if g.chosen in named:
        return None
    if named:
        return "gate_cot_contradicts", f"conclusion names {sorted(named)}, answer is {g.chosen}: {end[-200:]!r}"
    return "gate_cot_unsupported", f"conclusion names no option, answer is {g.chosen}: {end[-200:]!r}"


def generated_strings(parsed: Any, key: str = "") -> list[str]:
    """Every model-written string of a parsed output, whatever its task (not roles or answer letters): for replaying
    and calibrating on raw outputs."""
    if isinstance(parsed, dict):
        return [s for k, v in parsed.items() for s in generated_strings(v, k)]
    if isinstance(parsed, list):
        return [s for v in parsed for s in generated_strings(v, key)]
    return [parsed] if isinstance(parsed, str) and key not in ("role", "final_answer", "verdict") else []


Check = Callable[[GateInput, GateConfig], Verdict]
TEXT_CHECKS: list[tuple[str, Check]] = [
    ("empty_field", check_empty_field),
    ("control_chars", check_control_chars),
    ("json_residue", check_json_residue),
    ("min_words", check_min_words),
    ("token_run", check_token_run),
    ("duplicate_lines", check_duplicate_lines),
    ("repetition", check_repetition),
    ("symbols", check_symbols),
    ("non_alpha", check_non_alpha),
    ("language", check_language),
    ("copies_example", check_copies_example),
    ("cot_supports_answer", check_cot_supports_answer),
]


def run_text_checks(g: GateInput, cfg: GateConfig) -> Verdict:
    for _, check in TEXT_CHECKS:
        verdict = check(g, cfg)
        if verdict:
            return verdict
    return None


class ReferenceLM:
    """Perplexity of texts under a causal LM with transformers: exp(mean token NLL), the first token given."""

    def __init__(self, path: Path, max_tokens: int):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.path = path
        self.max_tokens = max_tokens
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=torch.float32).eval()
        self._torch = torch

    def perplexity(self, texts: list[str], batch_size: int = 8) -> list[float]:
        torch = self._torch
        out: list[float] = []
        for i in range(0, len(texts), batch_size):
            ids = [
                self.tokenizer(t, add_special_tokens=False)["input_ids"][: self.max_tokens]
                for t in texts[i : i + batch_size]
            ]
            width = max(2, *(len(x) for x in ids))
            pad = self.tokenizer.pad_token_id or 0
            inp = torch.tensor([x + [pad] * (width - len(x)) for x in ids])
            mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids])
            with torch.inference_mode():
                logits = self.model(input_ids=inp, attention_mask=mask).logits[:, :-1].float()
            nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), inp[:, 1:], reduction="none")
            m = mask[:, 1:].bool()
            nll = torch.where(m, nll, torch.zeros_like(nll))  # padded positions may be NaN: never multiply them in
            for row, mrow in zip(nll, m, strict=True):
                n = int(mrow.sum())
                out.append(math.exp(float(row.sum()) / n) if n else float("inf"))
        return out


@functools.lru_cache(maxsize=2)
def reference_lm(path: str, max_tokens: int) -> ReferenceLM:
    """Loaded once per process and reference (the gate runs per batch)."""
    return ReferenceLM(Path(path), max_tokens)


def reference_path(cfg: GateConfig, engine: Engine | None) -> Path | None:
    """The configured reference LM, else the in-process generator's own directory; None when perplexity is off or
    the generator is a remote server and no reference is configured (rows then record the check as skipped)."""
    if not cfg.perplexity.enabled:
        return None
    if cfg.perplexity.model:
        from curation.synth.model_ref import resolve_model

        return resolve_model(cfg.perplexity.model)
    e: Any = engine
    while e is not None:
        if getattr(e, "model_dir", None):
            return Path(e.model_dir)
        e = getattr(e, "inner", None)
    return None


VERIFY_SAMPLING = Sampling(temperature=0.0, top_p=1.0, max_tokens=16, seed=0)
VERIFY_PROMPT = "mcq_verify.v1"


def verify_answers(engine: Engine, items: list[GateInput], question: list[str]) -> list[str | None]:
    """MedReason's check: an independent pass reads the question, the options and the reasoning (not the chosen
    answer) and answers; the caller compares with gold. None when the verifier's output is unusable."""
    answers: list[str | None] = [None] * len(items)
    groups: dict[str, list[int]] = {}
    for i, g in enumerate(items):
        groups.setdefault(json.dumps([o["label"] for o in g.options or []]), []).append(i)
    for labels_json, idx in groups.items():
        labels = json.loads(labels_json)
        schema = {
            "type": "object",
            "properties": {"answer": {"type": "string", "enum": labels}},
            "required": ["answer"],
            "additionalProperties": False,
        }
        msgs = [
            prompts.render(
                VERIFY_PROMPT,
                question=question[i],
                options="\n".join(f"{o['label']}. {o['text']}" for o in items[i].options or []),
                reasoning=items[i].fields.get("reasoning", ""),
            )
            for i in idx
        ]
        for i, res in zip(idx, engine.generate(msgs, VERIFY_SAMPLING, schema), strict=True):
            if isinstance(res.parsed, dict) and res.parsed.get("answer") in labels:
                answers[i] = res.parsed["answer"]
    return answers


@dataclass
class Candidate:
    """A row that passed its task's checks, with the raw output it came from (quarantined if the gate rejects)."""

    row: dict
    raw: str
    ref: str
    text: GateInput
    gold: str | None = None
    question: str = ""


def apply_gate(
    cfg: GateConfig, engine: Engine | None, candidates: list[Candidate]
) -> tuple[list[dict], list[Rejection]]:
    """Text checks per row, then perplexity and the verifier batched over the survivors. Accepted rows get
    `gate_passed` and a `gate` record of what was measured."""
    rejects: list[Rejection] = []
    alive: list[tuple[Candidate, dict]] = []
    for c in candidates:
        verdict = run_text_checks(c.text, cfg)
        if verdict:
            rejects.append(Rejection(verdict[0], c.ref, c.raw, verdict[1]))
            continue
        lang, score = detect_language(c.text.text)
        alive.append((c, {"version": GATE_VERSION, "lang": lang, "lang_score": round(score, 3)}))
    ref = reference_path(cfg, engine) if alive else None
    if alive and ref is not None:
        lm = reference_lm(str(ref), cfg.perplexity.max_tokens)
        kept = []
        for (c, info), ppl in zip(alive, lm.perplexity([c.text.text for c, _ in alive]), strict=True):
            if not ppl <= cfg.perplexity.max_ppl:  # NaN or inf (nothing scorable) is a reject too
                rejects.append(
                    Rejection("gate_perplexity", c.ref, c.raw, f"perplexity {ppl:.1f} > {cfg.perplexity.max_ppl}")
                )
            else:
                kept.append((c, {**info, "ppl": round(ppl, 2), "max_ppl": cfg.perplexity.max_ppl}))
        alive = kept
    elif alive:
        why = "disabled" if not cfg.perplexity.enabled else "no local reference model"
        alive = [(c, {**info, "ppl": None, "ppl_skipped": why}) for c, info in alive]
    mcq = [(c, info) for c, info in alive if c.text.options is not None]
    if cfg.verifier and mcq and engine is not None:
        answers = verify_answers(engine, [c.text for c, _ in mcq], [c.question for c, _ in mcq])
        bad = set()
        for (c, info), ans in zip(mcq, answers, strict=True):
            info["verifier"] = ans
            if ans != c.gold:
                reason = "gate_verifier_failed" if ans is None else "gate_verifier_disagrees"
                rejects.append(Rejection(reason, c.ref, c.raw, f"verifier answered {ans}, gold {c.gold}"))
                bad.add(id(c))
        alive = [(c, info) for c, info in alive if id(c) not in bad]
    rows = [{**c.row, "gate_passed": True, "gate": info} for c, info in alive]
    return rows, rejects
