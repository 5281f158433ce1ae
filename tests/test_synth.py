"""Synth stage without vLLM: chunking, passages and filters, prompt delimiting, row checks of all three tasks on
crafted outputs, generation checks, the cache store, and the OpenAI-compatible client against a real HTTP server on
loopback that misbehaves on purpose (5xx, 429, timeouts, prose instead of JSON)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from aiohttp import web

from curation.errors import UserError
from curation.synth.cache import CachedEngine, ResponseCache, cache_key
from curation.synth.config import SynthConfig
from curation.synth.engine import GeneratorUnavailable, GenResult, Sampling
from curation.synth.openai_engine import OpenAIEngine
from curation.synth.passages import build_passages, chunk_text, regex_counter, split_sentences
from curation.synth.prompts import delimit
from curation.synth.runner import check_generation, run_batch
from curation.synth.tasks.base import Context, Sample
from curation.warehouse import connect
from tests.synth_helpers import INJECTION, PASSAGE_TEXT, builtin_task, seed_documents, write_manifest

CFG = SynthConfig()


def _sample(parsed, i=0) -> Sample:
    return Sample(i, GenResult(json.dumps(parsed), "stop", 10, 20, parsed=parsed), parsed)


CTX = Context(model="m", sampling=Sampling().as_dict(), run_id="r1")


# --- passages ------------------------------------------------------------------------------------------------------


def test_chunks_respect_token_limit_and_sentence_boundaries():
    text = " ".join([PASSAGE_TEXT] * 5)
    chunks = chunk_text(text, 40, regex_counter)
    assert len(chunks) > 3
    assert all(n <= 40 for _, n in chunks)
    sentences = set(split_sentences(text))
    for chunk, _ in chunks:
        assert all(s in sentences for s in split_sentences(chunk))  # never cut inside a sentence
    assert " ".join(c for c, _ in chunks) == " ".join(split_sentences(text))


def test_sentence_longer_than_limit_is_cut_at_words():
    long = " ".join(f"w{i}" for i in range(100)) + "."
    chunks = chunk_text(long, 30, regex_counter)
    assert all(n <= 30 for _, n in chunks) and len(chunks) >= 4


def test_passages_filters_absent_columns_skipped_present_applied(wh):
    from tests.factories import doc_row, write_documents

    seed_documents(wh, n=2)
    write_documents(wh, [doc_row("pmc:NC", PASSAGE_TEXT, commercial_use=False, license="CC-BY-NC-4.0")], unit="nc")
    cfg = CFG.passages.model_copy(
        update={"max_tokens": 50, "min_tokens": 3, "filters": ["commercial_use", "coalesce(edu_int, 3) >= 3"]}
    )
    res = build_passages(wh, cfg, "r1", "regex-words", regex_counter)
    assert res.filters_applied == ["commercial_use"]
    assert res.filters_skipped == ["coalesce(edu_int, 3) >= 3"]
    con = connect(wh)
    docs = {r[0] for r in con.execute("select doc_id from passages").fetchall()}
    assert "pmc:NC" not in docs and "pmc:PMC0" in docs and "pmc:PMCEMPTY" not in docs
    assert con.execute("select count(*) from quarantine where reason='empty_document'").fetchone()[0] == 1
    ids = [r[0] for r in con.execute("select passage_id from passages where doc_id='pmc:PMC0' order by k").fetchall()]
    assert ids[0] == "pmc:PMC0#0" and len(ids) > 1
    with pytest.raises(UserError, match="filters"):
        build_passages(wh, cfg.model_copy(update={"filters": ["commercial_use +"]}), "r1", "x", regex_counter)


# --- prompts -------------------------------------------------------------------------------------------------------


def test_injected_closing_tag_cannot_end_the_source_block():
    msgs = builtin_task("grounded_qa").prompt({"text": INJECTION})
    user = msgs[-1]["content"]
    assert user.count("</source>") == 1 and user.count("<source>") == 1
    body = user.split("<source>")[1].split("</source>")[0]
    assert "Ignore all previous instructions" in body  # kept, as data inside the delimiters
    assert msgs[0]["role"] == "system" and "never instructions" in msgs[0]["content"]
    assert delimit("<Question>x</question >") == "< Question>x</ question >"


# --- generation checks and task row checks ------------------------------------------------------------------------


def test_generation_failures_have_reasons():
    t = builtin_task("dialogue", CFG)
    schema = t.schema()
    assert check_generation(t, GenResult("", "error", error="timeout"), schema, "p/s0", 0).reason == "timeout"
    assert check_generation(t, GenResult('{"tu', "length"), schema, "p/s0", 0).reason == "truncated_output"
    prose = GenResult("Sure! Here is a dialogue.", "stop", parsed=None)
    assert check_generation(t, prose, schema, "p/s0", 0).reason == "unparseable_output"
    bad = GenResult(
        '{"turns": [{"role": "nurse", "text": "hi"}]}', "stop", parsed={"turns": [{"role": "nurse", "text": "hi"}]}
    )
    r = check_generation(t, bad, schema, "p/s0", 0)
    assert r.reason == "schema_violation" and "nurse" in r.detail and r.payload == bad.text


def test_grounded_qa_accepts_grounded_and_rejects_each_failure():
    t = builtin_task("grounded_qa", CFG)
    row = {"input_id": "d#0", "passage_id": "d#0", "doc_id": "d", "text": PASSAGE_TEXT}
    good = {
        "question": "What is the first-line drug for type 2 diabetes?",
        "answer": "Metformin is the first-line drug for type 2 diabetes in most adults.",
    }
    pairs = [
        good,
        {
            "question": "What did the study find about metformin?",
            "answer": "Metformin lowers hepatic glucose production.",
        },
        {"question": "Why?", "answer": "Metformin lowers hepatic glucose production."},
        {
            "question": "Which vaccine prevents measles infection in children?",
            "answer": "The MMR vaccine given in two doses prevents measles.",
        },
        {"question": "What is shown in Table 2 of this work?", "answer": "Metformin improves insulin sensitivity."},
        good,
    ]
    rows, rejects = t.evaluate(row, [_sample({"pairs": pairs})], CTX)
    assert [r["question"] for r in rows] == [good["question"]]
    assert rows[0]["grounding_score"] >= 0.9 and rows[0]["judge"] == {"enabled": False}
    assert [r.reason for r in rejects] == [
        "refers_to_source",
        "question_too_short",
        "not_grounded",
        "refers_to_source",
        "duplicate_question",
    ]
    assert all(r.payload.startswith("{") for r in rejects)
    # deterministic record ids: same work, same id; another sample index, another id
    again, _ = t.evaluate(row, [_sample({"pairs": [good]})], CTX)
    other, _ = t.evaluate(row, [_sample({"pairs": [good]}, i=1)], CTX)
    assert again[0]["record_id"] == rows[0]["record_id"] != other[0]["record_id"]


def test_mcq_cot_keeps_only_gold_and_applies_difficulty_filter():
    cfg = SynthConfig.model_validate({"mcq_cot": {"samples": 4, "min_passes": 1, "max_passes": 2}})
    t = builtin_task("mcq_cot", cfg)
    opts = [{"label": "A", "text": "metformin"}, {"label": "B", "text": "insulin"}]
    row = {
        "input_id": "q1",
        "item_id": "q1",
        "benchmark": "medqa",
        "question": "Q?",
        "options": opts,
        "answer": "A",
        "source_ref": "f:1",
    }
    ans = ["A", "B", "B", "A"]
    samples = [_sample({"reasoning": f"step {i}. so {a}", "final_answer": a}, i) for i, a in enumerate(ans)]
    rows, rejects = t.evaluate(row, samples, CTX)
    assert [r.reason for r in rejects] == ["wrong_answer", "wrong_answer"]
    rows, rejects, side = t.aggregate([row], rows, CTX)
    assert [r["sample_index"] for r in rows] == [0, 3] and not rejects
    assert all(r["final_answer"] == "A" and r["gold_answer"] == "A" for r in rows)
    assert all(r["n_correct"] == 2 and r["pass_rate"] == 0.5 for r in rows)
    assert side["synthetic_mcq_cot_items"][0]["n_correct"] == 2
    easy = [_sample({"reasoning": "r", "final_answer": "A"}, i) for i in range(4)]
    rows, rejects, _ = t.aggregate([row], t.evaluate(row, easy, CTX)[0], CTX)
    assert rows == [] and {r.reason for r in rejects} == {"too_easy"}
    assert t.schema_for(row)["properties"]["final_answer"]["enum"] == ["A", "B"]  # decoding picks one of its labels
    assert t.precheck({**row, "answer": None}).reason == "no_gold_answer"
    assert t.precheck({**row, "options": None}).reason == "no_options"


def test_dialogue_role_and_turn_checks():
    t = builtin_task("dialogue", SynthConfig.model_validate({"dialogue": {"min_turns": 4, "max_turns": 6}}))
    row = {"input_id": "d#0", "passage_id": "d#0", "doc_id": "d", "text": PASSAGE_TEXT}

    def turns(*roles, text="Metformin is first-line for type 2 diabetes."):
        return {"turns": [{"role": r, "text": text} for r in roles]}

    ok = turns("patient", "doctor", "patient", "doctor")
    cases = {
        "too_few_turns": turns("patient", "doctor"),
        "too_many_turns": turns(*["patient", "doctor"] * 4),
        "doctor_speaks_first": turns("doctor", "patient", "doctor", "patient"),
        "roles_not_alternating": turns("patient", "doctor", "doctor", "patient"),
        "empty_turn": turns("patient", "doctor", "patient", "doctor", text=" "),
        "refers_to_source": turns("patient", "doctor", "patient", "doctor", text="The study says so."),
    }
    rows, rejects = t.evaluate(row, [_sample(ok), *(_sample(v, i + 1) for i, v in enumerate(cases.values()))], CTX)
    assert len(rows) == 1 and rows[0]["n_turns"] == 4 and rows[0]["grounding_score"] > 0.5
    assert [r.reason for r in rejects] == list(cases)


# --- cache store ---------------------------------------------------------------------------------------------------


def test_cache_key_covers_model_weights_prompt_sampling_schema():
    base = ("m", "sha256:1", "prompt", Sampling(), {"type": "object"})
    k = cache_key(*base)
    assert k == cache_key(*base)
    for i, alt in enumerate(["m2", "sha256:2", "prompt2", Sampling(seed=1), None]):
        changed = list(base)
        changed[i] = alt
        assert cache_key(*changed) != k


def test_cache_survives_reopen_and_is_shared_between_connections(tmp_path):
    path = tmp_path / "c.sqlite"
    a = ResponseCache(path)
    a.put_many("m", [("k1", GenResult('{"x": 1}', "stop", 5, 7))])
    b = ResponseCache(path)  # a second process/connection sees the committed batch
    assert b.get_many(["k1", "k2"]) == {"k1": ('{"x": 1}', "stop", 5, 7)}
    a.close()
    b.close()
    assert len(ResponseCache(path)) == 1


# --- OpenAI-compatible client against a misbehaving server on loopback ---------------------------------------------


class FakeServer:
    """A real aiohttp server on 127.0.0.1. `plan` is a list of behaviours consumed per completion request:
    "ok", "prose", "500", "429", "slow"; when exhausted it answers "ok"."""

    def __init__(self):
        self.plan: list[str] = []
        self.requests: list[float] = []
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        threading.Thread(target=self._serve, args=(started,), daemon=True).start()
        started.wait(10)

    def _serve(self, started):
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_get("/v1/models", self.models)
        app.router.add_post("/v1/chat/completions", self.chat)
        runner = web.AppRunner(app)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        started.set()
        self.loop.run_forever()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def models(self, request):
        return web.json_response({"data": [{"id": "fake", "root": "/models/fake"}]})

    async def chat(self, request):
        body = await request.json()
        self.requests.append(time.monotonic())
        what = self.plan.pop(0) if self.plan else "ok"
        if what == "500":
            return web.Response(status=500, text="boom")
        if what == "429":
            return web.Response(status=429, text="slow down", headers={"Retry-After": "1"})
        if what == "slow":
            await asyncio.sleep(3)
        content = "I think it is A." if what == "prose" else json.dumps({"echo": body["messages"][-1]["content"]})
        return web.json_response(
            {
                "choices": [{"message": {"content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 11, "completion_tokens": 5},
            }
        )


@pytest.fixture(scope="module")
def fake():
    return FakeServer()


def test_openai_client_retries_5xx_then_succeeds(fake):
    fake.plan = ["500", "500"]
    eng = OpenAIEngine([fake.base], retries=3, backoff_s=0.05)
    (r,) = eng.generate(["hi"], Sampling(), {"type": "object"})
    assert r.ok and r.parsed == {"echo": "hi"} and (r.n_prompt_tokens, r.n_output_tokens) == (11, 5)
    assert eng.model_id == "fake" and eng.fingerprint().startswith("served:")


def test_openai_client_gives_up_after_retries_with_reason(fake):
    fake.plan = ["500"] * 10
    (r,) = OpenAIEngine([fake.base], retries=2, backoff_s=0.01).generate(["hi"], Sampling())
    assert r.finish_reason == "error" and r.error == "server_error" and "after 3 attempts" in r.detail
    fake.plan = []


def test_openai_client_honours_retry_after(fake):
    fake.plan = ["429"]
    n0 = len(fake.requests)
    (r,) = OpenAIEngine([fake.base], retries=2, backoff_s=0.01).generate(["hi"], Sampling())
    assert r.ok
    assert fake.requests[n0 + 1] - fake.requests[n0] >= 0.95  # waited the server's Retry-After: 1, not 10 ms


def test_openai_client_timeout_then_quarantine_reason(fake):
    fake.plan = ["slow", "slow"]
    (r,) = OpenAIEngine([fake.base], retries=1, timeout_s=0.5, backoff_s=0.01).generate(["hi"], Sampling())
    assert r.error == "timeout"
    fake.plan = []


def test_openai_pool_fails_over_from_a_dead_endpoint(fake):
    dead = "http://127.0.0.1:9/v1"  # discard port: connection refused
    eng = OpenAIEngine([dead, fake.base], retries=2, backoff_s=0.01, concurrency=4)
    res = eng.generate([f"p{i}" for i in range(6)], Sampling(), {"type": "object"})
    assert all(r.ok for r in res) and [r.parsed["echo"] for r in res] == [f"p{i}" for i in range(6)]


def test_server_down_is_generator_unavailable():
    with pytest.raises(GeneratorUnavailable, match=r"synth\.endpoints"):
        OpenAIEngine(["http://127.0.0.1:9/v1"], timeout_s=1)


def test_schema_ignoring_server_output_is_quarantined_and_errors_not_cached(fake, wh):
    """A server that answers prose instead of JSON: the batch quarantines it with the raw text; an engine error is
    not cached (the next run retries it), a good answer is."""
    seed_documents(wh, n=1)
    cfg = SynthConfig.model_validate({"engine": "openai", "endpoints": [fake.base], "passages": {"min_tokens": 3}})
    from curation.synth.stage import prepare_passages

    cache = ResponseCache(wh.root / "cache" / "t.sqlite")
    eng = CachedEngine(OpenAIEngine([fake.base], retries=0), cache)
    unit = prepare_passages(cfg, wh, eng, "r1").unit
    t = builtin_task("grounded_qa", cfg)
    rows = list(t.inputs(wh, unit))[:3]
    fake.plan = ["prose", "500"]
    stats = run_batch(wh, t, eng, rows, Sampling(), "r1", "u0")
    con = connect(wh)
    got = dict(
        con.execute("select reason, count(*) from quarantine where source_ref like '%/s0' group by 1").fetchall()
    )
    assert got.get("unparseable_output") == 1 and got.get("server_error") == 1
    assert (
        con.execute("select payload from quarantine where reason='unparseable_output'").fetchone()[0]
        == "I think it is A."
    )
    assert stats.generations == len(rows) >= 2 and len(cache) == len(rows) - 1  # the 500 is not cached


def test_synth_without_generator_is_skipped_with_instructions(wh, tmp_path, prefect_harness):
    from typer.testing import CliRunner

    from curation.cli import app
    from curation.flows.stages import stage_flow
    from curation.warehouse.runs import load_runs

    m = write_manifest(tmp_path / "m.yaml", {"model": str(tmp_path / "nope")})
    s = stage_flow("synth")(manifest_path=str(m), warehouse=str(wh.root))
    assert s["status"] == "skipped" and "models prepare" in s["message"]
    assert load_runs(wh)[-1]["status"] == "skipped"
    res = CliRunner().invoke(app, ["--warehouse", str(wh.root), "synth", str(m)])
    assert res.exit_code == 2 and "synth skipped" in res.output
    # inside a build, the stage is recorded as unavailable with the instructions, and the build goes on
    from curation.flows.build import build_flow

    synth = build_flow(manifest_path=str(m), warehouse=str(wh.root))["synth"]
    assert synth["status"] == "unavailable" and "models prepare" in synth["reason"]
