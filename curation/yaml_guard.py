"""Load untrusted YAML (manifests) with bounds on input size, nesting depth and alias expansion.

PyYAML's SafeLoader builds an aliased node once and shares it, so a 1.3 kB "billion laughs" document loads fast
into a structure that is a billion nodes wide once anything walks it (validation, hashing, dumping). This guard
counts the document's *expanded* size from the parser's event stream before anything is built: each alias adds
the size of the node it names, so the count is exact and the check is linear in the input. The event parser is
not recursive, and the depth bound keeps the (recursive) composer far from Python's recursion limit.
"""

from __future__ import annotations

from typing import Any, cast

import yaml

MAX_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 100


class YAMLBoundExceeded(ValueError):
    """The YAML is bigger, deeper or expands to more nodes than allowed."""


def _check_shape(raw: bytes | str, max_nodes: int, max_depth: int) -> None:
    sizes: dict[str, int] = {}  # anchor -> expanded size of the node it names
    stack: list[list] = [[None, 0]]  # [anchor, expanded size so far] per open collection; [0] is the stream

    def add(anchor: str | None, n: int) -> None:
        if anchor is not None:
            sizes[anchor] = n
        stack[-1][1] += n
        if stack[-1][1] > max_nodes:
            raise YAMLBoundExceeded(
                f"YAML expands to more than {max_nodes} nodes (aliases included); refusing it as an alias bomb"
            )

    for event in yaml.parse(raw, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            add(None, sizes.get(cast(str, event.anchor), 1))  # an alias always names an anchor; stubs say Optional
        elif isinstance(event, yaml.ScalarEvent):
            add(event.anchor, 1)
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(stack) > max_depth:
                raise YAMLBoundExceeded(f"YAML nests deeper than {max_depth} levels")
            stack.append([event.anchor, 1])
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, n = stack.pop()
            add(anchor, n)


def load_yaml_bounded(
    raw: bytes | str, *, max_bytes: int = MAX_BYTES, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH
) -> Any:
    """`yaml.safe_load(raw)`, refusing input over `max_bytes`, nested over `max_depth`, or expanding (aliases
    counted as copies) to over `max_nodes` nodes with YAMLBoundExceeded (a ValueError). Malformed YAML raises
    yaml.YAMLError as safe_load does."""
    size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
    if size > max_bytes:
        raise YAMLBoundExceeded(f"YAML is {size} bytes, more than the {max_bytes} allowed")
    _check_shape(raw, max_nodes, max_depth)
    return yaml.safe_load(raw)
