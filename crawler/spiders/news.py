"""The ``news`` spider: discovers article pages of every source and hands them on.

Discovery runs three ways at once: links followed from ``start_urls`` (within ``max_depth``),
feeds (listed or found in ``<link rel=alternate>``) and sitemaps (listed or found in
robots.txt). Every URL is canonicalised before it is requested, so a page found several ways
is fetched once, and URLs already in the archive are not fetched again unless the source's
``revisit`` policy says so. Extraction and storage happen in the item pipelines.

Links become requests here only, yielded by the callbacks, so Scrapy's spider middlewares
(Referer, URLLENGTH_LIMIT, depth) and duplicate filter treat them as any request. An article
page is parsed once, by its extraction worker, which reads the links from that tree: the
callback yields the ``PageItem``, waits for ``item.links`` (ExtractPipeline resolves it) and
then yields the requests; the spider reads links itself only from pages it does not extract.

Run it as ``rassegna crawl`` or ``scrapy crawl news -a sources=sources.toml -s ARCHIVE_DB=…``.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.utils.conf import build_component_list
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.misc import load_object
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure
from w3lib.encoding import http_content_type_encoding

from archive import Archive
from archive.clock import now, parse_aware, utcnow
from archive.store import normalise_headers
from crawler.canonical import article_url, canonical_url, same_site
from crawler.dates import parse_cli_date
from crawler.errors import describe_failure
from crawler.feeds import feed_links, parse_feed
from crawler.items import FailureItem, NotModifiedItem, PageItem
from crawler.links import page_links
from crawler.pipelines import ExtractPipeline
from crawler.sitemaps import parse_sitemap, robots_sitemaps
from crawler.sources import Source, load_sources, select_sources, sources_from_urls
from crawler.urls import site_root, slot_key

HTML_TYPES = ("text/html", "application/xhtml+xml")


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(
        self,
        sources: str | list[Source] = "sources.toml",
        source: str | None = None,
        url: str | None = None,
        since: str | None = None,
        max_pages: str | int | None = None,
        ad_hoc: bool | str = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sources = _run_sources(sources, source, url)
        # `--url URL`: the given pages are themselves candidates (an article URL is stored;
        # a home page is classified as a non-article and only followed). The start_urls of a
        # sources file are home and section pages by definition: followed, never extracted.
        self.extract_start_urls = bool(url) or ad_hoc in (True, "1", "true", "yes")
        self.sources_by_name = {s.name: s for s in self.sources}
        # Hosts that the network guard lets through although they may be private addresses.
        self.since = parse_cli_date(since) if since else None
        self.since_iso = self.since.isoformat() if self.since else None
        self.max_pages = int(max_pages) if max_pages else None
        self.requested: set[str] = set()
        self.requested_per_source: Counter[str] = Counter()
        self.hints: dict[str, dict[str, Any]] = {}
        self.known: dict[str, dict[str, Any]] = {}
        self.worker_reads_links = True

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # Settings are not frozen yet: the run's arguments are published there for the
        # components (pipelines, middlewares), which read settings, not spider attributes.
        settings = crawler.settings
        settings.set("CRAWL_SOURCES", spider.sources, priority="spider")
        settings.set("CRAWL_SINCE", spider.since_iso, priority="spider")
        settings.set("CRAWL_MAX_PAGES", spider.max_pages, priority="spider")
        # A source's `delay` becomes its hosts' download slots, so it holds for `rassegna
        # crawl` and `scrapy crawl news` (Scrapyd) alike.
        slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
        for source in spider.sources:
            if source.delay is not None:
                for host in source.hosts:
                    slots.setdefault(slot_key(host), {"delay": source.delay})
        if slots:
            settings.set("DOWNLOAD_SLOTS", slots, priority="spider")
        # Without ExtractPipeline (a custom ITEM_PIPELINES) nobody would hand the links back.
        spider.worker_reads_links = _has_component(settings, "ITEM_PIPELINES", ExtractPipeline)
        return spider

    # --- start ----------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        self.known = self.load_known_urls()
        for source in self.sources:
            for request in self._start_requests(source):
                yield request

    def _start_requests(self, source: Source) -> Iterable[scrapy.Request]:
        for url in source.start_urls:
            yield from self._page_request(url, source, hops=0, start=not self.extract_start_urls)
        for url in source.feeds:
            yield from self._discovery_request(url, source, self.parse_feed)
        for url in source.sitemaps:
            yield from self._discovery_request(url, source, self.parse_sitemap)
        if not source.sitemaps:
            for root in sorted({site_root(u) for u in source.start_urls}):
                yield from self._discovery_request(root + "/robots.txt", source, self.parse_robots)

    def load_known_urls(self) -> dict[str, dict[str, Any]]:
        if self.crawler.settings.get("REDIS_URL"):  # a fleet worker: ingest publishes them
            from crawler.fleet.known import known_urls_from_redis
            return known_urls_from_redis(self.crawler.settings, self.sources)
        known: dict[str, dict[str, Any]] = {}
        with Archive(self.crawler.settings.get("ARCHIVE_DB")) as archive:
            for source in self.sources:
                known.update(archive.known_urls(source.name))
        return known

    # --- requests -------------------------------------------------------------------------

    def _page_request(
        self, url: str, source: Source, *, hops: int, start: bool = False
    ) -> Iterable[scrapy.Request]:
        """A request for a page that may be an article, unless it is known or over a limit."""
        url = article_url(url, hosts=source.hosts)
        if url in self.requested or source.is_denied(url):
            return
        if self._over_page_limit(source):
            return
        headers = {}
        meta: dict[str, Any] = {"source": source.name, "hops": hops, "start": start}
        known = self.known.get(url)
        if known is not None:
            if not _due_for_revisit(known, source):
                self.crawler.stats.inc_value("rassegna/skipped_known")
                return
            headers = _conditional_headers(known)
            meta["handle_httpstatus_list"] = [304]
        if url in self.hints:  # travels with the request: another worker may fetch it
            meta["hints"] = self.hints[url]
        self.requested.add(url)
        self.requested_per_source[source.name] += 1
        self.crawler.stats.inc_value("rassegna/discovered")
        if source.user_agent:
            headers["User-Agent"] = source.user_agent
        yield scrapy.Request(
            url, callback=self.parse_page, errback=self.on_error, headers=headers, meta=meta
        )

    def _discovery_request(self, url: str, source: Source, callback: Any) -> Iterable[scrapy.Request]:
        """A request for a feed, sitemap or robots.txt: never an article, never a known URL."""
        url = canonical_url(url)
        if url in self.requested:
            return
        self.requested.add(url)
        if callback != self.parse_robots:  # many sites have none: not a sign of a dead site
            self.crawler.stats.inc_value("rassegna/discovery_requests")
        headers = {"User-Agent": source.user_agent} if source.user_agent else {}
        yield scrapy.Request(
            url, callback=callback, errback=self.on_error, headers=headers,
            meta={"source": source.name, "discovery": True},
        )

    def _over_page_limit(self, source: Source) -> bool:
        # pages only: robots.txt, feeds and sitemaps do not use up the budget
        pages = sum(self.requested_per_source.values())
        if self.max_pages is not None and pages >= self.max_pages:
            return True
        limit = source.max_pages
        return limit is not None and self.requested_per_source[source.name] >= limit

    # --- callbacks ------------------------------------------------------------------------

    async def parse_page(self, response: Response) -> AsyncIterator[Any]:
        source = self.sources_by_name[response.meta["source"]]
        url = article_url(response.url, hosts=source.hosts)
        now = utcnow()
        self.crawler.stats.inc_value("rassegna/fetched")
        if response.status == 304:
            yield NotModifiedItem(url, source.name, now)
            return
        content_type = _content_type(response)
        if not content_type.startswith(HTML_TYPES) or not isinstance(response, TextResponse):
            yield FailureItem(
                url, "fetch", f"not an HTML page (Content-Type: {content_type or 'none'})",
                response.status, source.name,
            )
            return
        hops = response.meta.get("hops", 0)
        follow = hops < source.max_depth
        # start_urls are home and section pages by definition: followed, never extracted.
        extracted = not response.meta.get("start") and source.may_be_article(url)
        if follow and not extracted:
            for request in self._follow(_links(response, source), source, hops + 1):
                yield request
        if hops == 0:
            for feed in feed_links(response.body, response.url):
                if same_site(feed, source.hosts):
                    for request in self._discovery_request(feed, source, self.parse_feed):
                        yield request
        if not extracted:
            self.crawler.stats.inc_value("rassegna/non_articles")
            return
        item = self._page_item(response, url, source, now,
                               follow=follow and self.worker_reads_links)
        yield item
        if follow:
            # An article page is parsed once, by the extraction worker, which reads its links
            # from that tree; for the rare page it could not, they are read here.
            links = None if item.links is None else await item.links
            if links is None:
                links = _links(response, source)
            for request in self._follow(links, source, hops + 1):
                yield request

    def _page_item(self, response: TextResponse, url: str, source: Source, now: str, *,
                   follow: bool) -> PageItem:
        return PageItem(
            url=url,
            response_url=response.url,
            source=source.name,
            body=response.body,
            headers=normalise_headers(response.headers),
            status=response.status,
            fetched_at=now,
            # (not response.encoding: it would decode and cache the whole body on the
            # response of a page that declares none; the worker works it out)
            charset=http_content_type_encoding(_content_type(response)),
            language_hint=source.language,
            timezone=source.timezone,
            hints=_page_hints(self.hints.get(url) or response.meta.get("hints") or {}, source),
            site_hosts=tuple(sorted(source.hosts)),
            link_deny=source.deny,
            links=asyncio.get_running_loop().create_future() if follow else None,
        )

    def _follow(self, links: Iterable[str], source: Source, hops: int) -> Iterable[scrapy.Request]:
        """Requests for a page's links, yielded by the callback: the spider middlewares
        (Referer, URLLENGTH_LIMIT, depth) and the duplicate filter apply as to any request."""
        for link in links:
            yield from self._page_request(link, source, hops=hops)

    # Feeds and sitemaps are parsed in a thread: feedparser takes ~5 s over a 10,000-entry
    # feed, which on the reactor thread would stall every download meanwhile.
    async def parse_feed(self, response: Response) -> AsyncIterator[Any]:
        source = self.sources_by_name[response.meta["source"]]
        self.crawler.stats.inc_value("rassegna/discovery_fetched")
        feed = await maybe_deferred_to_future(
            deferToThread(parse_feed, response.body, response.url))
        if feed.error:
            yield FailureItem(canonical_url(response.url), "discover", f"feed: {feed.error}",
                              response.status, source.name)
        for entry in feed.entries:
            if self._too_old(entry.published_at or entry.updated_at):
                self.crawler.stats.inc_value("rassegna/skipped_since")
                continue
            self._remember_hints(entry.url, source, entry.published_at, entry.title, "feed")
            for request in self._page_request(entry.url, source, hops=source.max_depth):
                yield request

    async def parse_sitemap(self, response: Response) -> AsyncIterator[Any]:
        source = self.sources_by_name[response.meta["source"]]
        self.crawler.stats.inc_value("rassegna/discovery_fetched")
        sitemap = await maybe_deferred_to_future(
            deferToThread(parse_sitemap, response.body, response.url))
        if sitemap.error:
            yield FailureItem(canonical_url(response.url), "discover", f"sitemap: {sitemap.error}",
                              response.status, source.name)
        for entry in sitemap.entries:
            if sitemap.kind == "index":
                if same_site(entry.url, source.hosts):
                    for request in self._discovery_request(entry.url, source, self.parse_sitemap):
                        yield request
                continue
            if self._too_old(entry.news_published_at or entry.lastmod):
                self.crawler.stats.inc_value("rassegna/skipped_since")
                continue
            self._remember_hints(entry.url, source, entry.news_published_at, entry.news_title,
                                 "sitemap")
            for request in self._page_request(entry.url, source, hops=source.max_depth):
                yield request

    def parse_robots(self, response: Response) -> Iterable[Any]:
        source = self.sources_by_name[response.meta["source"]]
        text = response.text if isinstance(response, TextResponse) else ""
        for url in robots_sitemaps(text, response.url):
            if same_site(url, source.hosts):
                yield from self._discovery_request(url, source, self.parse_sitemap)

    def on_error(self, failure: Failure) -> Iterable[Any]:
        request = failure.request
        if request.meta.get("discovery") and urlsplit(request.url).path == "/robots.txt":
            return  # a site without robots.txt is normal
        status = getattr(getattr(failure.value, "response", None), "status", None)
        stage = "discover" if request.meta.get("discovery") else "fetch"
        # A failed redirect is recorded under the URL that was asked for, not its target.
        asked = (request.meta.get("redirect_urls") or [request.url])[0]
        yield FailureItem(
            canonical_url(asked), stage, describe_failure(failure, self.crawler.settings),
            status, request.meta.get("source"),
        )

    # --- helpers --------------------------------------------------------------------------

    def _too_old(self, iso: str | None) -> bool:
        if self.since is None or not iso:
            return False
        try:
            return parse_aware(iso) < self.since
        except ValueError:
            return False

    def _remember_hints(self, url: str, source: Source, published_at: str | None,
                        title: str | None, kind: str) -> None:
        key = article_url(url, hosts=source.hosts)  # as _page_request keys its request
        hints = self.hints.setdefault(key, {})
        if published_at and "published_at" not in hints:
            hints["published_at"] = published_at
        if title and "title" not in hints:
            hints["title"] = title
        if hints:
            hints.setdefault("source", kind)


def _run_sources(sources: str | list[Source], names: str | None, urls: str | None) -> list[Source]:
    """Sources for this run: ad-hoc ones for ``url``, else the file's, filtered by ``names``."""
    if urls:
        return sources_from_urls(re.split(r"[\s,]+", urls.strip()))
    loaded = load_sources(sources) if isinstance(sources, str) else list(sources)
    path = sources if isinstance(sources, str) else "sources"
    return select_sources(loaded, re.split(r"[\s,]+", (names or "").strip()), path)


def _links(response: TextResponse, source: Source) -> Iterable[str]:
    # What LinkExtractor(deny=source.deny, unique=True) finds, filtered by same_site() (it
    # compares host *and port*, unlike allow_domains), at a third of its cost: crawler/links.py.
    return page_links(response, source.deny, source.hosts)


def _has_component(settings: Any, name: str, cls: type) -> bool:
    return any(load_object(path) is cls
               for path in build_component_list(settings.getwithbase(name)))


def _page_hints(hints: dict[str, Any], source: Source) -> dict[str, Any]:
    """The feed or sitemap hints of a page, and whether the source's `allow` named it (only
    such pages get here): extraction then keeps it as an article unless it is plainly empty."""
    return {**hints, "allowed": True} if source.allow else hints


def _due_for_revisit(known: dict[str, Any], source: Source) -> bool:
    if source.revisit is None or not known.get("last_seen_at"):
        return False
    return now() - parse_aware(known["last_seen_at"]) >= source.revisit


def _conditional_headers(known: dict[str, Any]) -> dict[str, str]:
    headers = {}
    if known.get("etag"):
        headers["If-None-Match"] = known["etag"]
    if known.get("last_modified"):
        headers["If-Modified-Since"] = known["last_modified"]
    return headers


def _content_type(response: Response) -> str:
    return response.headers.get("Content-Type", b"").decode("latin-1").lower().strip()
