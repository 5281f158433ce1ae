"""`--runner ray`: the per-shard ingest tasks run on a local Ray (2 CPUs) and produce the same warehouse as threads."""

from __future__ import annotations

import pytest

from curation.flows.build import build_flow
from tests.orchestration_data import visible_temp_files, warehouse_content, write_manifest, write_medqa_files


@pytest.mark.slow
def test_ray_runner_builds_the_same_warehouse_as_threads(prefect_harness, tmp_path):
    write_medqa_files(tmp_path / "src", n_files=4, rows=5)
    manifest = str(write_manifest(tmp_path / "m.yaml", ["ingest"], workers=2))
    threads = build_flow(manifest_path=manifest, warehouse=str(tmp_path / "wh-threads"), runner="threads")
    ray = build_flow(manifest_path=manifest, warehouse=str(tmp_path / "wh-ray"), runner="ray")
    assert ray["ingest"]["status"] == threads["ingest"]["status"] == "ran"
    assert ray["ingest"]["summary"]["files_ingested"] == 4
    assert warehouse_content(tmp_path / "wh-ray") == warehouse_content(tmp_path / "wh-threads")
    assert visible_temp_files(tmp_path / "wh-ray") == []
