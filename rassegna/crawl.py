"""``rassegna crawl``: validate the sources, take the archive, run the Scrapy crawl.

The crawl itself is the ``news`` spider and its pipelines (``crawler/``); this module only
turns command-line options into Scrapy settings and the run's outcome into an exit status.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from typing import Any

import click

from rassegna.cli import EXIT_LOCKED, EXIT_NOTHING_FETCHED, EXIT_USAGE


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


def run_crawl(options: CrawlOptions) -> int:
    """Run one crawl; return the exit status documented in SPEC."""
    from scrapy.crawler import CrawlerProcess

    from archive.lock import ArchiveLocked, is_locked, lock_path_for, read_holder
    from crawler.sources import SourcesError, load_sources, sources_from_urls
    from crawler.spiders.news import NewsSpider

    try:
        if options.urls:
            sources = sources_from_urls(list(options.urls))
        else:
            sources = load_sources(options.sources_path)
            sources = _filter_sources(sources, options.source_names, options.sources_path)
    except (SourcesError, FileNotFoundError, ValueError) as exc:
        click.echo(f"Error: {exc}", err=True)
        return EXIT_USAGE

    lock_file = lock_path_for(options.db_path)
    # A fleet worker writes to Redis, not to the archive (`rassegna ingest` does): no lock.
    if not options.redis_url and is_locked(lock_file):
        click.echo(f"Error: {options.db_path}: {ArchiveLocked(lock_file, read_holder(lock_file))}",
                   err=True)
        return EXIT_LOCKED

    settings = crawl_settings(options)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(NewsSpider)
    process.crawl(crawler, sources=sources, since=options.since, max_pages=options.max_pages,
                  ad_hoc=bool(options.urls))
    process.start()
    return _exit_status(crawler.stats.get_stats(), options.db_path, redis=bool(options.redis_url))


def crawl_settings(options: CrawlOptions) -> Any:
    """Project settings, then the command line's, then ``-s`` overrides."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("ARCHIVE_DB", options.db_path, priority="cmdline")
    if not sys.stderr.isatty():
        settings.set("LOG_LEVEL", "INFO", priority="project")
    if options.redis_url:
        from crawler.distributed import configure_redis

        configure_redis(settings, options.redis_url)
    for name, value in options.overrides.items():
        settings.set(name, value, priority="cmdline")
    return settings


def _filter_sources(sources: list[Any], names: tuple[str, ...], path: str) -> list[Any]:
    if not names:
        return sources
    known = {s.name for s in sources}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"{path}: no source named {', '.join(map(repr, unknown))} "
                         f"(known: {', '.join(sorted(known))})")
    return [s for s in sources if s.name in names]


def _exit_status(stats: dict[str, Any], db_path: str, redis: bool = False) -> int:
    if stats.get("rassegna/locked"):
        click.echo(f"Error: {db_path} is locked by another crawl ({stats['rassegna/locked']})",
                   err=True)
        return EXIT_LOCKED
    if "finish_reason" not in stats:
        logging.getLogger(__name__).error("the crawl stopped before it could finish")
        return 1
    _print_summary(stats)
    if stats["finish_reason"] == "shutdown":  # Ctrl-C or SIGTERM: the run did not complete
        click.echo("Error: the crawl was interrupted; the next run carries on", err=True)
        return 1
    if redis:  # other workers may have fetched what this one queued: no verdict from here
        return 0
    attempted = stats.get("rassegna/discovered", 0) + stats.get("rassegna/discovery_requests", 0)
    answered = stats.get("rassegna/fetched", 0) + stats.get("rassegna/discovery_fetched", 0)
    if attempted and not answered:
        click.echo("Error: not one page, feed or sitemap could be fetched (every source down?)",
                   err=True)
        return EXIT_NOTHING_FETCHED
    return 0


def _print_summary(stats: dict[str, Any]) -> None:
    failures = sum(v for k, v in stats.items() if k.startswith("rassegna/failures/"))
    click.echo(
        "{run}{status} · fetched {fetched} · new {new} · changed {changed} · "
        "unchanged {unchanged} · not modified {nm} · non-articles {non} · failures {failures}".format(
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
        ),
        err=True,
    )
