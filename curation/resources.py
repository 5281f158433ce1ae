"""Locate the project's data directories (schemas, manifests, views.sql) in a checkout or an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent
_REPO = _PKG.parent


def _first_existing(*candidates: Path) -> Path:
    for c in candidates:
        if c.exists():
            return c
    raise FileNotFoundError(f"none of {[str(c) for c in candidates]} exists; is medcurate installed correctly?")


def schemas_dir() -> Path:
    return _first_existing(_REPO / "schemas", _PKG / "_data" / "schemas")


def manifests_dir() -> Path:
    return _first_existing(_REPO / "manifests", _PKG / "_data" / "manifests")


def views_sql() -> Path:
    return _first_existing(_REPO / "warehouse" / "views.sql", _PKG / "_data" / "views.sql")


def project_root() -> Path:
    """The checkout root (relative manifest paths in the shipped manifests resolve against the manifest file)."""
    return _REPO


def plugin_schema_dirs() -> list[Path]:
    """Schema directories of installed plugins: the entry-point group `medcurate.schemas` names a package whose
    `schemas/` folder holds `tables/*.yaml` (and optionally `expectations/*.yaml`) for the tables it writes."""
    import importlib
    from importlib.metadata import entry_points

    out = []
    for ep in entry_points(group="medcurate.schemas"):
        module = importlib.import_module(ep.value)
        out.append(Path(module.__file__ or "").resolve().parent / "schemas")
    return out
