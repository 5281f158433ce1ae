"""Every component registry by kind (`medcurate plugins`, expectation value sets `@<kind>`)."""

from __future__ import annotations

from typing import Any

from curation.registry import Registry


def registries() -> dict[str, Registry[Any]]:
    from curation.ingest.benchmarks.kinds import BENCHMARKS
    from curation.ingest.formats import FORMATS
    from curation.quality.scoring import SCORERS
    from curation.release.publish import PUBLISHERS
    from curation.stages import STAGES
    from curation.synth.recipe.checks import CHECKS
    from curation.synth.recipe.extractors import EXTRACTORS
    from curation.synth.recipe.steps import STEPS
    from curation.synth.tasks import TASKS

    return {r.kind: r for r in (STAGES, FORMATS, BENCHMARKS, TASKS, STEPS, CHECKS, EXTRACTORS, SCORERS, PUBLISHERS)}
