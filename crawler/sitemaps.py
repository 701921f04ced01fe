"""Sitemaps: urlset and sitemapindex, gzip, Google News fields, robots.txt `Sitemap:` lines.

Scrapy's own parser keeps only flat child tags, so `news:publication_date` and
`news:title` are read here. Parsing is XXE-safe (no entities, no network, no huge trees),
streaming (iterparse, elements cleared as they are read) and never raises.
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass, field

from lxml import etree
from protego import Protego

from crawler.dates import to_utc_iso
from crawler.urls import http_url

__all__ = [
    "MAX_DECOMPRESSED",
    "MAX_ENTRIES",
    "Sitemap",
    "SitemapEntry",
    "parse_sitemap",
    "robots_sitemaps",
]

# The sitemaps protocol's own limits: 50,000 URLs and 50 MB uncompressed per file.
MAX_ENTRIES = 50_000
MAX_DECOMPRESSED = 50 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class SitemapEntry:
    """One `<url>` or `<sitemap>`; dates UTC ISO (or a bare day, or naive as printed)."""

    url: str
    lastmod: str | None = None
    news_published_at: str | None = None
    news_title: str | None = None


@dataclass
class Sitemap:
    kind: str | None = None  # "urlset", "index", or None when not a sitemap
    entries: list[SitemapEntry] = field(default_factory=list)
    error: str | None = None


def _gunzip(body: bytes) -> tuple[bytes, str | None]:
    """Decompress at most MAX_DECOMPRESSED bytes; a bigger output is a bomb, not a sitemap."""
    out = io.BytesIO()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
            while chunk := stream.read(1024 * 1024):
                out.write(chunk)
                if out.tell() > MAX_DECOMPRESSED:
                    limit = MAX_DECOMPRESSED // (1024 * 1024)
                    return out.getvalue()[:MAX_DECOMPRESSED], (
                        f"gzip sitemap decompresses to more than {limit} MB (gzip bomb?); "
                        f"only the first {limit} MB were read")
    except (OSError, EOFError, zlib.error) as exc:
        return out.getvalue(), f"corrupt gzip: {exc}"
    return out.getvalue(), None


def _local(tag: object) -> str:
    # Namespace-agnostic: many sitemaps get the namespace URI slightly wrong.
    return tag.rpartition("}")[2].lower() if isinstance(tag, str) else ""


def _text(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _child(element: etree._Element, name: str) -> etree._Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _entry(element: etree._Element, base: str) -> SitemapEntry | None:
    url = http_url(_text(_child(element, "loc")), base)
    if url is None:
        return None
    news = _child(element, "news")  # image:, video:, xhtml: children are ignored
    published = title = None
    if news is not None:
        published = to_utc_iso(_text(_child(news, "publication_date")))
        raw_title = _text(_child(news, "title"))
        title = " ".join(raw_title.split()) if raw_title else None
    return SitemapEntry(url, to_utc_iso(_text(_child(element, "lastmod"))), published, title)


def _parse_xml(body: bytes, base: str, result: Sitemap) -> None:
    events = etree.iterparse(
        io.BytesIO(body), events=("start", "end"), resolve_entities=False, no_network=True,
        huge_tree=False, recover=True, load_dtd=False, remove_comments=True)
    depth = 0
    for event, element in events:
        depth += 1 if event == "start" else -1
        if event == "start":
            if depth == 1:
                result.kind = {"urlset": "urlset", "sitemapindex": "index"}.get(_local(element.tag))
                if result.kind is None:
                    result.error = f"not a sitemap: root element <{_local(element.tag)}>"
                    return
            continue
        if depth != 1:  # a whole <url>/<sitemap> has just ended (depth counts after the pop)
            continue
        if _local(element.tag) in ("url", "sitemap"):
            entry = _entry(element, base)
            if entry is not None:
                if len(result.entries) >= MAX_ENTRIES:
                    result.error = f"more than {MAX_ENTRIES} entries; only the first were kept"
                    return
                result.entries.append(entry)
        element.clear()
        parent = element.getparent()
        while parent is not None and element.getprevious() is not None:
            del parent[0]
    errors = [e for e in events.error_log if e.level >= etree.ErrorLevels.ERROR]
    if errors:
        result.error = f"malformed sitemap XML (line {errors[0].line}): {errors[0].message}"


def _parse_text(body: bytes, base: str, result: Sitemap) -> None:
    """A plain-text sitemap: one URL per line (allowed by the protocol)."""
    result.kind = "urlset"
    for line in body.decode("utf-8", errors="replace").splitlines():
        url = http_url(line.strip(), base) if line.strip().lower().startswith("http") else None
        if url:
            if len(result.entries) >= MAX_ENTRIES:
                result.error = f"more than {MAX_ENTRIES} entries; only the first were kept"
                return
            result.entries.append(SitemapEntry(url))


def parse_sitemap(body: bytes, url: str) -> Sitemap:
    """Parse a sitemap or sitemap index (XML or text, gzipped or not); never raises.

    On malformed input the entries read so far are returned with `error` set.
    """
    result = Sitemap()
    if not isinstance(body, (bytes, bytearray)):
        result.error = f"sitemap body is {type(body).__name__}, not bytes"
        return result
    data, gzip_error = (_gunzip(bytes(body)) if body[:2] == _GZIP_MAGIC else (bytes(body), None))
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    try:
        if not stripped:
            result.error = "empty sitemap"
        elif stripped[:1] == b"<":
            _parse_xml(stripped, url, result)
        elif stripped[:4].lower() == b"http":
            _parse_text(stripped, url, result)
    except etree.XMLSyntaxError as exc:
        result.error = f"malformed sitemap XML: {exc}"
    except Exception as exc:  # noqa: BLE001 - a sitemap must never stop the crawl
        result.error = f"unreadable sitemap: {type(exc).__name__}: {exc}"
    if gzip_error:
        result.error = f"{gzip_error}; {result.error}" if result.error else gzip_error
    if result.kind is None and result.error is None:
        result.error = "not a sitemap"
    return result


def robots_sitemaps(robots_txt: str, base_url: str | None = None) -> list[str]:
    """`Sitemap:` URLs of a robots.txt (read by Protego, as Scrapy reads the rules), in order,
    deduplicated; relative ones resolved against `base_url` when given, non-http(s) ones
    dropped."""
    if not isinstance(robots_txt, str):
        return []
    try:
        listed = list(Protego.parse(robots_txt).sitemaps)
    except Exception:  # noqa: BLE001 - a broken robots.txt must never stop the crawl
        return []
    found: list[str] = []
    for value in listed:
        url = http_url(value, base_url or "")
        if url and url not in found:
            found.append(url)
    return found
