"""Structured patient records (SimSUM, SynLLM): a record schema with typed columns and named SQL rules, row
validation against it, a seeded Bayesian-network sampler, and fidelity / rule / privacy evaluation."""
