"""The in-memory library function used for synthetic records."""

from __future__ import annotations

import random

from curation.dedup.components import components
from curation.dedup.near import near_duplicates


def _text(rng: random.Random, n: int = 80) -> str:
    return " ".join(f"w{rng.randint(0, 5000)}" for _ in range(n))


def test_near_duplicates_clusters_exact_and_near():
    rng = random.Random(3)
    base = [_text(rng) for _ in range(30)]
    records = [(f"r{i:02d}", t) for i, t in enumerate(base)]
    records.append(("x-exact", base[4].upper() + "!"))
    words = base[7].split()
    words[40] = "changed"
    records.append(("x-near", " ".join(words)))
    records.append(("e1", ""))
    records.append(("e2", "  "))
    clusters = near_duplicates(iter(records), batch_size=7)
    assert clusters == [["r04", "x-exact"], ["r07", "x-near"]]


def test_components_labels_smallest_member():
    import numpy as np

    a = np.array([5, 1, 3, 7])
    b = np.array([4, 5, 2, 6])
    labels = components(a, b, 8)
    assert labels.tolist() == [0, 1, 2, 2, 1, 1, 6, 6]
