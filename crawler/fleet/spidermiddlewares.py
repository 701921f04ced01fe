"""The fleet's spider middleware: seed the run once, track each leased request's output."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from scrapy import Request

from crawler.fleet.worker import LEASE, FleetWorker


class SeedOnceMiddleware:
    """The sources' start requests enter the shared queue once per run, from its seeder.

    scrapy-redis's spiders are not used: they seed through ``start_requests()``, which Scrapy
    2.16+ no longer calls. Here the seeder (the worker whose ``SET NX`` opened the run) lets
    the spider's ``start()`` through, then marks the run seeded.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.fleet = FleetWorker.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Any) -> SeedOnceMiddleware:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        spider = self.crawler.spider
        if self.fleet.seeder:
            async for request in start:  # start() loads the known URLs itself
                yield request
            self.fleet.server.set(self.fleet.key("seeded"), "1")
        else:
            spider.known = spider.load_known_urls()

    def process_spider_output(self, response: Any, result: Iterable[Any],
                              spider: Any = None) -> Iterable[Any]:
        lease = _lease(response)
        for out in result:
            if lease and not isinstance(out, Request):
                self.fleet.output_item(lease)
            yield out
        if lease:
            self.fleet.output_done(lease)

    async def process_spider_output_async(self, response: Any, result: AsyncIterator[Any],
                                          spider: Any = None) -> AsyncIterator[Any]:
        lease = _lease(response)
        async for out in result:
            if lease and not isinstance(out, Request):
                self.fleet.output_item(lease)
            yield out
        if lease:
            self.fleet.output_done(lease)


def _lease(response: Any) -> str | None:
    return (getattr(response, "meta", None) or {}).get(LEASE)
