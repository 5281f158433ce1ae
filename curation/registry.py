"""One registry per kind of component (stages, formats, benchmarks, tasks, scorers, publishers).

A component registers itself in its own module (`FORMATS.register(spec)`), so adding one is one module: the
registry finds built-in modules by scanning the module patterns of its kind, and components of other installed
packages through the entry-point group `medcurate.<kind>` (the entry point names a module, which registers what it
defines when imported, or an object, which is registered). Everything that enumerates components (manifest
types, CLI, fingerprints, decontamination targets, row rules, expectation value sets, plots) asks the registry.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import pkgutil
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, Generic, Protocol, TypeVar

from curation.errors import UserError

log = logging.getLogger(__name__)


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


class UnknownComponent(UserError, ValueError):
    """A name that no component of the kind registers; the message lists the known ones."""


@dataclass(frozen=True)
class PluginError:
    kind: str
    entry_point: str
    message: str


def _expand(pattern: str) -> Iterator[str]:
    """Module names matching `pkg.*` (every module of a package) or `pkg.*.mod` (that module of every subpackage);
    a plain name is itself."""
    if "*" not in pattern:
        yield pattern
        return
    head, _, tail = pattern.partition(".*")
    spec = importlib.util.find_spec(head)
    if spec is None or not spec.submodule_search_locations:
        return
    for info in sorted(pkgutil.iter_modules(spec.submodule_search_locations), key=lambda i: i.name):
        name = f"{head}.{info.name}"
        if not tail:
            yield name
        elif info.ispkg and importlib.util.find_spec(f"{name}{tail}") is not None:
            yield f"{name}{tail}"


class Registry(Generic[T]):
    """Components of one kind by name, with the module or distribution each came from."""

    def __init__(self, kind: str, scan: tuple[str, ...] = ()):
        self.kind = kind
        self.scan = scan
        self._items: dict[str, T] = {}
        self._origin: dict[str, str] = {}
        self._errors: list[PluginError] = []
        self._loaded = False
        self._lock = threading.RLock()

    def register(self, component: T, *, origin: str | None = None) -> T:
        """Add a component (returns it, so a module can write `SPEC = REGISTRY.register(Spec(...))`)."""
        name = component.name
        where = origin or sys._getframe(1).f_globals.get("__name__", "?")
        with self._lock:
            if name in self._items and self._origin.get(name) != where:
                raise ValueError(f"{self.kind} {name!r} registered twice: by {self._origin[name]} and by {where}")
            self._items[name] = component
            self._origin[name] = where
        return component

    def decorator(self, **fixed: Any) -> Callable[[Any], Any]:
        """Register a class's instance `cls(**fixed)`, or the class itself when it names itself: `@TASKS.decorator()`."""

        def wrap(obj: Any) -> Any:
            self.register(obj(**fixed) if fixed else obj, origin=obj.__module__)
            return obj

        return wrap

    def _load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            self._loaded = True  # set first: a scanned module that asks the registry must not recurse
            for pattern in self.scan:
                for module in _expand(pattern):
                    importlib.import_module(module)
            for ep in entry_points(group=f"medcurate.{self.kind}"):
                self._load_entry_point(ep)

    def _load_entry_point(self, ep: Any) -> None:
        dist = getattr(getattr(ep, "dist", None), "name", None) or ep.value
        before = set(self._items)
        try:
            obj = ep.load()
        except Exception as e:  # a broken plugin must not take the built-in components down with it
            msg = f"{type(e).__name__}: {e}"
            self._errors.append(PluginError(self.kind, f"{ep.name} = {ep.value}", msg))
            log.warning("plugin %s (%s) failed to load: %s", ep.name, ep.value, msg)
            return
        if not isinstance(obj, ModuleType):
            self.register(obj, origin=f"{dist} ({ep.value})")
        for name in set(self._items) - before:  # what the module registered on import
            self._origin[name] = f"{dist} ({ep.value})"

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._items[name]
        except KeyError:
            raise UnknownComponent(
                f"unknown {self.kind.rstrip('s')} {name!r}; known: {', '.join(self.names())}"
            ) from None

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def values(self) -> list[T]:
        self._load()
        return [self._items[n] for n in sorted(self._items)]

    def origin(self, name: str) -> str:
        self._load()
        return self._origin[name]

    def errors(self) -> list[PluginError]:
        self._load()
        return list(self._errors)
