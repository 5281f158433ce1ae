"""BibTeX for what a release holds, cited on its card: each format registers the citation of its source or benchmark
(`FormatSpec.citation`), keyed by its name, which is the `source` of documents and the `benchmark` of benchmark items
and synthetic rows. A manifest adds or replaces entries with `release.citations` (e.g. for a tabular source it names
itself).
"""

from __future__ import annotations


def registered_citations() -> dict[str, str]:
    from curation.ingest.formats import FORMATS

    return {f.name: f.citation for f in FORMATS.values() if f.citation}


def citations_for(names: list[str], extra: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """({name: bibtex} for the names with a citation, [names without one]), manifest entries first."""
    known = {**registered_citations(), **extra}
    found = {n: known[n] for n in names if n in known}
    return found, [n for n in names if n not in known]
