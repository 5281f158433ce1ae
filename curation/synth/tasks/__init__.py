"""The registry of synth task classes, for plugins: a plugin module defines a `Task` subclass (its name, output table,
config model and whether it reads passages) and registers it with `@TASKS.decorator()` (entry-point group
`medcurate.tasks`). medcurate's own built-in tasks are not classes but presets of the declared-task mechanism
(curation/synth/presets/)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from curation.registry import Registry

if TYPE_CHECKING:
    from curation.synth.tasks.base import Task

TASKS: Registry[Any] = Registry("tasks", scan=("curation.synth.tasks.*",))


def make_task(name: str, cfg: Any) -> Task:
    return TASKS.get(name)(cfg)
