"""The item pipelines of ``crawler.pipelines`` driven in-process through their public methods
(``open_spider``, ``process_item``, ``close_spider``, ``spider_closed``), as Scrapy calls them."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.misc import build_from_crawler

from archive import ArchiveLocked
from crawler.items import FailureItem, NotModifiedItem, PageItem
from crawler.pipelines import ArchivePipeline, ExtractPipeline
from tests.helpers import component_crawler, source
from tests.sitekit import article_page, index_page, paragraphs

SITE = "http://127.0.0.1:8001"
FETCHED = "2024-02-27T10:00:00+00:00"


def page(path: str, html: str) -> PageItem:
    return PageItem(url=SITE + path, response_url=SITE + path, source="site", body=html.encode(),
                    headers={"Content-Type": "text/html; charset=utf-8"}, status=200,
                    fetched_at=FETCHED, charset="utf-8", site_hosts=("127.0.0.1:8001",))


def archive_pipeline(db: Path, **settings: Any) -> ArchivePipeline:
    crawler = component_crawler([source("site", SITE + "/")], ARCHIVE_DB=str(db), **settings)
    return build_from_crawler(ArchivePipeline, crawler)


def rows(db: Path, sql: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def test_extract_pipeline_stores_articles_drops_other_pages_and_passes_other_items() -> None:
    pipeline = build_from_crawler(ExtractPipeline, component_crawler(EXTRACT_WORKERS=1))
    pipeline.open_spider()
    try:
        story = asyncio.run(pipeline.process_item(
            page("/story.html?utm_source=x", article_page("A story", paragraphs(1)))))
        with pytest.raises(DropItem, match="not an article"):
            asyncio.run(pipeline.process_item(page("/", index_page(["/story.html"]))))
        failure = FailureItem(SITE + "/404", "fetch", "HTTP 404 Not Found", 404, "site")
        assert asyncio.run(pipeline.process_item(failure)) is failure
    finally:
        pipeline.close_spider()
    assert story.record["title"] == "A story"
    assert story.record["url"] == SITE + "/story.html"  # tracking parameters folded away
    assert story.raw_zstd  # compressed by the worker, for raw_pages
    assert pipeline.crawler.stats.get_value("rassegna/non_articles") == 1


def test_archive_pipeline_writes_failures_and_304s_and_closes_its_run(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    pipeline = archive_pipeline(db, ARCHIVE_BATCH_SIZE=100, ARCHIVE_FLUSH_SECONDS=3600)
    pipeline.open_spider()
    pipeline.process_item(FailureItem(SITE + "/404", "fetch", "HTTP 404 Not Found", 404, "site"))
    pipeline.process_item(NotModifiedItem(SITE + "/never-stored", "site", FETCHED))
    assert rows(db, "select * from failures") == []  # batched until the spider closes
    pipeline.close_spider()
    pipeline.spider_closed(pipeline.crawler.spider, "finished")

    (failure,) = rows(db, "select url, stage, error, status, source from failures")
    assert failure == {"url": SITE + "/404", "stage": "fetch", "error": "HTTP 404 Not Found",
                       "status": 404, "source": "site"}
    (run,) = rows(db, "select id, status, counts from crawl_runs")
    assert run["status"] == "finished"
    assert '"failures_fetch": 1' in run["counts"]
    assert pipeline.crawler.stats.get_value("rassegna/crawl_run_id") == run["id"]


def test_archive_pipeline_on_a_locked_archive_leaves_no_run(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    first = archive_pipeline(db)
    first.open_spider()
    second = archive_pipeline(db)
    try:
        with pytest.raises(ArchiveLocked):
            second.open_spider()
        assert second.crawler.stats.get_value("rassegna/locked")
        second.spider_closed(second.crawler.spider, "shutdown")  # nothing to close
    finally:
        first.close_spider()
        first.spider_closed(first.crawler.spider, "shutdown")
    assert [r["status"] for r in rows(db, "select status from crawl_runs")] == ["interrupted"]
