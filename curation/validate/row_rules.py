"""Row rules: checks on single rows that expectation suites cannot express well (nested lists, cross-column logic).

A rule applies to a table when the table has all of the rule's columns; `rules_for` reports the rules that were
skipped because a column is missing, so a renamed column never silently switches a check off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from curation.warehouse.quarantine import Rejection

YES_NO_MAYBE = ("yes", "no", "maybe")


@dataclass(frozen=True)
class RowRule:
    name: str
    columns: tuple[str, ...]
    check: Callable[[Mapping[str, Any]], str | None]  # a detail when the row violates the rule, else None
    description: str = ""


def _labels(options: Any) -> list[str]:
    return [str(o.get("label")) for o in options or [] if isinstance(o, Mapping)]


def blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _answer_in_options(gold: str) -> Callable[[Mapping[str, Any]], str | None]:
    """The gold answer column (`answer` on benchmark items, `gold_answer` on chain-of-thought rows) is an option."""

    def check(row: Mapping[str, Any]) -> str | None:
        labels = _labels(row.get("options"))
        answer = row.get(gold)
        if not labels:  # yes/no/maybe items (PubMedQA) carry no options
            if answer is not None and str(answer).lower() not in YES_NO_MAYBE:
                return f"{gold} {answer!r} without options must be one of {YES_NO_MAYBE}"
            return None
        if len(set(labels)) != len(labels):
            return f"duplicate option labels {labels}"
        if answer not in labels:
            return f"{gold} {answer!r} not in option labels {labels}"
        return None

    return check


def _final_answer_in_options(row: Mapping[str, Any]) -> str | None:
    labels = _labels(row.get("options"))
    final = row.get("final_answer")
    if labels and final not in labels:
        return f"final_answer {final!r} not in option labels {labels}"
    return None


def _final_answer_is_gold(row: Mapping[str, Any]) -> str | None:
    if row.get("final_answer") != row.get("gold_answer"):
        return f"final_answer {row.get('final_answer')!r} != gold answer {row.get('gold_answer')!r}"
    return None


def _non_empty(column: str) -> Callable[[Mapping[str, Any]], str | None]:
    def check(row: Mapping[str, Any]) -> str | None:
        return f"{column} is empty" if blank(row.get(column)) else None

    return check


def _dialogue_alternates(row: Mapping[str, Any]) -> str | None:
    turns = row.get("turns") or []
    if len(turns) < 2:
        return f"{len(turns)} turns; a dialogue needs at least 2"
    prev = None
    for i, t in enumerate(turns):
        role = t.get("role") if isinstance(t, Mapping) else None
        if blank(role) or blank(t.get("text")):
            return f"turn {i} has an empty role or text"
        if role == prev:
            return f"turns {i - 1} and {i} are both {role!r}: roles must alternate"
        prev = role
    return None


def _commercial_licence(row: Mapping[str, Any]) -> str | None:
    licence = str(row.get("license") or "")
    if row.get("commercial_use") and ("-NC" in licence or licence == "unknown"):
        return f"commercial_use is true but the licence is {licence!r}"
    return None


MCQ_ANSWER = RowRule(
    "mcq_answer_in_options",
    ("options", "answer"),
    _answer_in_options("answer"),
    "the gold answer is one of the option labels (yes/no/maybe when there are no options)",
)
COT_GOLD = RowRule(
    "mcq_answer_in_options",
    ("options", "gold_answer"),
    _answer_in_options("gold_answer"),
    "the gold answer is one of the option labels (yes/no/maybe when there are no options)",
)
FINAL_IN_OPTIONS = RowRule(
    "mcq_final_answer_in_options",
    ("options", "final_answer"),
    _final_answer_in_options,
    "the generated final answer is one of the option labels",
)
FINAL_IS_GOLD = RowRule(
    "mcq_final_answer_is_gold",
    ("final_answer", "gold_answer"),
    _final_answer_is_gold,
    "kept chain-of-thought reaches the gold answer",
)
QUESTION = RowRule("non_empty_question", ("question",), _non_empty("question"), "question is not blank")
ANSWER = RowRule("non_empty_answer", ("answer",), _non_empty("answer"), "grounded answer is not blank")
LICENCE = RowRule(
    "commercial_use_matches_licence",
    ("license", "commercial_use"),
    _commercial_licence,
    "no non-commercial or unknown licence is marked commercial_use",
)
TEXT = RowRule("non_empty_text", ("text",), _non_empty("text"), "text is not blank")
DIALOGUE = RowRule(
    "dialogue_roles_alternate", ("turns",), _dialogue_alternates, "at least two turns, non-empty, roles alternate"
)
# The rules a task preset names (`row_rules:` in curation/synth/presets/<task>/preset.yaml) for its table.
TASK_RULES = {r.name: r for r in (QUESTION, ANSWER, COT_GOLD, FINAL_IN_OPTIONS, FINAL_IS_GOLD, DIALOGUE)}
TABLE_RULES: dict[str, tuple[RowRule, ...]] = {
    "documents": (TEXT, LICENCE),
    "passages": (TEXT,),
    "benchmark_items": (QUESTION, MCQ_ANSWER),
}


def table_rules(table: str) -> tuple[RowRule, ...]:
    """The row rules of a table: the core tables' here, a task preset's by name, a plugin task's `row_rules`."""
    if table in TABLE_RULES:
        return TABLE_RULES[table]
    from curation.synth.presets import presets
    from curation.synth.tasks import TASKS

    preset = next((p for p in presets().values() if p.table == table), None)
    if preset is not None:
        return tuple(TASK_RULES[name] for name in preset.row_rules)
    return next((t.row_rules for t in TASKS.values() if t.table == table), ())


def rules_for(table: str, columns: Iterable[str]) -> tuple[list[RowRule], list[str]]:
    """(rules that apply, names of the table's rules skipped because the data lacks one of their columns)."""
    have = set(columns)
    rules = table_rules(table)
    return [r for r in rules if set(r.columns) <= have], [r.name for r in rules if not set(r.columns) <= have]


def check_row(rules: Iterable[RowRule], row: Mapping[str, Any]) -> list[Rejection]:
    out = []
    for rule in rules:
        detail = rule.check(row)
        if detail:
            out.append(Rejection(rule.name, detail=detail))
    return out


def validate_rows(
    table: str, rows: Iterable[Mapping[str, Any]]
) -> tuple[list[Mapping[str, Any]], list[tuple[Mapping[str, Any], list[Rejection]]]]:
    """Split rows into (good, [(bad row, its violations)]) by the table's row rules (rules whose columns a row
    lacks are not applied to it)."""
    good, bad = [], []
    all_rules = table_rules(table)
    for row in rows:
        rules = [r for r in all_rules if all(c in row for c in r.columns)]
        violations = check_row(rules, row)
        if violations:
            bad.append((row, violations))
        else:
            good.append(row)
    return good, bad
