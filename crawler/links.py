"""Same-site links of a page, cheaply: what ``LinkExtractor(deny=…, unique=True)`` returns.

Scrapy's ``LinkExtractor`` walks every element of the tree, joins and quotes every ``href``
(duplicates included: a news page repeats its navigation links many times) and collects
each link's text. On the corpus pages (~140 ``<a>`` a page) that is 9–14 ms a page, the
largest share of the reactor process's CPU. This module gives the same URLs in the same
order in 4–7 ms (lxml parse included):

- only ``<a>`` and ``<area>`` elements are visited (lxml filters by tag in C);
- a repeated ``href`` is processed once (its URL depends only on the value and the page);
- link text is not collected (the spider never uses it);
- the same-site test is memoised per ``scheme://host:port`` (it costs a public-suffix
  lookup per host);
- an absolute link to another site (plain ASCII ``scheme://host:port``) is dropped before
  it is joined and quoted;
- joining and quoting are cached per (``scheme://host`` of the base, href) for absolute and
  root-relative links, so the navigation a site repeats on every page is worked out once:
  6.1 ms a page with a cold cache (88 corpus pages, each from another site), 0.8 ms warm.

In the crawl, article pages' links are read by the extraction worker from its own tree
(``tree_links``) and handed back on the item; the spider reads them with ``page_links`` from
pages it does not extract (start and section pages) and from the rare page whose tree the
worker could not trust. Either way the spider alone turns them into requests.

Both read the text extraction reads: ``page_links`` decodes the body with
``extract.encoding.decode_page`` (not Scrapy's ``TextResponse`` decoding, which believes a
Content-Type that says ISO-8859-1 over UTF-8 bytes and so reads ``/città`` as ``/cittÃ\xa0``),
and both percent-encode queries in the codec that function chose (``link_encoding``). A
``<base href>`` counts wherever it is, as in a browser (Scrapy reads the first 4 KB only).

``tests/test_links.py`` checks the output equals LinkExtractor's on tricky links and on every
corpus page (given the same text), and that both readers give the same links.

Non-HTML selectors (an XHTML document parsed as XML) fall back to ``LinkExtractor``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlparse

from lxml import etree, html
from w3lib.encoding import (
    html_body_declared_encoding,
    html_to_unicode,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)
from w3lib.html import strip_html5_whitespace
from w3lib.url import safe_url_string

from crawler.canonical import same_site
from crawler.urls import matches_any
from extract.encoding import decode_page

if TYPE_CHECKING:
    from scrapy.http import TextResponse

# scrapy.linkextractors.IGNORED_EXTENSIONS, copied: the extraction workers use this module
# and importing Scrapy would cost each of them ~22 MB. tests/test_links.py checks the copy.
IGNORED_EXTENSIONS = (
    "7z", "7zip", "bz2", "rar", "tar", "tar.gz", "xz", "zip", "mng", "pct", "bmp", "gif", "jpg",
    "jpeg", "png", "pst", "psp", "tif", "tiff", "ai", "drw", "dxf", "eps", "ps", "svg", "cdr",
    "ico", "webp", "mp3", "wma", "ogg", "wav", "ra", "aac", "mid", "au", "aiff", "3gp", "asf",
    "asx", "avi", "mov", "mp4", "mpg", "qt", "rm", "swf", "wmv", "m4a", "m4v", "flv", "webm",
    "xls", "xlsm", "xlsx", "xltm", "xltx", "potm", "potx", "ppt", "pptm", "pptx", "pps", "doc",
    "docb", "docm", "docx", "dotm", "dotx", "odt", "ods", "odg", "odp", "css", "pdf", "exe",
    "bin", "rss", "dmg", "iso", "apk", "jar", "sh", "rb", "js", "hta", "bat", "cpl", "msi",
    "msp", "py",
)
_DENY_EXTENSIONS = tuple("." + e for e in IGNORED_EXTENSIONS)
_VALID_SCHEMES = ("http", "https", "file", "ftp")
_PLAIN_PREFIX = re.compile(r"https?://[a-z0-9.-]+(:[0-9]+)?")


@functools.lru_cache(maxsize=4096)
def _same_site_prefix(prefix: str, hosts: frozenset[str]) -> bool:
    return same_site(prefix + "/", hosts)


def _site_prefix(url: str) -> str:
    """``scheme://netloc`` of an absolute URL (what ``same_site`` depends on)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = len(rest)
    for ch in "/?#":
        i = rest.find(ch)
        if i != -1 and i < end:
            end = i
    return f"{scheme}://{rest[:end]}"


def link_encoding(body: bytes, charset: str | None = None) -> str:
    """The encoding a page's link queries are percent-encoded in: the codec extraction reads
    the page with (``extract.encoding.decode_page``), UTF-8 for a UTF-16 or UTF-32 page (as
    browsers do: their query bytes would be no URL at all)."""
    return _query_encoding(decode_page(body, charset)[1])


def _query_encoding(codec: str) -> str:
    return "utf-8" if codec.startswith(("utf-16", "utf-32")) else codec


# What parsel builds a Selector's tree with (huge_tree: no depth limit, unlike extraction's).
_HTML_PARSER = html.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)


def page_links(response: TextResponse, deny: Iterable[re.Pattern[str]],
               hosts: frozenset[str]) -> list[str]:
    """Absolute URLs of the page's same-site links, first occurrence order, no duplicates."""
    from scrapy.http import HtmlResponse

    deny = tuple(deny)
    if not isinstance(response, HtmlResponse):
        from scrapy.selector import Selector

        if Selector(response=response).type != "html":
            return _link_extractor_links(response, deny, hosts)
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
    charset = http_content_type_encoding(content_type)
    text, codec = decode_page(response.body, charset)
    # A tree of its own, not ``response.selector``: the response stays alive until its item
    # has been extracted and stored, and a cached lxml tree (~10x the HTML) would stay with it.
    data = text.strip().replace("\x00", "").encode("utf-8") or b"<html/>"
    root = etree.fromstring(data, parser=_HTML_PARSER)
    if root is None:
        return []
    encoding = _query_encoding(codec)
    return tree_links(root, document_base_url(root, response.url, encoding), response.url,
                      encoding, deny, hosts)


def _link_extractor_links(response: TextResponse, deny: tuple[re.Pattern[str], ...],
                          hosts: frozenset[str]) -> list[str]:
    """Links of a non-HTML page (XHTML parsed as XML, say), through Scrapy's LinkExtractor."""
    from scrapy.linkextractors import LinkExtractor

    extractor = LinkExtractor(deny=deny, unique=True)
    return [link.url for link in extractor.extract_links(response) if same_site(link.url, hosts)]


def scrapy_encoding(body: bytes, charset: str | None = None) -> str:
    """The encoding ``TextResponse.encoding`` gives a page, worked out without Scrapy and
    without keeping the decoded text: the BOM, then the Content-Type ``charset``, then a
    ``<meta charset>`` in the first 4 KB, else ASCII (read as cp1252) or UTF-8 when the bytes
    decode as such, else charset-normalizer's guess.

    Links are not read in it (``link_encoding``): the meta-refresh middleware decodes a
    page's head in it so that it finds what ``scrapy.utils.response.get_meta_refresh`` finds,
    and ``response.encoding`` on a page that declares nothing would decode and cache the whole
    body on the response. ``tests/test_links.py`` compares the two.
    """
    declared = (read_bom(body)[0] or (resolve_encoding(charset) if charset else None)
                or html_body_declared_encoding(body))
    if declared:
        return declared
    # what TextResponse._body_inferred_encoding does, including its decoding of the body
    return html_to_unicode(None, body, auto_detect_fun=_scrapy_auto_detect,
                           default_encoding="ascii")[0]


def _scrapy_auto_detect(body: bytes) -> str | None:
    """Scrapy's ``TextResponse._auto_detect_fun``: ASCII (read as cp1252), then UTF-8, then
    charset-normalizer's guess."""
    from charset_normalizer import from_bytes

    for candidate in ("ascii", "utf-8"):
        try:
            body.decode(candidate)
        except UnicodeError:
            continue
        return resolve_encoding(candidate)
    match = from_bytes(body).best()
    return resolve_encoding(match.encoding) if match else None


def document_base_url(root: Any, page_url: str, encoding: str = "utf-8") -> str:
    """The page's ``<base href>`` resolved against its URL, else the URL (as get_base_url)."""
    for base in root.iter("base"):
        href = base.get("href")
        if href and href.strip():
            try:
                return safe_url_string(urljoin(page_url, href.strip()), encoding=encoding)
            except ValueError:
                break
    return page_url


def tree_links(root: Any, base_url: str, page_url: str, encoding: str,
               deny: Iterable[re.Pattern[str]], hosts: frozenset[str]) -> list[str]:
    """``page_links`` over an lxml tree already parsed (the extraction worker's, say)."""
    deny = tuple(deny)
    seen_href: set[str] = set()
    seen_url: set[str] = set()
    out: list[str] = []
    for element in root.iter("a", "area"):
        href = element.get("href")
        if href is None or href in seen_href:
            continue
        seen_href.add(href)
        # An absolute link to another site is dropped before it is joined and quoted: a
        # plain (ASCII, lower-case, unescaped) scheme://host:port is left as it is by
        # safe_url_string, so same_site() gives the same answer on the raw value.
        raw = strip_html5_whitespace(href)
        if raw.startswith(("http://", "https://")):
            prefix = _site_prefix(raw)
            if _PLAIN_PREFIX.fullmatch(prefix) and not _same_site_prefix(prefix, hosts):
                continue
        url = _resolve(_join_base(base_url, href), href, encoding)
        if url is None:
            continue
        if "://" not in url:  # a relative <base href>: LinkExtractor joins with the page URL
            url = urljoin(page_url, url)
            if url.split("://", 1)[0] not in _VALID_SCHEMES:
                continue
        if deny and matches_any(deny, url):
            continue
        if url in seen_url:  # LinkExtractor(canonicalize=False) deduplicates exact URLs
            continue
        seen_url.add(url)
        if _same_site_prefix(_site_prefix(url), hosts):
            out.append(url)
    return out


def _join_base(base_url: str, href: str) -> str:
    """What joining ``href`` depends on: only the base's ``scheme://host`` for absolute and
    root-relative links (most of a page's), the whole base for the others. A smaller key
    lets ``_resolve`` answer the navigation links a site repeats on every page once."""
    value = strip_html5_whitespace(href)  # as _resolve joins it
    # "/x", "//host/x", "http://host/x"; not "http:x", which urljoin reads as relative
    if value.startswith("/") or _HAS_AUTHORITY(value):
        return _site_prefix(base_url)
    return base_url


_HAS_AUTHORITY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://").match


@functools.lru_cache(maxsize=16_384)  # ~5 MB: a few hundred sites' navigation links
def _resolve(base: str, href: str, encoding: str) -> str | None:
    """``href`` joined to ``base`` and quoted as LinkExtractor does; None for a bogus link, a
    scheme other than http(s)/ftp/file, or a binary file by its extension. Pure, so cached:
    joining and quoting were most of the cost of reading a page's links."""
    try:
        url = safe_url_string(urljoin(base, strip_html5_whitespace(href)), encoding=encoding)
    except ValueError:
        return None  # a bogus link, skipped by LinkExtractor too
    if "://" in url and url.split("://", 1)[0] not in _VALID_SCHEMES:
        return None
    if ":" in url.split("/", 1)[0] and "://" not in url:  # mailto:, javascript:, tel:
        return None
    if urlparse(url).path.lower().endswith(_DENY_EXTENSIONS):
        return None
    return url
