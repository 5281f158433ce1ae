"""Release stage."""
