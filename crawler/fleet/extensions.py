"""The fleet's extension: heartbeat, reaping dead workers, staying up while the run has work."""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from twisted.python.failure import Failure

from crawler.fleet.worker import LEASE, FleetWorker
from crawler.scrapy_compat import wake_engine

logger = logging.getLogger(__name__)


class FleetExtension:
    """Keeps the worker alive while the fleet has work, and leaves the run cleanly."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.fleet = FleetWorker.of(crawler)
        self.tick = crawler.settings.getfloat("RASSEGNA_FLEET_TICK", 0.5)
        self.loop: Any = None
        self.last_heartbeat = 0.0

    @classmethod
    def from_crawler(cls, crawler: Any) -> FleetExtension:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(ext.item_done, signal=signal)
        return ext

    def spider_opened(self, spider: Any) -> None:
        from scrapy.utils.asyncio import create_looping_call

        self.loop = create_looping_call(self.on_tick)
        self.loop.start(self.tick, now=False)

    def on_tick(self) -> None:
        """Heartbeat and reap about once a second; wake the engine every tick."""
        try:
            if time.monotonic() - self.last_heartbeat >= min(1.0, self.fleet.ttl / 3):
                self.fleet.heartbeat()
                self.fleet.reap()
                self.last_heartbeat = time.monotonic()
        except Exception as exc:  # Redis hiccup: the next tick tries again
            logger.warning("fleet heartbeat failed: %s", exc)
        # Scrapy re-polls an empty scheduler only every 5 s; others' requests may be waiting.
        wake_engine(self.crawler)

    def item_done(self, item: Any, response: Any = None, spider: Any = None, **kw: Any) -> None:
        request = getattr(response, "request", None)
        lease = (getattr(request, "meta", None) or {}).get(LEASE)
        if lease:
            self.fleet.item_done(lease, via_errback=isinstance(response, Failure))

    def spider_idle(self, spider: Any) -> None:
        self.fleet.clear_inflight()
        self.fleet.reap()
        why = self.fleet.busy()
        if why:
            raise DontCloseSpider(f"fleet still busy: {why}")

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        last = self.fleet.leave(self.crawler.stats.get_stats(), reason)
        logger.info("worker %s left run %s (%s)%s", self.fleet.worker, self.fleet.run, reason,
                    "; the run is complete" if last else "")
