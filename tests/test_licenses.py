"""Licence normalization: URL, license-type and prose evidence to SPDX-like ids and commercial use."""

from __future__ import annotations

import pytest

from curation.ingest import licenses

URLS = [
    ("http://creativecommons.org/licenses/by/2.0", "CC-BY-2.0", True),
    ("https://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0", True),
    ("http://creativecommons.org/licenses/by-nc/3.0", "CC-BY-NC-3.0", False),
    ("https://creativecommons.org/licenses/by-nc-nd/4.0/", "CC-BY-NC-ND-4.0", False),
    ("https://creativecommons.org/licenses/by-nc-sa/3.0/igo/", "CC-BY-NC-SA-3.0", False),
    ("https://creativecommons.org/licenses/by-sa/4.0/", "CC-BY-SA-4.0", True),
    ("https://creativecommons.org/licenses/by-nd/4.0/", "CC-BY-ND-4.0", True),
    ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0", True),
    ("http://creativecommons.org/publicdomain/mark/1.0/", "public-domain", True),
]


@pytest.mark.parametrize(("url", "expected", "commercial"), URLS)
def test_from_url(url, expected, commercial):
    lic = licenses.from_url(url)
    assert (lic.id, lic.commercial_use, lic.url) == (expected, commercial, url)


def test_publisher_urls_are_not_licences():
    assert licenses.from_url("https://www.elsevier.com/tdm/userlicense/1.0/") is None
    assert licenses.from_url(None) is None


@pytest.mark.parametrize(
    ("license_type", "expected"),
    [("cc-by", "CC-BY"), ("CC-BY-NC-ND", "CC-BY-NC-ND"), ("cc0", "CC0-1.0"), ("public-domain", "public-domain"),
     ("open-access", None), ("creative-commons", None), (None, None)],
)  # fmt: skip
def test_from_type(license_type, expected):
    lic = licenses.from_type(license_type)
    assert (lic.id if lic else None) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("distributed under the terms of the Creative Commons Attribution License, which permits", "CC-BY"),
        ("under the Creative Commons Attribution Non-Commercial License", "CC-BY-NC"),
        ("Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 International License", "CC-BY-NC-ND-4.0"),
        ("licensed under a Creative Commons Attribution 4.0 International License", "CC-BY-4.0"),
        ("Creative Commons Attribution-ShareAlike 3.0 licence", "CC-BY-SA-3.0"),
        ("see http://creativecommons.org/licenses/by-nc/4.0/ for details", "CC-BY-NC-4.0"),
        ("Publication of EHP lies in the public domain and is therefore without copyright.", "public-domain"),
        ("released under a CC0 public domain dedication", "CC0-1.0"),
        ("Copyright © 2010 Cancer Research UK", None),
        ("", None),
    ],
)
def test_from_text(text, expected):
    lic = licenses.from_text(text)
    assert (lic.id if lic else None) == expected


def test_normalize_order_and_fallbacks():
    # a URL beats a contradicting license-type and prose
    lic, how = licenses.normalize(urls=["http://creativecommons.org/licenses/by/4.0/"], license_type="cc-by-nc",
                                  texts=["Creative Commons Attribution Non-Commercial"])  # fmt: skip
    assert (lic.id, how) == ("CC-BY-4.0", "url")
    # an unrecognized URL falls through to license-type, and is kept as the licence URL
    lic, how = licenses.normalize(urls=["https://publisher.example/terms"], license_type="cc-by")
    assert (lic.id, lic.url, how) == ("CC-BY", "https://publisher.example/terms", "license-type")
    lic, how = licenses.normalize(texts=[None, "Creative Commons Attribution License"])
    assert (lic.id, lic.commercial_use, how) == ("CC-BY", True, "text")
    lic, how = licenses.normalize()
    assert (lic.id, lic.commercial_use, how) == ("unknown", False, "none")


@pytest.mark.parametrize(
    ("license_id", "commercial"),
    [("CC-BY-4.0", True), ("CC-BY", True), ("CC-BY-SA-4.0", True), ("CC-BY-ND-4.0", True), ("CC0-1.0", True),
     ("public-domain", True), ("CC-BY-NC-4.0", False), ("CC-BY-NC-SA-3.0", False), ("CC-BY-NC-ND-4.0", False),
     ("NLM-PubMed-terms", False), ("unknown", False)],
)  # fmt: skip
def test_commercial_use(license_id, commercial):
    assert licenses.commercial_use(license_id) is commercial
