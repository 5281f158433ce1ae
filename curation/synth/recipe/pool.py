"""The engines of one synth run, by model name: each opened on first use behind the response cache and closed after
the last task that needs it, so a weak filter model and a strong distiller need not sit in memory together."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from curation.synth.cache import CachedEngine, ResponseCache, cache_path
from curation.synth.config import EngineSettings, ModelSpec, SynthConfig
from curation.synth.engine import Engine
from curation.warehouse import Warehouse

if TYPE_CHECKING:
    from curation.synth.cache import ResponseCache

DEFAULT = ""  # the key of synth's own model


def configured_engine(cfg: EngineSettings, seed: int = 0) -> Engine:
    if cfg.engine == "openai":
        from curation.synth.openai_engine import OpenAIEngine

        return OpenAIEngine.from_env_key(
            cfg.endpoints,
            cfg.model,
            cfg.api_key_env,
            api=cfg.api,
            concurrency=cfg.concurrency,
            timeout_s=cfg.timeout_s,
            retries=cfg.retries,
        )
    from curation.synth.vllm_engine import VLLMEngine

    return VLLMEngine(
        cfg.model,
        max_model_len=cfg.max_model_len,
        gpu_memory_utilization=cfg.gpu_memory_utilization,
        seed=seed,
        dtype=cfg.dtype,
    )


class EnginePool:
    """`get(name)`: the engine of a `models:` entry (None or "" = synth's default model). `injected` stands in for
    engines already loaded (tests, notebooks): one engine for every name, or a dict by name."""

    def __init__(
        self,
        synth: SynthConfig,
        models: dict[str, ModelSpec],
        wh: Warehouse,
        use_cache: bool = True,
        injected: Engine | dict[str, Engine] | None = None,
    ):
        self.synth = synth
        self.models = models
        self.cache: ResponseCache | None = ResponseCache(cache_path(wh)) if use_cache and synth.cache else None
        self.injected = injected
        self.open: dict[str, CachedEngine] = {}
        self.served: dict[str, Engine] = {}  # by serving settings: names differing only in sampling share a model
        self.load_s_closed = 0.0

    def key(self, name: str | None) -> str:
        if not name:
            return self.synth.model if self.synth.model in self.models else DEFAULT
        if name not in self.models:
            raise KeyError(f"model {name!r} is not in models: {sorted(self.models)}")
        return name

    def settings(self, name: str | None) -> Any:
        """A `models:` entry, or synth's own fields as one (unvalidated: its model may be unset, as for an
        OpenAI-compatible server whose served model is asked of the server)."""
        key = self.key(name)
        if key:
            return self.models[key]
        fields = self.synth.model_dump(include=set(EngineSettings.model_fields))
        return ModelSpec.model_construct(**fields, sampling={})

    def get(self, name: str | None = None) -> CachedEngine:
        key = self.key(name)
        if key not in self.open:
            self.open[key] = CachedEngine(self._inner(key), self.cache, enabled=self.cache is not None)
        return self.open[key]

    def _serving(self, key: str) -> str:
        return self.settings(key or None).model_dump_json(exclude={"sampling"})

    def _inner(self, key: str) -> Engine:
        if isinstance(self.injected, dict):
            if key in self.injected:
                return self.injected[key]
        elif self.injected is not None:
            return self.injected
        serving = self._serving(key)
        if serving not in self.served:
            self.served[serving] = configured_engine(self.settings(key or None), self.synth.sampling.seed)
        return self.served[serving]

    def serving_key(self, name: str | None) -> str:
        """Names with the same serving settings (differing only in sampling) share one loaded model."""
        key = self.key(name)
        if isinstance(self.injected, dict) and key in self.injected:
            return f"injected:{key}"
        return self._serving(key)

    def release(self, name: str | None) -> None:
        """Close the model serving `name` (the caller knows no later task needs it), with every name it serves;
        an injected engine stays open (its owner closes it)."""
        eng = self.open.get(self.key(name))
        if eng is None:
            return
        inner = eng.inner
        self.load_s_closed += getattr(inner, "load_s", 0.0)
        self.open = {k: e for k, e in self.open.items() if e.inner is not inner}
        self.served = {k: v for k, v in self.served.items() if v is not inner}
        if not self._is_injected(eng):
            inner.close()

    def _is_injected(self, eng: CachedEngine) -> bool:
        inj = self.injected
        return eng.inner is inj or (isinstance(inj, dict) and any(eng.inner is e for e in inj.values()))

    def close(self) -> None:
        for key in list(self.open):
            self.release(key or None)
        if self.cache is not None:
            self.cache.close()

    @property
    def load_s(self) -> float:
        """Seconds spent loading models in this run."""
        inners = {id(e.inner): e.inner for e in self.open.values()}
        return self.load_s_closed + sum(getattr(i, "load_s", 0.0) for i in inners.values())
