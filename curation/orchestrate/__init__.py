"""Build orchestration that needs no Prefect: stage fingerprints and the per-stage build state."""
