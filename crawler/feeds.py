"""Feeds: RSS and Atom through feedparser, JSON Feed 1.x through json, and feed discovery
from `<link rel="alternate">`. Nothing here raises on bad input: a malformed or huge feed
gives the entries that could be read plus an `error` a person understands.
"""

from __future__ import annotations

import calendar
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
import lxml.html
from feedparser.exceptions import ThingsNobodyCaresAboutButMe
from lxml import etree

from archive.clock import format_utc
from crawler.dates import to_utc_iso
from crawler.urls import http_url

__all__ = ["MAX_ENTRIES", "Entry", "Feed", "feed_links", "parse_feed"]

# feedparser reads ~3,000 entries/s on one core here (100,000 entries: 36 s), so a feed is cut
# before parsing; real news feeds carry 10-100 entries.
MAX_ENTRIES = 10_000
_ENTRY_END = re.compile(rb"</(?:[\w.-]+:)?(item|entry)\s*>", re.IGNORECASE)
FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/feed+json", "application/rdf+xml"}
)
_JSONFEED_PREFIX = "https://jsonfeed.org/version/"


@dataclass(frozen=True)
class Entry:
    """One feed item. Dates are UTC ISO 8601, or as printed when the feed gave no zone."""

    url: str
    title: str | None = None
    published_at: str | None = None
    updated_at: str | None = None


@dataclass
class Feed:
    """What `parse_feed` found. Iterating and `len()` go over the entries."""

    entries: list[Entry] = field(default_factory=list)
    kind: str | None = None  # "rss", "atom", "jsonfeed" or None when unrecognised
    error: str | None = None

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


def _absolute_only(link: Any, base: str) -> str | None:
    """Like `http_url`, for ids: "123" is an id, not a link relative to the feed."""
    if isinstance(link, str) and link.strip().lower().startswith(("http://", "https://")):
        return http_url(link, base)
    return None


def _clean_title(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    title = " ".join(value.split())
    return title or None


def _struct_to_iso(parsed: time.struct_time | None) -> str | None:
    # feedparser converts every date it understands to a UTC struct_time.
    if not parsed:
        return None
    try:
        return format_utc(datetime.fromtimestamp(calendar.timegm(parsed), UTC))
    except (OverflowError, ValueError, OSError):
        return None


def _capped(entries: list[Entry], total: int, error: str | None) -> tuple[list[Entry], str | None]:
    if total <= MAX_ENTRIES:
        return entries, error
    note = f"feed has {total} entries; only the first {MAX_ENTRIES} were kept"
    return entries[:MAX_ENTRIES], f"{error}; {note}" if error else note


def _looks_like_json(body: bytes) -> bool:
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _parse_json_feed(body: bytes, url: str) -> Feed:
    """JSON Feed 1.0 / 1.1 (https://jsonfeed.org/version/1.1)."""
    try:
        data = json.loads(body.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError) as exc:
        return Feed(kind="jsonfeed", error=f"malformed JSON Feed: {exc}")
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(_JSONFEED_PREFIX):
        return Feed(error="JSON document is not a JSON Feed (no jsonfeed.org version)")
    items = data.get("items")
    if not isinstance(items, list):
        return Feed(kind="jsonfeed", error="JSON Feed without an items list")
    entries = []
    for item in items[:MAX_ENTRIES]:
        if not isinstance(item, dict):
            continue
        link = http_url(item.get("url"), url) or _absolute_only(item.get("id"), url)
        if link:
            entries.append(Entry(link, _clean_title(item.get("title")),
                                 to_utc_iso(item.get("date_published")),
                                 to_utc_iso(item.get("date_modified"))))
    entries, error = _capped(entries, len(items), None)
    return Feed(entries, "jsonfeed", error)


def _kind(version: str) -> str | None:
    if version.startswith("atom"):
        return "atom"
    if version.startswith(("rss", "cdf")):
        return "rss"
    return None


def _truncate(body: bytes) -> tuple[bytes, str | None]:
    """Cut a feed after its MAX_ENTRIES-th item and close the document again."""
    ends = _ENTRY_END.finditer(body)
    last = None
    for count, last in enumerate(ends, start=1):  # noqa: B007 - `last` is read below
        if count == MAX_ENTRIES:
            break
    else:
        return body, None
    if next(ends, None) is None:
        return body, None
    head = body[:2048].lower()
    closing = (b"</rdf:rdf>" if b"<rdf:rdf" in head
               else b"</feed>" if last[1].lower() == b"entry" else b"</channel></rss>")
    note = f"feed has more than {MAX_ENTRIES} entries; only the first {MAX_ENTRIES} were read"
    return body[: last.end()] + closing, note


def _entry(item: Any, url: str) -> Entry | None:
    link = http_url(item.get("link"), url) or _absolute_only(item.get("id"), url)
    if not link:
        return None
    # dict.get: feedparser's own get() answers `updated` with `published` when absent.
    return Entry(link, _clean_title(item.get("title")),
                 _struct_to_iso(dict.get(item, "published_parsed")),
                 _struct_to_iso(dict.get(item, "updated_parsed")))


def _parse_xml_feed(body: bytes, url: str) -> Feed:
    body, note = _truncate(body)
    # content-type given so feedparser does not flag every byte string as bozo.
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False,
                              response_headers={"content-location": url,
                                                "content-type": "application/xml"})
    kind = _kind(parsed.get("version") or "")
    entries = [e for e in (_entry(item, url) for item in parsed.entries[:MAX_ENTRIES]) if e]
    error = None
    problem = parsed.get("bozo_exception")
    # feedparser's own name for warnings (declared charset overridden, odd content type):
    # the entries are fine, so they are not worth a failure row.
    if parsed.get("bozo") and not isinstance(problem, ThingsNobodyCaresAboutButMe):
        error = f"malformed feed: {problem}"
    if kind is None and not entries:
        error = error or "not an RSS, Atom or JSON feed"
    if note:
        error = f"{error}; {note}" if error else note
    entries, error = _capped(entries, len(parsed.entries), error)
    return Feed(entries, kind, error)


def parse_feed(body: bytes, url: str) -> Feed:
    """Entries of an RSS, Atom or JSON feed; never raises.

    Links are made absolute against `url`; entries without an http(s) link are skipped;
    at most MAX_ENTRIES are kept (the error says so). `Feed.error` explains anything
    malformed; the entries read before the problem are still returned.
    """
    if not isinstance(body, (bytes, bytearray)):
        return Feed(error=f"feed body is {type(body).__name__}, not bytes")
    if not body.strip():
        return Feed(error="empty feed")
    try:
        if _looks_like_json(bytes(body)):
            return _parse_json_feed(bytes(body), url)
        return _parse_xml_feed(bytes(body), url)
    except Exception as exc:  # noqa: BLE001 - a feed must never stop the crawl
        return Feed(error=f"unreadable feed: {type(exc).__name__}: {exc}")


def _tree(html: Any) -> Any:
    if isinstance(html, (bytes, str)):
        if not html.strip():
            return None
        parser = lxml.html.HTMLParser(no_network=True, huge_tree=False)
        return lxml.html.document_fromstring(html, parser=parser)
    return html


def feed_links(html: Any, base_url: str) -> list[str]:
    """Feed URLs announced by `<link rel="alternate" type="application/rss+xml|atom+xml|
    feed+json">` in a page (bytes, str or an lxml tree), absolute, deduplicated, in order.

    WordPress comment feeds (`…/comments/feed/`) are kept out: they list comments.
    """
    try:
        tree = _tree(html)
        if tree is None:
            return []
        base = urljoin(base_url, (tree.xpath("string(//base/@href)") or "").strip())
        links = []
        for node in tree.xpath("//link[@href]"):
            rel = (node.get("rel") or "").lower().split()
            kind = (node.get("type") or "").lower().split(";")[0].strip()
            if "alternate" not in rel or kind not in FEED_TYPES:
                continue
            url = http_url(node.get("href"), base)
            if url and "/comments/feed" not in url and url not in links:
                links.append(url)
        return links
    except (etree.LxmlError, ValueError, TypeError):
        return []
