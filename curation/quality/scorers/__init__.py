"""Registered scorers of the score stage: one module each, registering a `ScorerSpec`."""
