"""Medical QA benchmark loaders into `benchmark_items`: MedQA, MedMCQA, PubMedQA, MMLU (medical subjects)."""
