"""Progress reporting without coupling the library to a UI: the CLI registers a listener (a rich progress bar);
flows and tests run without one."""

from __future__ import annotations

from collections.abc import Callable

# listener(task_name, inputs_done, inputs_total)
Listener = Callable[[str, int, int], None]
_listeners: list[Listener] = []


def add_listener(fn: Listener) -> None:
    _listeners.append(fn)


def remove_listener(fn: Listener) -> None:
    _listeners.remove(fn)


def notify(task: str, done: int, total: int) -> None:
    for fn in list(_listeners):
        fn(task, done, total)
