"""BlankElements: same length and lines, eligible elements gone for the parser, everything else untouched, at
any chunking of the input."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from lxml import etree

from curation.ingest.xmlblank import BlankElements

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

DOC = b"""<?xml version="1.0"?>
<!DOCTYPE Set PUBLIC "-//x//y" "set.dtd">
<Set>
<!-- a comment: <ReferenceList><Reference>kept</Reference></ReferenceList> -->
<Art><Id>1</Id><Data>
  <ReferenceList>
    <Reference><Citation>A &amp; B</Citation></Reference>
    <ReferenceList><Title>nested</Title><Reference/></ReferenceList>
  </ReferenceList>
  <After>x</After></Data></Art>
<Art><Id>2</Id><Data><ReferenceList/><ReferenceList></ReferenceList><Other>o</Other></Data></Art>
<Art><Id>3</Id><Data><ReferenceList kind="a" n='2'><Reference>attr</Reference><ReferenceList/></ReferenceList >
  <AuthorList CompleteYN="Y"><Author><LastName>Li</LastName></Author></AuthorList></Data></Art>
<Art><Id>7</Id><Data><ReferenceList note="a>b"><Reference>gt in a value</Reference></ReferenceList></Data></Art>
<Art><Id>4</Id><Data><ReferenceList><![CDATA[</ReferenceList>]]></ReferenceList></Data></Art>
<Art><Id>5</Id><Text><![CDATA[<ReferenceList>text</ReferenceList>]]></Text><?pi <ReferenceList></ReferenceList>?></Art>
<Art><Id>6</Id><ReferenceListX><Reference>other tag</Reference></ReferenceListX></Art>
</Set>
"""


class Chunked:
    """A raw stream that returns at most `size` bytes a read."""

    def __init__(self, data: bytes, size: int):
        self.f, self.size = io.BytesIO(data), size

    def read(self, n: int = -1) -> bytes:
        return self.f.read(min(n if n > 0 else self.size, self.size))


def _blank(data: bytes, size: int, tags=("ReferenceList", "AuthorList"), **kw) -> tuple[bytes, int]:
    b = BlankElements(Chunked(data, size), tags, **kw)
    out = []
    while chunk := b.read(32768):
        out.append(chunk)
    return b"".join(out), b.blanked


def _refs(root: etree._Element) -> list[str]:
    return [etree.tostring(e, with_tail=False).decode() for e in root.iter("ReferenceList")]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16, 64, 1 << 20])
def test_eligible_elements_blanked_everything_else_kept(size):
    out, blanked = _blank(DOC, size)
    assert len(out) == len(DOC)
    assert [i for i, c in enumerate(out) if c == 10] == [i for i, c in enumerate(DOC) if c == 10]
    # article 1's list (with the one nested in it), article 2's empty pair, article 3's two (attributes, a nested
    # self-closing element, a space before '>')
    assert blanked == 4
    root = etree.fromstring(out, etree.XMLParser(load_dtd=False, no_network=True))
    raw = etree.fromstring(DOC, etree.XMLParser(load_dtd=False, no_network=True))
    arts = {a.findtext("Id"): a for a in root.iter("Art")}
    assert arts["1"].find("Data/ReferenceList") is None and arts["1"].findtext("Data/After") == "x"
    # `<ReferenceList/>` is self-closing: not eligible, kept; the empty pair after it is blanked.
    assert _refs(arts["2"]) == ["<ReferenceList/>"] and arts["2"].findtext("Data/Other") == "o"
    assert len(arts["3"].find("Data")) == 0
    for keep in ("4", "5", "6", "7"):  # CDATA inside, tags inside CDATA/PI, another tag, '>' in an attribute
        assert etree.tostring(arts[keep]) == etree.tostring(
            next(a for a in raw.iter("Art") if a.findtext("Id") == keep)
        )
    comments = [c.text for c in raw.iter(etree.Comment)]
    assert [c.text for c in root.iter(etree.Comment)] == comments
    assert root.sourceline == raw.sourceline and [a.sourceline for a in root.iter("Art")] == [
        a.sourceline for a in raw.iter("Art")
    ]


def test_internal_subset_turns_blanking_off():
    doc = DOC.replace(b'"set.dtd">', b'"set.dtd" [<!ENTITY r "<ReferenceList></ReferenceList>">]>')
    out, blanked = _blank(doc, 5)
    assert out == doc and blanked == 0


def test_unterminated_and_oversized_elements_pass_through():
    doc = b"<S><ReferenceList><Reference>" + b"x" * 500 + b"</Reference>"
    out, blanked = _blank(doc, 7)
    assert out == doc and blanked == 0
    whole = doc + b"</ReferenceList></S>"
    out, blanked = _blank(whole, 7, limit=100)
    assert out == whole and blanked == 0
    out, blanked = _blank(whole, 7)
    assert blanked == 1 and etree.fromstring(out).find("ReferenceList") is None


@pytest.mark.skipif(not (SHARED / "pubmed_xml").is_dir(), reason="../shared/data not present")
def test_shared_pubmed_samples_parse_to_the_same_records_without_the_unread_elements():
    from curation.ingest.pubmed import NOT_READ

    for path in sorted((SHARED / "pubmed_xml").glob("*.xml*")):
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        out, blanked = _blank(data, 1 << 16, NOT_READ)
        assert len(out) == len(data) and blanked > 0
        parser = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)
        raw, got = etree.fromstring(data, parser), etree.fromstring(out, parser)
        for r in list(raw.iter(*NOT_READ)):
            if r.getparent() is not None:
                r.getparent().remove(r)
        for e in (*raw.iter(), *got.iter()):  # blanking leaves whitespace where the removed element was
            e.text = None if e.text is not None and not e.text.strip() else e.text
            e.tail = None if e.tail is not None and not e.tail.strip() else e.tail
        assert etree.tostring(got) == etree.tostring(raw), path.name
