"""The fleet's components on a real Redis, without a crawl: queue, ingest, known URLs, stats."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.fleet.protocol import Keys, encode_message, known_entry
from tests.test_distributed import redis_server, redis_url  # noqa: F401 (fixtures)
from tests.test_fleet_protocol import NewsLike, planted_payloads

pytestmark = pytest.mark.redis


@pytest.fixture
def worker(redis_url: str):  # noqa: F811
    from crawler.fleet.worker import FleetWorker

    crawler = get_crawler(NewsLike, {"REDIS_URL": redis_url})
    crawler.spider = NewsLike.from_crawler(crawler)
    fleet = FleetWorker.of(crawler)
    fleet.run = "r1"
    return fleet


def test_a_planted_pickle_in_the_queue_is_dropped_and_the_next_request_served(
        tmp_path: Path, worker, caplog: pytest.LogCaptureFixture) -> None:
    from crawler.fleet.queue import LeasedPriorityQueue
    from crawler.fleet.worker import LEASE

    spider = worker.crawler.spider
    queue = LeasedPriorityQueue(worker.server, spider, worker.key("requests"))
    queue.push(Request("https://example.org/a", callback=spider.parse_page, meta={"hops": 1}))
    for payload in planted_payloads(tmp_path).values():  # served first: higher priority
        worker.server.zadd(worker.key("requests"), {payload: -100})
    with caplog.at_level(logging.ERROR):
        request = queue.pop()
    assert request.url == "https://example.org/a" and request.callback == spider.parse_page
    assert request.meta["hops"] == 1 and LEASE in request.meta
    assert worker.server.hlen(worker.key("inflight:") + worker.worker) == 1  # only the lease
    assert queue.pop() is None and len(queue) == 0
    assert len([r for r in caplog.records if "not rassegna's" in r.getMessage()]) == 2
    assert not (tmp_path / "ran").exists()


def test_ingest_drops_a_planted_pickle_and_ingests_the_rest(
        tmp_path: Path, redis_url: str, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    import redis

    from rassegna.ingest import Ingest

    server = redis.Redis.from_url(redis_url)
    keys = Keys()
    for payload in planted_payloads(tmp_path).values():
        server.rpush(keys.items, payload)
    server.rpush(keys.items, encode_message({"kind": "run_end"}))  # whose run?
    server.rpush(keys.items, encode_message({"kind": "run_start", "run": "r1",
                                             "settings": {"DOWNLOAD_DELAY": 1.0},
                                             "sources": []}))
    ingest = Ingest(str(tmp_path / "a.db"), redis_url)
    with caplog.at_level(logging.ERROR):
        assert ingest.run(once=True) == 4
    assert server.llen(keys.items) == 0 and server.llen(keys.processing) == 0
    assert len([r for r in caplog.records if "not rassegna's" in r.getMessage()]) == 3
    assert not (tmp_path / "ran").exists()
    from archive import Archive

    with Archive(tmp_path / "a.db") as archive:
        runs = archive.conn.execute("select status, settings from crawl_runs").fetchall()
    assert runs == [("running", '{"DOWNLOAD_DELAY": 1.0}')]


def test_a_redis_that_refuses_us_is_named_without_its_password(redis_url: str) -> None:  # noqa: F811
    import redis

    from crawler.fleet.connection import FleetUnavailable, connect

    redis.Redis.from_url(redis_url).config_set("requirepass", "right")
    try:
        url = redis_url.replace("redis://", "redis://:wrong@")
        with pytest.raises(FleetUnavailable) as refused:
            connect(url)
    finally:
        redis.Redis.from_url(redis_url, password="right").config_set("requirepass", "")
    message = str(refused.value)
    assert message.startswith(redis_url.replace("redis://", "redis://:***@") + ": ")
    assert "wrong" not in message and "password" in message


def test_run_counts_sum_every_workers_stats_and_ingests_outcomes(worker) -> None:
    from crawler.fleet.protocol import add_outcomes, add_run_stats, run_counts, run_stats

    pipe = worker.server.pipeline()
    for fetched in (3, 4):  # two workers leaving
        add_run_stats(pipe, worker.keys, "r1", {"rassegna/fetched": fetched,
                                                "rassegna/failures/fetch": 1,
                                                "downloader/request_count": 99})
    add_outcomes(pipe, worker.keys, "r1", ["new", "new", "unchanged"])
    pipe.execute()
    stats = run_stats(worker.server, worker.keys, "r1")
    assert "downloader/request_count" not in stats
    counts = run_counts(stats)
    assert (counts["fetched"], counts["articles_new"], counts["articles_unchanged"],
            counts["failures"]) == (7, 2, 1, 2)


def test_a_worker_reads_the_known_urls_ingest_published(worker) -> None:
    from crawler.fleet.known import known_urls_from_redis
    from crawler.sources import Source

    key = worker.keys.known("s")
    worker.server.hset(key, "https://x.org/a", known_entry('"e1"', None, "2024-03-01", "h"))
    worker.server.hset(key, "https://x.org/junk", "not json")
    known = known_urls_from_redis(worker.crawler.settings,
                                  [Source(name="s", start_urls=["https://x.org/"])])
    assert known == {"https://x.org/a": {"etag": '"e1"', "last_modified": None,
                                         "last_seen_at": "2024-03-01", "content_hash": "h"}}


def test_ingest_takes_the_prefix_option(tmp_path: Path, redis_url: str) -> None:  # noqa: F811
    import redis

    from tests.helpers import rassegna

    server = redis.Redis.from_url(redis_url)
    server.rpush(Keys("other").items, encode_message(
        {"kind": "run_start", "run": "r1", "settings": {}, "sources": []}))
    db = tmp_path / "a.db"
    result = rassegna("ingest", "--db", str(db), "--redis", redis_url, "--prefix", "other",
                      "--once", timeout=60)
    assert result.returncode == 0, result.stderr
    assert server.llen(Keys("other").items) == 0
    assert server.hget(Keys("other").archive_runs, "r1") == b"1"


def test_ingest_exits_3_in_one_line_while_the_archive_is_locked(
        tmp_path: Path, redis_url: str) -> None:  # noqa: F811
    from archive import Archive
    from tests.helpers import rassegna

    db = tmp_path / "a.db"
    with Archive(db) as archive, archive.lock():
        result = rassegna("ingest", "--db", str(db), "--redis", redis_url, "--once", timeout=60)
    assert result.returncode == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "lock" in errors[0] and "Traceback" not in result.stderr
