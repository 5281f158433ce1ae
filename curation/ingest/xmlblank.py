"""Blank out elements that a connector never reads before libxml2 sees them.

A 2026 PubMed file is 30–60 % `ReferenceList` by bytes (the shared samples: 31 % and 40 %; an efetch record 59 %),
thousands of small elements that iterparse would build into a tree only for us to throw them away. `BlankElements`
sits between the byte stream and the parser and overwrites each such element with spaces, newlines kept: the
stream keeps its exact length and line structure, so every line, column and byte offset the parser reports (record
`source_ref`s, quarantine offsets) is still the raw file's, while libxml2 skips the region as whitespace.

It is conservative: a region is blanked only when it is a complete element (nesting counted, attributes allowed
when their values hold no '<' or '>') that contains no comment, CDATA section or processing instruction; markup outside
elements (comments, CDATA, PIs, the DOCTYPE) is passed through untouched and never scanned for tags, and a DOCTYPE
with an internal subset turns blanking off for the stream. Anything else is left for the parser as it is. An
element larger than `limit` is passed through too, so buffering stays bounded.
"""

from __future__ import annotations

import re

from curation.ingest.textio import Readable

_BLANK = bytes(b if b in b"\r\n" else 0x20 for b in range(256))
_MARKUP_END = {b"<!--": b"-->", b"<![CDATA[": b"]]>", b"<?": b"?>", b"<!DOCTYPE": b">"}
# Attributes whose values hold no '<' or '>' (XML allows '>' in a value; such a tag is simply not eligible).
_ATTRS = rb"""(?:\s+[A-Za-z_:][-\w.:]*\s*=\s*(?:"[^"<>]*"|'[^'<>]*'))*\s*"""
READ_SIZE = 1 << 16
HOLD = 256  # bytes kept back at a chunk end, where a start tag or a markup opener may be cut


class BlankElements:
    """A read() wrapper that turns every eligible element named in `tags` into whitespace of the same length."""

    def __init__(self, raw: Readable, tags: tuple[str, ...], limit: int = 32 << 20):
        names = b"|".join(re.escape(t.encode()) for t in tags)
        self.raw = raw
        self.limit = limit
        markup = b"|".join(re.escape(opener) for opener in _MARKUP_END)
        self._next = re.compile(b"<(" + names + b")" + _ATTRS + b">|" + markup)
        self._inner = {t.encode(): re.compile(b"</?" + re.escape(t.encode()) + rb"(?=[\s/>])|<[!?]") for t in tags}
        self._start = {t.encode(): re.compile(b"<" + re.escape(t.encode()) + _ATTRS + b"(/?)>") for t in tags}
        self._buf = b""
        self._markup_end: bytes | None = None  # inside a comment/CDATA/PI/DOCTYPE: pass through up to this
        self._enabled = True
        self._eof = False
        self.blanked = 0  # elements blanked so far

    def read(self, n: int = -1) -> bytes:
        while True:
            if not self._eof:
                # at least the buffer's size again: an element waiting for its end is rescanned O(log) times
                data = self.raw.read(max(n, READ_SIZE, len(self._buf)))
                self._eof = not data
                self._buf += data
            out = self._process()
            if out or (self._eof and not self._buf):
                return out

    def _process(self) -> bytes:
        buf, pos, out = self._buf, 0, []
        while pos < len(buf):
            if self._markup_end is not None:
                terminator = self._markup_end
                j = buf.find(terminator, pos)
                if j >= 0:
                    cut = j + len(terminator)
                elif self._eof:
                    cut = len(buf)
                else:  # keep back what may be the start of a terminator cut by the chunk end
                    cut = max(pos, len(buf) - len(terminator) + 1)
                if terminator == _MARKUP_END[b"<!DOCTYPE"] and b"[" in buf[pos:cut]:
                    self._enabled = False  # an internal subset could declare anything: leave the stream alone
                out.append(buf[pos:cut])
                pos = cut
                if j < 0:
                    break
                self._markup_end = None
                continue
            m = self._next.search(buf, pos) if self._enabled else None
            if m is None:
                cut = len(buf) if self._eof or not self._enabled else max(pos, len(buf) - HOLD)
                out.append(buf[pos:cut])
                pos = cut
                break
            if m.group(1) is None:
                out.append(buf[pos : m.end()])
                pos, self._markup_end = m.end(), _MARKUP_END[m.group()]
                continue
            end = self._element_end(buf, m.group(1), m.end())
            if end is None and not self._eof and len(buf) - m.start() <= self.limit:
                out.append(buf[pos : m.start()])  # wait for the rest of the element
                pos = m.start()
                break
            if end is None or end < 0:  # not eligible, unterminated or too large: the parser gets it as it is
                out.append(buf[pos : m.end()])
                pos = m.end()
                continue
            out.append(buf[pos : m.start()])
            out.append(buf[m.start() : end].translate(_BLANK))
            self.blanked += 1
            pos = end
        self._buf = buf[pos:]
        return b"".join(out)

    def _element_end(self, buf: bytes, name: bytes, start: int) -> int | None:
        """Index just past the close tag matching the start tag of `name` that ends at `start`; None when the
        buffer ends first; -1 when the element is not eligible (other markup inside, or a tag we do not parse)."""
        depth = 1
        for m in self._inner[name].finditer(buf, start):
            if m.group() in (b"<!", b"<?"):
                return -1
            gt = buf.find(b">", m.end())
            if gt < 0:
                return None
            if m.group()[1] == 0x2F:  # '/': a close tag, spaces allowed before '>'
                if buf[m.end() : gt].strip():
                    return -1
                depth -= 1
                if depth == 0:
                    return gt + 1
                continue
            tag = self._start[name].fullmatch(buf, m.start(), gt + 1)
            if tag is None:
                return -1
            depth += 0 if tag.group(1) else 1  # a nested self-closing element changes nothing
        return None
