"""Fleet mode, configured in one place: the ``REDIS_URL`` setting turns a crawl into a worker.

``rassegna crawl --redis URL`` sets ``REDIS_URL``; ``scrapy crawl news -s REDIS_URL=...`` and
Scrapyd pass it themselves. ``FleetAddon`` (in ``ADDONS``, crawler/settings.py) sees it in
every case, before Scrapy builds the crawler.
"""

from __future__ import annotations

from typing import Any

from scrapy_redis.connection import get_redis_from_settings

from crawler.fleet.connection import FleetUnavailable, check

_SCHEDULER = "crawler.fleet.scheduler.RunScheduler"
_QUEUE = "crawler.fleet.queue.LeasedPriorityQueue"
_PIPELINE = "crawler.fleet.pipelines.RedisArchivePipeline"
_SPIDER_MIDDLEWARE = "crawler.fleet.spidermiddlewares.SeedOnceMiddleware"
_DOWNLOADER_MIDDLEWARE = "crawler.fleet.downloadermiddlewares.FleetPolitenessMiddleware"
_EXTENSION = "crawler.fleet.extensions.FleetExtension"


def configure_fleet(settings: Any) -> bool:
    """Make ``settings`` a fleet worker's when ``REDIS_URL`` is set; return whether it is.

    The shared frontier (scheduler, queue, duplicate filter) replaces the local one, and the
    archive pipeline gives way to the Redis one. Idempotent; ``-s`` overrides still win.
    """
    if not settings.get("REDIS_URL"):
        return False
    prio = "project"
    settings.set("SCHEDULER", _SCHEDULER, priority=prio)
    settings.set("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter", priority=prio)
    settings.set("SCHEDULER_QUEUE_CLASS", _QUEUE, priority=prio)
    # JSON, not scrapy-redis's default pickle (the queue insists on it anyway).
    settings.set("SCHEDULER_SERIALIZER", "crawler.fleet.protocol", priority=prio)
    # Upstream close() would otherwise wipe the shared frontier when the first worker stops.
    settings.set("SCHEDULER_PERSIST", True, priority=prio)
    pipelines = dict(settings.getdict("ITEM_PIPELINES"))
    order = pipelines.pop("crawler.pipelines.ArchivePipeline", 800)
    pipelines.setdefault(_PIPELINE, order)
    settings.set("ITEM_PIPELINES", pipelines, priority=prio)
    _add_component(settings, "SPIDER_MIDDLEWARES", _SPIDER_MIDDLEWARE, 10)
    _add_component(settings, "DOWNLOADER_MIDDLEWARES", _DOWNLOADER_MIDDLEWARE, 950)
    _add_component(settings, "EXTENSIONS", _EXTENSION, 100)
    return True


def _add_component(settings: Any, name: str, path: str, order: int) -> None:
    components = dict(settings.getdict(name))
    components.setdefault(path, order)
    settings.set(name, components, priority="project")


class FleetAddon:
    """Scrapy add-on: fleet mode when ``REDIS_URL`` is set, and Redis checked up front."""

    @classmethod
    def update_pre_crawler_settings(cls, settings: Any) -> None:
        if not configure_fleet(settings):
            return
        try:
            check(get_redis_from_settings(settings), settings["REDIS_URL"])
        except FleetUnavailable as exc:
            # Nothing has started yet: later, Scrapy would print four tracebacks instead.
            raise SystemExit(f"Error: {exc}") from None
