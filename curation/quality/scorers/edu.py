"""The educational-quality scorer: an encoder + heads classifier (trained on teacher labels when a teacher is
configured and no classifier exists yet) in annotations_edu."""

from __future__ import annotations

from curation.quality.config import EduConfig
from curation.quality.scoring import SCORERS, Scorer, ScorerEnv, ScorerSpec


def _build(env: ScorerEnv) -> Scorer | None:
    from curation.quality.edu_score import EduScorer
    from curation.quality.pipeline import edu_model

    clf = edu_model(env.wh, env.config, env.run, env.engine_factory)
    return None if clf is None else EduScorer(clf, env.config)


SCORERS.register(
    ScorerSpec("edu", EduConfig, _build, "annotations_edu", order=30, description="educational value (classifier)")
)
