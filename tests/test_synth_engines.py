"""The synth stage against real engines: vLLM in-process and `vllm serve` on loopback, both with the tiny
random-weight model built here. Run under `flock /tmp/vllm.lock` (one vLLM per machine at a time).

Random weights produce gibberish, so structured (JSON-schema) decoding is what makes outputs parseable; the tasks'
row checks then accept or reject them exactly as they would real model output."""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from curation.synth.config import SynthConfig
from curation.synth.engine import Sampling, schema_errors
from curation.synth.runner import check_generation
from curation.warehouse import connect, load_schema
from curation.warehouse.runs import load_run
from tests.synth_helpers import PLUMBING_GATE, builtin_task, seed_documents, seed_items, write_manifest

pytestmark = pytest.mark.slow
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def vllm_server(tiny_model, tmp_path_factory):
    """`vllm serve` on 127.0.0.1 for the session; its log is shown if it fails to come up."""
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    cmd = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",  # `vllm serve`; the CLI wrapper needs a dist named "vllm"
        "--model",
        str(tiny_model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--max-model-len",
        "1024",
        "--gpu-memory-utilization",
        "0.2",
        "--enforce-eager",
        "--served-model-name",
        "tiny",
    ]
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"vllm serve exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(2)
    else:
        proc.terminate()
        pytest.fail(f"vllm serve did not come up: {log.read_text()[-3000:]}")
    yield base
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def _cfg(model, **kw) -> SynthConfig:
    base = {
        "model": str(model),
        "batch_size": 2,
        "sampling": {"temperature": 1.0, "max_tokens": 200, "seed": 7},
        "passages": {"max_tokens": 60, "min_tokens": 5, "filters": ["not coalesce(is_duplicate, false)"]},
        "grounded_qa": {
            "pairs_per_passage": 2,
            "min_question_chars": 1,
            "min_answer_chars": 1,
            "min_grounding": 0.0,
            "max_question_chars": 60,
            "max_answer_chars": 60,
            "gate": PLUMBING_GATE,
        },
        "mcq_cot": {"samples": 4, "max_reasoning_chars": 120, "gate": PLUMBING_GATE},
        "dialogue": {"min_turns": 2, "max_turns": 6, "gate": PLUMBING_GATE},
    }
    for k, v in kw.items():
        base[k] = {**base[k], **v} if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return SynthConfig.model_validate(base)


def _run(cfg, wh, inner, tasks=None, use_cache=True):
    from curation.orchestrate.runner import run_stage

    params = {"task": tasks or list(cfg.tasks), "no_cache": not use_cache}
    r = run_stage("synth", wh, None, params, config=cfg, engine=inner)
    return {"status": r.status, "message": r.message, **r.summary}


# --- in-process engine -------------------------------------------------------------------------------------------


def test_vllm_structured_generation_and_token_counts(vllm_engine):
    t = builtin_task("grounded_qa", _cfg(vllm_engine.model_dir))
    prompts = [t.prompt({"text": "Metformin lowers glucose."}), t.prompt({"text": "Aspirin inhibits COX."})]
    res = vllm_engine.generate(prompts, Sampling(temperature=1.0, max_tokens=200, seed=1), t.schema())
    for r in res:
        assert r.finish_reason == "stop", r
        assert isinstance(r.parsed, dict) and not schema_errors(r.parsed, t.schema())
        assert r.n_prompt_tokens == vllm_engine.count_tokens(vllm_engine.render(prompts[0])) or r.n_prompt_tokens > 50
        assert r.n_output_tokens > 0 and not r.cached
    # same seed, same prompt: same output (what makes the cache and record_ids meaningful)
    again = vllm_engine.generate(prompts[:1], Sampling(temperature=1.0, max_tokens=200, seed=1), t.schema())
    assert again[0].text == res[0].text


def test_dtype_other_than_the_models_runs_and_keys_the_cache(tiny_model, tmp_path):
    """`dtype: float32` (fast where bf16 is emulated): part of the cache key, and vLLM really runs in it. Its own
    process, so the session's engine is untouched."""
    from curation.synth.vllm_engine import VLLMEngine

    auto, f32 = VLLMEngine(str(tiny_model)), VLLMEngine(str(tiny_model), dtype="float32")
    assert f32.fingerprint() == auto.fingerprint() + "/float32"
    script = tmp_path / "f32.py"
    script.write_text(
        "import json, sys\n"
        "from curation.synth.engine import Sampling\n"
        "from curation.synth.vllm_engine import VLLMEngine\n"
        "if __name__ == '__main__':\n"
        "    eng = VLLMEngine(sys.argv[1], max_model_len=512, dtype='float32')\n"
        "    res = eng.generate(['Name a vitamin.', 'Define anaemia.'], Sampling(0.0, 1.0, 8, 0))\n"
        "    dtype = str(eng._engine().llm_engine.model_config.dtype)\n"
        "    eng.close()\n"
        "    print(json.dumps({'dtype': dtype, 'tokens': [r.n_output_tokens for r in res]}))\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, str(script), str(tiny_model)], capture_output=True, text=True, timeout=600, env=env
    )
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["dtype"] == "torch.float32" and all(n > 0 for n in got["tokens"])


def test_vllm_prompt_longer_than_context_is_an_error_result(vllm_engine):
    long = "word " * 3000
    ok, too_long = vllm_engine.generate(["hello", long], Sampling(max_tokens=8))
    assert ok.ok and ok.n_output_tokens > 0
    assert too_long.finish_reason == "error" and too_long.error == "prompt_too_long"
    assert "context 1024" in too_long.detail


def test_model_ignoring_schema_is_quarantined_as_unparseable(vllm_engine):
    """Unconstrained decoding stands for a model/server that ignores the schema: the parse check catches it."""
    t = builtin_task("dialogue", _cfg(vllm_engine.model_dir))
    (r,) = vllm_engine.generate([t.prompt({"text": "x"})], Sampling(temperature=1.0, max_tokens=40, seed=3))
    checked = check_generation(t, r, t.schema(), "p#0/s0", 0)
    assert checked.reason in {"unparseable_output", "truncated_output", "schema_violation"}
    assert checked.payload == r.text


def test_all_tasks_accept_reject_quarantine_and_cached_rerun(vllm_engine, wh):
    seed_documents(wh)
    seed_items(wh)
    cfg = _cfg(vllm_engine.model_dir, tasks=["grounded_qa", "mcq_cot", "dialogue"])
    first = _run(cfg, wh, vllm_engine)
    assert first["status"] == "completed" and first["cache_hits"] == 0
    con = connect(wh)
    # passages: the empty document is quarantined, never a passage
    assert con.execute("select count(*) from passages where doc_id = 'pmc:PMCEMPTY'").fetchone()[0] == 0
    assert con.execute("select count(*) from quarantine where reason = 'empty_document'").fetchone()[0] == 1
    n_pass = con.execute("select count(*) from passages").fetchone()[0]
    assert n_pass > 5 and con.execute("select max(n_tokens) from passages").fetchone()[0] <= 60

    # every generation is accounted for: rows + quarantined, none lost, no nulls
    qa = first["tasks"]["grounded_qa"]
    assert qa["inputs"] == n_pass and qa["rows"] + qa["quarantined"] >= 1
    for table in ("synthetic_grounded_qa", "synthetic_mcq_cot", "synthetic_dialogue"):
        cols = load_schema(table).names
        nulls = " + ".join(f'count(*) - count("{c}")' for c in cols)
        assert con.execute(f"select coalesce(sum(x), 0) from (select {nulls} as x from {table})").fetchone()[0] == 0
        assert con.execute(f"select count(*) - count(distinct record_id) from {table}").fetchone()[0] == 0

    # mcq_cot: only train items with a gold answer are used; kept rows match gold; the rest are wrong_answer
    mcq = first["tasks"]["mcq_cot"]
    assert mcq["inputs"] == 5  # 4 train items + the no-gold one; the test split is never read
    kept = con.execute(
        "select final_answer = gold_answer, n_samples, n_correct, pass_rate from synthetic_mcq_cot"
    ).fetchall()
    assert all(k[0] and k[1] == 4 and k[3] == k[2] / 4 for k in kept)
    reasons = dict(
        con.execute(
            "select reason, count(*) from quarantine where stage='synth' and source_ref like 'medqa:train:%' group by 1"
        ).fetchall()
    )
    assert reasons.pop("no_gold_answer") == 1
    detail = con.execute("select reason, detail, payload from quarantine where reason = 'schema_violation'").fetchall()
    assert len(kept) >= 1 and reasons.get("wrong_answer", 0) >= 1, (
        reasons,
        detail[:3],
    )  # both paths, on real random-weight output
    assert len(kept) + sum(reasons.values()) == 16  # 4 items x 4 samples, each kept or quarantined once
    assert con.execute("select count(*) from synthetic_mcq_cot where item_id like 'medqa:test:%'").fetchone()[0] == 0

    # dialogue: whatever is accepted alternates roles starting with the patient; rejections carry the raw output
    for (turns,) in con.execute("select turns from synthetic_dialogue").fetchall():
        roles = [t["role"] for t in turns]
        assert roles[0] == "patient" and all(a != b for a, b in itertools.pairwise(roles))
    raw = con.execute(
        "select payload from quarantine where reason in ('roles_not_alternating','too_few_turns',"
        "'doctor_speaks_first') limit 1"
    ).fetchone()
    assert raw is None or raw[0].startswith("{")

    # run record: tokens, throughput, cache hits
    rec = load_run(wh, first["run_id"])
    assert rec["status"] == "completed" and rec["tokens"]["grounded_qa"]["output_fresh"] > 0
    assert rec["tokens"]["grounded_qa"]["output_tokens_per_s"] > 0 and rec["models"]["generator"]["fingerprint"]

    before = con.execute("select record_id, question from synthetic_grounded_qa order by 1").fetchall()
    t0 = time.perf_counter()
    second = _run(cfg, wh, vllm_engine)
    assert second["cache_hits"] == sum(s["cache_hits"] for s in second["tasks"].values()) > 0
    assert all(
        s["cache_hits"] == s["inputs"] * (4 if n == "mcq_cot" else 1) - (4 if n == "mcq_cot" else 0)
        for n, s in second["tasks"].items()
    )
    assert load_run(wh, second["run_id"])["tokens"]["grounded_qa"]["output_fresh"] == 0
    con = connect(wh)
    assert con.execute("select record_id, question from synthetic_grounded_qa order by 1").fetchall() == before
    assert con.execute("select bool_and(cached) from synthetic_grounded_qa").fetchone()[0] in (True, None)
    assert time.perf_counter() - t0 < 30

    # --no-cache regenerates (same seeds: same text) without reading the cache
    third = _run(cfg, wh, vllm_engine, tasks=["grounded_qa"], use_cache=False)
    assert third["cache_hits"] == 0
    assert connect(wh).execute("select record_id, question from synthetic_grounded_qa order by 1").fetchall() == before


def test_resume_after_crash_mid_run_has_no_duplicates(vllm_engine, wh, monkeypatch):
    import curation.synth.runner as runner

    seed_documents(wh, n=6)
    cfg = _cfg(vllm_engine.model_dir, tasks=["grounded_qa"])
    real_write = runner.write_unit
    calls = {"n": 0}

    def crash_on_second_batch(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("simulated crash after generating batch 2, before publishing it")
        return real_write(*a, **kw)

    monkeypatch.setattr(runner, "write_unit", crash_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        _run(cfg, wh, vllm_engine)
    monkeypatch.setattr(runner, "write_unit", real_write)
    assert len(wh.units("synthetic_grounded_qa")) == 1  # only batch 1 was published

    resumed = _run(cfg, wh, vllm_engine)
    assert resumed["tasks"]["grounded_qa"]["cache_hits"] == 4  # batches 1 and 2 (2 passages each) were paid for
    con = connect(wh)
    n, distinct = con.execute("select count(*), count(distinct record_id) from synthetic_grounded_qa").fetchone()
    assert n == distinct
    # every passage's generation ended up as rows or quarantine exactly once (no batch lost, none doubled)
    covered = con.execute(
        "select count(distinct split_part(source_ref, '/', 1)) from quarantine where stage = 'synth' "
        "and source_ref like 'pmc:%#%/s%'"
    ).fetchone()[0]
    with_rows = con.execute("select count(distinct passage_id) from synthetic_grounded_qa").fetchone()[0]
    assert covered + with_rows >= resumed["tasks"]["grounded_qa"]["inputs"]
    assert resumed["tasks"]["grounded_qa"]["stale_units_removed"] == 0


def test_grounded_qa_judge_pass(vllm_engine, wh):
    """The judge is a second real generation per accepted pair; only 'good' verdicts stay, with the verdict."""
    seed_documents(wh, n=2)
    cfg = _cfg(vllm_engine.model_dir, tasks=["grounded_qa"], grounded_qa={"judge": True})
    out = _run(cfg, wh, vllm_engine)
    s = out["tasks"]["grounded_qa"]
    con = connect(wh)
    judged = con.execute("select judge from synthetic_grounded_qa").fetchall()
    assert all(json.loads(j)["enabled"] for (j,) in judged)  # what is kept passed the judge (its rubric: good)
    n_judge_q = con.execute("select count(*) from quarantine where reason like 'judge_%'").fetchone()[0]
    assert len(judged) + n_judge_q >= 1
    # judge generations are metered like task generations: one per pair that passed the row checks
    assert load_run(wh, out["run_id"])["counts"]["grounded_qa.generations"] == s["inputs"] + len(judged) + n_judge_q


# --- server mode: `vllm serve` on loopback ------------------------------------------------------------------------


def test_serve_client_structured_output_and_pool(vllm_server, tiny_model):
    from curation.synth.openai_engine import OpenAIEngine

    t = builtin_task("grounded_qa", _cfg(tiny_model))
    eng = OpenAIEngine([vllm_server, "http://127.0.0.1:9/v1"], concurrency=4, retries=2, backoff_s=0.05)
    assert eng.model_id == "tiny"
    prompts = [t.prompt({"text": f"Passage {i} about metformin."}) for i in range(4)]
    res = eng.generate(prompts, Sampling(temperature=1.0, max_tokens=200, seed=5), t.schema())
    for r in res:  # half the requests first hit the dead endpoint and fail over
        assert r.ok and r.finish_reason == "stop", r
        assert isinstance(r.parsed, dict) and not schema_errors(r.parsed, t.schema())
        assert r.n_prompt_tokens > 50 and r.n_output_tokens > 0
    (too_long,) = eng.generate(["word " * 3000], Sampling(max_tokens=8))
    assert too_long.error == "http_400"  # not retried: the server said the request itself is wrong


def test_serve_flow_from_manifest_and_cached_rerun(vllm_server, tiny_model, wh, tmp_path, prefect_harness):
    from curation.flows.stages import stage_flow

    seed_documents(wh, n=2)
    m = write_manifest(
        tmp_path / "m.yaml",
        {
            "engine": "openai",
            "endpoints": [vllm_server],
            "tasks": ["grounded_qa"],
            "sampling": {"temperature": 1.0, "max_tokens": 200, "seed": 3},
            "passages": {"max_tokens": 80, "min_tokens": 5, "tokenizer": str(tiny_model)},
            "grounded_qa": {
                "pairs_per_passage": 2,
                "min_grounding": 0.0,
                "min_question_chars": 1,
                "min_answer_chars": 1,
                "max_question_chars": 60,
                "max_answer_chars": 60,
            },
        },
    )
    first = stage_flow("synth")(manifest_path=str(m), warehouse=str(wh.root))
    qa = first["tasks"]["grounded_qa"]
    assert first["status"] == "completed" and qa["inputs"] >= 3 and qa["cache_hits"] == 0
    rec = load_run(wh, first["run_id"])
    assert rec["models"]["generator"]["model"] == "tiny" and rec["tokens"]["grounded_qa"]["output_fresh"] > 0
    assert rec["extra"]["passage_filters"]["skipped_absent_columns"]  # no dedup/quality annotations here
    con = connect(wh)
    rows = con.execute("select count(*) from synthetic_grounded_qa").fetchone()[0]
    q = con.execute("select count(*) from quarantine where stage = 'synth'").fetchone()[0]
    assert rows == qa["rows"] and rows + q >= qa["inputs"]
    second = stage_flow("synth")(manifest_path=str(m), warehouse=str(wh.root))
    assert second["tasks"]["grounded_qa"]["cache_hits"] == qa["inputs"]
    assert connect(wh).execute("select count(*) from synthetic_grounded_qa").fetchone()[0] == rows
