"""Translation data (BiMed1.3M, docs/recipes/bimed.md): checks for translated pairs."""
