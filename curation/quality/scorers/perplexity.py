"""The perplexity scorer: document perplexity under a causal LM (the configured one, else medcurate's reference LM,
trained first when missing) in annotations_perplexity."""

from __future__ import annotations

from curation.quality.config import PerplexityConfig
from curation.quality.scoring import SCORERS, Scorer, ScorerEnv, ScorerSpec


def _build(env: ScorerEnv) -> Scorer | None:
    from curation.quality.perplexity import PerplexityScorer
    from curation.quality.pipeline import perplexity_model

    lm = perplexity_model(env.wh, env.config, env.run)
    return None if lm is None else PerplexityScorer(lm, env.config)


SCORERS.register(
    ScorerSpec(
        "perplexity",
        PerplexityConfig,
        _build,
        "annotations_perplexity",
        order=20,
        description="perplexity under a causal LM",
    )
)
