"""Synth stage."""
