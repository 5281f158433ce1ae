"""Connected components of the duplicate graph: a vectorized union-find over integer node ids.

Only documents that have at least one edge are nodes, so memory follows the number of duplicate pairs, not the
corpus. Each component is labelled by its smallest node id; with nodes numbered in doc_id order that is the smallest
doc_id, which makes cluster ids deterministic whatever order documents arrived in.
"""

from __future__ import annotations

import numpy as np


def components(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Label of every node 0..n-1: the smallest node of its component (edges a[i]–b[i])."""
    parent = np.arange(n, dtype=np.int64)
    while True:
        ra, rb = parent[a], parent[b]
        differ = ra != rb
        if not differ.any():
            return parent
        lo, hi = np.minimum(ra[differ], rb[differ]), np.maximum(ra[differ], rb[differ])
        np.minimum.at(parent, hi, lo)  # hook the larger root under the smaller one
        while True:  # pointer jumping until every node points at its root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
