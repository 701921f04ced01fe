"""The fleet's scheduler: scrapy-redis's, on the keys of the run this worker joins."""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

from crawler.fleet.worker import LEASE, FleetWorker


class RunScheduler(Scheduler):
    """scrapy-redis's ``Scheduler`` with per-run keys.

    It picks the run's queue and duplicate filter in ``open()`` (a fingerprint set, no
    pickles), lets a request re-enqueued by a downloader middleware (redirect, retry) release
    its lease, and relies on ``SCHEDULER_PERSIST``: upstream ``close()`` would otherwise delete
    the shared queue and seen-set when the *first* worker stops.
    """

    @classmethod
    def from_crawler(cls, crawler: Any) -> RunScheduler:
        instance = super().from_crawler(crawler)
        instance.fleet = FleetWorker.of(crawler)
        return instance

    def open(self, spider: Any) -> None:
        self.fleet.join(spider)
        self.queue_key = self.fleet.key("requests")
        self.df = RFPDupeFilter(self.server, key=self.fleet.key("dupefilter"),
                                debug=spider.settings.getbool("DUPEFILTER_DEBUG"))
        super().open(spider)

    def enqueue_request(self, request: Request) -> bool:
        # A redirect or retry of a leased request: the new request carries the work on.
        lease = request.meta.pop(LEASE, None)
        try:
            return super().enqueue_request(request)
        finally:
            self.fleet.ack(lease)
