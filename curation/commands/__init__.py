"""CLI command groups, one module each; curation/cli.py registers them."""
