"""The fleet's item pipeline: the archive's rows go to Redis, for ``rassegna ingest``."""

from __future__ import annotations

from typing import Any

from crawler.fleet.protocol import encode_message
from crawler.fleet.worker import FleetWorker
from crawler.pipelines import archive_row


class RedisArchivePipeline:
    """Takes ``ArchivePipeline``'s place in a fleet worker: the same rows, pushed to Redis.

    scrapy-redis's ``RedisPipeline`` is not used: its JSON encoder cannot carry raw HTML
    bytes, and ingest needs archive rows, not items.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.fleet = FleetWorker.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Any) -> RedisArchivePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        row = archive_row(item, self.crawler.stats)
        if row is not None:
            row["_run"] = self.fleet.run
            # Pushed before the item counts as handled, so its lease is released only after.
            self.fleet.server.rpush(self.fleet.keys.items, encode_message(row))
        return item

