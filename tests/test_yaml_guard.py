"""Bounded YAML loading: alias bombs, oversized and over-deep input refused fast and in bounded memory; ordinary
YAML (the shipped manifests, anchors and merge keys) loads exactly as yaml.safe_load does."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
import time

import pytest
import yaml

from curation.resources import manifests_dir
from curation.yaml_guard import YAMLBoundExceeded, load_yaml_bounded
from tests.conftest import ROOT


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """The classic alias bomb: `levels` lists of `width` aliases to the list before; width**levels strings once
    expanded. The defaults are the 0.3 kB original; (12, 19), 19**12 strings in 1.3 kB, is as big as the issue's."""
    names = [f"l{i}" for i in range(levels)]
    lines = [f"{names[0]}: &{names[0]} [" + ", ".join(['"lol"'] * width) + "]"]
    for prev, cur in itertools.pairwise(names):
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * width) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("levels", "width"), [(9, 9), (12, 19)])
@pytest.mark.hostile("YAML bomb", ok="clear_error", bad="crash")
def test_billion_laughs_refused_fast(levels, width):
    bomb = billion_laughs(levels, width)
    assert len(bomb) < 1_500
    t0 = time.perf_counter()
    with pytest.raises(YAMLBoundExceeded, match="alias bomb"):
        load_yaml_bounded(bomb.encode())
    assert time.perf_counter() - t0 < 0.5


_UNDER_CEILING = """
import resource, sys, json
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
sys.path.insert(0, {root!r})
bomb = sys.stdin.read()
{body}
"""


def _run_capped(body: str, bomb: str, limit: int = 96 * 1024 * 1024) -> subprocess.CompletedProcess:
    code = _UNDER_CEILING.format(limit=limit, root=str(ROOT), body=textwrap.dedent(body))
    return subprocess.run([sys.executable, "-c", code], input=bomb, capture_output=True, text=True, timeout=60)


@pytest.mark.hostile("YAML bomb", ok="clear_error", bad="crash")
def test_billion_laughs_under_a_memory_ceiling():
    bomb = billion_laughs(12, 19)
    guarded = _run_capped(
        """
        from curation.yaml_guard import YAMLBoundExceeded, load_yaml_bounded
        try:
            load_yaml_bounded(bomb.encode())
        except YAMLBoundExceeded as e:
            print("refused:", e)
        """,
        bomb,
    )
    assert guarded.returncode == 0 and guarded.stdout.startswith("refused:"), guarded.stderr
    # what the guard prevents: safe_load accepts the bomb, and the first walk over the result exhausts memory
    unguarded = _run_capped("import yaml; json.dumps(yaml.safe_load(bomb))", bomb)
    assert unguarded.returncode != 0 and "MemoryError" in unguarded.stderr


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ("x: " + "a" * 2_000_000, "2000003 bytes, more than the 1048576 allowed"),
        ("[" * 5_000 + "]" * 5_000, "deeper than 100 levels"),
        ("{a: " * 500 + "1" + "}" * 500, "deeper than 100 levels"),
        ("base: &b [" + ",".join(["1"] * 1000) + "]\nuses: [" + ",".join(["*b"] * 200) + "]", "alias bomb"),
        ("m: &m {k: [1, 2, 3]}\n" + "".join(f"k{i}: {{<<: *m}}\n" for i in range(12_000)), "alias bomb"),
    ],
)
@pytest.mark.hostile("YAML bomb", ok="clear_error", bad="crash")
def test_bounds(raw, match):
    with pytest.raises(YAMLBoundExceeded, match=match):
        load_yaml_bounded(raw)


def test_bounds_are_settable():
    assert load_yaml_bounded("a: &a [1, 2]\nb: [*a, *a]", max_nodes=13) == {
        "a": [1, 2],
        "b": [[1, 2], [1, 2]],
    }
    with pytest.raises(YAMLBoundExceeded):
        load_yaml_bounded("a: &a [1, 2]\nb: [*a, *a]", max_nodes=12)
    with pytest.raises(YAMLBoundExceeded):
        load_yaml_bounded("abc", max_bytes=2)


def test_ordinary_yaml_loads_as_safe_load():
    docs = [p.read_bytes() for p in sorted(manifests_dir().rglob("*.yaml"))]
    docs.append(
        b"defaults: &d {lr: 0.1, tags: [x, y]}\na: {<<: *d, lr: 0.2}\nb: *d\nc: !!str 12\ne: null\nwhen: 2026-01-01\n"
    )
    docs += [b"", b"# only a comment\n", "text: ünïcode".encode(), b"\xef\xbb\xbfa: 1\n"]
    for raw in docs:
        assert load_yaml_bounded(raw) == yaml.safe_load(raw)


@pytest.mark.hostile("YAML bomb", ok="clear_error", bad="security")
def test_malformed_and_unsafe_yaml_errors_as_safe_load():
    with pytest.raises(yaml.YAMLError):
        load_yaml_bounded("a: [1, 2")
    with pytest.raises(yaml.YAMLError):
        load_yaml_bounded("a: !!python/object/apply:os.system ['echo hi']")
    with pytest.raises(yaml.YAMLError):
        load_yaml_bounded("a: *undefined")
