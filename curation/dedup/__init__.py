"""Dedup stage."""
