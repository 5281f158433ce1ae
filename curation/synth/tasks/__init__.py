"""Synth tasks by name; each has prompt templates in curation/synth/prompts/ and an output table synthetic_<task>."""

from __future__ import annotations

from curation.synth.config import SynthConfig
from curation.synth.tasks.base import Task
from curation.synth.tasks.dialogue import Dialogue
from curation.synth.tasks.grounded_qa import GroundedQA
from curation.synth.tasks.mcq_cot import MCQCoT

TASKS: dict[str, type[Task]] = {t.name: t for t in (GroundedQA, MCQCoT, Dialogue)}
PASSAGE_TASKS = frozenset({"grounded_qa", "dialogue"})


def make_task(name: str, cfg: SynthConfig) -> Task:
    if name not in TASKS:
        raise ValueError(f"unknown synth task {name!r}; known: {sorted(TASKS)}")
    return TASKS[name](cfg)
