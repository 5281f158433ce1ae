"""Prefect flows wrapping the curation library: one per stage, plus build.py which runs a manifest's stages."""
