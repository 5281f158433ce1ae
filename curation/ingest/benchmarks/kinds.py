"""The registry of benchmark kinds: each benchmark's format module registers which of its splits are evaluation
items (decontamination targets) and which files count as evaluation data whole, so decontamination defaults and
the expectation value sets follow the registered benchmarks."""

from __future__ import annotations

from dataclasses import dataclass

from curation.registry import Registry


@dataclass(frozen=True)
class BenchmarkKind:
    name: str
    eval_splits: tuple[str, ...]
    all_splits_files: tuple[str, ...] = ()  # file globs whose items are evaluation items in every split
    description: str = ""


BENCHMARKS: Registry[BenchmarkKind] = Registry("benchmarks", scan=("curation.ingest.benchmarks.*",))
