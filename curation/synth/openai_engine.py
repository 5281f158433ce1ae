"""Client for OpenAI-compatible servers (`vllm serve`, or any compatible endpoint), as a pool of endpoints.

Async httpx with bounded concurrency; each request is retried on connection errors, timeouts, 5xx and 429 with
exponential backoff plus full jitter (a 429's Retry-After is honoured), moving to the next endpoint of the pool on
each retry, so one dead server only slows the pool down. A request that still fails comes back as an error
GenResult (reason code + last error) for the caller to quarantine; it never raises out of generate().
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import os
import random
from collections.abc import Sequence
from typing import Any

import httpx

from curation.synth.engine import (
    HOW_TO_CONFIGURE,
    GeneratorUnavailable,
    GenResult,
    Prompt,
    Sampling,
    as_messages,
    parse_json,
)

RETRY_STATUS = {408, 429, 500, 502, 503, 504}


class _Retryable(Exception):
    def __init__(self, reason: str, detail: str, wait: float | None = None):
        super().__init__(detail)
        self.reason, self.detail, self.wait = reason, detail, wait


class OpenAIEngine:
    def __init__(
        self,
        endpoints: list[str],
        model: str | None = None,
        *,
        api: str = "chat",
        api_key: str | None = None,
        concurrency: int = 8,
        timeout_s: float = 120.0,
        retries: int = 4,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
    ):
        if not endpoints:
            raise GeneratorUnavailable(f"no endpoints given. {HOW_TO_CONFIGURE}")
        self.endpoints = [e.rstrip("/") for e in endpoints]
        self.api = api
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.model_id, self._root = self._discover(model)

    @classmethod
    def from_env_key(cls, endpoints: list[str], model: str | None, api_key_env: str | None, **kw: Any) -> OpenAIEngine:
        return cls(endpoints, model, api_key=os.environ.get(api_key_env) if api_key_env else None, **kw)

    def _discover(self, model: str | None) -> tuple[str, str]:
        """Ask the pool which model it serves; no endpoint answering is GeneratorUnavailable."""
        errors = []
        for base in self.endpoints:
            try:
                r = httpx.get(f"{base}/models", headers=self.headers, timeout=min(self.timeout_s, 10.0))
                r.raise_for_status()
                served = r.json().get("data", [])
            except (httpx.HTTPError, ValueError) as e:
                errors.append(f"{base}: {type(e).__name__}: {e}")
                continue
            for m in served:
                if model is None or m.get("id") == model:
                    return m["id"], str(m.get("root") or m["id"])
            if model is not None:
                return model, model
        raise GeneratorUnavailable(f"no OpenAI-compatible server answered ({'; '.join(errors)}). {HOW_TO_CONFIGURE}")

    def fingerprint(self) -> str:
        return "served:" + hashlib.sha256(f"{self.model_id}\n{self._root}".encode()).hexdigest()[:32]

    def render(self, prompt: Prompt) -> str:
        """Chat requests are rendered by the server; the canonical message list stands for the prompt."""
        msgs = as_messages(prompt)
        if self.api == "chat":
            return "\n".join(f"<{m['role']}>\n{m['content']}" for m in msgs)
        return "\n\n".join(m["content"] for m in msgs)

    def generate(
        self, prompts: Sequence[Prompt], sampling: Sampling | Sequence[Sampling], json_schema: dict | None = None
    ) -> list[GenResult]:
        samplings = [sampling] * len(prompts) if isinstance(sampling, Sampling) else list(sampling)
        coro = self._run(prompts, samplings, json_schema)
        # generate() is sync and may be called from a thread that already runs an event loop (Prefect): use our own.
        with concurrent.futures.ThreadPoolExecutor(1) as ex:
            return ex.submit(asyncio.run, coro).result()

    async def _run(self, prompts: Sequence[Prompt], samplings: list[Sampling], schema: dict | None) -> list[GenResult]:
        sem = asyncio.Semaphore(self.concurrency)
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        async with httpx.AsyncClient(timeout=self.timeout_s, limits=limits, headers=self.headers) as client:

            async def one(i: int) -> GenResult:
                async with sem:
                    return await self._request(client, i, prompts[i], samplings[i], schema)

            return list(await asyncio.gather(*(one(i) for i in range(len(prompts)))))

    def _body(self, prompt: Prompt, s: Sampling, schema: dict | None) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {
            "model": self.model_id,
            "temperature": s.temperature,
            "top_p": s.top_p,
            "max_tokens": s.max_tokens,
            "seed": s.seed,
        }
        if s.frequency_penalty:
            body["frequency_penalty"] = s.frequency_penalty
        if schema:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}
        if self.api == "chat":
            body["messages"] = as_messages(prompt)
            return "/chat/completions", body
        body["prompt"] = self.render(prompt)
        return "/completions", body

    async def _request(
        self, client: httpx.AsyncClient, i: int, prompt: Prompt, s: Sampling, schema: dict | None
    ) -> GenResult:
        path, body = self._body(prompt, s, schema)
        last = _Retryable("server_error", "no attempt made")
        for attempt in range(self.retries + 1):
            base = self.endpoints[(i + attempt) % len(self.endpoints)]
            try:
                return self._result(await self._post(client, base + path, body), schema)
            except _Retryable as e:
                last = e
            except _Fatal as e:
                return GenResult("", "error", error=e.reason, detail=e.detail)
            if attempt < self.retries:
                cap = min(self.max_backoff_s, self.backoff_s * 2**attempt)
                await asyncio.sleep(last.wait if last.wait is not None else random.uniform(0, cap))
        return GenResult("", "error", error=last.reason, detail=f"after {self.retries + 1} attempts: {last.detail}")

    async def _post(self, client: httpx.AsyncClient, url: str, body: dict) -> dict:
        try:
            r = await client.post(url, json=body)
        except httpx.TimeoutException as e:
            raise _Retryable("timeout", f"{url}: {type(e).__name__}") from None
        except httpx.TransportError as e:
            raise _Retryable("server_unreachable", f"{url}: {type(e).__name__}: {e}") from None
        if r.status_code in RETRY_STATUS:
            wait = _retry_after(r) if r.status_code == 429 else None
            reason = "rate_limited" if r.status_code == 429 else "server_error"
            raise _Retryable(reason, f"{url}: HTTP {r.status_code}: {r.text[:500]}", wait)
        if r.status_code >= 400:
            raise _Fatal(f"http_{r.status_code}", f"{url}: {r.text[:2000]}")
        try:
            return r.json()
        except ValueError:
            raise _Retryable("server_error", f"{url}: response is not JSON: {r.text[:500]}") from None

    def _result(self, data: dict, schema: dict | None) -> GenResult:
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"] if self.api == "chat" else choice["text"]
        except (KeyError, IndexError, TypeError):
            raise _Retryable("server_error", f"malformed response: {str(data)[:500]}") from None
        usage = data.get("usage") or {}
        return GenResult(
            text=text or "",
            finish_reason=choice.get("finish_reason") or "stop",
            n_prompt_tokens=int(usage.get("prompt_tokens") or 0),
            n_output_tokens=int(usage.get("completion_tokens") or 0),
            parsed=parse_json(text or "") if schema else None,
        )

    def close(self) -> None:
        """Connections live only for one generate() call; nothing to release."""


class _Fatal(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _retry_after(r: httpx.Response) -> float | None:
    try:
        return max(0.0, float(r.headers.get("retry-after", "")))
    except ValueError:
        return None
