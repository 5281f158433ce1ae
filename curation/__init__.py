"""medcurate: build traceable, validated medical LLM training datasets from public corpora."""

__version__ = "0.1.0"
