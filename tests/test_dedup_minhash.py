"""Signatures equal datasketch.MinHash bit for bit; normalization, shingling bounds, non-Latin scripts."""

from __future__ import annotations

import random

import numpy as np
import pytest
import xxhash
from datasketch import MinHash

from curation.dedup.config import DedupConfig
from curation.dedup.sign import EMPTY, OK, SHORT, TRUNCATED, sign_texts
from curation.dedup.text import normalize, shingles

WORDS = ["Alpha", "beta,", "γάμμα", "δέλτα.", "Москва", "город", "中文", "测试", "e\u0301", "ﬁ", "x", "Y"]


def _texts(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 60))) for _ in range(n)]


@pytest.mark.parametrize("kind", ["word", "char"])
@pytest.mark.parametrize("hash_name", ["sha1", "xxh32"])
@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (64, 42)])
def test_signatures_equal_datasketch(kind, hash_name, num_perm, seed):
    cfg = DedupConfig.model_validate(
        {
            "shingle": {"kind": kind, "n": 3, "min_shingles": 1, "max_shingles": 30},
            "minhash": {"num_perm": num_perm, "seed": seed, "hash": hash_name},
        }
    )
    texts = _texts(200)
    signed = sign_texts(texts, cfg)
    assert (signed.sig_row >= 0).all()
    for i, t in enumerate(texts):
        ref = MinHash(num_perm=num_perm, seed=seed, hashfunc=None if hash_name == "sha1" else xxhash.xxh32_intdigest)
        ref.update_batch([s.encode("utf-8") for s in shingles(normalize(t, cfg.normalize), cfg.shingle)])
        np.testing.assert_array_equal(signed.sigs[signed.sig_row[i]], ref.hashvalues)


def test_normalization_folds_case_width_punctuation_and_space():
    cfg = DedupConfig().normalize
    assert normalize("  The ＲＥＳＵＬＴＳ:\tStraße…  were\n\nfine! ", cfg) == "the results strasse were fine"
    keep = cfg.model_copy(update={"punctuation": "keep"})
    assert normalize("a,  b!", keep) == "a, b!"


def test_punctuation_removal_equals_the_regex_definition():
    """normalize() removes punctuation with translate tables and replacements, not the regex; it must equal the
    regex definition on any input: ASCII (control characters, punctuation runs, underscores, every kind of
    whitespace) and non-ASCII (symbols, combining marks, other scripts, lone surrogates) alike."""
    import re

    from curation.dedup.config import NormalizeConfig

    punct = re.compile(r"[^\w\s]+")
    rng = random.Random(5)
    ascii_chars = [chr(c) for c in range(128)]
    other = [*"±μ°–—…«»“”•†‡§¶©®™€£½²≥≤→αβγΩ中文。、，éèü\u0301\u200b\u3000\u00a0\ud800", *WORDS]
    texts = ["".join(rng.choice(ascii_chars) for _ in range(rng.randint(0, 200))) for _ in range(2000)]
    texts += ["".join(rng.choice(ascii_chars + other) for _ in range(rng.randint(0, 200))) for _ in range(2000)]
    texts += ["a--b", "x_y.z", "Hello,\x1cworld!!", "tab\tand\x0bvt", "  (p<0.05)  ", "p ≤ 0.05 (±1.2 μg)…"]
    cfg = NormalizeConfig(nfkc=False)
    for t in texts:
        expected = " ".join(punct.sub(" ", t.casefold()).split())
        assert normalize(t, cfg) == expected, repr(t)


def test_statuses_short_empty_truncated():
    cfg = DedupConfig.model_validate({"shingle": {"n": 2, "min_shingles": 3, "max_shingles": 5, "max_chars": 200}})
    texts = ["", " ... ", "one two", "one two three four", "w " * 50, "x y " * 150]
    s = sign_texts(texts, cfg)
    assert s.status == [EMPTY, EMPTY, SHORT, OK, TRUNCATED, TRUNCATED]
    assert list(s.sig_row < 0) == [True, True, True, False, False, False]
    assert s.n_shingles.tolist()[:4] == [0, 0, 1, 3]


def test_enormous_document_is_bounded():
    cfg = DedupConfig.model_validate({"shingle": {"max_shingles": 1000, "max_chars": 50_000}})
    rng = random.Random(0)
    huge = " ".join(f"w{rng.randint(0, 10**6)}" for _ in range(2_000_000))  # ~18 MB
    s = sign_texts([huge, huge[:40_000]], cfg)
    assert s.status == [TRUNCATED, TRUNCATED]
    # only the first max_chars characters and max_shingles shingles count: both sign the same prefix
    np.testing.assert_array_equal(s.sigs[0], s.sigs[1])
    assert len(shingles(normalize(huge[:50_000], cfg.normalize), cfg.shingle)) == 1000


def test_non_latin_scripts():
    word = DedupConfig()
    char = DedupConfig.model_validate({"shingle": {"kind": "char", "n": 3}})
    ru = "Острый инфаркт миокарда является одной из основных причин смертности во всём мире сегодня"
    el = "Η οξεία μυελογενής λευχαιμία είναι μια κακοήθης νόσος του μυελού των οστών στους ενήλικες"
    zh = "急性髓系白血病是一种骨髓造血干细胞的恶性克隆性疾病，常见于成年人，预后较差需要及时治疗"
    for cfg in (word, char):
        s = sign_texts([ru, ru.replace("мире", "мире,"), el, el + " σήμερα"], cfg)
        assert (s.sigs[0] == s.sigs[1]).all()  # punctuation only
        assert (s.sigs[2] == s.sigs[3]).mean() > 0.6
        assert (s.sigs[0] == s.sigs[2]).mean() < 0.1
    # Chinese has no spaces: with word shingles a sentence is one "word" (exact dedup only); char n-grams see edits
    s = sign_texts([zh, zh.replace("较差", "不好")], word)
    assert s.status == [SHORT, SHORT]
    s = sign_texts([zh, zh.replace("较差", "不好")], char)
    assert 0.6 < (s.sigs[0] == s.sigs[1]).mean() < 1.0


def test_config_validation():
    with pytest.raises(ValueError, match="bands"):
        DedupConfig(bands=4)
    with pytest.raises(ValueError, match="exceeds num_perm"):
        DedupConfig(bands=20, rows=10)
    with pytest.raises(ValueError, match="not a string column"):
        DedupConfig(fields=["nope"])
    assert DedupConfig(threshold=0.8).band_params() != DedupConfig(threshold=0.5).band_params()
    assert DedupConfig().params_id() == DedupConfig().params_id() != DedupConfig(threshold=0.9).params_id()
