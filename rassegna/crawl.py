"""``rassegna crawl``: validate the sources, take the archive, run the Scrapy crawl.

The crawl itself is the ``news`` spider and its pipelines (``crawler/``); this module only
turns command-line options into Scrapy settings and the run's outcome into a verdict: it
raises the errors of ``rassegna.errors``, the command prints.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from rassegna.errors import BadUsage, FleetError, Locked, NothingFetched, RassegnaError


@dataclass(frozen=True)
class CrawlOptions:
    db_path: str = "archive.db"
    sources_path: str = "sources.toml"
    source_names: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    max_pages: int | None = None
    since: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    redis_url: str | None = None


def run_crawl(options: CrawlOptions) -> dict[str, Any]:
    """Run one crawl and return its stats.

    Raises ``BadUsage`` (sources), ``Locked`` (archive), ``FleetError`` (Redis) before the
    crawl, and ``Locked`` or ``RassegnaError`` when it could not run to its end.
    """
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.news import NewsSpider

    sources = _load_sources(options)
    # A fleet worker writes to Redis, not to the archive (`rassegna ingest` does): no lock.
    if options.redis_url:
        _check_redis(options.redis_url)
    else:
        _check_unlocked(options.db_path)
    process = CrawlerProcess(crawl_settings(options))
    crawler = process.create_crawler(NewsSpider)
    process.crawl(crawler, sources=sources, since=options.since, max_pages=options.max_pages,
                  ad_hoc=bool(options.urls))
    process.start()
    stats = crawler.stats.get_stats()
    if stats.get("rassegna/locked"):
        raise Locked(f"{options.db_path} is locked by another crawl ({stats['rassegna/locked']})")
    if "finish_reason" not in stats:
        raise RassegnaError("the crawl stopped before it could finish")
    return stats


def crawl_settings(options: CrawlOptions) -> Any:
    """Project settings, then the command line's, then ``-s`` overrides.

    ``--redis`` only sets ``REDIS_URL``: the fleet add-on (crawler/fleet/addon.py) does the
    rest, as it does for ``scrapy crawl news -s REDIS_URL=...``.
    """
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("ARCHIVE_DB", options.db_path, priority="cmdline")
    if not sys.stderr.isatty():
        settings.set("LOG_LEVEL", "INFO", priority="project")
    if options.redis_url:
        settings.set("REDIS_URL", options.redis_url, priority="cmdline")
    for name, value in options.overrides.items():
        settings.set(name, value, priority="cmdline")
    return settings


def check_outcome(stats: dict[str, Any], fleet: bool = False) -> None:
    """Raise when a finished crawl did not do its job: interrupted, or nothing fetched."""
    if stats["finish_reason"] == "shutdown":  # Ctrl-C or SIGTERM: the run did not complete
        raise RassegnaError("the crawl was interrupted; the next run carries on")
    if fleet:  # other workers may have fetched what this one queued: no verdict from here
        return
    attempted = stats.get("rassegna/discovered", 0) + stats.get("rassegna/discovery_requests", 0)
    answered = stats.get("rassegna/fetched", 0) + stats.get("rassegna/discovery_fetched", 0)
    if attempted and not answered:
        raise NothingFetched("not one page, feed or sitemap could be fetched (every source down?)")


def summary(stats: dict[str, Any]) -> str:
    """The one-line account of a crawl that ``rassegna crawl`` prints at the end."""
    failures = sum(v for k, v in stats.items() if k.startswith("rassegna/failures/"))
    return (
        "{run}{status} · fetched {fetched} · new {new} · changed {changed} · "
        "unchanged {unchanged} · not modified {nm} · non-articles {non} · failures {failures}"
    ).format(
        # a fleet worker has no crawl_runs row of its own: ingest writes it
        run=(f"crawl run {stats['rassegna/crawl_run_id']}: "
             if stats.get("rassegna/crawl_run_id") else "crawl: "),
        status=stats.get("finish_reason"),
        fetched=stats.get("rassegna/fetched", 0),
        new=stats.get("rassegna/outcome/new", 0),
        changed=stats.get("rassegna/outcome/changed", 0),
        unchanged=stats.get("rassegna/outcome/unchanged", 0),
        nm=stats.get("rassegna/outcome/not_modified", 0),
        non=stats.get("rassegna/non_articles", 0),
        failures=failures,
    )


def _load_sources(options: CrawlOptions) -> list[Any]:
    from crawler.sources import SourcesError, load_sources, select_sources, sources_from_urls

    try:
        if options.urls:
            return sources_from_urls(list(options.urls))
        sources = load_sources(options.sources_path)
        return select_sources(sources, options.source_names, options.sources_path)
    except (SourcesError, FileNotFoundError, ValueError) as exc:
        raise BadUsage(str(exc)) from None


def _check_unlocked(db_path: str) -> None:
    from archive.lock import ArchiveLocked, check_unlocked

    try:
        check_unlocked(db_path)
    except ArchiveLocked as exc:
        raise Locked(f"{db_path}: {exc}") from None


def _check_redis(url: str) -> None:
    from crawler.fleet.connection import FleetUnavailable, connect

    try:
        connect(url).close()
    except FleetUnavailable as exc:
        raise FleetError(str(exc)) from None
