"""Crawl progress (a live line on a terminal; off a terminal Scrapy's own LogStats reports) and
the crawl process's malloc tuning."""

from __future__ import annotations

import logging
import sys
import time

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawler.malloc import use_mmap_for_large_blocks

logger = logging.getLogger(__name__)


class ProgressExtension:
    """Rewrites one line on a terminal every few seconds: pages fetched, articles stored,
    failures and the rate. Under cron (no terminal) it stays off: Scrapy's LogStats already
    logs the crawl's pace once a minute."""

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        if not crawler.settings.getbool("PROGRESS_ENABLED") or not sys.stderr.isatty():
            raise NotConfigured
        interval = crawler.settings.getfloat("PROGRESS_INTERVAL", 2.0)
        extension = cls(crawler, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: object) -> None:
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.report)
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider: object, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        sys.stderr.write("\n")

    def line(self) -> str:
        stats = self.crawler.stats.get_stats()
        pages = stats.get("rassegna/fetched", 0)
        articles = stats.get("rassegna/outcome/new", 0) + stats.get("rassegna/outcome/changed", 0)
        failures = sum(v for k, v in stats.items() if k.startswith("rassegna/failures/"))
        rate = pages / max(time.monotonic() - self.started, 1e-6)
        return (f"pages {pages} · articles new/changed {articles} · failures {failures} · "
                f"{rate:.1f} pages/s")

    def report(self) -> None:
        sys.stderr.write("\r" + self.line().ljust(80))
        sys.stderr.flush()


class MallocTuningExtension:
    """Keeps large blocks (page bodies) out of the crawl process's heap: see ``crawler.malloc``.
    The extraction workers get the same ``MALLOC_MMAP_THRESHOLD`` from ``ExtractPipeline``."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MallocTuningExtension:
        if not use_mmap_for_large_blocks(crawler.settings.getint("MALLOC_MMAP_THRESHOLD")):
            raise NotConfigured
        return cls()
