"""The shared request queue: scrapy-redis's priority queue, leased and pickle-free."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request
from scrapy_redis.queue import PriorityQueue

from crawler.fleet import protocol
from crawler.fleet.protocol import RejectedPayload, request_from_data, request_to_data
from crawler.fleet.worker import LEASE, FleetWorker

logger = logging.getLogger(__name__)


class LeasedPriorityQueue(PriorityQueue):
    """scrapy-redis's ``PriorityQueue`` (same ZSET, score = -priority) whose ``pop`` leases
    the request to this worker instead of deleting it: upstream's pop loses up to
    ``CONCURRENT_REQUESTS`` requests when a worker is killed.

    Requests are JSON whatever ``SCHEDULER_SERIALIZER`` says: upstream's default is pickle,
    which would run the code of whoever can write to Redis.
    """

    def __init__(self, server: Any, spider: Any, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer=protocol)

    def _encode_request(self, request: Request) -> bytes:
        return request_to_data(request, self.spider)

    def _decode_request(self, encoded_request: bytes) -> Request:
        return request_from_data(encoded_request, self.spider)

    def pop(self, timeout: int = 0) -> Request | None:
        """The best queued request, leased to this worker; a foreign payload is dropped."""
        worker = FleetWorker.of(self.spider.crawler)
        while (got := worker.pop(self.key)) is not None:
            lease, data = got
            try:
                request = self._decode_request(data)
            except RejectedPayload as exc:
                logger.error("dropped a request from %s that is not rassegna's: %s (%r)",
                             self.key, exc, data[:60])
                worker.ack(lease)
                continue
            request.meta[LEASE] = lease
            return request
        return None
