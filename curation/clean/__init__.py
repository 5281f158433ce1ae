"""Clean stage: text normalization, offline language id, Gopher/FineWeb-style heuristic signals."""
