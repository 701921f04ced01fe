"""The fleet's downloader middleware: one politeness delay per host for the whole fleet."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request

from crawler.fleet import lua
from crawler.fleet.worker import FleetWorker
from crawler.scrapy_compat import download_slot


class FleetPolitenessMiddleware:
    """Per-host delay for the whole fleet: each request first reserves its host's next slot.

    The reservation is one Lua call on Redis (``polite:<host>`` holds the next allowed time by
    Redis' clock); the request then waits until its slot. The delay is the largest of
    ``DOWNLOAD_DELAY``, the source's ``delay`` (``DOWNLOAD_SLOTS``) and this worker's current
    slot delay (AutoThrottle, robots.txt ``Crawl-delay``).
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.fleet = FleetWorker.of(crawler)
        self.default = crawler.settings.getfloat("DOWNLOAD_DELAY")
        self.slots = crawler.settings.getdict("DOWNLOAD_SLOTS")
        self._reserve = self.fleet.server.register_script(lua.RESERVE)

    @classmethod
    def from_crawler(cls, crawler: Any) -> FleetPolitenessMiddleware:
        return cls(crawler)

    def delay_for(self, request: Request) -> float:
        """Seconds between two fetches of the request's host, fleet-wide."""
        host = urlsplit(request.url).hostname or ""
        delay = max(self.default, float(self.slots.get(host, {}).get("delay", 0) or 0))
        slot = download_slot(self.crawler, request)
        if slot is not None:
            delay = max(delay, slot.delay)
        return delay

    async def process_request(self, request: Request, spider: Any = None) -> None:
        delay = self.delay_for(request)
        if delay <= 0:
            return None
        host = urlsplit(request.url).netloc
        wait_ms = self._reserve(keys=[self.fleet.keys.polite(host)], args=[int(delay * 1000)])
        if wait_ms and int(wait_ms) > 0:
            await asyncio.sleep(int(wait_ms) / 1000)
        return None
