"""Streaming XML records with bounded memory, and turning a broken stream into one quarantine entry.

Every XML connector reads through `iter_records`: lxml iterparse over the (decompressed) binary stream, each
record element cleared after use and its finished siblings deleted, so memory stays at one record whatever the
file size. When the stream breaks (truncated gzip, invalid XML, wrong encoding, an element beyond libxml2's size
limits) the records already yielded stay, and the rest of the file becomes a single `Rejection` item that names
the byte offset in the decompressed stream, the parser's message and a bounded piece of the raw input.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

from lxml import etree

from curation.ingest.items import Rejection
from curation.ingest.limits import current
from curation.ingest.textio import STREAM_ERRORS, Readable, open_binary, stream_reason
from curation.ingest.xmlblank import BlankElements

# huge_tree stays off: libxml2 then refuses text nodes over 10 MB and absurd depths, which bounds one record.
PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}
PAYLOAD_CONTEXT = 1024  # raw bytes before the break that go into the quarantine payload
PAYLOAD_AFTER = 63 * 1024  # and at most this many after it

RECORD_RAW_FACTOR = 4  # an open record may span this many times max_record_bytes of raw XML (markup, blanked parts)


class TreeTooLarge(Exception):
    """A record (or the input before the first record) grew past its bound while being parsed."""

    @classmethod
    def record(cls, elem: etree._Element, limit: int) -> TreeTooLarge:
        return cls(
            f"record <{elem.tag}> (line {elem.sourceline}) is over {limit} bytes of XML "
            f"({RECORD_RAW_FACTOR} × max_record_bytes)"
        )


_STREAM_ERRORS = (etree.XMLSyntaxError, TreeTooLarge, *STREAM_ERRORS)


class CountingReader:
    """A read() wrapper that counts bytes and newlines and keeps the last chunks, so an error can be placed.

    `on_read` runs before each read, i.e. between two feeds of the parser, when the tree may be pruned.
    """

    def __init__(self, raw: Readable, keep_chunks: int = 3):
        self.raw = raw
        self.bytes = 0
        self.lines = 0
        self._chunks: deque[tuple[int, int, bytes]] = deque(maxlen=keep_chunks)  # (offset, newlines before, data)
        self.on_read: Callable[[], None] | None = None

    def read(self, n: int = -1) -> bytes:
        if self.on_read is not None:
            self.on_read()
        data = self.raw.read(n)
        if data:
            self._chunks.append((self.bytes, self.lines, data))
            self.bytes += len(data)
            self.lines += data.count(b"\n")
        return data

    def offset_of(self, line: int, column: int) -> int | None:
        """Byte offset of a 1-based (line, column) from the parser, if that line starts in a kept chunk."""
        for start, lines_before, data in self._chunks:
            k = line - 1 - lines_before
            if k < 0 or k > data.count(b"\n"):
                continue
            pos = 0
            for _ in range(k):
                pos = data.index(b"\n", pos) + 1
            return start + pos + max(column - 1, 0)
        return None

    def window(self, offset: int) -> bytes:
        """Kept raw bytes from shortly before `offset` to the end of what was read, then a bounded read-ahead."""
        kept = b"".join(c for _, _, c in self._chunks)
        first = self._chunks[0][0] if self._chunks else self.bytes
        head = kept[max(offset - PAYLOAD_CONTEXT - first, 0) :][: PAYLOAD_CONTEXT + PAYLOAD_AFTER]
        try:
            more = self.raw.read(max(PAYLOAD_CONTEXT + PAYLOAD_AFTER - len(head), 0))
        except (*_STREAM_ERRORS, OSError):
            more = b""
        return head + more


class TreeGuard:
    """Keeps the tree iterparse builds to the open record: run between feeds (CountingReader.on_read), it deletes
    every finished element outside the records along the open path (a flood of non-record elements stays flat), and
    stops a record whose raw XML passes RECORD_RAW_FACTOR × max_record_bytes before it is materialised."""

    def __init__(self, reader: CountingReader, tags: tuple[str, ...]):
        self.reader = reader
        self.tags = frozenset(tags)
        self.root: etree._Element | None = None
        self.limit = RECORD_RAW_FACTOR * current().max_record_bytes
        self._open: etree._Element | None = None
        self._open_since = 0
        self.finished: etree._Element | None = None  # the record last handed to the caller (cleared, not open)

    def seen(self, elem: etree._Element) -> None:
        if self.root is None:
            self.root = elem.getroottree().getroot()

    def __call__(self) -> None:
        elem = self.root
        if elem is None:
            if self.reader.bytes > self.limit:
                raise TreeTooLarge(
                    f"no record element ({', '.join(sorted(self.tags))}) in the first {self.limit} bytes"
                )
            return
        while True:
            if elem.tag in self.tags:
                self._check_record(elem)
                return
            n = len(elem)
            if n == 0:
                return
            if n > 1:  # only the last child can still be open; finished records were handed out before this read
                del elem[:-1]
            elem = elem[0]

    def _check_record(self, elem: etree._Element) -> None:
        if elem is self.finished:
            return
        if elem is not self._open:
            self._open, self._open_since = elem, self.reader.bytes
        elif self.reader.bytes - self._open_since > self.limit:
            raise TreeTooLarge.record(elem, self.limit)


def classify(error: BaseException, bytes_read: int) -> str:
    """A reason code for a broken stream (curation/ingest/reasons.py)."""
    if isinstance(error, STREAM_ERRORS):
        return stream_reason(error)
    if isinstance(error, TreeTooLarge):
        return "oversized_record"
    if bytes_read == 0:
        return "empty_file"
    code = getattr(error, "code", None)
    if code == etree.ErrorTypes.ERR_INVALID_ENCODING or "encoding" in str(error).lower():
        return "wrong_encoding"
    if code == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
        return "oversized_record"
    return "invalid_xml"


def stream_error(path: Path, reader: CountingReader, error: BaseException, records_before: int) -> Rejection:
    """The rest of a file after its stream broke, as one quarantine item."""
    reason = classify(error, reader.bytes)
    line, column = getattr(error, "position", None) or (0, 0)
    exact = reader.offset_of(line, column) if line else None
    offset = reader.bytes if exact is None else exact
    where = f"line {line}, column {column}, " if line else ""
    detail = (
        f"{type(error).__name__}: {error} ({where}byte {offset} of the decompressed stream); "
        f"{records_before} records before this point were kept, the rest of the file was not parsed"
    )
    payload = None if reason == "empty_file" else reader.window(offset)
    return Rejection(reason, f"{path}@{offset}", payload, detail)


def iter_records(
    path: Path, tags: tuple[str, ...], blank: tuple[str, ...] = (), roots: tuple[str, ...] = ()
) -> Iterator[etree._Element | Rejection]:
    """Yield each complete element named in `tags`; a broken stream ends with one Rejection item.

    The element is only valid until the next iteration: it is cleared, with its finished siblings, afterwards.
    `blank` names elements the caller never reads: they are blanked before parsing (curation/ingest/xmlblank.py),
    so they are absent from the yielded records. The quarantine window of a broken stream still shows raw bytes.
    `roots` names the expected document elements: their start event lets TreeGuard prune before the first record.
    """
    with open_binary(path) as raw:
        reader = CountingReader(raw)
        guard = TreeGuard(reader, tags)
        reader.on_read = guard
        source = BlankElements(reader, blank) if blank else reader
        n = 0
        try:
            for event, elem in etree.iterparse(source, events=("start", "end"), tag=tags + roots, **PARSER_OPTIONS):
                guard.seen(elem)
                if event == "start" or elem.tag in roots:
                    continue
                yield elem
                n += 1
                elem.clear(keep_tail=False)
                guard.finished = elem
                parent = elem.getparent()
                if parent is not None:
                    while elem.getprevious() is not None:
                        del parent[0]
        except _STREAM_ERRORS as e:
            yield stream_error(path, reader, e, n)


def text_of(elem: etree._Element | None) -> str:
    """All text inside an element (markup such as <i> or <sup> dropped), whitespace collapsed."""
    if elem is None:
        return ""
    text = (elem.text or "") if len(elem) == 0 else "".join(elem.itertext())
    return " ".join(text.split())


# Child lookups by exact tag. lxml's find()/findtext() go through the Python ElementPath engine; iterchildren(tag)
# filters in C, which is what keeps the PubMed field extraction cheap (bench/ingest_pubmed.py).
def child(elem: etree._Element | None, *tags: str) -> etree._Element | None:
    """The first element along a path of child tags, or None."""
    for tag in tags:
        if elem is None:
            return None
        elem = next(elem.iterchildren(tag), None)
    return elem


def children(elem: etree._Element | None, *tags: str) -> Iterator[etree._Element]:
    """Every element at a path of child tags (the last tag may repeat; the others are taken first-match)."""
    parent = child(elem, *tags[:-1])
    return parent.iterchildren(tags[-1]) if parent is not None else iter(())


def by_tag(elem: etree._Element | None) -> dict[str, list[etree._Element]]:
    """An element's children grouped by tag, in one pass (comments and PIs are removed by the parser)."""
    out: dict[str, list[etree._Element]] = {}
    if elem is not None:
        for c in elem:
            out.setdefault(c.tag, []).append(c)
    return out


def first(groups: dict[str, list[etree._Element]], tag: str) -> etree._Element | None:
    found = groups.get(tag)
    return found[0] if found else None


def text_at(elem: etree._Element | None, *tags: str) -> str | None:
    """The text of the element at a path of child tags (stripped), or None when absent or empty."""
    found = child(elem, *tags)
    text = found.text.strip() if found is not None and found.text else ""
    return text or None


def element_payload(elem: etree._Element) -> bytes:
    """A record's raw XML for quarantine (the Quarantine writer bounds its size)."""
    return etree.tostring(elem, encoding="utf-8")
