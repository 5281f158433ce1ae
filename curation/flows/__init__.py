"""Prefect wrappers over the stage registry: one flow per registered stage, the build flow, and the deployments.
Nothing here holds stage logic; see curation/stages.py and curation/orchestrate/."""
