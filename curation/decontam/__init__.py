"""Decontam stage."""
