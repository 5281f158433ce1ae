"""Quality stage."""
