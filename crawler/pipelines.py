"""Item pipelines: extraction in a process pool, then batched writes to the archive."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from archive import Archive, ArchiveLocked
from archive.store import ZSTD_LEVEL
from crawler.canonical import article_url
from crawler.extraction import extract_page, make_pool
from crawler.items import FailureItem, NotModifiedItem, PageItem
from extract.walls import BOT_CHALLENGE, CONSENT_WALL, wall_kind

logger = logging.getLogger(__name__)


class ExtractPipeline:
    """Turns a ``PageItem`` into an article record in a worker process.

    Pages that are not articles are counted and dropped; pages with nothing to extract
    become ``FailureItem``s so they land in ``failures``, and so do walls served instead of
    the article (a consent wall, a bot challenge answered 200), as fetch failures. When the spider follows the page's
    links (``item.links`` is set), the worker reads them from the tree it parses anyway and
    they are handed back on the item: the spider turns them into requests.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.workers = crawler.settings.getint("EXTRACT_WORKERS")
        self.mmap_threshold = crawler.settings.getint("MALLOC_MMAP_THRESHOLD")
        self.pool = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.pool = make_pool(self.workers, self.mmap_threshold)

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            return item
        links = []  # nothing to follow if extraction fails in an unforeseen way
        try:
            result = await self._extract(item)
            links = result.get("links")
        finally:
            # the spider waits for them to follow the page's links (NewsSpider.parse_page)
            if item.links is not None and not item.links.done():
                item.links.set_result(links)
        if "error" in result:
            return FailureItem(item.url, "extract", result["error"], item.status, item.source)
        record = result["record"]
        if record.get("problem") and not record.get("is_article"):
            # a wall is what the site served instead of the page: a fetch failure
            stage = "fetch" if wall_kind(record["problem"]) else "extract"
            return FailureItem(item.url, stage, record["problem"], item.status, item.source)
        if not record.get("is_article"):
            self.crawler.stats.inc_value("rassegna/non_articles")
            self.crawler.stats.inc_value(f"rassegna/source/{item.source}/non_articles")
            raise DropItem(
                f"not an article ({record.get('is_article_reason')}): {item.url}",
                log_level="DEBUG",
            )
        # rel=canonical when it stays on the site, then AMP/mobile twins folded: one article, one row.
        record["url"] = article_url(item.url, record.get("canonical_url"), item.site_hosts)
        item.record = record
        item.raw_zstd = result.get("raw_zstd")
        item.story_keys = result.get("story_keys")
        return item

    async def _extract(self, item: PageItem) -> dict[str, Any]:
        pool = self.pool
        try:
            return await asyncio.wrap_future(self._submit(pool, item))
        except BrokenProcessPool:
            # A worker died (out of memory, a C-level crash): every page in flight fails with
            # it, but only the first to notice replaces the pool.
            logger.error("extraction worker died on %s; restarting the pool", item.url)
            if self.pool is pool:
                pool.shutdown(wait=False, cancel_futures=True)
                self.pool = make_pool(self.workers, self.mmap_threshold)
            return {"error": "extraction worker died on this page", "links": None}

    def _submit(self, pool: ProcessPoolExecutor, item: PageItem) -> Future[dict[str, Any]]:
        # with the source's deny patterns and hosts, the worker reads the page's links too
        follow = None if item.links is None else (item.link_deny, frozenset(item.site_hosts))
        return pool.submit(
            extract_page,
            item.body,
            item.response_url,
            item.fetched_at,
            item.charset,
            item.language_hint,
            item.timezone,
            item.hints,
            follow,
            ZSTD_LEVEL,
        )


class ArchivePipeline:
    """Writes articles, 304s and failures to ``archive.db`` in batched transactions.

    Owns the crawl run: it starts the ``crawl_runs`` row, holds the archive's lock for the
    whole run and records the final status and counts.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.db_path = settings.get("ARCHIVE_DB")
        self.batch_size = settings.getint("ARCHIVE_BATCH_SIZE")
        self.flush_seconds = settings.getfloat("ARCHIVE_FLUSH_SECONDS")
        self.buffer: list[dict[str, Any]] = []
        self.last_flush = time.monotonic()
        self.archive: Archive | None = None
        self.run_id: int | None = None
        self._lock = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        from scrapy import signals

        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        self.archive = Archive(self.db_path)
        # The lock comes first: a second crawl must leave no trace in crawl_runs.
        try:
            self._lock = self.archive.lock().acquire()
        except ArchiveLocked as exc:
            self.crawler.stats.set_value("rassegna/locked", str(exc))
            self.archive.close()
            self.archive = None
            raise
        self.run_id = self.archive.start_run(
            settings=run_settings(self.crawler),
            sources=self.crawler.settings.getlist("CRAWL_SOURCES"),
        )
        self._lock.run_id = self.run_id
        self.crawler.stats.set_value("rassegna/crawl_run_id", self.run_id)

    def process_item(self, item: Any) -> Any:
        row = archive_row(item, self.crawler.stats)
        if row is not None:
            self.buffer.append(row)
        if len(self.buffer) >= self.batch_size or (
            time.monotonic() - self.last_flush > self.flush_seconds
        ):
            self.flush()
        return item

    def close_spider(self) -> None:
        if self.archive is not None:
            self.flush()

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.archive is None or self.run_id is None:
            return
        status = "finished" if reason == "finished" else "interrupted"
        self.archive.finish_run(self.run_id, status=status, counts=run_counts(self.crawler.stats.get_stats()))
        self.archive.close()
        if self._lock is not None:
            self._lock.release()

    def flush(self) -> None:
        batch, self.buffer = self.buffer, []
        self.last_flush = time.monotonic()
        if not batch:
            return
        stats = self.crawler.stats
        outcomes = self.archive.write_batch_safely(batch)
        for outcome in outcomes:
            stats.inc_value(f"rassegna/outcome/{outcome}")


def archive_row(item: Any, stats: StatsCollector) -> dict[str, Any] | None:
    """The archive row of a scraped item (failures are also counted in `stats`); the one code
    path for a row, used by the local pipeline and by the fleet's Redis pipeline."""
    if isinstance(item, PageItem) and item.record is not None:
        stats.inc_value(f"rassegna/source/{item.source}/articles")
        return {
            "kind": "article",
            "record": item.record,
            "source": item.source,
            # compressed by the extraction worker; the plain body only if it could not
            **({"raw_html_zstd": item.raw_zstd, "raw_size": len(item.body)}
               if item.raw_zstd is not None else {"raw_html": item.body}),
            "headers": item.headers,
            "status": item.status,
            "fetched_at": item.fetched_at,
            "story_keys": item.story_keys,
        }
    if isinstance(item, NotModifiedItem):
        stats.inc_value(f"rassegna/source/{item.source}/not_modified")
        return {"kind": "not_modified", "url": item.url, "fetched_at": item.fetched_at}
    if isinstance(item, FailureItem):
        stats.inc_value(f"rassegna/failures/{item.stage}")
        _count_failure(item, stats)
        return {
            "kind": "failure",
            "url": item.url,
            "stage": item.stage,
            "error": item.error,
            "status": item.status,
            "source": item.source,
        }
    return None


# wall kind -> its count in crawl_runs.counts (and in a source's counts)
_WALL_COUNTS = {CONSENT_WALL: "consent_walls", BOT_CHALLENGE: "bot_challenges"}
# what is counted per source, as rassegna/source/<name>/<what>
_SOURCE_COUNTS = ("responses", "articles", "not_modified", "non_articles", "failures",
                  *_WALL_COUNTS.values())


def _count_failure(item: FailureItem, stats: StatsCollector) -> None:
    wall = _WALL_COUNTS.get(wall_kind(item.error) or "")
    if wall:
        stats.inc_value(f"rassegna/walls/{wall}")
    if item.source:
        stats.inc_value(f"rassegna/source/{item.source}/failures")
        if wall:
            stats.inc_value(f"rassegna/source/{item.source}/{wall}")


def run_settings(crawler: Crawler) -> dict[str, Any]:
    """The settings worth recording with a run (what a person would ask about later)."""
    names = [
        "USER_AGENT", "ROBOTSTXT_OBEY", "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN",
        "DOWNLOAD_DELAY", "AUTOTHROTTLE_ENABLED", "DOWNLOAD_TIMEOUT", "DOWNLOAD_MAXSIZE",
        "EXTRACT_WORKERS", "ARCHIVE_DB", "JOBDIR",
    ]
    settings = {name: crawler.settings.get(name) for name in names}
    # the run's own arguments, published in the settings by the spider
    settings["since"] = crawler.settings.get("CRAWL_SINCE")
    settings["max_pages"] = crawler.settings.get("CRAWL_MAX_PAGES")
    # the sources this run crawled: `rassegna health` judges each by its last run
    settings["sources"] = [getattr(s, "name", s) for s in crawler.settings.getlist("CRAWL_SOURCES")]
    return settings


def run_counts(stats: Mapping[str, Any]) -> dict[str, Any]:
    """The counts of `crawl_runs` from a run's (summed) Scrapy stats: run totals, walls, and
    per source (`sources`: name -> responses, articles, not_modified, non_articles, failures,
    consent_walls, bot_challenges)."""
    counts = {
        "discovered": stats.get("rassegna/discovered", 0),
        "fetched": stats.get("rassegna/fetched", 0),
        "pages_fetched": stats.get("rassegna/fetched", 0),
        "not_modified": stats.get("rassegna/outcome/not_modified", 0),
        "articles_new": stats.get("rassegna/outcome/new", 0),
        "articles_changed": stats.get("rassegna/outcome/changed", 0),
        "articles_unchanged": stats.get("rassegna/outcome/unchanged", 0),
        "non_articles": stats.get("rassegna/non_articles", 0),
    }
    for key, value in stats.items():
        if key.startswith("rassegna/failures/"):
            counts["failures_" + key.rsplit("/", 1)[1]] = value
    counts["failures"] = sum(v for k, v in counts.items() if k.startswith("failures_"))
    for name in _WALL_COUNTS.values():
        counts[name] = stats.get(f"rassegna/walls/{name}", 0)
    counts["sources"] = _source_counts(stats)
    return counts


def _source_counts(stats: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    sources: dict[str, dict[str, int]] = {}
    for key, value in stats.items():
        if key.startswith("rassegna/source/"):
            name, _, what = key[len("rassegna/source/"):].rpartition("/")
            if name and what in _SOURCE_COUNTS:
                sources.setdefault(name, dict.fromkeys(_SOURCE_COUNTS, 0))[what] = value
    return dict(sorted(sources.items()))
