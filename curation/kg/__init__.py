"""Knowledge graphs as a data kind: ingest (Hetionet, PrimeKG, generic triples), entity linking, bounded graph
operations, SQL views and a standalone release exporter. See docs/kg.md."""
